package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/seeds"
	"planmap/web"
)

// benchParcels is the size of the synthetic layer the benchmarks serve, as
// the speed targets of the feature API are set on.
const benchParcels = 200_000

// The blocks of the parcel grid (see layerstest.ParcelsBBox) that the bbox
// benchmarks ask for; web/testdata/bench/wrk.sh asks for the same ones.
var (
	bbox50   = layerstest.ParcelsBBox(300, 150, 10, 5)  // 50 parcels
	bbox1000 = layerstest.ParcelsBBox(280, 140, 40, 25) // 1,000 parcels
)

// benchStore is the store the benchmarks share: built once per process,
// since importing 200,000 parcels takes a while and b.TempDir lasts one
// benchmark only. TestMain removes its folder.
var benchStore struct {
	once    sync.Once
	handler http.Handler
	store   *gpkg.Store // the store behind handler, for cache_bench_test.go
	dir     string
	err     error
}

// TestMain removes the benchmarks' store when the tests are done: a
// hundred megabytes left in the temporary folder by every run otherwise.
func TestMain(m *testing.M) {
	code := m.Run()
	layerstest.RemoveStore(benchStore.store, benchStore.dir)
	os.Exit(code)
}

// benchRouter returns the real router over a real store holding the
// Haimen layers and benchParcels synthetic parcels, with its catalog
// built, as planmap serve has it before it takes its first request.
func benchRouter(b *testing.B) http.Handler {
	b.Helper()
	if testing.Short() {
		b.Skipf("the benchmarks import %d parcels; not with -short", benchParcels)
	}
	benchStore.once.Do(func() {
		benchStore.handler, benchStore.err = buildBenchRouter(b)
	})
	if benchStore.err != nil {
		b.Fatal(benchStore.err)
	}
	return benchStore.handler
}

func buildBenchRouter(b *testing.B) (http.Handler, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "planmap-bench-")
	if err != nil {
		return nil, err
	}
	benchStore.dir = dir
	start := time.Now()
	data := layerstest.Parcels(benchParcels)
	generated := time.Now()
	parcels, err := layers.ParseFile("parcels.geojson", data)
	if err != nil {
		return nil, err
	}
	parsed := time.Now()
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		return nil, err
	}
	s, err := gpkg.Open(ctx, filepath.Join(dir, "planmap.gpkg"))
	if err != nil {
		return nil, err
	}
	benchStore.store = s // for TestMain to close, should the import fail
	if _, err := s.Import(ctx, append(files, parcels), layers.ImportOptions{}); err != nil {
		return nil, fmt.Errorf("Import: %w", err)
	}
	imported := time.Now()
	if _, err := s.Catalog(ctx); err != nil {
		return nil, fmt.Errorf("Catalog: %w", err)
	}
	done := time.Now()
	b.Logf("%d parcels (%.1f MB) in %s: generated in %v, parsed in %v, checked and imported in %v, catalog built in %v; %v in all",
		benchParcels, float64(len(data))/1e6, dir, generated.Sub(start).Round(time.Millisecond),
		parsed.Sub(generated).Round(time.Millisecond), imported.Sub(parsed).Round(time.Millisecond),
		done.Sub(imported).Round(time.Millisecond), done.Sub(start).Round(time.Millisecond))
	return web.NewRouter(s, web.Options{AllowedHosts: []string{"example.com"}} /* httptest.NewRequest's host */, slog.New(slog.NewTextHandler(io.Discard, nil))), nil
}

// benchRequest serves GET target once through h. The body goes into buf,
// reset and reused, so that what is measured is the handler and not the
// growth of the recorder's buffer.
func benchRequest(h http.Handler, req *http.Request, buf *bytes.Buffer) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	buf.Reset()
	rec.Body = buf
	h.ServeHTTP(rec, req)
	return rec
}

