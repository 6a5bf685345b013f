package web_test

import (
	"bytes"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/web/tiles"
)

// BenchmarkTile makes vector tiles of the benchmarks' 200,000 synthetic
// parcels (85 × 100 m cells): at z12 a tile holds about 8,000 of them and
// at z14 about 500, as a z14 and a z16 tile hold of the 25 m
// parcels — the same counts, and parcels as many pixels wide. "file" reads
// the features from the GeoPackage (Store.Shapes), "featurecache" through
// the feature cache holding them (as planmap serve has it once the view
// has been seen); "router" is a whole request through the real router,
// its tile cache holding the tile, and "304" its revalidation.
func BenchmarkTile(b *testing.B) {
	h := benchRouter(b)
	store := benchStore.store
	mid := orb.Point{layerstest.ParcelsWest + 300*layerstest.ParcelsCell, layerstest.ParcelsSouth + 167*layerstest.ParcelsCell}
	fc := cache.New(store, 1<<30)
	for _, z := range []int{12, 14} {
		tl := tileAt(mid, z)
		name := "z" + strconv.Itoa(z)
		for _, src := range []struct {
			name string
			s    tiles.Source
		}{{"file", store}, {"featurecache", fc}} {
			b.Run(name+"/"+src.name, func(b *testing.B) {
				if src.s == fc {
					// The view's features read as GeoJSON before, as the
					// map does at high zooms: a tile's read of shapes does
					// not fill the feature cache itself. Twice: what the
					// store answers is held the second time.
					box := layers.Filter{BBoxes: []orb.Bound{tiles.Bound(z, int(tl.X), int(tl.Y))}}
					for range 2 {
						if _, _, err := fc.Items(ctx, "parcels", box, layers.Page{Limit: tiles.MaxFeatures}); err != nil {
							b.Fatal(err)
						}
					}
				}
				t, err := tiles.Build(ctx, src.s, z, int(tl.X), int(tl.Y), []string{"parcels"})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				cpuStart := processCPU()
				for b.Loop() {
					if _, err := tiles.Build(ctx, src.s, z, int(tl.X), int(tl.Y), []string{"parcels"}); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpuStart)
				b.ReportMetric(float64(len(t.Holds["parcels"])), "parcels")
				b.ReportMetric(float64(len(t.Data)), "tile-bytes")
			})
		}
		target := "/collections/parcels/tiles/WebMercatorQuad/" + tilePath(tl)
		b.Run(name+"/router", func(b *testing.B) {
			req := httptest.NewRequest("GET", target, nil)
			var buf bytes.Buffer
			if rec := benchRequest(h, req, &buf); rec.Code != 200 {
				b.Fatalf("GET %s = %d", target, rec.Code)
			}
			b.ResetTimer()
			cpuStart := processCPU()
			for b.Loop() {
				benchRequest(h, req, &buf)
			}
			reportCPU(b, cpuStart)
		})
		b.Run(name+"/304", func(b *testing.B) {
			req := httptest.NewRequest("GET", target, nil)
			var buf bytes.Buffer
			rec := benchRequest(h, req, &buf)
			req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
			if rec := benchRequest(h, req, &buf); rec.Code != 304 {
				b.Fatalf("GET %s with its ETag = %d", target, rec.Code)
			}
			b.ResetTimer()
			cpuStart := processCPU()
			for b.Loop() {
				benchRequest(h, req, &buf)
			}
			reportCPU(b, cpuStart)
		})
	}
	// Low zooms: the worst tile of each zoom from 8 to 12 over the layer,
	// every layer in it (the seeds too), from the file.
	for z := 8; z <= 12; z++ {
		b.Run("worst/z"+strconv.Itoa(z), func(b *testing.B) {
			var worst *tiles.Tile
			sw := tileAt(orb.Point{layerstest.ParcelsWest, layerstest.ParcelsSouth}, z)
			ne := tileAt(orb.Point{layerstest.ParcelsWest + 600*layerstest.ParcelsCell, layerstest.ParcelsSouth + 334*layerstest.ParcelsCell}, z)
			var wx, wy int
			for x := sw.X; x <= ne.X; x++ {
				for y := ne.Y; y <= sw.Y; y++ {
					t, err := tiles.Build(ctx, store, z, int(x), int(y), nil)
					if err != nil {
						b.Fatal(err)
					}
					if worst == nil || len(t.Data) > len(worst.Data) {
						worst, wx, wy = t, int(x), int(y)
					}
				}
			}
			b.ResetTimer()
			cpuStart := processCPU()
			for b.Loop() {
				if _, err := tiles.Build(ctx, store, z, wx, wy, nil); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpuStart)
			b.ReportMetric(float64(len(worst.Data)), "tile-bytes")
			b.ReportMetric(float64(len(worst.Holds["parcels"])), "parcels")
		})
	}
}

