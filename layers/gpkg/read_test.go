package gpkg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// TestReadStopsWhenCanceled: rows are read without the driver watching
// the context (read.go, queryRows), so the reader checks it, before the
// statement and between rows. A stream of features canceled in the middle
// stops there with the context's error; features by id, and a small box's
// page, asked with a canceled context are refused with it.
func TestReadStopsWhenCanceled(t *testing.T) {
	const n = 500
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.ParcelsFarOne(n))))

	cctx, cancel := context.WithCancel(ctx)
	seen := 0
	err := s.Features(cctx, "parcels", func(layers.Feature) error {
		if seen++; seen == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || seen != 10 {
		t.Errorf("Features canceled at the 10th of %d: %d read, error %v; want 10 and %v", n+1, seen, err, context.Canceled)
	}

	for _, fids := range [][]int64{{7}, {7, 8, 9}} {
		if items, err := s.Load(cctx, "parcels", fids); !errors.Is(err, context.Canceled) {
			t.Errorf("Load(%v) with a canceled context: %d items, error %v; want %v", fids, len(items), err, context.Canceled)
		}
	}

	// Three parcels by three: a box read in one statement (small.go).
	c := layerstest.ParcelsCell
	f := layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{layerstest.ParcelsWest, layerstest.ParcelsSouth}, Max: orb.Point{layerstest.ParcelsWest + 3*c, layerstest.ParcelsSouth + 3*c}}}}
	p := layers.Page{Limit: 50}
	if !s.LikelySmall(ctx, "parcels", f, p) {
		t.Fatalf("box %v is not read in one statement; the test needs one that is", f.BBoxes[0])
	}
	items, _, err := s.Items(cctx, "parcels", f, p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Items with a canceled context: %d items, error %v; want %v", len(items), err, context.Canceled)
	}
}
