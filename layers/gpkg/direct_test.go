package gpkg_test

import (
	"context"
	"io/fs"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// The checks of direct edits, the same for every store, are in the
// contract suite (storetest's DirectChecked and DirectRulesFlagged, run
// by TestContract). What is the GeoPackage store's own: its RulesFunc,
// through which the rules can be counted.

// The store's own write is not checked again (it was before it was
// written): a RulesFunc that refuses on the second look would flag it.
// Written with no author or note, the history alone cannot tell it from
// another program's; the range the write records does.
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

// Another planmap process's writes are not checked again either: each
// records its changes' range in the file (planmap_writes), and an edit
// with no author or note, or an import, is told from a direct edit by it. The direct
// edits between them are another program's; in a file whose writes were
// made before the ranges were recorded, the history tells them. The
// terminals are a layer a rule is about: a check of one asks the rules.
func TestDirectOtherPlanmapNotChecked(t *testing.T) {
	s := seededStore(t)
	if _, err := s.Catalog(ctx); err != nil { // starts following others' writes
		t.Fatal(err)
	}
	var asked sync.Map // fid → true
	s.CheckRules = func(_ context.Context, _ gpkg.Lookup, _ *layers.Layer, f layers.Feature, _ orb.Geometry) error {
		asked.Store(f.ID, true)
		return nil
	}
	other := layerstest.OpenOtherClient(t, s.Path())
	last := func() int64 {
		t.Helper()
		got, err := other.Strings(ctx, `SELECT max(seq) FROM planmap_changes`)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(got[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// As another program writes a feature: its geometry written again.
	rewrite := func(fid int64) int64 {
		t.Helper()
		it, err := s.Item(ctx, "terminals", fid)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.SetGeometry(ctx, "terminals", fid, it.Geometry()); err != nil {
			t.Fatal(err)
		}
		return last()
	}
	replace := func(fid int64, e layers.Edit) int64 {
		t.Helper()
		if _, err := other.Replace(ctx, "terminals", fid, edited(t, other.Store, "terminals", fid, "改"), "", e); err != nil {
			t.Fatal(err)
		}
		return last()
	}
	// Another planmap process's import: the terminals with one renamed.
	seed, err := fs.ReadFile(seeds.FS, "terminals.geojson")
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(seed), `"name_zh": "海螺码头"`, `"name_zh": "海螺码头（扩建）"`, 1)
	if renamed == string(seed) {
		t.Fatal("no terminal named 海螺码头 in the seed")
	}
	begin := last() + 1
	mustImport(t, other.Store, layers.ImportOptions{}, parseText(t, "terminals.geojson", renamed))
	imported := last() // of terminal 6
	direct1 := rewrite(1)
	signed := replace(4, layers.Edit{Author: "王工"})
	direct2 := rewrite(3)
	edit := replace(2, layers.Edit{})
	end := last()
	if imported < begin {
		t.Fatal("the import made no change")
	}

	foreign, err := s.ForeignChanges(ctx, begin, end)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int64]bool{direct1: true, direct2: true}; !maps.Equal(foreign, want) {
		t.Errorf("changes %d to %d taken as another program's: %v, want %v (the direct edits)", begin, end, foreign, want)
	}
	s.TakeIn(ctx)
	waitFor(t, "the direct edits checked", func() bool {
		_, ok1 := asked.Load(int64(1))
		_, ok3 := asked.Load(int64(3))
		return ok1 && ok3
	})
	for _, fid := range []int64{2, 4, 5, 6} {
		if _, ok := asked.Load(fid); ok {
			t.Errorf("the rules were asked about terminal %d, which only another planmap process wrote", fid)
		}
	}

	// As a file whose planmap writes came before the ranges: the
	// history's context tells the edit with an author and the import, not
	// the edit without. It tells features, by their last history row:
	// the import rewrote every terminal, and its last change, of terminal
	// 6, is the one whose feature nothing changed after.
	if err := other.Exec(ctx, `DELETE FROM planmap_writes`); err != nil {
		t.Fatal(err)
	}
	foreign, err = s.ForeignChanges(ctx, begin, end)
	if err != nil {
		t.Fatal(err)
	}
	if !foreign[direct1] || !foreign[direct2] || !foreign[edit] || foreign[signed] || foreign[imported] {
		t.Errorf("without the ranges, changes %d to %d taken as another program's: %v; want %d, %d and %d, not %d or %d",
			begin, end, foreign, direct1, direct2, edit, signed, imported)
	}
}

// A write's range that change numbers given out again would reach (the
// log's newest rows deleted and its sequence set back, by hand) gives way
// to the next write's: that write does not fail on it, and the changes
// are told by the range that is true now.
func TestWriteRangeNumbersGivenAgain(t *testing.T) {
	s := seededStore(t)
	other := layerstest.OpenOtherClient(t, s.Path())
	if _, err := s.Replace(ctx, "terminals", 2, edited(t, s, "terminals", 2, "二"), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if err := other.Exec(ctx, `DELETE FROM planmap_changes WHERE seq = (SELECT max(seq) FROM planmap_changes)`); err != nil {
		t.Fatal(err)
	}
	if err := other.Exec(ctx, `UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM planmap_changes) WHERE name = 'planmap_changes'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, "terminals", 3, edited(t, s, "terminals", 3, "三"), "", layers.Edit{}); err != nil {
		t.Fatalf("a write after the numbers were set back: %v", err)
	}
	// The seeds' import, then the second edit's one change; the first
	// edit's range, whose change is gone, is not kept.
	got, err := other.Strings(ctx, `SELECT first || ' ' || last FROM planmap_writes ORDER BY last`)
	if err != nil {
		t.Fatal(err)
	}
	n, err := other.Strings(ctx, `SELECT (max(seq) - 1) || ' ' || max(seq) FROM planmap_changes`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1] != n[0] {
		t.Errorf("planmap_writes = %q, want the seeds' import and %s", got, n[0])
	}
}
