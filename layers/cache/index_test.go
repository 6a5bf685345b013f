package cache_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/layerstest"
)

// Queries of boxes alone are answered from the layer's spatial index
// exactly as the store answers them, with the budget for everything (every
// query the index's) and with one that holds a fraction of the features
// (the store answering those whose features are mostly not held), before
// and after other programs move, delete and add features: the index
// follows each change feature by feature and is not made again, and no
// such query asks the store to select. A layer replaced whole gets an
// index made anew.
func TestIndexSameAsStore(t *testing.T) {
	const n = 1200
	ctx := context.Background()
	for _, budget := range []int64{64 << 20, 600 << 10} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			s := newStore(t, n)
			other := layerstest.OpenOtherClient(t, s.Path())
			c := cache.New(s, budget).AdmitFirst().IndexNow()
			rng := rand.New(rand.NewSource(budget))
			roomy := budget > 1<<20
			compare := func(when string) {
				t.Helper()
				// As much of the layer held as fits: with room, every
				// query is the index's.
				pageAll(t, c, "parcels", layers.Filter{})
				before, asked, selects := c.Stats().IndexHits, int64(0), s.selects.Load()
				for range 80 {
					q := randomQuery(rng, n)
					q.f.Equals = nil
					if len(q.f.BBoxes) == 0 {
						continue
					}
					asked++
					sameAsStore(t, when, s, c, q)
				}
				if hits := c.Stats().IndexHits - before; roomy && hits != asked || hits == 0 {
					t.Errorf("%s: the index answered %d of %d queries; want all with room, some without", when, hits, asked)
				}
				if d := s.selects.Load() - selects; d != 0 {
					t.Errorf("%s: the queries of boxes asked the store to select %d times, want none", when, d)
				}
			}
			// waitFor waits until the cache's store has taken in what the
			// other client wrote: the cache sees the changes once its
			// store's catalog does.
			waitFor := func() {
				t.Helper()
				done, err := other.Store.Catalog(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
					cat, err := s.Catalog(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if cat.Seq >= done.Seq {
						return
					}
					if time.Since(start) > 10*time.Second {
						t.Fatalf("the store's catalog is at change %d, 10 s after the other client's reached %d", cat.Seq, done.Seq)
					}
				}
			}
			compare("at first")

			// Parcel 5 moves onto parcel 300's place, 6 grows over its
			// neighbour to the north, 7 and 8 go, and a new one lands on parcel 900.
			grid := func(fid int64) orb.Bound {
				i := int(fid - 1)
				return parcelBox(i%layerstest.ParcelsColumns, i/layerstest.ParcelsColumns, 1, 1)
			}
			if err := other.SetGeometry(ctx, "parcels", 5, grid(300).ToPolygon()); err != nil {
				t.Fatal(err)
			}
			north := int64(6 + layerstest.ParcelsColumns)
			big := grid(6).Union(grid(north))
			if err := other.SetGeometry(ctx, "parcels", 6, big.ToPolygon()); err != nil {
				t.Fatal(err)
			}
			if err := other.Delete(ctx, "parcels", 7, 8); err != nil {
				t.Fatal(err)
			}
			mustImport(t, other.Store, layers.ImportOptions{}, parcelsFile(t, n, func(fs []map[string]any) []map[string]any {
				f := fs[899]
				f["id"] = n + 1
				return []map[string]any{f}
			}))
			waitFor()
			compare("after the changes")
			for _, q := range []struct {
				box  orb.Bound
				want []int64
			}{
				{grid(300), []int64{5, 300}},
				{grid(5), nil},
				{grid(north), []int64{6, north}},
				{grid(7).Union(grid(8)), nil},
				{grid(900), []int64{900, n + 1}},
			} {
				// Shrunk by a tenth of a cell: no neighbour's edge.
				d := layerstest.ParcelsCell / 10
				box := orb.Bound{Min: orb.Point{q.box.Min[0] + d, q.box.Min[1] + d}, Max: orb.Point{q.box.Max[0] - d, q.box.Max[1] - d}}
				items, _, err := c.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{box}}, layers.Page{Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, it := range items {
					got = append(got, it.ID)
				}
				if fmt.Sprint(got) != fmt.Sprint(q.want) {
					t.Errorf("the features in %v are %v, want %v", box, got, q.want)
				}
			}
			st := c.Stats()
			if st.Indexes != 1 || st.IndexHits == 0 || s.bounds.Load() != 1 {
				t.Errorf("Stats = %+v, and the store was asked for the layer's boxes %d times; want one index, made once, and hits", st, s.bounds.Load())
			}
			if want := n - 2 + 1; st.IndexedFeatures != want {
				t.Errorf("the index holds %d features, want %d", st.IndexedFeatures, want)
			}

			// The layer replaced whole: its index goes, and is made again
			// from the new layer.
			mustImport(t, other.Store, layers.ImportOptions{Replace: true}, parcelsFile(t, n/2, nil))
			waitFor()
			compare("after the layer was replaced")
			if st := c.Stats(); st.Indexes != 1 || st.IndexedFeatures != n/2 || s.bounds.Load() != 2 {
				t.Errorf("after the layer was replaced: Stats = %+v, the store asked for its boxes %d times; want one index of %d, made twice", st, s.bounds.Load(), n/2)
			}
		})
	}
}