// BenchmarkTileDB is BenchmarkTile's z12 and z14 tiles on a database of
// one's own, such as 1,000,000 parcels (genparcels -n 1000000 | planmap
// import): skipped unless PLANMAP_TILE_BENCH_DB names it.
//
//	PLANMAP_TILE_BENCH_DB=/tmp/1m.gpkg go test -run '^$' -bench TileDB -benchtime 20x -cpu 1 ./web
func BenchmarkTileDB(b *testing.B) {
	path := os.Getenv("PLANMAP_TILE_BENCH_DB")
	if path == "" {
		b.Skip("PLANMAP_TILE_BENCH_DB is not set")
	}
	store, err := gpkg.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	cat, err := store.Catalog(ctx)
	if err != nil {
		b.Fatal(err)
	}
	col, ok := cat.Collection("parcels")
	if !ok {
		b.Fatal("no parcels layer")
	}
	b.Logf("%d parcels; MinZoom %d", col.Count, tiles.MinZoom(col))
	fc := cache.New(store, 1<<30)
	for _, z := range []int{12, 14} {
		tl := tileAt(col.Extent.Center(), z)
		for _, src := range []struct {
			name string
			s    tiles.Source
		}{{"file", store}, {"featurecache", fc}} {
			b.Run("z"+strconv.Itoa(z)+"/"+src.name, func(b *testing.B) {
				if src.s == fc {
					// As in BenchmarkTile: the view's features read twice
					// before.
					box := layers.Filter{BBoxes: []orb.Bound{tiles.Bound(z, int(tl.X), int(tl.Y))}}
					for range 2 {
						if _, _, err := fc.Items(ctx, "parcels", box, layers.Page{Limit: tiles.MaxFeatures}); err != nil {
							b.Fatal(err)
						}
					}
				}
				t, err := tiles.Build(ctx, src.s, z, int(tl.X), int(tl.Y), []string{"parcels"})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				cpuStart := processCPU()
				for b.Loop() {
					if _, err := tiles.Build(ctx, src.s, z, int(tl.X), int(tl.Y), []string{"parcels"}); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpuStart)
				b.ReportMetric(float64(len(t.Holds["parcels"])), "parcels")
				b.ReportMetric(float64(len(t.Data)), "tile-bytes")
			})
		}
	}
}

// BenchmarkWebMapTiledDense opens the web map in headless Chromium at
// zoom 12 over the benchmarks' 200,000 parcels, a view of about 40,000 of
// them drawn from vector tiles, in a fresh browser each iteration (nothing
// cached by the browser; the server's tile cache warm after the first),
// and reports the time from navigation to every tile drawn and the bytes
// the tiles took on the wire (the targets for the dense view:
// ≤ 2 s, ≤ 5 MB). Machine-dependent figures: a benchmark, not a test.
func BenchmarkWebMapTiledDense(b *testing.B) {
	h := benchRouter(b)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var ms, fromTiles, size, tiles float64
	for i := 0; i < b.N; i++ {
		br := newBrowser(b, 1280, 860, chromedp.Flag("host-resolver-rules", "MAP example.com 127.0.0.1"))
		br.do(b, chromedp.Navigate("http://example.com:"+port+"/#map=12/32.0500/121.4700&layers=parcels"))
		var res []float64
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			res = eval[[]float64](b, br, `(() => {
				const ts = [...document.querySelectorAll('.leaflet-pm-parcels-pane .leaflet-tile')];
				const done = ts.length > 0 && ts.every((t) => t.classList.contains('leaflet-tile-loaded'));
				const rs = performance.getEntriesByType('resource').filter((r) => r.name.includes('/tiles/WebMercatorQuad/'));
				const first = Math.min(...rs.map((r) => r.startTime));
				return [done ? 1 : 0, performance.now(), rs.reduce((s, r) => s + r.transferSize, 0), rs.length, performance.now() - first,
					performance.getEntriesByType('resource').filter((r) => !r.name.includes('/tiles/')).map((r) => r.responseEnd).reduce((a, b) => Math.max(a, b), 0)]; })()`)
			if res[0] == 1 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the tiles were not drawn in 60 s: %v", res)
			}
		}
		b.Logf("iteration %d: drawn after %.0f ms (%.0f ms from the first tile asked; other requests done at %.0f ms), %d tiles, %.2f MB",
			i, res[1], res[4], res[5], int(res[3]), res[2]/1e6)
		fromTiles += res[4]
		ms += res[1]
		size += res[2]
		tiles += res[3]
	}
	b.ReportMetric(ms/float64(b.N), "ms-to-drawn")
	b.ReportMetric(fromTiles/float64(b.N), "ms-from-first-tile")
	b.ReportMetric(size/float64(b.N)/1e6, "tile-MB")
	b.ReportMetric(tiles/float64(b.N), "tiles")
}
