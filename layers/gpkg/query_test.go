package gpkg_test

import (
	"bytes"
	"context"
	"math"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// Many readers at once, each with a query the store has not prepared
// before, must not wait for each other: a reader holds a connection for
// its snapshot, and one that took a second from the pool to prepare a
// statement would wait for ever once every connection was held so.
func TestConcurrentFirstQueries(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	if _, err := s.Catalog(ctx); err != nil {
		t.Fatal(err)
	}
	filters := []layers.Filter{
		{},
		{Equals: map[string]any{"status": "signed"}},
		{Equals: map[string]any{"public": true}},
		{Equals: map[string]any{"berths": int64(8)}},
		{Equals: map[string]any{"status": "planned", "public": true}},
		{BBoxes: []orb.Bound{{Min: orb.Point{121.4, 32}, Max: orb.Point{121.6, 32.2}}}},
		{BBoxes: []orb.Bound{{Min: orb.Point{121.4, 32}, Max: orb.Point{121.6, 32.2}}}, Equals: map[string]any{"status": "signed"}},
		{BBoxes: []orb.Bound{{Min: orb.Point{121.4, 32}, Max: orb.Point{121.6, 32.2}}}, Equals: map[string]any{"public": false}},
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(filters))
	for round := 0; round < 4; round++ {
		for _, f := range filters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.Items(rctx, "parcels", f, layers.Page{Limit: 10}); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Items: %v", err)
	}
}

// Load and LoadShapes read the rows of ids in runs of consecutive ones by
// rowid ranges and others through a list: whatever the ids, they answer
// each existing feature once per time asked (shapes: once), in the order
// asked, as reading them one by one does.
func TestLoadByIDs(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(400))))
	var one []*layers.Item // one[fid]: Item(fid), nil where none
	for fid := int64(0); fid <= 400; fid++ {
		it, err := s.Item(ctx, "parcels", fid)
		if err != nil && layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Fatalf("Item(parcels, %d): %v", fid, err)
		}
		one = append(one, it)
	}
	seq := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		ids  []int64
	}{
		{"One", []int64{17}},
		{"OneRun", seq(1, 120)},
		{"Runs", append(append(seq(3, 40), seq(61, 100)...), seq(121, 160)...)},
		{"RunsPastTheEnd", seq(380, 420)},
		{"Sparse", []int64{1, 9, 30, 31, 77, 200, 399}},
		{"Unsorted", []int64{50, 3, 49, 2, 300, 1}},
		{"Duplicates", []int64{5, 5, 6, 7, 7}},
		{"NoneThere", []int64{0, -4, 1000, 1001}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want []*layers.Item
			var wantShapes []int64
			for _, fid := range tt.ids {
				if fid >= 0 && fid < int64(len(one)) && one[fid] != nil {
					want = append(want, one[fid])
					if !slices.Contains(wantShapes, fid) {
						wantShapes = append(wantShapes, fid)
					}
				}
			}
			got, err := s.Load(ctx, "parcels", tt.ids)
			if err != nil {
				t.Fatalf("Load(%v): %v", tt.ids, err)
			}
			if len(got) != len(want) {
				t.Fatalf("Load(%v) = %d items, want %d", tt.ids, len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i].JSON, want[i].JSON) {
					t.Errorf("Load(%v)[%d] = %s, want %s", tt.ids, i, got[i].JSON, want[i].JSON)
				}
			}
			shapes, err := s.LoadShapes(ctx, "parcels", tt.ids, []string{"status"})
			if err != nil {
				t.Fatalf("LoadShapes(%v): %v", tt.ids, err)
			}
			var gotShapes []int64
			for _, sh := range shapes {
				gotShapes = append(gotShapes, sh.ID)
				if w := one[sh.ID]; !orb.Equal(sh.Geometry, w.Geometry()) || len(sh.Values) != 1 || sh.Values[0] != w.Properties()["status"] {
					t.Errorf("LoadShapes(%v): feature %d = %v %v, want %v and status %v", tt.ids, sh.ID, sh.Geometry, sh.Values, w.Geometry(), w.Properties()["status"])
				}
			}
			if !slices.Equal(gotShapes, wantShapes) {
				t.Errorf("LoadShapes(%v) = features %v, want %v", tt.ids, gotShapes, wantShapes)
			}
		})
	}
}