// checkFeatures serves target once and fails the benchmark unless the
// answer is a 200 FeatureCollection with between lo and hi features. It
// returns how many there were.
func checkFeatures(b *testing.B, h http.Handler, target string, lo, hi int) int {
	b.Helper()
	var buf bytes.Buffer
	rec := benchRequest(h, httptest.NewRequest("GET", target, nil), &buf)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s = %d %.500s, want 200", target, rec.Code, buf.Bytes())
	}
	var fc struct {
		Type           string            `json:"type"`
		NumberReturned int               `json:"numberReturned"`
		Features       []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		b.Fatalf("GET %s: body is not JSON: %v", target, err)
	}
	if fc.Type != "FeatureCollection" || fc.NumberReturned != len(fc.Features) || len(fc.Features) < lo || len(fc.Features) > hi {
		b.Fatalf("GET %s = a %s of %d features (numberReturned %d), want a FeatureCollection of %d to %d",
			target, fc.Type, len(fc.Features), fc.NumberReturned, lo, hi)
	}
	return len(fc.Features)
}

// benchItems measures GET target, a page of about lo to hi features.
func benchItems(b *testing.B, target string, lo, hi int) {
	benchItemsOn(b, benchRouter(b), target, lo, hi)
}

// benchItemsOn is benchItems through the handler h.
func benchItemsOn(b *testing.B, h http.Handler, target string, lo, hi int) {
	n := checkFeatures(b, h, target, lo, hi)
	benchEach(b, h, []*http.Request{httptest.NewRequest("GET", target, nil)})
	b.ReportMetric(float64(n), "features/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/feature")
}

