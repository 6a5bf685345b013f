package storetest

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// Past is web.Past, which a store that keeps history implements: the
// suite's AsOf tests run on it.
type Past interface {
	ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	ItemAsOf(ctx context.Context, id string, fid int64, t time.Time) (*layers.Item, error)
	PastCollection(ctx context.Context, id string, t time.Time) (*layers.Collection, error)
}

// layerEditor is the layer half of web.LayerEditor: a store that creates
// and drops layers. The Dropped test runs on it.
type layerEditor interface {
	DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	DropLayer(ctx context.Context, id string, e layers.Edit) error
}

// pastOf returns the store under test as a Past and an Editor, or skips.
func pastOf(t *testing.T, s Store) (Past, Editor) {
	t.Helper()
	ps, ok := s.(Past)
	if !ok {
		t.Skipf("%T answers only as of now", s)
	}
	return ps, editor(t, s)
}

// tick returns a time strictly between the writes before and after it:
// the GeoPackage's history keeps milliseconds, PostgreSQL's microseconds.
func tick() time.Time {
	time.Sleep(3 * time.Millisecond)
	t := time.Now()
	time.Sleep(3 * time.Millisecond)
	return t
}

// servedNow is every feature of layer id as served now, by id.
func servedNow(t *testing.T, s Store, id string) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, it := range mustItems(t, s, id, layers.Filter{}, 1000) {
		out[it.ID] = string(it.JSON)
	}
	return out
}

// asOf is every feature of layer id as of at that f selects, by id, and
// how many matched; it checks that they come in id order.
func asOf(t *testing.T, ps Past, id string, at time.Time, f layers.Filter) (map[int64]string, int) {
	t.Helper()
	page, matched, err := ps.ItemsAsOf(ctx, id, at, f, layers.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("ItemsAsOf(%s, %s, %+v): %v", id, at, f, err)
	}
	out := map[int64]string{}
	for i, it := range page {
		if i > 0 && page[i-1].ID >= it.ID {
			t.Errorf("ItemsAsOf(%s, %s): ids %d then %d, not in id order", id, at, page[i-1].ID, it.ID)
		}
		out[it.ID] = string(it.JSON)
	}
	return out, matched
}

// sameSnapshot checks that got, features by id, is want.
func sameSnapshot(t *testing.T, what string, got, want map[int64]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: features %v, want %v", what, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for fid, w := range want {
		if g, ok := got[fid]; !ok {
			t.Errorf("%s: no feature %d", what, fid)
		} else if g != w {
			t.Errorf("%s: feature %d =\n%s\nwant\n%s", what, fid, g, w)
		}
	}
}

// edited is feature fid of layer id as served now, renamed name.
func edited(t *testing.T, s Store, id string, fid int64, name string) layers.Feature {
	t.Helper()
	it := mustItem(t, s, id, fid)
	props := maps.Clone(it.Properties())
	props["name_zh"] = name
	return layers.Feature{Properties: props, Geometry: it.Geometry()}
}

// moved returns g, a MultiPolygon, shifted dx degrees east.
func moved(g orb.Geometry, dx float64) orb.Geometry {
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		panic(fmt.Sprintf("moved: %T", g))
	}
	out := orb.MultiPolygon{}
	for _, p := range mp {
		np := orb.Polygon{}
		for _, r := range p {
			nr := orb.Ring{}
			for _, pt := range r {
				nr = append(nr, orb.Point{pt[0] + dx, pt[1]})
			}
			np = append(np, nr)
		}
		out = append(out, np)
	}
	return out
}

