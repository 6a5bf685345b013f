package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"planmap/layers/cache"
	"planmap/web"
)

// benchCached is the router over the benchmarks' store with a feature cache
// in front of it, as planmap serve runs by default.
var benchCached struct {
	once    sync.Once
	handler http.Handler
}

func benchCachedRouter(b *testing.B) http.Handler {
	b.Helper()
	benchRouter(b)
	benchCached.once.Do(func() {
		c := cache.New(benchStore.store, cache.DefaultBudget)
		benchCached.handler = web.NewRouter(c, web.Options{AllowedHosts: []string{"example.com"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	return benchCached.handler
}

// BenchmarkItemsBBox50Cached is BenchmarkItemsBBox50 with the features
// and the query's answer in the cache: the same view asked again.
func BenchmarkItemsBBox50Cached(b *testing.B) {
	benchItemsOn(b, benchCachedRouter(b), "/collections/parcels/items?bbox="+bbox50+"&limit=100", 45, 55)
}

// BenchmarkItemsBBox1000Cached is BenchmarkItemsBBox1000 from the cache.
func BenchmarkItemsBBox1000Cached(b *testing.B) {
	benchItemsOn(b, benchCachedRouter(b), "/collections/parcels/items?bbox="+bbox1000+"&limit=1000", 950, 1000)
}

// BenchmarkItemCached asks for one feature by id from the cache, 200
// different ones in turn, as web/testdata/bench/scale.sh's "one feature
// from cache" does: what is left is the router, the middleware and the
// writing of the answer.
func BenchmarkItemCached(b *testing.B) {
	h := benchCachedRouter(b)
	const distinct = 200
	reqs := make([]*http.Request, distinct)
	var buf bytes.Buffer
	for i := range reqs {
		id := (i*7919)%benchParcels + 1
		reqs[i] = httptest.NewRequest("GET", "/collections/parcels/items/"+strconv.Itoa(id), nil)
		if rec := benchRequest(h, reqs[i], &buf); rec.Code != http.StatusOK {
			b.Fatalf("GET %s = %d %.300s, want 200", reqs[i].URL, rec.Code, buf.Bytes())
		}
	}
	benchEach(b, h, reqs)
}
