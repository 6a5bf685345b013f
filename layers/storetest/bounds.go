package storetest

import (
	"context"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// bounder is a store that gives every feature's box at once, for a cache's
// spatial index.
type bounder interface {
	Bounds(ctx context.Context, id string, each func(fid int64, b orb.Bound)) error
}

// testBounds: a store's Bounds gives every feature of a layer once, with
// a box that holds the feature's and is at most rounded outward to
// float32 (an R-tree's), and after a delete no longer gives it.
func testBounds(t *testing.T, h Harness) {
	s, w := h.New(t)
	b, ok := s.(bounder)
	if !ok {
		t.Skip("the store gives no boxes (a cache in front of one does not)")
	}
	ls := synthetic(t, s, w, 300)
	boxes := func(id string) map[int64]orb.Bound {
		t.Helper()
		out := map[int64]orb.Bound{}
		err := b.Bounds(ctx, id, func(fid int64, b orb.Bound) {
			if _, dup := out[fid]; dup {
				t.Errorf("Bounds(%s) gave feature %d twice", id, fid)
			}
			out[fid] = b
		})
		if err != nil {
			t.Fatalf("Bounds(%s): %v", id, err)
		}
		return out
	}
	for _, l := range ls {
		got := boxes(l.ID)
		if len(got) != len(l.Features) {
			t.Errorf("Bounds(%s) gave %d features, want %d", l.ID, len(got), len(l.Features))
		}
		for _, f := range l.Features {
			want := f.Geom.Bound()
			g, ok := got[f.ID]
			// float32 has 24 bits: a degree near 180 is off by at most
			// about 1e-5 when rounded.
			const ulp = 2e-5
			if !ok || !g.Contains(want.Min) || !g.Contains(want.Max) ||
				math.Abs(g.Min[0]-want.Min[0]) > ulp || math.Abs(g.Min[1]-want.Min[1]) > ulp ||
				math.Abs(g.Max[0]-want.Max[0]) > ulp || math.Abs(g.Max[1]-want.Max[1]) > ulp {
				t.Errorf("Bounds(%s) gave feature %d the box %v (%v), want %v or a little larger", l.ID, f.ID, g, ok, want)
			}
		}
	}
	gone := ls[0].Features[3].ID
	remove(t, s, w, ls[0].ID, gone)
	if _, ok := boxes(ls[0].ID)[gone]; ok {
		t.Errorf("Bounds(%s) still gives feature %d after it was deleted", ls[0].ID, gone)
	}
	if err := b.Bounds(ctx, "nowhere", func(int64, orb.Bound) {}); err == nil {
		t.Error("Bounds(nowhere) gave no error")
	}
}
