package web_test

import (
	"io"
	"log/slog"
	"net/http"
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
