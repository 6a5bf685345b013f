package gpkg_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// tick returns a time strictly between the writes before and after it:
// the history keeps milliseconds.
func tick() time.Time {
	time.Sleep(3 * time.Millisecond)
	t := time.Now()
	time.Sleep(3 * time.Millisecond)
	return t
}

// servedNow is every feature of layer id as served now, by id.
func servedNow(t *testing.T, s *gpkg.Store, id string) map[int64]string {
	t.Helper()
	page, _, err := s.Items(ctx, id, layers.Filter{}, layers.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, it := range page {
		out[it.ID] = string(it.JSON)
	}
	return out
}

func asOf(t *testing.T, s *gpkg.Store, id string, at time.Time, f layers.Filter) (map[int64]string, int) {
	t.Helper()
	page, matched, err := s.ItemsAsOf(ctx, id, at, f, layers.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("ItemsAsOf(%s, %s): %v", id, at, err)
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

func sameSnapshot(t *testing.T, what string, got, want map[int64]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: features %v, want %v", what, keys(got), keys(want))
	}
	for fid, w := range want {
		if g, ok := got[fid]; !ok {
			t.Errorf("%s: no feature %d", what, fid)
		} else if g != w {
			t.Errorf("%s: feature %d =\n%s\nwant\n%s", what, fid, g, w)
		}
	}
}

func keys(m map[int64]string) []int64 {
	var out []int64
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The layer as of each moment between edits is the layer as it was served
// then: edits, deletes, creates and a whole replace by import, each read
// back from the history, one feature and the whole layer, with a bbox on
// the past geometries and values of the past properties.
func TestItemsAsOf(t *testing.T) {
	s := layerstest.MustOpen(t)
	before := tick()
	parcels := readTestdata(t, "parcels.geojson")
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", parcels))
	var times []time.Time
	var snaps []map[int64]string
	mark := func() {
		times = append(times, tick())
		snaps = append(snaps, servedNow(t, s, "parcels"))
	}
	mark() // 0: as imported
	f7 := edited(t, s, "parcels", 7, "七号·在建")
	f7.Properties["status"] = "under_construction"
	if _, err := s.Replace(ctx, "parcels", 7, f7, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	mark() // 1
	if err := s.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	mark() // 2
	created, err := s.Create(ctx, "parcels", edited(t, s, "parcels", 7, "新地块"), layers.Edit{Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	mark() // 3
	// Parcel 1 moves a degree east.
	f1 := edited(t, s, "parcels", 1, "一号·东移")
	f1.Geometry = moved(f1.Geometry, 1)
	if _, err := s.Replace(ctx, "parcels", 1, f1, "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	mark() // 4
	// A whole replace by import: the file as first imported.
	mustImport(t, s, layers.ImportOptions{Replace: true}, parseText(t, "parcels.geojson", parcels))
	mark() // 5
	// And one edit after the bulk write.
	if _, err := s.Replace(ctx, "parcels", 1, edited(t, s, "parcels", 1, "一号·再改"), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	mark() // 6

	if got, n := asOf(t, s, "parcels", before, layers.Filter{}); len(got) != 0 || n != 0 {
		t.Errorf("as of before the import: %d features (%d matched), want none", len(got), n)
	}
	for i, at := range times {
		got, n := asOf(t, s, "parcels", at, layers.Filter{})
		sameSnapshot(t, fmt.Sprintf("as of mark %d", i), got, snaps[i])
		if n != len(snaps[i]) {
			t.Errorf("as of mark %d: numberMatched %d, want %d", i, n, len(snaps[i]))
		}
		for fid, want := range snaps[i] {
			it, err := s.ItemAsOf(ctx, "parcels", fid, at)
			if err != nil || string(it.JSON) != want {
				t.Errorf("ItemAsOf(parcels, %d, mark %d) = %v, %v; want %s", fid, i, it, err, want)
			}
		}
	}
	if _, err := s.ItemAsOf(ctx, "parcels", 3, times[2]); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("ItemAsOf(parcels, 3) after its delete: %v, want %s", err, layers.EGONE)
	}
	if _, err := s.ItemAsOf(ctx, "parcels", 3, times[5]); err != nil {
		t.Errorf("ItemAsOf(parcels, 3) after the replace brought it back: %v", err)
	}
	if _, err := s.ItemAsOf(ctx, "parcels", created.ID, times[2]); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("ItemAsOf(parcels, %d) before it was created: %v, want %s", created.ID, err, layers.ENOTFOUND)
	}
	if _, err := s.ItemAsOf(ctx, "parcels", 1, before); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("ItemAsOf(parcels, 1) before the import: %v, want %s", err, layers.ENOTFOUND)
	}

	// Values of the past: parcel 7 was under construction between marks
	// 1 and 4, and the parcel made from it at mark 3 until the replace.
	uc := layers.Filter{Equals: map[string]any{"status": "under_construction"}}
	for i, want := range []int{0, 1, 1, 2, 2, 0, 0} {
		if _, n := asOf(t, s, "parcels", times[i], uc); n != want {
			t.Errorf("as of mark %d, status=under_construction matched %d, want %d", i, n, want)
		}
	}
	// The bbox meets the past geometries: parcel 1's first place, which
	// it left at mark 4 and came back to with the replace.
	first, err := s.ItemAsOf(ctx, "parcels", 1, times[0])
	if err != nil {
		t.Fatal(err)
	}
	box := layers.Filter{BBoxes: []orb.Bound{first.Bound}}
	for i, want := range []bool{true, true, true, true, false, true, true} {
		got, _ := asOf(t, s, "parcels", times[i], box)
		if _, ok := got[1]; ok != want {
			t.Errorf("as of mark %d, bbox of parcel 1's first place holds parcel 1: %v, want %v", i, ok, want)
		}
	}
	// Paging: offset and limit over the past features, numberMatched whole.
	page, n, err := s.ItemsAsOf(ctx, "parcels", times[3], layers.Filter{}, layers.Page{Offset: 1, Limit: 1})
	if err != nil || n != 3 || len(page) != 1 || page[0].ID != 7 {
		t.Errorf("ItemsAsOf(mark 3, offset 1, limit 1) = %d items, %d matched, %v; want feature 7 of 3", len(page), n, err)
	}
	page, _, err = s.ItemsAsOf(ctx, "parcels", times[3], layers.Filter{}, layers.Page{After: 7, Limit: 10})
	if err != nil || len(page) != 1 || page[0].ID != created.ID {
		t.Errorf("ItemsAsOf(mark 3, after 7) = %d items, %v; want feature %d", len(page), err, created.ID)
	}
}

// moved returns g shifted dx degrees east.
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

// A database upgraded to the history (migration 0005, one 'layer' row per
// layer) has its features as they were at the upgrade: before and after
// an edit, the past is the upgraded layer and the edit is not in it;
// before the upgrade, nothing is known.
func TestAsOfAfterUpgrade(t *testing.T) {
	path := fixtureCopy(t, "planmap-0004.gpkg")
	before := tick()
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	upgraded := tick()
	was := servedNow(t, s, "terminals")
	if len(was) == 0 {
		t.Fatal("the fixture has no terminals")
	}
	var fid int64
	for id := range was {
		fid = max(fid, id)
	}
	if _, err := s.Replace(ctx, "terminals", fid, edited(t, s, "terminals", fid, "改名"), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "terminals", fid-1, "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	got, _ := asOf(t, s, "terminals", upgraded, layers.Filter{})
	sameSnapshot(t, "terminals as of the upgrade, after an edit and a delete", got, was)
	if got, n := asOf(t, s, "terminals", before, layers.Filter{}); n != 0 {
		t.Errorf("terminals before the upgrade: %d features, want none known", len(got))
	}
	now, _ := asOf(t, s, "terminals", time.Now(), layers.Filter{})
	sameSnapshot(t, "terminals as of now", now, servedNow(t, s, "terminals"))
}
