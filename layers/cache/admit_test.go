package cache_test

import (
	"bytes"
	"context"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/layerstest"
)

// A feature, or the answer to a query, that comes from the store is held
// the second time it is read, not the first: the third read costs the
// store nothing.
func TestHeldOnSecondRead(t *testing.T) {
	s := newStore(t, 200)
	ctx := context.Background()
	t.Run("Item", func(t *testing.T) {
		c := cache.New(s, 64<<20)
		for i, want := range []bool{true, true, false} {
			before := s.items.Load()
			if _, err := c.Item(ctx, "parcels", 5); err != nil {
				t.Fatal(err)
			}
			if asked := s.items.Load() > before; asked != want {
				t.Errorf("read %d of Item(5) asked the store: %v, want %v", i+1, asked, want)
			}
		}
	})
	box := layers.Filter{BBoxes: []orb.Bound{parcelBox(20, 0, 10, 1)}}
	// Read whole by the store's one statement, and by ids then the
	// features missing, as from a store without it: each counts as a
	// statement and the features it read.
	for name, st := range map[string]cache.Store{"box, no index": s, "box, no index, ids then features": noHolding{s}} {
		t.Run(name, func(t *testing.T) {
			c := cache.New(st, 64<<20).NoIndex()
			for i, want := range []struct{ selects, loaded int64 }{{1, 10}, {1, 10}, {0, 0}} {
				selects, loaded := s.selects.Load(), s.loaded.Load()
				items, _, err := c.Items(ctx, "parcels", box, layers.Page{Limit: 100})
				if err != nil || len(items) != 10 {
					t.Fatalf("read %d: %d items, %v; want the box's 10", i+1, len(items), err)
				}
				if d, e := s.selects.Load()-selects, s.loaded.Load()-loaded; d != want.selects || e != want.loaded {
					t.Errorf("read %d of the box: %d statements and %d features read; want %d and %d", i+1, d, e, want.selects, want.loaded)
				}
			}
		})
	}
	t.Run("box, index", func(t *testing.T) {
		c := cache.New(s, 64<<20).IndexNow()
		for i, want := range []struct {
			held int
			hits int64
		}{{0, 0}, {10, 0}, {10, 10}} {
			before := c.Stats()
			items, _, err := c.Items(ctx, "parcels", box, layers.Page{Limit: 100})
			if err != nil || len(items) != 10 {
				t.Fatalf("read %d: %d items, %v; want the box's 10", i+1, len(items), err)
			}
			if st := c.Stats(); st.Items != want.held || st.Hits-before.Hits != want.hits {
				t.Errorf("after read %d of the box: %d features held, %d hits; want %d and %d", i+1, st.Items, st.Hits-before.Hits, want.held, want.hits)
			}
		}
	})
}

// A view the cache has not seen, of a small box, is read from the store
// in one statement (the GeoPackage store's ItemsHolding): the features the
// cache holds are not read again but served as held, those it lacks come
// from the rows, and the answer is the store's own.
func TestHoldingStoreUsesHeld(t *testing.T) {
	s := newStore(t, 400)
	ctx := context.Background()
	c := cache.New(s, 64<<20).NoIndex().AdmitFirst().StoreWhole()
	first := layers.Filter{BBoxes: []orb.Bound{parcelBox(20, 0, 20, 1)}}
	if _, _, err := c.Items(ctx, "parcels", first, layers.Page{Limit: 100}); err != nil {
		t.Fatal(err)
	}
	// The next view shares half its parcels with the first.
	next := layers.Filter{BBoxes: []orb.Bound{parcelBox(30, 0, 20, 1)}}
	selects, loaded, before := s.selects.Load(), s.loaded.Load(), c.Stats()
	got, matched, err := c.Items(ctx, "parcels", next, layers.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want, wantMatched, err := s.Store.Items(ctx, "parcels", next, layers.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if matched != wantMatched || len(got) != len(want) || len(want) != 20 {
		t.Fatalf("the next view: %d of %d matched, want the store's %d of %d (20)", len(got), matched, len(want), wantMatched)
	}
	for i := range want {
		if got[i].ID != want[i].ID || !bytes.Equal(got[i].JSON, want[i].JSON) {
			t.Errorf("feature %d of the next view: %s, want %s", i, got[i].JSON, want[i].JSON)
		}
	}
	st := c.Stats()
	if d, e := s.selects.Load()-selects, s.loaded.Load()-loaded; d != 1 || e != 10 {
		t.Errorf("the next view: %d statements and %d features read; want 1 and the 10 not held", d, e)
	}
	if st.Hits-before.Hits != 10 || st.Items != 30 {
		t.Errorf("the next view: %d hits, %d features held after it; want 10 and 30", st.Hits-before.Hits, st.Items)
	}
	// Boxes whose edges cut parcels, all of them held now: a held one
	// across an edge is decided by its row's geometry.
	if _, _, err := c.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{parcelBox(0, 0, 400, 1)}}, layers.Page{Limit: 400}); err != nil {
		t.Fatal(err)
	}
	loaded = s.loaded.Load()
	rng := rand.New(rand.NewSource(5))
	cell := layerstest.ParcelsCell
	for i := range 100 {
		x := layerstest.ParcelsWest + rng.Float64()*380*cell
		y := layerstest.ParcelsSouth - cell/2 + rng.Float64()*cell
		box := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + cell*(0.2+rng.Float64()*12), y + cell*(0.1+rng.Float64())}}
		if i%2 == 0 {
			// A speck, which often falls in a parcel's bounding box but
			// outside the parcel.
			box.Max = orb.Point{x + 3e-5, y + 3e-5}
		}
		f := layers.Filter{BBoxes: []orb.Bound{box}}
		p := layers.Page{Limit: 1 + rng.Intn(20), Offset: rng.Intn(3)}
		got, matched, err := c.Items(ctx, "parcels", f, p)
		if err != nil {
			t.Fatal(err)
		}
		want, wantMatched, err := s.Store.Items(ctx, "parcels", f, p)
		if err != nil {
			t.Fatal(err)
		}
		if matched != wantMatched || len(got) != len(want) {
			t.Fatalf("box %d, %v, %+v: %d of %d matched; the store's %d of %d", i, box, p, len(got), matched, len(want), wantMatched)
		}
		for j := range want {
			if !bytes.Equal(got[j].JSON, want[j].JSON) {
				t.Fatalf("box %d, %v, %+v: feature %d is %s, the store's %s", i, box, p, j, got[j].JSON, want[j].JSON)
			}
		}
	}
	if d := s.loaded.Load() - loaded; d != 0 {
		t.Errorf("with every parcel held, the boxes read %d features from their rows; want none", d)
	}
}

