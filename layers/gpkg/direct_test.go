package gpkg_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// A direct edit (another program writing the file) that breaks the
// layer's schema is accepted, then checked when the store takes it in:
// reported and flagged until a later change makes the feature pass again.
// The store's own writes, checked before they are written, are not
// checked again.
func TestDirectEditChecked(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	var mu sync.Mutex
	var reports []string
	s.OnProblem(func(layer string, fid int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			reports = append(reports, layer+" fails: "+err.Error())
		} else {
			reports = append(reports, layer+" passes")
		}
	})
	if _, err := s.Catalog(ctx); err != nil { // starts following others' writes
		t.Fatal(err)
	}
	other := layerstest.OpenOtherClient(t, s.Path())
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'bogus' WHERE fid = 1`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "parcel 1 flagged", func() bool { return s.Problem("parcels", 1) != "" })
	if p := s.Problem("parcels", 1); !strings.Contains(p, "status") {
		t.Errorf("Problem(parcels, 1) = %q, want it to name status", p)
	}
	if p := s.Problem("parcels", 7); p != "" {
		t.Errorf("Problem(parcels, 7), untouched = %q", p)
	}
	mu.Lock()
	if len(reports) != 1 || !strings.HasPrefix(reports[0], "parcels fails: ") {
		t.Errorf("reports = %q, want one failure", reports)
	}
	mu.Unlock()

	// Put right by another direct edit: no longer flagged, and said so.
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'planned' WHERE fid = 1`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "parcel 1 cleared", func() bool { return s.Problem("parcels", 1) == "" })
	mu.Lock()
	if len(reports) != 2 || reports[1] != "parcels passes" {
		t.Errorf("reports = %q, want a failure then a pass", reports)
	}
	mu.Unlock()

	// A direct delete of a flagged feature clears it.
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'bogus' WHERE fid = 3`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "parcel 3 flagged", func() bool { return s.Problem("parcels", 3) != "" })
	if err := other.Delete(ctx, "parcels", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "parcel 3 cleared by its delete", func() bool { return s.Problem("parcels", 3) == "" })

	// The store's own write is not checked again (it was before it was
	// written): a RulesFunc that refuses on the second look would flag it.
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
}
