package web_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"planmap/layers/layerstest"
	"planmap/web"
)

// benchEditRouter is a router with editors' tokens over the benchmarks'
// store of benchParcels parcels. The writes change that store: the
// features they add lie north of the parcel grid, outside every box the
// read benchmarks ask for.
func benchEditRouter(b *testing.B) http.Handler {
	b.Helper()
	benchRouter(b)
	benchTokens.once.Do(func() { benchTokens.tokens = newEditTokens(b, benchStore.store) })
	return web.NewRouter(benchStore.store, web.Options{AllowedHosts: []string{"example.com", "localhost"}, Tokens: benchTokens.tokens},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// benchTokens are the editors' tokens of the benchmarks' store, made once
// as the store is.
var benchTokens struct {
	once   sync.Once
	tokens editTokens
}

// benchWrite serves one write through h and fails the benchmark unless
// it answers want.
func benchWrite(b *testing.B, h http.Handler, method, target, contentType, body string, want int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	// Tokens go only over HTTPS or from a client on this machine.
	req.RemoteAddr, req.Host = "127.0.0.1:1234", "localhost"
	req.Header.Set("Authorization", "Bearer ann-token")
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s = %d, want %d: %s", method, target, rec.Code, want, rec.Body)
	}
	return rec
}

// BenchmarkCreate: POST a new parcel to the layer of benchParcels
// parcels, then GET it as a reader would (the write is served to readers
// as soon as it returns). edits/s is what one writer sustains.
func BenchmarkCreate(b *testing.B) {
	h := benchEditRouter(b)
	var buf bytes.Buffer
	i := 0
	cpu := processCPU()
	for b.Loop() {
		lon := layerstest.ParcelsWest + float64(i%600)*layerstest.ParcelsCell
		lat := 32.25 + float64(i/600)*layerstest.ParcelsCell
		i++
		body := fmt.Sprintf(`{"type":"Feature","properties":{"name_zh":"新 %d","status":"planned","berths":2},"geometry":{"type":"Polygon","coordinates":[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}`,
			i, lon, lat, lon+0.0005, lat, lon+0.0005, lat+0.0005, lon, lat+0.0005, lon, lat)
		rec := benchWrite(b, h, "POST", "/collections/parcels/items", "application/geo+json", body, http.StatusCreated)
		if got := benchRequest(h, httptest.NewRequest("GET", rec.Header().Get("Location"), nil), &buf); got.Code != 200 {
			b.Fatalf("GET %s after its POST = %d", rec.Header().Get("Location"), got.Code)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "edits/s")
}

// BenchmarkPatch: PATCH one property of parcels of the layer of
// benchParcels parcels, one after another.
func BenchmarkPatch(b *testing.B) {
	h := benchEditRouter(b)
	i := 0
	cpu := processCPU()
	for b.Loop() {
		fid := 1 + i%10_000
		body := fmt.Sprintf(`{"properties":{"berths":%d}}`, i%7)
		i++
		benchWrite(b, h, "PATCH", fmt.Sprintf("/collections/parcels/items/%d", fid), "application/merge-patch+json", body, http.StatusOK)
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "edits/s")
}
