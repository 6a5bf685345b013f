package gpkg_test

import (
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
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

// The store-independent "as of" assertions (edits, deletes, creates, a
// whole replace by import, filters, bbox and paging over the past) are in
// the contract suite (layers/storetest, asof.go), which TestContract runs.

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