// testAsOf checks the past ("as of"): the layer as of each moment between
// writes is the layer as it was served then.
func testAsOf(t *testing.T, h Harness) {
	t.Run("Layer", func(t *testing.T) { testAsOfLayer(t, h) })
	t.Run("Lifecycle", func(t *testing.T) { testAsOfLifecycle(t, h) })
	t.Run("Dropped", func(t *testing.T) { testAsOfDropped(t, h) })
	t.Run("Redeclared", func(t *testing.T) { testAsOfRedeclared(t, h) })
	t.Run("ErrNoLayer", func(t *testing.T) {
		s, _ := h.New(t)
		ps, _ := pastOf(t, s)
		if _, _, err := ps.ItemsAsOf(ctx, "nowhere", time.Now(), layers.Filter{}, layers.Page{Limit: 10}); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("ItemsAsOf(nowhere): %v, want %s", err, layers.ENOTFOUND)
		}
		if _, err := ps.ItemAsOf(ctx, "nowhere", 1, time.Now()); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("ItemAsOf(nowhere, 1): %v, want %s", err, layers.ENOTFOUND)
		}
	})
}

// testAsOfLayer: edits, deletes, creates and a whole replace by import,
// each read back from the history, one feature and the whole layer, with a
// bbox on the past geometries and values of the past properties.
func testAsOfLayer(t *testing.T, h Harness) {
	s, w := h.New(t)
	ps, ed := pastOf(t, s)
	before := tick()
	write(t, s, w, layers.ImportOptions{}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	var times []time.Time
	var snaps []map[int64]string
	mark := func() {
		times = append(times, tick())
		snaps = append(snaps, servedNow(t, s, "parcels"))
	}
	mark() // 0: as imported
	f7 := edited(t, s, "parcels", 7, "七号·在建")
	f7.Properties["status"] = "under_construction"
	if _, err := ed.Replace(ctx, "parcels", 7, f7, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	mark() // 1
	if err := ed.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	mark() // 2
	created, err := ed.Create(ctx, "parcels", edited(t, s, "parcels", 7, "新地块"), layers.Edit{Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	mark() // 3
	// Parcel 1 moves a degree east.
	f1 := edited(t, s, "parcels", 1, "一号·东移")
	f1.Geometry = moved(f1.Geometry, 1)
	if _, err := ed.Replace(ctx, "parcels", 1, f1, "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	mark() // 4
	// A whole replace by import: the file as first imported.
	write(t, s, w, layers.ImportOptions{Replace: true}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	mark() // 5
	// And one edit after the bulk write.
	if _, err := ed.Replace(ctx, "parcels", 1, edited(t, s, "parcels", 1, "一号·再改"), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	mark() // 6

	if got, n := asOf(t, ps, "parcels", before, layers.Filter{}); len(got) != 0 || n != 0 {
		t.Errorf("as of before the import: %d features (%d matched), want none", len(got), n)
	}
	for i, at := range times {
		got, n := asOf(t, ps, "parcels", at, layers.Filter{})
		sameSnapshot(t, fmt.Sprintf("as of mark %d", i), got, snaps[i])
		if n != len(snaps[i]) {
			t.Errorf("as of mark %d: numberMatched %d, want %d", i, n, len(snaps[i]))
		}
		for fid, want := range snaps[i] {
			it, err := ps.ItemAsOf(ctx, "parcels", fid, at)
			if err != nil || string(it.JSON) != want {
				t.Errorf("ItemAsOf(parcels, %d, mark %d) = %v, %v; want %s", fid, i, it, err, want)
			}
		}
	}
	if _, err := ps.ItemAsOf(ctx, "parcels", 3, times[2]); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("ItemAsOf(parcels, 3) after its delete: %v, want %s", err, layers.EGONE)
	}
	if _, err := ps.ItemAsOf(ctx, "parcels", 3, times[5]); err != nil {
		t.Errorf("ItemAsOf(parcels, 3) after the replace brought it back: %v", err)
	}
	if _, err := ps.ItemAsOf(ctx, "parcels", created.ID, times[2]); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("ItemAsOf(parcels, %d) before it was created: %v, want %s", created.ID, err, layers.ENOTFOUND)
	}
	if _, err := ps.ItemAsOf(ctx, "parcels", 1, before); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("ItemAsOf(parcels, 1) before the import: %v, want %s", err, layers.ENOTFOUND)
	}

	// Values of the past: parcel 7 was under construction between marks
	// 1 and 4, and the parcel made from it at mark 3 until the replace.
	uc := layers.Filter{Equals: map[string]any{"status": "under_construction"}}
	for i, want := range []int{0, 1, 1, 2, 2, 0, 0} {
		if _, n := asOf(t, ps, "parcels", times[i], uc); n != want {
			t.Errorf("as of mark %d, status=under_construction matched %d, want %d", i, n, want)
		}
	}
	// The bbox meets the past geometries: parcel 1's first place, which
	// it left at mark 4 and came back to with the replace.
	first, err := ps.ItemAsOf(ctx, "parcels", 1, times[0])
	if err != nil {
		t.Fatal(err)
	}
	box := layers.Filter{BBoxes: []orb.Bound{first.Bound}}
	for i, want := range []bool{true, true, true, true, false, true, true} {
		got, _ := asOf(t, ps, "parcels", times[i], box)
		if _, ok := got[1]; ok != want {
			t.Errorf("as of mark %d, bbox of parcel 1's first place holds parcel 1: %v, want %v", i, ok, want)
		}
	}
	// Paging: offset and limit over the past features, numberMatched whole.
	page, n, err := ps.ItemsAsOf(ctx, "parcels", times[3], layers.Filter{}, layers.Page{Offset: 1, Limit: 1})
	if err != nil || n != 3 || len(page) != 1 || page[0].ID != 7 {
		t.Errorf("ItemsAsOf(mark 3, offset 1, limit 1) = %d items, %d matched, %v; want feature 7 of 3", len(page), n, err)
	}
	page, _, err = ps.ItemsAsOf(ctx, "parcels", times[3], layers.Filter{}, layers.Page{After: 7, Limit: 10})
	if err != nil || len(page) != 1 || page[0].ID != created.ID {
		t.Errorf("ItemsAsOf(mark 3, after 7) = %d items, %v; want feature %d", len(page), err, created.ID)
	}
}

// testAsOfLifecycle follows one feature of the synthetic plots through
// its life: created, updated twice (moved, then its status changed),
// deleted. As of each moment it is the version then, found by the bbox
// and the values of that version only, paged among the other plots; before
// its creation it is unknown, after its delete gone.
func testAsOfLifecycle(t *testing.T, h Harness) {
	s, w := h.New(t)
	ps, ed := pastOf(t, s)
	synthetic(t, s, w, 20) // plots 1 to 20
	beforeCreate := tick()
	it, err := ed.Create(ctx, "plots", layers.Feature{
		Properties: map[string]any{"name_zh": "新地块", "status": "planned"},
		Geometry:   square(30, 0.1),
	}, layers.Edit{Author: "alice"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	fid := it.ID
	versions := []*layers.Item{it}
	times := []time.Time{tick()}
	update := func(edit func(*layers.Feature)) {
		t.Helper()
		f := layers.Feature{Properties: maps.Clone(it.Properties()), Geometry: it.Geometry()}
		edit(&f)
		it, err = ed.Replace(ctx, "plots", fid, f, "", layers.Edit{Author: "bob"})
		if err != nil {
			t.Fatalf("Replace(plots, %d): %v", fid, err)
		}
		versions = append(versions, it)
		times = append(times, tick())
	}
	update(func(f *layers.Feature) { f.Geometry = square(31, 0.1) })
	update(func(f *layers.Feature) { f.Properties["status"] = "signed" })
	if err := ed.Delete(ctx, "plots", fid, "", layers.Edit{Author: "carol"}); err != nil {
		t.Fatalf("Delete(plots, %d): %v", fid, err)
	}
	afterDelete := tick()
	if versions[0].Bound.Intersects(versions[1].Bound) || versions[1].Bound != versions[2].Bound || versions[1].Properties()["status"] == versions[2].Properties()["status"] {
		t.Fatalf("the versions are not what the test made: %s, %s, %s", versions[0].JSON, versions[1].JSON, versions[2].JSON)
	}

	if _, err := ps.ItemAsOf(ctx, "plots", fid, beforeCreate); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("ItemAsOf(plots, %d) before its creation: %v, want %s", fid, err, layers.ENOTFOUND)
	}
	if got, n := asOf(t, ps, "plots", beforeCreate, layers.Filter{}); n != 20 || got[fid] != "" {
		t.Errorf("as of before the creation: %d matched, feature %d %q; want the 20 plots without it", n, fid, got[fid])
	}
	for i, at := range times {
		v := versions[i]
		got, err := ps.ItemAsOf(ctx, "plots", fid, at)
		if err != nil || string(got.JSON) != string(v.JSON) {
			t.Errorf("ItemAsOf(plots, %d) as of version %d = %v, %v; want %s", fid, i+1, got, err, v.JSON)
		}
		all, n := asOf(t, ps, "plots", at, layers.Filter{})
		if n != 21 || all[fid] != string(v.JSON) {
			t.Errorf("as of version %d: %d matched, feature %d = %s; want 21 and %s", i+1, n, fid, all[fid], v.JSON)
		}
		// Each version's box and status find it exactly when it was that
		// version: 1 and 2 are in cells apart, 2 and 3 differ in status.
		for j, other := range versions {
			f := layers.Filter{BBoxes: []orb.Bound{other.Bound}, Equals: map[string]any{"status": other.Properties()["status"]}}
			got, _ := asOf(t, ps, "plots", at, f)
			want := ""
			if i == j {
				want = string(v.JSON)
			}
			if got[fid] != want {
				t.Errorf("as of version %d, the box and status of version %d: feature %d = %q, want %q", i+1, j+1, fid, got[fid], want)
			}
		}
		// Paging by key over the past: the feature is the last page.
		// numberMatched counts them all, as Items counts.
		page, n, err := ps.ItemsAsOf(ctx, "plots", at, layers.Filter{}, layers.Page{After: 19, Limit: 5})
		if err != nil || n != 21 || len(page) != 2 || page[1].ID != fid || string(page[1].JSON) != string(v.JSON) {
			t.Errorf("as of version %d, after 19: %d items, %d matched, %v; want 20 and %d (that version) of 21", i+1, len(page), n, err, fid)
		}
		page, n, err = ps.ItemsAsOf(ctx, "plots", at, layers.Filter{}, layers.Page{Offset: 20, Limit: 5})
		if err != nil || n != 21 || len(page) != 1 || page[0].ID != fid {
			t.Errorf("as of version %d, offset 20: %d items, %d matched, %v; want %d of 21", i+1, len(page), n, err, fid)
		}
		// Uncounted pages (the statistics read so) are the same pages.
		for _, p := range []layers.Page{{Limit: 7}, {After: 7, Limit: 7}, {After: 19, Limit: 5}, {After: 10, Offset: 3, Limit: 4}} {
			want, _, err := ps.ItemsAsOf(ctx, "plots", at, layers.Filter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			p.Uncounted = true
			got, _, err := ps.ItemsAsOf(ctx, "plots", at, layers.Filter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("as of version %d, %+v: features %v, want %v as counted", i+1, p, ids(got), ids(want))
			}
		}
	}
	if _, err := ps.ItemAsOf(ctx, "plots", fid, afterDelete); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("ItemAsOf(plots, %d) after its delete: %v, want %s", fid, err, layers.EGONE)
	}
	if got, n := asOf(t, ps, "plots", afterDelete, layers.Filter{}); n != 20 || got[fid] != "" {
		t.Errorf("as of after the delete: %d matched, feature %d %q; want the 20 plots without it", n, fid, got[fid])
	}
	box := layers.Filter{BBoxes: []orb.Bound{versions[2].Bound}}
	if got, _ := asOf(t, ps, "plots", afterDelete, box); got[fid] != "" {
		t.Errorf("as of after the delete, its last box holds feature %d", fid)
	}
}

// testAsOfDropped: a layer edited, dropped and created again under the
// same id. As of a time of its first life it is read from the history
// alone, in the declaration it had then, as it was served then; between
// its lives and before its first it is not found, with a message that
// says so; as of its second life it is the layer there now.
func testAsOfDropped(t *testing.T, h Harness) {
	s, w := h.New(t)
	ps, ed := pastOf(t, s)
	le, ok := s.(layerEditor)
	if !ok {
		t.Skipf("%T neither creates nor drops layers", s)
	}
	before := tick()
	write(t, s, w, layers.ImportOptions{}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	col, ok := catalog(t, s).Collection("parcels")
	if !ok {
		t.Fatal("no collection parcels after the import")
	}
	first := col.Layer
	f7 := edited(t, s, "parcels", 7, "七号·在建")
	f7.Properties["status"] = "under_construction"
	if _, err := ed.Replace(ctx, "parcels", 7, f7, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	t1, snap1 := tick(), servedNow(t, s, "parcels")
	if err := ed.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	t2, snap2 := tick(), servedNow(t, s, "parcels")
	box := layers.Filter{BBoxes: []orb.Bound{mustItem(t, s, "parcels", 1).Bound}}
	if err := le.DropLayer(ctx, "parcels", layers.Edit{Author: "admin", Note: "dropped for the test"}); err != nil {
		t.Fatalf("DropLayer(parcels): %v", err)
	}
	afterDrop := tick()

	past := func(when string, at time.Time) {
		t.Helper()
		pc, err := ps.PastCollection(ctx, "parcels", at)
		if err != nil || pc == nil {
			t.Fatalf("PastCollection(parcels, %s) = %v, %v; want the dropped layer", when, pc, err)
		}
		if pc.ID != "parcels" || pc.Title != first.Title || len(pc.Schema) != len(first.Schema) || pc.GeometryType != first.GeometryType {
			t.Errorf("PastCollection(parcels, %s) = %s %+v, %d fields; want the declaration it had: %+v, %d fields", when, pc.ID, pc.Title, len(pc.Schema), first.Title, len(first.Schema))
		}
	}
	check := func(when string, exists bool) {
		t.Helper()
		past("t1", t1)
		for i, c := range []struct {
			at   time.Time
			want map[int64]string
		}{{t1, snap1}, {t2, snap2}} {
			got, n := asOf(t, ps, "parcels", c.at, layers.Filter{})
			sameSnapshot(t, fmt.Sprintf("%s, as of t%d", when, i+1), got, c.want)
			if n != len(c.want) {
				t.Errorf("%s, as of t%d: numberMatched %d, want %d", when, i+1, n, len(c.want))
			}
			for fid, want := range c.want {
				it, err := ps.ItemAsOf(ctx, "parcels", fid, c.at)
				if err != nil || string(it.JSON) != want {
					t.Errorf("%s: ItemAsOf(parcels, %d, t%d) = %v, %v; want %s", when, fid, i+1, it, err, want)
				}
			}
			// The values and the boxes of the past apply.
			uc := layers.Filter{Equals: map[string]any{"status": "under_construction"}}
			if got, n := asOf(t, ps, "parcels", c.at, uc); n != 1 || got[7] == "" {
				t.Errorf("%s, as of t%d, status=under_construction: %d matched (feature 7: %v), want feature 7", when, i+1, n, got[7] != "")
			}
			if got, _ := asOf(t, ps, "parcels", c.at, box); got[1] == "" || got[7] != "" {
				t.Errorf("%s, as of t%d, the box of parcel 1: features %v, want 1 and not 7", when, i+1, slices.Sorted(maps.Keys(got)))
			}
			// Paging: offset and key, numberMatched whole.
			page, n, err := ps.ItemsAsOf(ctx, "parcels", c.at, layers.Filter{}, layers.Page{Offset: 1, Limit: 1})
			if err != nil || n != len(c.want) || len(page) != 1 {
				t.Errorf("%s: ItemsAsOf(t%d, offset 1, limit 1) = %d items, %d matched, %v; want 1 of %d", when, i+1, len(page), n, err, len(c.want))
			}
			page, _, err = ps.ItemsAsOf(ctx, "parcels", c.at, layers.Filter{}, layers.Page{After: 1, Limit: 10})
			if err != nil || len(page) != len(c.want)-1 || page[0].ID == 1 {
				t.Errorf("%s: ItemsAsOf(t%d, after 1) = %d items, %v; want %d", when, i+1, len(page), err, len(c.want)-1)
			}
		}
		if _, err := ps.ItemAsOf(ctx, "parcels", 3, t2); layers.ErrorCode(err) != layers.EGONE {
			t.Errorf("%s: ItemAsOf(parcels, 3, t2) after its delete: %v, want %s", when, err, layers.EGONE)
		}
		if _, err := ps.ItemAsOf(ctx, "parcels", 999, t1); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("%s: ItemAsOf(parcels, 999, t1): %v, want %s", when, err, layers.ENOTFOUND)
		}
		// Before its creation: as for any layer, none of its features
		// while it is there now; else no such layer then.
		if got, n, err := ps.ItemsAsOf(ctx, "parcels", before, layers.Filter{}, layers.Page{Limit: 10}); exists && (err != nil || n != 0) {
			t.Errorf("%s: ItemsAsOf(parcels) before its creation: %d features, %v; want none", when, len(got), err)
		} else if !exists && (layers.ErrorCode(err) != layers.ENOTFOUND || !strings.Contains(err.Error(), "did not exist")) {
			t.Errorf("%s: ItemsAsOf(parcels) before its creation: %v, want %s saying it did not exist", when, err, layers.ENOTFOUND)
		}
	}
	check("dropped", false)
	for _, at := range []time.Time{afterDrop, time.Now()} {
		_, _, err := ps.ItemsAsOf(ctx, "parcels", at, layers.Filter{}, layers.Page{Limit: 10})
		if layers.ErrorCode(err) != layers.ENOTFOUND || !strings.Contains(err.Error(), "dropped") {
			t.Errorf("ItemsAsOf(parcels) after the drop: %v, want %s saying it was dropped", err, layers.ENOTFOUND)
		}
		if _, err := ps.ItemAsOf(ctx, "parcels", 1, at); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("ItemAsOf(parcels, 1) after the drop: %v, want %s", err, layers.ENOTFOUND)
		}
		if _, err := ps.PastCollection(ctx, "parcels", at); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("PastCollection(parcels) after the drop: %v, want %s", err, layers.ENOTFOUND)
		}
	}

	// A second life under the same id, with another title: as of a time
	// in it, the layer there now; as of the first, the first.
	second := *first
	second.Title = layers.Text{Zh: "重建的地块", En: "Parcels again"}
	if err := le.DeclareLayer(ctx, &second, layers.Edit{Author: "admin"}); err != nil {
		t.Fatalf("DeclareLayer(parcels again): %v", err)
	}
	it, err := ed.Create(ctx, "parcels", layers.Feature{
		Properties: map[string]any{"name_zh": "新生", "status": "planned"},
		Geometry:   orb.Polygon{{{121.6, 32.2}, {121.61, 32.2}, {121.61, 32.21}, {121.6, 32.21}, {121.6, 32.2}}},
	}, layers.Edit{Author: "alice"})
	if err != nil {
		t.Fatalf("Create in the second life: %v", err)
	}
	t3 := tick()
	if pc, err := ps.PastCollection(ctx, "parcels", t3); err != nil || pc != nil {
		t.Errorf("PastCollection(parcels, t3) = %v, %v; want nil: the layer there now", pc, err)
	}
	got, n := asOf(t, ps, "parcels", t3, layers.Filter{})
	if n != 1 || got[it.ID] != string(it.JSON) {
		t.Errorf("as of t3, in the second life: %d matched, %v; want feature %d only", n, slices.Sorted(maps.Keys(got)), it.ID)
	}
	if got, n := asOf(t, ps, "parcels", afterDrop, layers.Filter{}); n != 0 {
		t.Errorf("as of between the lives: %d matched, %v; want none", n, slices.Sorted(maps.Keys(got)))
	}
	check("created again", true)
}

// testAsOfRedeclared reads a layer as of a time before it was declared
// again, within its life: its features then, with the fields they had
// then, though the layer has lost one since (an import with --replace
// and another schema).
func testAsOfRedeclared(t *testing.T, h Harness) {
	s, w := h.New(t)
	ps, ed := pastOf(t, s)
	write(t, s, w, layers.ImportOptions{}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	f7 := edited(t, s, "parcels", 7, "七号·改名")
	if _, err := ed.Replace(ctx, "parcels", 7, f7, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	t1, snap1 := tick(), servedNow(t, s, "parcels")
	if !strings.Contains(snap1[1], `"berths":8`) {
		t.Fatalf("feature 1 is served without its berths: %s", snap1[1])
	}

	// The same layer without its berths field, written whole.
	noBerths := regexp.MustCompile(`"berths": [0-9]+, |\s*\{"name": "berths"[^\n]*\n`).ReplaceAllString(parcelsGeoJSON, "")
	if strings.Contains(noBerths, "berths") {
		t.Fatal("the test's layer file still has berths")
	}
	write(t, s, w, layers.ImportOptions{Replace: true}, parse(t, "parcels.geojson", []byte(noBerths)))
	if col, _ := catalog(t, s).Collection("parcels"); col.Field("berths") != nil {
		t.Fatal("parcels still has its berths field after the import")
	}
	f1 := edited(t, s, "parcels", 1, "一号·新")
	if _, err := ed.Replace(ctx, "parcels", 1, f1, "", layers.Edit{Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	t2, snap2 := tick(), servedNow(t, s, "parcels")

	for i, c := range []struct {
		at   time.Time
		want map[int64]string
	}{{t1, snap1}, {t2, snap2}} {
		got, n := asOf(t, ps, "parcels", c.at, layers.Filter{})
		sameSnapshot(t, fmt.Sprintf("as of t%d", i+1), got, c.want)
		if n != len(c.want) {
			t.Errorf("as of t%d: numberMatched %d, want %d", i+1, n, len(c.want))
		}
		for _, fid := range []int64{1, 7} {
			if it, err := ps.ItemAsOf(ctx, "parcels", fid, c.at); err != nil || string(it.JSON) != c.want[fid] {
				t.Errorf("ItemAsOf(parcels, %d, t%d) = %v, %v; want %s", fid, i+1, it, err, c.want[fid])
			}
		}
	}
	// As of t1, the layer there now in the declaration it had then; as of
	// t2, the layer there now as it is.
	if pc, err := ps.PastCollection(ctx, "parcels", t1); err != nil || pc == nil || pc.Field("berths") == nil || !pc.Dropped.IsZero() {
		t.Errorf("PastCollection(parcels, t1) = %v, %v; want the declaration of then, with berths, not dropped", pc, err)
	}
	if pc, err := ps.PastCollection(ctx, "parcels", t2); err != nil || pc != nil {
		t.Errorf("PastCollection(parcels, t2) = %v, %v; want nil: the layer there now, as declared now", pc, err)
	}
}
