package gpkg_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// layerFile returns layer id as the store exports it (its declaration and
// features), decoded for a test to change and import again.
func layerFile(t *testing.T, s *gpkg.Store, id string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(exportText(t, s, id)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withGeometry sets the geometry of feature fid of the layer file m to g.
func withGeometry(t *testing.T, m map[string]any, fid int64, g orb.Geometry) {
	t.Helper()
	for _, f := range m["features"].([]any) {
		f := f.(map[string]any)
		if id, _ := f["id"].(float64); int64(id) == fid {
			f["geometry"] = geojson.NewGeometry(g)
			return
		}
	}
	t.Fatalf("the file has no feature %d", fid)
}

func fileOf(t *testing.T, name string, m map[string]any) *layers.File {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return parseText(t, name, string(b))
}

// TestImportKeepsPlanningRules: an import is checked against the planning
// rules as an edit is, tested as the PostGIS store's is
// (layerstest.ImportRules).
func TestImportKeepsPlanningRules(t *testing.T) {
	layerstest.ImportRules(t, seededStore(t))
}

// Only the layers a rule is about cost a check: importing a layer that
// no rule declares or names never asks the rules, and a layer that is
// asks once per feature written.
func TestImportAsksRulesOnlyOfRuledLayers(t *testing.T) {
	s := seededStore(t)
	var calls atomic.Int32
	s.CheckRules = func(ctx context.Context, lk gpkg.Lookup, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
		calls.Add(1)
		return gpkg.PlanningRules(ctx, lk, l, f, was)
	}
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	if n := calls.Load(); n != 0 {
		t.Errorf("importing parcels, which no rule is about, asked the rules %d times", n)
	}
	m := layerFile(t, s, "parks")
	withGeometry(t, m, 1, orb.Polygon{m2bound(t, s, "parks", 1).Pad(-0.0001).ToRing()})
	mustImport(t, s, layers.ImportOptions{}, fileOf(t, "parks.geojson", m))
	if n := calls.Load(); n != 1 {
		t.Errorf("importing parks with one feature changed asked the rules %d times, want 1", n)
	}
}

func m2bound(t *testing.T, s *gpkg.Store, id string, fid int64) orb.Bound {
	t.Helper()
	it, err := s.Item(ctx, id, fid)
	if err != nil {
		t.Fatal(err)
	}
	return it.Geometry.Bound()
}