// Boxes on the edges of features' R-tree boxes: a box whose edges are
// exactly those of a feature's R-tree box (coordinates a float32 holds
// exactly, as the R-tree's are) holds that feature, its R-tree box inside
// it on all four sides, neither crossing an edge nor beyond one; so does a
// box that shares only one edge with it and reaches across the layer from
// there. Each is answered alike whether or not the R-tree is read in two.
func TestBBoxOnRTreeEdges(t *testing.T) {
	const n = 4000
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(n))))
	boxes := map[int64]orb.Bound{}
	if err := s.Bounds(ctx, "parcels", func(fid int64, b orb.Bound) { boxes[fid] = b }); err != nil {
		t.Fatal(err)
	}
	if len(boxes) != n {
		t.Fatalf("Bounds gave %d boxes, want %d", len(boxes), n)
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := cat.Collection("parcels")
	all := col.Extent.Pad(0.01)
	for fid := int64(1); fid <= n; fid += 389 {
		b := boxes[fid]
		for name, q := range map[string]orb.Bound{
			"its own box": b,
			"west edge":   {Min: orb.Point{b.Min[0], all.Min[1]}, Max: all.Max},
			"east edge":   {Min: all.Min, Max: orb.Point{b.Max[0], all.Max[1]}},
			"south edge":  {Min: orb.Point{all.Min[0], b.Min[1]}, Max: all.Max},
			"north edge":  {Min: all.Min, Max: orb.Point{all.Max[0], b.Max[1]}},
		} {
			f := layers.Filter{BBoxes: []orb.Bound{q}}
			inTwo, oneRead := bothReads(t, s, f, layers.Page{Limit: n})
			if !slices.Contains(inTwo, fid) {
				t.Errorf("feature %d's R-tree box %v; a box on %s, %v, selects %d features, without it", fid, b, name, q, len(inTwo))
			}
			if !slices.Equal(inTwo, oneRead) {
				t.Errorf("a box on %s of feature %d, %v: %d features read in two, %d in one read\n  only in two: %v\n  only in one: %v",
					name, fid, q, len(inTwo), len(oneRead), minus(inTwo, oneRead), minus(oneRead, inTwo))
			}
		}
	}
}

// Reading the R-tree in two (the ids inside a box, then the boxes across
// its edges) selects what one read does, with property values, several
// boxes, pages by key, offset and uncounted ones, small boxes and large.
func TestBBoxReadInTwo(t *testing.T) {
	const n = 4000
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(n))))
	rng := rand.New(rand.NewSource(3))
	cell := layerstest.ParcelsCell
	for i := 0; i < 150; i++ {
		var f layers.Filter
		for range 1 + i%3 {
			w, h := cell*(0.3+rng.Float64()*80), cell*(0.3+rng.Float64()*6)
			x := layerstest.ParcelsWest - 2*cell + rng.Float64()*604*cell
			y := layerstest.ParcelsSouth - cell + rng.Float64()*8*cell
			f.BBoxes = append(f.BBoxes, orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}})
		}
		if i%4 == 0 {
			f.Equals = map[string]any{"status": layerstest.ParcelsStatuses[rng.Intn(len(layerstest.ParcelsStatuses))]}
		}
		p := layers.Page{Limit: []int{5, 100, n}[rng.Intn(3)], Offset: rng.Intn(3) * 7}
		switch i % 5 {
		case 1:
			p.After = int64(rng.Intn(n))
		case 2:
			p.After, p.Uncounted = int64(rng.Intn(n)), true
		}
		inTwo, oneRead := bothReads(t, s, f, p)
		if !slices.Equal(inTwo, oneRead) {
			t.Fatalf("filter %v, page %+v: read in two %v, in one read %v", f, p, inTwo, oneRead)
		}
	}
}

// bothReads returns the ids of Select and of Shapes, which must agree,
// for f and p, the R-tree of every box read in two, then in one read;
// then how many match, after the ids.
func bothReads(t *testing.T, s *gpkg.Store, f layers.Filter, p layers.Page) (inTwo, oneRead []int64) {
	t.Helper()
	read := func(most int64) []int64 {
		defer gpkg.SetManyHits(most)()
		fids, matched, err := s.Select(ctx, "parcels", f, p)
		if err != nil {
			t.Fatal(err)
		}
		shapes, shapesMatched, err := s.Shapes(ctx, "parcels", f, p, []string{"status"})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, len(shapes))
		for i, sh := range shapes {
			ids[i] = sh.ID
		}
		if !slices.Equal(ids, fids) || matched != shapesMatched {
			t.Fatalf("filter %v, page %+v: Select %v, matched %d; Shapes %v, matched %d", f, p, fids, matched, ids, shapesMatched)
		}
		return append(fids, int64(-matched))
	}
	return read(0), read(math.MaxInt64)
}

// minus returns the ids of a that b lacks.
func minus(a, b []int64) []int64 {
	var out []int64
	for _, id := range a {
		if !slices.Contains(b, id) {
			out = append(out, id)
		}
	}
	return out
}
