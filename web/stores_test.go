package web_test

import (
	"sync"
	"testing"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
	"planmap/web"
)

// servedStores are the stores that tests which hold for every store
// serve, each loaded with testFiles: the GeoPackage, and PostGIS on a new
// database of the server PLANMAP_TEST_PG names (skipped without it,
// failing with PLANMAP_REQUIRE_TOOLS=1).
var servedStores = []struct {
	name string
	open func(t *testing.T) cache.Store
}{
	{"GeoPackage", func(t *testing.T) cache.Store { return newStore(t) }},
	{"PostGIS", newPostGISStore},
}

// postgisURLs holds the URL of the database of each store newPostGISStore
// opened, for otherConnection.
var postgisURLs sync.Map // *postgis.Store → string

// newPostGISStore is newStore on PostGIS.
func newPostGISStore(t *testing.T) cache.Store {
	t.Helper()
	url := layerstest.PostgresDB(t)
	s, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatalf("postgis.Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	postgisURLs.Store(s, url)
	if _, err := s.Import(ctx, testFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// Both stores answer as of a time.
var (
	_ web.Past = (*gpkg.Store)(nil)
	_ web.Past = (*postgis.Store)(nil)
)

// Both stores check direct edits.
var (
	_ web.Problems = (*gpkg.Store)(nil)
	_ web.Problems = (*postgis.Store)(nil)
)
