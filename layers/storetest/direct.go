package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/seeds"
)

// Checker is a store that checks the features other programs write into
// its database (direct edits) and flags those that fail: the GeoPackage
// store and the PostGIS store (layers.DirectChecks).
type Checker interface {
	Store
	Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error)
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error
	OnProblem(fn func(layer string, fid int64, err error))
	Problem(layer string, fid int64) string
	Close() error
}

// DirectWriter edits a store's database as another program would (QGIS,
// GDAL, a SQL shell): plain SQL on a connection of its own, with none of
// planmap's context, so that the history records a direct edit.
type DirectWriter interface {
	// Exec runs one statement of SQL without parameters, written in
	// what SQLite and PostgreSQL read alike.
	Exec(ctx context.Context, query string, args ...any) error
	// SetGeometry sets the geometry of feature fid of layer id.
	SetGeometry(ctx context.Context, id string, fid int64, g orb.Geometry) error
	// Delete removes the features fids of layer id, in one transaction.
	Delete(ctx context.Context, id string, fids ...int64) error
	// Strings runs a query without parameters and returns the first
	// column of each row as text.
	Strings(ctx context.Context, query string) ([]string, error)
}

// DirectHarness gives the direct-edit tests a database, the store under
// test on it, and another program's connection to it.
type DirectHarness struct {
	// New returns a new, empty database: what Open and Other open.
	New func(t *testing.T) string
	// Open opens the store under test on db, closed when t ends (a test
	// may close it earlier, to open it again as a restart does).
	Open func(t *testing.T, db string) Checker
	// Other opens db as another program, closed when t ends.
	Other func(t *testing.T, db string) DirectWriter
}

// checkedWait is how long a check of a direct edit may take to show: a
// change of a boundary has every feature within its old and new shapes
// checked, which on a loaded machine (the tests run beside others) can
// take more than a second.
const checkedWait = 10 * time.Second

// waitUntil polls ok until it holds or d has gone.
func waitUntil(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openChecked opens the store on db and starts it following others'
// writes (its first Catalog).
func openChecked(t *testing.T, h *DirectHarness, db string) Checker {
	t.Helper()
	s := h.Open(t, db)
	if _, err := s.Catalog(ctx); err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	return s
}

// A direct edit (another program writing the database) that breaks the
// layer's schema is accepted, then checked when the store takes it in:
// reported and flagged until a later change makes the feature pass again.
func testDirectChecked(t *testing.T, h *DirectHarness) {
	db := h.New(t)
	s := h.Open(t, db)
	if _, err := s.Import(ctx, []*layers.File{parse(t, "parcels.geojson", []byte(parcelsGeoJSON))}, layers.ImportOptions{}); err != nil {
		t.Fatalf("Import: %v", err)
	}
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
	other := h.Other(t, db)
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'bogus' WHERE fid = 1`); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "parcel 1 flagged", visible, func() bool { return s.Problem("parcels", 1) != "" })
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
	waitUntil(t, "parcel 1 cleared", visible, func() bool { return s.Problem("parcels", 1) == "" })
	mu.Lock()
	if len(reports) != 2 || reports[1] != "parcels passes" {
		t.Errorf("reports = %q, want a failure then a pass", reports)
	}
	mu.Unlock()

	// A direct delete of a flagged feature clears it.
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'bogus' WHERE fid = 3`); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "parcel 3 flagged", visible, func() bool { return s.Problem("parcels", 3) != "" })
	if err := other.Delete(ctx, "parcels", 3); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "parcel 3 cleared by its delete", visible, func() bool { return s.Problem("parcels", 3) == "" })

}

// A direct edit is checked against the planning rules with the geometry
// the feature had before (from the history): a boundary shrunk by another
// program is flagged for what no longer lies within it, however far from
// its new shape. A direct delete is checked as the API's delete is. The
// flags outlive a restart of the store, and a later change that puts the
// feature right, by another program or through the store, clears them,
// in the database too.
func testDirectRulesFlagged(t *testing.T, h *DirectHarness) {
	db := h.New(t)
	s := h.Open(t, db)
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatalf("Import the seeds: %v", err)
	}
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
	other := h.Other(t, db)
	stored := func(t *testing.T) []string {
		t.Helper()
		got, err := other.Strings(ctx, `SELECT layer || ' ' || fid || ': ' || problem FROM planmap_problems ORDER BY layer, fid`)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// A restart: the store opened again lives on after the subtest.
	top := t
	reopen := func(t *testing.T) {
		t.Helper()
		s.Close()
		s = openChecked(top, h, db)
	}

	// Shrunk to the park's surroundings: the terminals, far away, lay
	// within its old shape and are found through it.
	shrunk := orb.MultiPolygon{{park[0].Geometry().Bound().Pad(0.001).ToRing()}}
	if err := other.SetGeometry(ctx, "boundary", 1, shrunk); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "boundary 1 flagged", checkedWait, func() bool { return s.Problem("boundary", 1) != "" })
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
		if err := other.SetGeometry(ctx, "boundary", 1, boundary.Geometry()); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "boundary 1 cleared", checkedWait, func() bool { return s.Problem("boundary", 1) == "" })
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
		// the database: the store opened after checks it again.
		if err := other.Exec(ctx, `UPDATE terminals SET status = 'bogus' WHERE fid = 2`); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "terminal 2 flagged", checkedWait, func() bool { return s.Problem("terminals", 2) != "" })
		s.Close()
		if err := other.Exec(ctx, `UPDATE terminals SET status = 'in_operation' WHERE fid = 2`); err != nil {
			t.Fatal(err)
		}
		s = openChecked(top, h, db)
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
		waitUntil(t, "terminal 2 flagged", checkedWait, func() bool { return s.Problem("terminals", 2) != "" })
		m := exported(t, s, "terminals")
		for _, f := range m["features"].([]any) {
			f.(map[string]any)["properties"].(map[string]any)["status"] = "in_operation"
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, []*layers.File{parse(t, "terminals.geojson", b)}, layers.ImportOptions{Replace: true}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "terminal 2 cleared by the import", checkedWait, func() bool { return s.Problem("terminals", 2) == "" })
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
		waitUntil(t, "boundary 1's delete reported", checkedWait, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) > 0 })
		mu.Lock()
		if !strings.Contains(reports[0], "outside every feature of layer boundary") {
			t.Errorf("the report of boundary 1's delete = %q, want what lies outside every boundary now", reports[0])
		}
		mu.Unlock()
		if p := s.Problem("boundary", 1); p != "" {
			t.Errorf("the deleted boundary 1 is flagged: %q", p)
		}
		// Brought back through the store: its own write, checked.
		if _, err := s.Replace(ctx, "boundary", 1, boundary.Feature(), "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		reopen(t)
		if got := stored(t); len(got) != 0 {
			t.Errorf("planmap_problems after the restore = %q, want none", got)
		}
	})
}

// exported returns layer id as s exports it, decoded for a test to change
// and import again.
func exported(t *testing.T, s Checker, id string) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteGeoJSON(ctx, &b, id, nil); err != nil {
		t.Fatalf("WriteGeoJSON(%s): %v", id, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
