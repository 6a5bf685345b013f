package gpkg_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
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

// A direct edit is checked against the planning rules with the geometry
// the feature had before (from the history): a boundary shrunk by another
// program is flagged for what no longer lies within it, however far from
// its new shape. A direct delete is checked as the API's delete is. The
// flags outlive a restart of the store, and a later change that puts the
// feature right, by another program or through the store, clears them,
// in the database too.
func TestDirectEditRulesFlagged(t *testing.T) {
	s := seededStore(t)
	path := s.Path()
	if _, err := s.Catalog(ctx); err != nil { // starts following others' writes
		t.Fatal(err)
	}
	boundary, err := s.Item(ctx, "boundary", 1)
	if err != nil {
		t.Fatal(err)
	}
	park, _, err := s.Items(ctx, "parks", layers.Filter{}, layers.Page{Limit: 1})
	if err != nil || len(park) != 1 {
		t.Fatalf("a park: %v", err)
	}
	blob := func(g orb.Geometry) []byte {
		t.Helper()
		b, err := geo.AppendGPKG(nil, g, gpkg.SRSID)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stored := func(t *testing.T) []string {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return column(t, db, `SELECT layer || ' ' || fid || ': ' || problem FROM planmap_problems ORDER BY layer, fid`)
	}
	top := t
	reopen := func(t *testing.T) {
		t.Helper()
		s.Close()
		var err error
		if s, err = gpkg.Open(ctx, path); err != nil {
			t.Fatal(err)
		}
		reopened := s
		top.Cleanup(func() { reopened.Close() })
		if _, err := s.Catalog(ctx); err != nil {
			t.Fatal(err)
		}
	}
	other := layerstest.OpenOtherClient(t, path)

	// Shrunk to the park's surroundings: the terminals, far away, lay
	// within its old shape and are found through it.
	shrunk := orb.Polygon{park[0].Geometry.Bound().Pad(0.001).ToRing()}
	if err := other.Exec(ctx, `UPDATE boundary SET geom = ? WHERE fid = 1`, blob(shrunk)); err != nil {
		t.Fatal(err)
	}
	waitChecked(t, "boundary 1 flagged", func() bool { return s.Problem("boundary", 1) != "" })
	if p := s.Problem("boundary", 1); !strings.Contains(p, "terminals") || !strings.Contains(p, "within boundary") {
		t.Errorf("Problem(boundary, 1) = %q, want the terminals now outside it", p)
	}

	t.Run("KeptAcrossRestart", func(t *testing.T) {
		want := s.Problem("boundary", 1)
		reopen(t)
		if p := s.Problem("boundary", 1); p != want {
			t.Errorf("Problem(boundary, 1) after a restart = %q, want %q", p, want)
		}
		if got := stored(t); len(got) != 1 || !strings.HasPrefix(got[0], "boundary 1: ") {
			t.Errorf("planmap_problems = %q, want boundary 1's flag", got)
		}
	})
	t.Run("ClearedByAFix", func(t *testing.T) {
		if err := other.Exec(ctx, `UPDATE boundary SET geom = ? WHERE fid = 1`, blob(boundary.Geometry)); err != nil {
			t.Fatal(err)
		}
		waitChecked(t, "boundary 1 cleared", func() bool { return s.Problem("boundary", 1) == "" })
		reopen(t)
		if p := s.Problem("boundary", 1); p != "" {
			t.Errorf("Problem(boundary, 1) after the fix and a restart = %q", p)
		}
		if got := stored(t); len(got) != 0 {
			t.Errorf("planmap_problems after the fix = %q, want none", got)
		}
	})
	t.Run("FixedWhileClosed", func(t *testing.T) {
		// Broken and flagged, then put right while no store follows
		// the file: the store opened after checks it again.
		if err := other.Exec(ctx, `UPDATE terminals SET status = 'bogus' WHERE fid = 2`); err != nil {
			t.Fatal(err)
		}
		waitChecked(t, "terminal 2 flagged", func() bool { return s.Problem("terminals", 2) != "" })
		s.Close()
		if err := other.Exec(ctx, `UPDATE terminals SET status = 'in_operation' WHERE fid = 2`); err != nil {
			t.Fatal(err)
		}
		reopen(t)
		if p := s.Problem("terminals", 2); p != "" {
			t.Errorf("Problem(terminals, 2), put right while closed = %q", p)
		}
		if got := stored(t); len(got) != 0 {
			t.Errorf("planmap_problems = %q, want none", got)
		}
	})
	t.Run("ClearedByAReplacingImport", func(t *testing.T) {
		// The layer written whole by an import, which checked every
		// feature: no change row of its own clears the flag.
		if err := other.Exec(ctx, `UPDATE terminals SET status = 'bogus' WHERE fid = 2`); err != nil {
			t.Fatal(err)
		}
		waitChecked(t, "terminal 2 flagged", func() bool { return s.Problem("terminals", 2) != "" })
		m := layerstest.LayerFile(t, s, "terminals")
		for _, f := range m["features"].([]any) {
			f.(map[string]any)["properties"].(map[string]any)["status"] = "in_operation"
		}
		if _, err := s.Import(ctx, []*layers.File{layerstest.FileOf(t, "terminals.geojson", m)}, layers.ImportOptions{Replace: true}); err != nil {
			t.Fatal(err)
		}
		waitChecked(t, "terminal 2 cleared by the import", func() bool { return s.Problem("terminals", 2) == "" })
	})
	t.Run("DeleteChecked", func(t *testing.T) {
		// What a delete breaks is reported; no flag is kept under the
		// deleted id, which nothing serves and no later write can clear.
		var mu sync.Mutex
		var reports []string
		s.OnProblem(func(layer string, fid int64, err error) {
			mu.Lock()
			defer mu.Unlock()
			if layer == "boundary" && fid == 1 && err != nil {
				reports = append(reports, err.Error())
			}
		})
		if err := other.Delete(ctx, "boundary", 1); err != nil {
			t.Fatal(err)
		}
		waitChecked(t, "boundary 1's delete reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) > 0 })
		mu.Lock()
		if !strings.Contains(reports[0], "outside every feature of layer boundary") {
			t.Errorf("the report of boundary 1's delete = %q, want what lies outside every boundary now", reports[0])
		}
		mu.Unlock()
		if p := s.Problem("boundary", 1); p != "" {
			t.Errorf("the deleted boundary 1 is flagged: %q", p)
		}
		// Brought back through the store: its own write, checked.
		if _, err := s.Replace(ctx, "boundary", 1, boundary.Feature, "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		reopen(t)
		if got := stored(t); len(got) != 0 {
			t.Errorf("planmap_problems after the restore = %q, want none", got)
		}
	})
}

// waitChecked is waitFor with ten seconds: a change of a boundary has
// every feature within its old and new shapes checked, which on a loaded
// machine (the tests run beside others) can take more than a second.
func waitChecked(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within ten seconds", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
