package web_test

import (
	"context"
	"sync"
	"testing"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
	"planmap/web"
)

// loadedStore is a store the tests serve and also write through, as
// planmap's own commands do: both stores are one.
type loadedStore interface {
	cache.Store
	importer
	tokenStore
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
}

// stores are the stores that tests which hold for every store serve, each
// loaded with the layer files a test gives: the GeoPackage in a temporary
// folder, and PostGIS on a new database of the server PLANMAP_TEST_PG
// names (skipped without it, failing with PLANMAP_REQUIRE_TOOLS=1).
var stores = []struct {
	name string
	load func(t testing.TB, files ...*layers.File) loadedStore
}{
	{"GeoPackage", func(t testing.TB, files ...*layers.File) loadedStore {
		t.Helper()
		s := layerstest.MustOpen(t)
		load(t, s, files)
		return s
	}},
	{"PostGIS", func(t testing.TB, files ...*layers.File) loadedStore { return openPostGIS(t, files) }},
}

// servedStores are stores loaded with testFiles.
var servedStores = func() (out []struct {
	name string
	open func(t *testing.T) cache.Store
}) {
	for _, st := range stores {
		out = append(out, struct {
			name string
			open func(t *testing.T) cache.Store
		}{st.name, func(t *testing.T) cache.Store { return st.load(t, testFiles(t)...) }})
	}
	return out
}()

// onEachLoaded runs test, as a subtest named for the store, on each of
// stores loaded with the files files gives.
func onEachLoaded(t *testing.T, files func(t testing.TB) []*layers.File, test func(t *testing.T, s loadedStore)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { test(t, st.load(t, files(t)...)) })
	}
}

func load(t testing.TB, s importer, files []*layers.File) {
	t.Helper()
	if _, err := s.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// postgisURLs holds the URL of the database of each store openPostGIS
// opened, for otherConnection and otherStore.
var postgisURLs sync.Map // *postgis.Store → string

// openPostGIS opens a PostGIS store on a new database and loads files.
func openPostGIS(t testing.TB, files []*layers.File) *postgis.Store {
	t.Helper()
	url := layerstest.PostgresDB(t)
	s, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatalf("postgis.Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	postgisURLs.Store(s, url)
	load(t, s, files)
	return s
}

// otherStore opens a second store on the data of s, as another planmap
// process (planmap import) would: a store of its own on the same file or
// database, which s learns of only through it.
func otherStore(t testing.TB, s cache.Store) loadedStore {
	t.Helper()
	switch s := s.(type) {
	case *gpkg.Store:
		return layerstest.OpenOtherClient(t, s.Path()).Store
	case *postgis.Store:
		u, ok := postgisURLs.Load(s)
		if !ok {
			t.Fatal("a PostGIS store openPostGIS did not open")
		}
		o, err := postgis.Open(ctx, u.(string))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		return o
	}
	t.Fatalf("no other store on a %T", s)
	return nil
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
