package gpkg_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

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
	m := layerstest.LayerFile(t, s, "parks")
	layerstest.WithGeometry(t, m, 1, orb.Polygon{m2bound(t, s, "parks", 1).Pad(-0.0001).ToRing()})
	mustImport(t, s, layers.ImportOptions{}, layerstest.FileOf(t, "parks.geojson", m))
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
	return it.Geometry().Bound()
}
