package gpkg_test

import (
	"context"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// The checks of direct edits, the same for every store, are in the
// contract suite (storetest's DirectChecked and DirectRulesFlagged, run
// by TestContract). What is the GeoPackage store's own: its RulesFunc,
// through which the rules can be counted.

// The store's own write is not checked again (it was before it was
// written): a RulesFunc that refuses on the second look would flag it.
// Written with no author or note, the history alone cannot tell it from
// another program's; the store knows its own changes.
func TestDirectEditOwnWriteNotChecked(t *testing.T) {
	t.Run("NoRules", func(t *testing.T) {
		s := layerstest.MustOpen(t)
		mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
		if _, err := s.Catalog(ctx); err != nil { // starts following others' writes
			t.Fatal(err)
		}
		var calls atomic.Int32
		s.CheckRules = func(_ context.Context, _ gpkg.Lookup, _ *layers.Layer, f layers.Feature, _ orb.Geometry) error {
			calls.Add(1)
			return nil
		}
		if _, err := s.Replace(ctx, "parcels", 7, edited(t, s, "parcels", 7, "七"), "", layers.Edit{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond) // the watch's polls
		if n := calls.Load(); n != 1 {
			t.Errorf("the rules were asked %d times about the store's own write, want once", n)
		}
	})
	t.Run("LayerARuleIsAbout", func(t *testing.T) {
		// The terminals must lie within the boundary: a check of a
		// direct edit of one asks the rules.
		s := seededStore(t)
		if _, err := s.Catalog(ctx); err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		s.CheckRules = func(ctx context.Context, lk gpkg.Lookup, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
			calls.Add(1)
			return gpkg.PlanningRules(ctx, lk, l, f, was)
		}
		it, err := s.Item(ctx, "terminals", 2)
		if err != nil {
			t.Fatal(err)
		}
		f := layers.Feature{Properties: maps.Clone(it.Properties()), Geometry: it.Geometry()}
		f.Properties["name_zh"] = "二号"
		if _, err := s.Replace(ctx, "terminals", 2, f, "", layers.Edit{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond) // the watch's polls
		if n := calls.Load(); n != 1 {
			t.Errorf("the rules were asked %d times about the store's own write, want once", n)
		}
	})
}
