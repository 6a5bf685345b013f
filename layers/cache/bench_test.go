package cache_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// benchParcels is the size of the synthetic layer the benchmarks read.
const benchParcels = 100_000

// benchStore is the store the benchmarks share, built once per process:
// importing the parcels takes a while and b.TempDir lasts one benchmark
// only. TestMain removes its folder.
var benchStore struct {
	once  sync.Once
	store *gpkg.Store
	dir   string
	err   error
}

// TestMain removes the benchmarks' store when the tests are done: 25 MB
// left in the temporary folder by every run otherwise.
func TestMain(m *testing.M) {
	code := m.Run()
	layerstest.RemoveStore(benchStore.store, benchStore.dir)
	os.Exit(code)
}

func openBenchStore(b *testing.B) *gpkg.Store {
	b.Helper()
	if testing.Short() {
		b.Skipf("the benchmarks import %d parcels; not with -short", benchParcels)
	}
	benchStore.once.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "planmap-cache-bench-")
		if err != nil {
			benchStore.err = err
			return
		}
		benchStore.dir = dir
		start := time.Now()
		s, err := gpkg.Open(ctx, filepath.Join(dir, "planmap.gpkg"))
		if err == nil {
			_, err = s.Import(ctx, []*layers.File{parcelsFile(b, benchParcels, nil)}, layers.ImportOptions{})
		}
		if err == nil {
			_, err = s.Catalog(ctx)
		}
		b.Logf("%d parcels imported into %s in %v", benchParcels, dir, time.Since(start).Round(time.Millisecond))
		benchStore.store, benchStore.err = s, err
	})
	if benchStore.err != nil {
		b.Fatal(benchStore.err)
	}
	return benchStore.store
}

// benchBoxes are the boxes of the benchmarks: the blocks of the parcel grid
// web's benchmarks ask for, of 50 and 1,000 parcels.
var benchBoxes = []struct {
	name   string
	box    orb.Bound
	parcel int
}{
	{"bbox50", parcelBox(300, 150, 10, 5), 50},
	{"bbox1000", parcelBox(280, 140, 40, 25), 1000},
}

// BenchmarkItems reads the same page of features again and again, from the
// store (an R-tree query, then each feature read from the file and
// encoded) and from the cache (the answer and the features held), as the
// map does when users look at the same views.
func BenchmarkItems(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	for _, bb := range benchBoxes {
		f := layers.Filter{BBoxes: []orb.Bound{bb.box}}
		p := layers.Page{Limit: bb.parcel}
		for _, from := range []struct {
			name  string
			items func(context.Context, string, layers.Filter, layers.Page) ([]*layers.Item, int, error)
		}{
			{"store", s.Items},
			{"cache", cache.New(s, cache.DefaultBudget).IndexNow().Items},
			{"cache-noindex", cache.New(s, cache.DefaultBudget).NoIndex().Items},
		} {
			b.Run(bb.name+"/"+from.name, func(b *testing.B) {
				items, matched, err := from.items(ctx, "parcels", f, p)
				if err != nil || len(items) != bb.parcel || matched != bb.parcel {
					b.Fatalf("Items(%v) = %d features of %d, %v; want %d", bb.box, len(items), matched, err, bb.parcel)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, _, err := from.items(ctx, "parcels", f, p); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bb.parcel), "ns/feature")
			})
		}
	}
}

// BenchmarkItemsMixed asks for 256 different 50-parcel boxes spread over
// the whole layer, in turn, through a cache whose budget holds them all
// (asked until they are held), and concurrently from every core: the cost
// of the locks and the LRU bookkeeping when readers share the cache.
func BenchmarkItemsMixed(b *testing.B) {
	s := openBenchStore(b)
	c := cache.New(s, cache.DefaultBudget)
	ctx := context.Background()
	rows := benchParcels / layerstest.ParcelsColumns
	var fs []layers.Filter
	for i := range 256 {
		col, row := (i*37)%(layerstest.ParcelsColumns-10), (i*11)%(rows-5)
		fs = append(fs, layers.Filter{BBoxes: []orb.Bound{parcelBox(col, row, 10, 5)}})
	}
	// Asked until a whole pass is answered from the cache: what the store
	// answers is held the second time it is read.
	for pass := 1; ; pass++ {
		hits := c.Stats().Hits
		for _, f := range fs {
			if items, _, err := c.Items(ctx, "parcels", f, layers.Page{Limit: 100}); err != nil || len(items) != 50 {
				b.Fatalf("Items(%v) = %d features, %v; want 50", f.BBoxes, len(items), err)
			}
		}
		if c.Stats().Hits-hits == int64(len(fs)*50) {
			break
		}
		if pass == 5 {
			b.Fatalf("Stats = %+v after %d passes: the boxes' features are not all held", c.Stats(), pass)
		}
	}
	misses := c.Stats().Misses
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := c.Items(ctx, "parcels", fs[i%len(fs)], layers.Page{Limit: 100}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	if st := c.Stats(); st.Misses != misses {
		b.Error(fmt.Sprintf("Stats = %+v: features were loaded again", st))
	}
}

// BenchmarkItemsNewBoxes asks for boxes of about 50 and 1,000 parcels
// that were never asked before (a map panned), their edges across
// parcels, through a cache that holds every feature of the layer (read
// once before, held the first time): with
// the layer's spatial index (the ids from it, nothing from the store) and
// without (the ids from the store's R-tree, the features held), as before
// the index.
func BenchmarkItemsNewBoxes(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	rows := benchParcels / layerstest.ParcelsColumns
	for _, bb := range []struct {
		name       string
		cols, rows int
	}{{"bbox50", 10, 5}, {"bbox1000", 40, 25}} {
		for _, c := range []struct {
			name  string
			cache *cache.Cache
		}{
			{"index", cache.New(s, 1<<30).AdmitFirst().IndexNow()},
			{"noindex", cache.New(s, 1<<30).AdmitFirst().NoIndex()},
		} {
			pageAll(b, c.cache, "parcels", layers.Filter{})
			b.Run(bb.name+"/"+c.name, func(b *testing.B) {
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					// A new box each time: a step of a third of a cell.
					i++
					box := parcelBox((i/3)%(layerstest.ParcelsColumns-bb.cols), (i/7)%(rows-bb.rows), bb.cols, bb.rows)
					d := float64(i%3) * layerstest.ParcelsCell / 3
					box.Min[0] += d
					box.Max[0] += d
					if _, _, err := c.cache.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{box}}, layers.Page{Limit: 1000}); err != nil {
						b.Fatal(err)
					}
				}
			})
			if st := c.cache.Stats(); st.Misses != benchParcels {
				b.Errorf("%s: Stats = %+v: features were loaded again", c.name, st)
			}
		}
	}
}