// An index is made only while the indexes take at most half the budget,
// and what it takes is taken from the features' share.
func TestIndexWithinBudget(t *testing.T) {
	const n = 2000
	s := newStore(t, n)
	ctx := context.Background()
	box := layers.Filter{BBoxes: []orb.Bound{parcelBox(0, 0, 10, 2)}}
	small := cache.New(s, 2*n*cache.IndexEntryBytes-1).IndexNow()
	if _, _, err := small.Items(ctx, "parcels", box, layers.Page{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if st := small.Stats(); st.Indexes != 0 || st.IndexHits != 0 {
		t.Errorf("with a budget under twice the index's size: Stats = %+v, want no index", st)
	}
	budget := int64(4 * n * cache.IndexEntryBytes)
	c := cache.New(s, budget).AdmitFirst().IndexNow()
	pageAll(t, c, "parcels", layers.Filter{})
	// The box's features were read first and are no longer held: the
	// first query of the box takes the store's answer, and holds it; the
	// second is the index's.
	for range 2 {
		if _, _, err := c.Items(ctx, "parcels", box, layers.Page{Limit: 10}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.Indexes != 1 || st.IndexHits != 1 || st.Bytes > budget {
		t.Errorf("Stats = %+v: want one index, used once, within the budget %d", st, budget)
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
}

// A view asked again is held as an answer, so that the third time it is
// a lookup; a box asked once is not (a map panned would fill the budget
// with answers nobody asks for again).
func TestIndexHoldsRevisitedViews(t *testing.T) {
	s := newStore(t, 1200)
	c := cache.New(s, 64<<20).AdmitFirst().IndexNow()
	ctx := context.Background()
	pageAll(t, c, "parcels", layers.Filter{})
	ask := func(box orb.Bound) {
		t.Helper()
		if _, _, err := c.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{box}}, layers.Page{Limit: 100}); err != nil {
			t.Fatal(err)
		}
	}
	before := c.Stats()
	for col := range 50 {
		ask(parcelBox(col, 0, 3, 2))
	}
	if st := c.Stats(); st.Queries != before.Queries || st.IndexHits-before.IndexHits != 50 {
		t.Errorf("50 boxes asked once: %d answers held more, %d from the index; want none and 50", st.Queries-before.Queries, st.IndexHits-before.IndexHits)
	}
	view := parcelBox(100, 1, 5, 1)
	before = c.Stats()
	for range 3 {
		ask(view)
	}
	if st := c.Stats(); st.IndexHits-before.IndexHits != 2 || st.QueryHits-before.QueryHits != 1 || st.Queries != before.Queries+1 {
		t.Errorf("a view asked three times: %d from the index, %d held answers used, %d held more; want 2, 1 and 1",
			st.IndexHits-before.IndexHits, st.QueryHits-before.QueryHits, st.Queries-before.Queries)
	}
}

// More changed features of a layer than an advance moves in its index one
// by one drop the index; the next query of boxes has it made again from
// the store, and it answers as the store does.
func TestIndexDroppedByManyChanges(t *testing.T) {
	n := cache.MaxIndexUpdate + 100
	s := newStore(t, n)
	c := cache.New(s, 64<<20).IndexNow()
	ctx := context.Background()
	rng := rand.New(rand.NewSource(1))
	ask := func(when string) {
		t.Helper()
		for range 20 {
			q := randomQuery(rng, n)
			q.f.Equals = nil
			if len(q.f.BBoxes) > 0 {
				sameAsStore(t, when, s, c, q)
			}
		}
	}
	ask("at first")
	if st := c.Stats(); st.Indexes != 1 || s.bounds.Load() != 1 {
		t.Fatalf("at first: Stats = %+v, boxes asked %d times; want one index, made once", st, s.bounds.Load())
	}
	// Every parcel updated in one import: one change each.
	mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, n, func(fs []map[string]any) []map[string]any {
		for _, f := range fs {
			f["properties"].(map[string]any)["status"] = "signed"
		}
		return fs
	}))
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Brought up to the import by reads that do not ask for the index.
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Seq != cat.Seq; time.Sleep(time.Millisecond) {
		if _, err := c.Item(ctx, "parcels", 1); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the import the cache is at change %d, the store at %d", c.Stats().Seq, cat.Seq)
		}
	}
	if st := c.Stats(); st.Indexes != 0 || st.ApplyErrors != 0 {
		t.Errorf("after %d changes: Stats = %+v; want the index dropped, and no errors", n, st)
	}
	ask("after the import")
	if st := c.Stats(); st.Indexes != 1 || s.bounds.Load() != 2 {
		t.Errorf("after the import: Stats = %+v, boxes asked %d times; want the index made again", st, s.bounds.Load())
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
}

// When more of a box's candidates cross its edge, not held, than a query
// would load to decide on, the store's own query answers it.
func TestIndexLeavesManyCrossingToStore(t *testing.T) {
	n := 3 * cache.MaxCrossingLoad
	// Strips 60 cells wide, each starting one column further: a box in
	// the middle of the grid crosses most of them.
	s := newStore(t, 0)
	mustImport(t, s.Store, layers.ImportOptions{Replace: true}, parcelsFile(t, n, func(fs []map[string]any) []map[string]any {
		for i, f := range fs {
			col, row := i%40, i/40
			f["geometry"] = map[string]any{"type": "Polygon", "coordinates": boxRing(parcelBox(col, row, 60, 1))}
			status := "planned"
			if i%5 >= 2 {
				status = "signed"
			}
			f["properties"].(map[string]any)["status"] = status
		}
		return fs
	}))
	c := cache.New(s, 64<<20).AdmitFirst().IndexNow()
	// Three in five held: enough for the index to answer, but the others
	// are more than it loads.
	pageAll(t, c, "parcels", layers.Filter{Equals: map[string]any{"status": "signed"}})
	rows := n / 40
	q := query{layer: "parcels", f: layers.Filter{BBoxes: []orb.Bound{parcelBox(50, 1, 20, rows-2)}}, p: layers.Page{Limit: 10000}}
	selects, hits := s.selects.Load(), c.Stats().IndexHits
	sameAsStore(t, "many crossing", s, c, q)
	if d := s.selects.Load() - selects; d != 1 || c.Stats().IndexHits != hits {
		t.Errorf("the store selected %d times, the index answered %d; want the store once and the index never", d, c.Stats().IndexHits-hits)
	}
}

// boxRing is b as a GeoJSON polygon's coordinates, counterclockwise.
func boxRing(b orb.Bound) [][][]float64 {
	return [][][]float64{{{b.Min[0], b.Min[1]}, {b.Max[0], b.Min[1]}, {b.Max[0], b.Max[1]}, {b.Min[0], b.Max[1]}, {b.Min[0], b.Min[1]}}}
}
