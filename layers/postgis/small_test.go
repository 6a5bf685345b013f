package postgis_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// TestSmallAnswerSameAsGeneral: a bbox query answered in one statement
// (small.go) gives what the general path gives, page and count, for Items
// and Select, with and without property values, over boxes of every size:
// those it answers, and those it gives up on and hands back (a threshold
// of 40 candidates makes many of them do so). Not parallel: the threshold
// is every store's.
func TestSmallAnswerSameAsGeneral(t *testing.T) {
	s, _ := mustOpen(t)
	const n = 3000
	// One parcel far away, so that the layer's extent is mostly empty and
	// a box over the grid is guessed small when it is not: those boxes
	// try the one statement and hand back.
	data := layerstest.ParcelsFarOne(n)
	file, err := layers.ParseFile("parcels.geojson", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{file}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	type answer struct {
		ids     []int64
		matched int
		json    string
	}
	ask := func(f layers.Filter, p layers.Page) (answer, answer) {
		t.Helper()
		items, matched, err := s.Items(ctx, "parcels", f, p)
		if err != nil {
			t.Fatalf("Items(%v, %+v): %v", f, p, err)
		}
		var a answer
		a.matched = matched
		for _, it := range items {
			a.ids = append(a.ids, it.ID)
			a.json += string(it.JSON) + "\n"
		}
		fids, m, err := s.Select(ctx, "parcels", f, p)
		if err != nil {
			t.Fatalf("Select(%v, %+v): %v", f, p, err)
		}
		return a, answer{ids: fids, matched: m}
	}
	for i := range 300 {
		var f layers.Filter
		for range 1 + rng.Intn(2) {
			f.BBoxes = append(f.BBoxes, layerstest.RandomParcelsBox(rng, n))
		}
		if i%3 == 0 {
			f.Equals = map[string]any{"status": layerstest.ParcelsStatuses[rng.Intn(len(layerstest.ParcelsStatuses))]}
		}
		p := layers.Page{Limit: []int{10, 100, 5000}[rng.Intn(3)], Offset: rng.Intn(3) * 7}
		if i%4 == 1 {
			p.After = int64(rng.Intn(n))
		}
		restore := postgis.SetSmallAnswer(0)
		wantItems, wantSelect := ask(f, p)
		restore()
		for _, most := range []int64{40, 2000} {
			restore := postgis.SetSmallAnswer(most)
			gotItems, gotSelect := ask(f, p)
			restore()
			what := fmt.Sprintf("filter %v, page %+v, one statement up to %d candidates", f, p, most)
			if gotItems.matched != wantItems.matched || !slices.Equal(gotItems.ids, wantItems.ids) || gotItems.json != wantItems.json {
				t.Fatalf("Items, %s: matched %d, ids %v; the general path: %d, %v", what, gotItems.matched, gotItems.ids, wantItems.matched, wantItems.ids)
			}
			if gotSelect.matched != wantSelect.matched || !slices.Equal(gotSelect.ids, wantSelect.ids) {
				t.Fatalf("Select, %s: matched %d, ids %v; the general path: %d, %v", what, gotSelect.matched, gotSelect.ids, wantSelect.matched, wantSelect.ids)
			}
			if wantItems.matched != wantSelect.matched {
				t.Fatalf("%s: Items matched %d, Select %d", what, wantItems.matched, wantSelect.matched)
			}
		}
	}
}

// BenchmarkItemsBBox: a page of the features in a box of about 50 and
// about 1,000 of 20,000 parcels, its edges crossing parcels (as a map's
// view does), by the general path (five round trips) and in one statement.
// CPU per op is this process's; the server's is in BENCHMARKS.md.
func BenchmarkItemsBBox(b *testing.B) {
	url := layerstest.PostgresDB(b)
	s, err := postgis.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	file, err := layers.ParseFile("parcels.geojson", layerstest.Parcels(20_000))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{file}, layers.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	box := func(cols, rows float64) layers.Filter {
		x := layerstest.ParcelsWest + 100.5*layerstest.ParcelsCell
		y := layerstest.ParcelsSouth + 10.5*layerstest.ParcelsCell
		return layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{x, y}, Max: orb.Point{x + cols*layerstest.ParcelsCell, y + rows*layerstest.ParcelsCell}}}}
	}
	for _, c := range []struct {
		name string
		f    layers.Filter
	}{{"50", box(10, 5)}, {"1000", box(40, 25)}} {
		for _, path := range []struct {
			name string
			most int64
		}{{"general", 0}, {"one-statement", 2000}} {
			b.Run(c.name+"/"+path.name, func(b *testing.B) {
				defer postgis.SetSmallAnswer(path.most)()
				for b.Loop() {
					if _, n, err := s.Items(ctx, "parcels", c.f, layers.Page{Limit: 1000}); err != nil || n == 0 {
						b.Fatal(n, err)
					}
				}
			})
		}
	}
}
