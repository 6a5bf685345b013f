package gpkg_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
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
