package gpkg_test

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// TestSmallAnswerSameAsGeneral: a page of a box read in one statement
// (small.go) is what the general path gives, ids, JSON and count, with
// and without property values, pages by offset, by key and uncounted,
// over boxes of every size: those it answers, and those it gives up on
// and hands back (a threshold of 40 candidates makes many of them do so).
// Not parallel: the threshold is every store's.
func TestSmallAnswerSameAsGeneral(t *testing.T) {
	const n = 3000
	// One parcel far away, so that the layer's extent is mostly empty and
	// a box over the grid is guessed small when it is not: those boxes
	// try the one statement and hand back.
	data := layerstest.ParcelsFarOne(n)
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(data)))
	rng := rand.New(rand.NewSource(7))
	type answer struct {
		ids     []int64
		matched int
		json    string
	}
	ask := func(f layers.Filter, p layers.Page) answer {
		t.Helper()
		items, matched, err := s.Items(ctx, "parcels", f, p)
		if err != nil {
			t.Fatalf("Items(%v, %+v): %v", f, p, err)
		}
		a := answer{matched: matched}
		for _, it := range items {
			a.ids = append(a.ids, it.ID)
			a.json += string(it.JSON) + "\n"
		}
		return a
	}
	small := 0
	for i := range 300 {
		f := layers.Filter{BBoxes: []orb.Bound{layerstest.RandomParcelsBox(rng, n)}}
		if i%3 == 0 {
			f.Equals = map[string]any{"status": layerstest.ParcelsStatuses[rng.Intn(len(layerstest.ParcelsStatuses))]}
		}
		p := layers.Page{Limit: []int{10, 100, 5000}[rng.Intn(3)], Offset: rng.Intn(3) * 7}
		switch i % 5 {
		case 1:
			p.After = int64(rng.Intn(n))
		case 2:
			p.After, p.Uncounted = int64(rng.Intn(n)), true
		}
		restore := gpkg.SetSmallAnswer(0)
		want := ask(f, p)
		restore()
		for _, most := range []int64{40, 2000} {
			restore := gpkg.SetSmallAnswer(most)
			got := ask(f, p)
			restore()
			if got.matched != want.matched || !slices.Equal(got.ids, want.ids) || got.json != want.json {
				t.Fatalf("Items, filter %v, page %+v, one statement up to %d candidates: matched %d, ids %v; the general path: %d, %v",
					f, p, most, got.matched, got.ids, want.matched, want.ids)
			}
		}
		if s.LikelySmall(ctx, "parcels", f, p) {
			small++
		}
	}
	// The boxes must have tried the one statement, not only the general
	// path, for the comparison to mean anything.
	if small < 100 {
		t.Errorf("%d of 300 queries tried the one statement, want most", small)
	}
}

// TestSmallAnswerCountsHits: the one statement counts the R-tree's hits,
// not the rows the property values leave, so that a box guessed small
// wrongly reads at most smallAnswer+1 of them before it hands back: its
// first row, which a canceled request does not stop (read.go), never
// waits on stepping past the whole box. A box over all the parcels,
// guessed small since one parcel lies far away, with a status none has,
// is handed back, not answered empty from the one statement.
func TestSmallAnswerCountsHits(t *testing.T) {
	const n = 600
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.ParcelsFarOne(n))))
	defer gpkg.SetSmallAnswer(40)()
	c := layerstest.ParcelsCell
	rows := float64(n / layerstest.ParcelsColumns)
	box := orb.Bound{Min: orb.Point{layerstest.ParcelsWest, layerstest.ParcelsSouth}, Max: orb.Point{layerstest.ParcelsWest + float64(layerstest.ParcelsColumns)*c, layerstest.ParcelsSouth + rows*c}}
	f := layers.Filter{BBoxes: []orb.Bound{box}, Equals: map[string]any{"status": "no parcel has this"}}
	p := layers.Page{Limit: 10}
	if !s.LikelySmall(ctx, "parcels", f, p) {
		t.Fatalf("box %v is not guessed small; the test needs one that is", box)
	}
	items, matched, ok, err := s.ItemsHolding(ctx, "parcels", f, p, nil)
	if err != nil || ok {
		t.Errorf("ItemsHolding over %d parcels, up to 40 hits: answered %v (%d items, %d matched), error %v; want it handed back", n, ok, len(items), matched, err)
	}
	if items, matched, err := s.Items(ctx, "parcels", f, p); err != nil || len(items) != 0 || matched != 0 {
		t.Errorf("Items: %d items, %d matched, error %v; want none", len(items), matched, err)
	}
}