// benchEach measures the requests reqs through h, one after the other
// and round again, each answered 200. Each carries a context that can be
// canceled, as a request net/http serves does: what watches it for
// cancellation (database/sql does, a goroutine a statement) costs here
// what it costs served.
func benchEach(b *testing.B, h http.Handler, reqs []*http.Request) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqs = slices.Clone(reqs)
	for i, r := range reqs {
		reqs[i] = r.WithContext(ctx)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		if rec := benchRequest(h, r, &buf); rec.Code != http.StatusOK {
			b.Fatalf("GET %s = %d, want 200", r.URL, rec.Code)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkItemsBBox50 is a map panning at street scale: a bbox of 50
// parcels.
func BenchmarkItemsBBox50(b *testing.B) {
	benchItems(b, "/collections/parcels/items?bbox="+bbox50+"&limit=100", 45, 55)
}

// BenchmarkItemsBBox50Spread asks for a different 50-parcel box each time,
// spread over the whole layer, as many map users do and as the lists of
// web/testdata/bench/scale.sh do: the pages each one reads are seldom in
// SQLite's cache. Every box is a 10 × 5 block of the parcels' grid, and
// so holds 50; the first is checked.
func BenchmarkItemsBBox50Spread(b *testing.B) {
	h := benchRouter(b)
	const distinct = 1024
	rows := benchParcels / layerstest.ParcelsColumns
	reqs := make([]*http.Request, distinct)
	for i := range reqs {
		col, row := (i*7919)%(layerstest.ParcelsColumns-10), (i*104729)%(rows-5)
		reqs[i] = httptest.NewRequest("GET", "/collections/parcels/items?limit=100&bbox="+layerstest.ParcelsBBox(col, row, 10, 5), nil)
	}
	checkFeatures(b, h, reqs[1].URL.String(), 50, 50)
	benchEach(b, h, reqs)
	b.ReportMetric(50, "features/op")
}

// BenchmarkItemsBBox1000 is a map at district scale: a bbox of 1,000
// parcels, in one page.
func BenchmarkItemsBBox1000(b *testing.B) {
	benchItems(b, "/collections/parcels/items?bbox="+bbox1000+"&limit=1000", 950, 1000)
}

// BenchmarkItemsRevalidate revalidates the 1,000-feature page with the
// ETag it had, as a browser or QGIS with a cache does: a 304.
func BenchmarkItemsRevalidate(b *testing.B) {
	h := benchRouter(b)
	target := "/collections/parcels/items?bbox=" + bbox1000 + "&limit=1000"
	var buf bytes.Buffer
	tag := benchRequest(h, httptest.NewRequest("GET", target, nil), &buf).Header().Get("ETag")
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("If-None-Match", tag)
	if rec := benchRequest(h, req, &buf); tag == "" || rec.Code != http.StatusNotModified {
		b.Fatalf("GET %s with If-None-Match %q = %d, want 304", target, tag, rec.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rec := benchRequest(h, req, &buf); rec.Code != http.StatusNotModified {
			b.Fatalf("GET %s = %d, want 304", target, rec.Code)
		}
	}
}

// BenchmarkItem asks for one feature by id, a different one each time
// (spread over the whole layer).
func BenchmarkItem(b *testing.B) {
	h := benchRouter(b)
	const distinct = 1024
	reqs := make([]*http.Request, distinct)
	for i := range reqs {
		id := (i*7919)%benchParcels + 1
		reqs[i] = httptest.NewRequest("GET", "/collections/parcels/items/"+strconv.Itoa(id), nil)
	}
	var buf bytes.Buffer
	rec := benchRequest(h, reqs[1], &buf)
	var f struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
	}
	if err := json.Unmarshal(buf.Bytes(), &f); rec.Code != http.StatusOK || err != nil || f.Type != "Feature" || f.ID != 7920 {
		b.Fatalf("GET %s = %d %.300s, want 200 and feature 7920", reqs[1].URL, rec.Code, buf.Bytes())
	}
	benchEach(b, h, reqs)
	b.ReportMetric(1, "features/op")
}

// benchParcelsNow is how many parcels the benchmarks' store holds: the
// benchParcels imported, and those the edit benchmarks added if they ran
// before (make bench runs them all in one process, on one store).
func benchParcelsNow(b *testing.B) int {
	benchRouter(b)
	cat, err := benchStore.store.Catalog(ctx)
	if err != nil {
		b.Fatal(err)
	}
	col, ok := cat.Collection("parcels")
	if !ok {
		b.Fatal("the benchmarks' store has no parcels")
	}
	if col.Count < benchParcels {
		b.Fatalf("the benchmarks' store holds %d parcels, fewer than the %d imported", col.Count, benchParcels)
	}
	return col.Count
}

// BenchmarkCollections asks for the list of layers.
func BenchmarkCollections(b *testing.B) {
	h := benchRouter(b)
	var buf bytes.Buffer
	rec := benchRequest(h, httptest.NewRequest("GET", "/collections", nil), &buf)
	var doc struct {
		Collections []struct {
			ID        string `json:"id"`
			ItemCount int    `json:"itemCount"`
		} `json:"collections"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); rec.Code != http.StatusOK || err != nil {
		b.Fatalf("GET /collections = %d %.300s (%v), want 200 and JSON", rec.Code, buf.Bytes(), err)
	}
	found, want := false, benchParcelsNow(b)
	for _, c := range doc.Collections {
		found = found || (c.ID == "parcels" && c.ItemCount == want)
	}
	if !found {
		b.Fatalf("GET /collections lists %d collections, none of them parcels with %d items", len(doc.Collections), want)
	}
	req := httptest.NewRequest("GET", "/collections", nil)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		if rec := benchRequest(h, req, &buf); rec.Code != http.StatusOK {
			b.Fatalf("GET /collections = %d, want 200", rec.Code)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(len(doc.Collections)), "collections/op")
}

// BenchmarkItemsAsOfBBox50 is BenchmarkItemsBBox50 as of a time after the
// import: the same 50 parcels, read through the history.
func BenchmarkItemsAsOfBBox50(b *testing.B) {
	h := benchRouter(b)
	asOf := time.Now().UTC().Add(time.Second).Format(time.RFC3339)
	benchItemsOn(b, h, "/collections/parcels/items?bbox="+bbox50+"&limit=100&as-of="+asOf, 45, 55)
}

// BenchmarkStatsAsOf counts the 200,000 parcels by status, now and as of
// a time after the import (the whole layer read through the history), in
// pages of 10,000.
func BenchmarkStatsAsOf(b *testing.B) {
	h := benchRouter(b)
	asOf := time.Now().UTC().Add(time.Second).Format(time.RFC3339)
	for _, at := range []string{"", "&as-of=" + asOf} {
		target := "/collections/parcels/stats?groupby=status" + at
		name := "now"
		if at != "" {
			name = "asof"
		}
		b.Run(name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				// With a bbox (the whole world): answers about the
				// whole layer are kept by the statistics cache.
				req := httptest.NewRequest("GET", target+"&bbox=-180,-90,180,90", nil)
				if rec := benchRequest(h, req, &buf); rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d %.300s", target, rec.Code, buf.Bytes())
				}
			}
			reportCPU(b, cpu)
		})
	}
}