// Until a row of a page read whole is found held, only some are looked
// up: a view held in part is served its held features from where one is
// found, one held not at all costs a few looks, and the pages are the
// store's.
func TestHoldingStoreLooksInPart(t *testing.T) {
	s := newStore(t, 400)
	ctx := context.Background()
	c := cache.New(s, 64<<20).NoIndex().AdmitFirst().StoreWhole()
	if _, _, err := c.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{parcelBox(30, 0, 10, 1)}}, layers.Page{Limit: 100}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name             string
		col, cols        int
		hits, looksUnder int
	}{
		// Parcels 0-39 in id order: the held ones, 30-39, come last.
		{"held in its last quarter", 0, 40, 1, 20},
		{"held not at all", 100, 40, 0, 10},
		{"held whole", 30, 10, 10, 11},
	} {
		f := layers.Filter{BBoxes: []orb.Bound{parcelBox(tt.col, 0, tt.cols, 1)}}
		looks, before := c.Looks(), c.Stats()
		// Another page than the first read's, whose answer is held.
		got := sameAsStore(t, tt.name, s, c, query{layer: "parcels", f: f, p: layers.Page{Limit: 90}})
		if len(got) != tt.cols {
			t.Fatalf("%s: %d features, want %d", tt.name, len(got), tt.cols)
		}
		hits, n := c.Stats().Hits-before.Hits, c.Looks()-looks
		if hits < int64(tt.hits) || n >= int64(tt.looksUnder) {
			t.Errorf("%s: %d rows looked up, %d served held; want fewer than %d looks, at least %d held", tt.name, n, hits, tt.looksUnder, tt.hits)
		}
	}
}

// Pages read with the store's help are read whole (ItemsHolding) while
// the cache held little of the recent ones, and by ids, then the features
// missing, once it held most: a map panned over views already read.
func TestHeldShareChoosesRead(t *testing.T) {
	s := newStore(t, 400)
	ctx := context.Background()
	c := cache.New(s, 64<<20).NoIndex().AdmitFirst()
	read := func(col int) (whole bool) {
		t.Helper()
		holdings := s.holdings.Load()
		items, _, err := c.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{parcelBox(col, 0, 10, 1)}}, layers.Page{Limit: 100})
		if err != nil || len(items) != 10 {
			t.Fatalf("the box at %d: %d items, %v; want 10", col, len(items), err)
		}
		return s.holdings.Load() > holdings
	}
	// New parcels each time: read whole.
	for col := 0; col < 200; col += 10 {
		if !read(col) {
			t.Fatalf("the box at %d, of parcels never read, was not read whole", col)
		}
	}
	// Boxes a parcel along, over parcels held now: after a few, by ids.
	whole := 0
	for col := 1; col < 100; col += 10 {
		if read(col) {
			whole++
		}
	}
	if whole == 0 || whole > 7 {
		t.Errorf("%d of 10 views over held parcels read whole; want the first few, not all", whole)
	}
	// New parcels again: whole again, after a few.
	whole = 0
	for col := 200; col < 390; col += 10 {
		if read(col) {
			whole++
		}
	}
	if whole < 10 {
		t.Errorf("%d of 19 views of parcels never read read whole; want most", whole)
	}
}

// noHolding is a store without ItemsHolding: the cache selects ids and
// loads the features it lacks, as for the PostGIS store.
type noHolding struct{ cache.Store }

// A client that pages through a whole layer bigger than the budget (QGIS
// downloading it) reads each feature once: the features the map users
// keep asking for stay held, and their view costs the store nothing
// after it.
func TestScanKeepsHeldFeatures(t *testing.T) {
	const n = 2000
	s := newStore(t, n)
	ctx := context.Background()
	c := cache.New(s, 512<<10).NoIndex() // a few hundred parcels
	view := layers.Filter{BBoxes: []orb.Bound{parcelBox(100, 1, 25, 2)}}
	read := func() {
		t.Helper()
		if items, _, err := c.Items(ctx, "parcels", view, layers.Page{Limit: 100}); err != nil || len(items) != 50 {
			t.Fatalf("the view: %d items, %v; want 50", len(items), err)
		}
	}
	read()
	read()
	if all := pageAll(t, c, "parcels", layers.Filter{}); len(all) != n {
		t.Fatalf("paged through %d parcels, want %d", len(all), n)
	}
	selects, loaded := s.selects.Load(), s.loaded.Load()
	read()
	if d, e := s.selects.Load()-selects, s.loaded.Load()-loaded; d != 0 || e != 0 {
		t.Errorf("the view after the scan: %d selects and %d features loaded; want none", d, e)
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
}
