package tiles

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

var ctx = context.Background()

func parcels(t testing.TB, n int) *gpkg.Store {
	t.Helper()
	s := layerstest.MustOpen(t)
	f, err := layers.ParseFile("parcels.geojson", layerstest.Parcels(n))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func ring(ps ...float64) orb.Ring {
	var r orb.Ring
	for i := 0; i+1 < len(ps); i += 2 {
		r = append(r, orb.Point{ps[i], ps[i+1]})
	}
	return r
}

func TestSimpleRing(t *testing.T) {
	for _, c := range []struct {
		name string
		r    orb.Ring
		want bool
	}{
		{"Square", ring(0, 0, 10, 0, 10, 10, 0, 10, 0, 0), true},
		{"Triangle", ring(0, 0, 10, 0, 0, 10, 0, 0), true},
		{"Concave", ring(0, 0, 10, 0, 10, 10, 5, 2, 0, 10, 0, 0), true},
		{"ErrBowtie", ring(0, 0, 10, 10, 10, 0, 0, 10, 0, 0), false},
		{"ErrCollinear", ring(0, 0, 5, 0, 10, 0, 0, 0), false},
		{"ErrFoldBack", ring(0, 0, 10, 0, 10, 10, 10, 5, 0, 0), false},
		{"ErrTouchesItself", ring(0, 0, 10, 0, 10, 10, 5, 0, 0, 10, 0, 0), false},
		{"ErrTwoPositions", ring(0, 0, 10, 0, 0, 0), false},
		{"ErrOpen", ring(0, 0, 10, 0, 10, 10, 0, 10), false},
		// Clipping leaves a zero-width part along the clip box's side:
		// outside the drawn tile, and allowed.
		{"AlongClipSide", ring(-64, 0, 100, 0, 100, 100, -64, 100, -64, 60, -64, 40, -64, 80, -64, 0), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := simpleRing(c.r); got != c.want {
				t.Errorf("simpleRing(%v) = %v, want %v", c.r, got, c.want)
			}
		})
	}
}

// Every ring of every parcel, at every zoom from where parcels are drawn,
// comes out a valid ring, wound as MVT wants.
func TestShapesValid(t *testing.T) {
	s := parcels(t, 3000)
	items, _, err := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 3000})
	if err != nil {
		t.Fatal(err)
	}
	for z := 10; z <= 18; z += 2 {
		kept := 0
		for _, it := range items {
			c := it.Bound.Center()
			x, y := tileXY(c, z)
			g := newProjection(z, x, y).shape(it.Geometry(), z < MinDetailZoom)
			if g == nil {
				continue
			}
			kept++
			var mp orb.MultiPolygon
			switch g := g.(type) {
			case orb.Polygon:
				mp = orb.MultiPolygon{g}
			case orb.MultiPolygon:
				mp = g
			default:
				t.Fatalf("z%d, parcel %d: a %T", z, it.ID, g)
			}
			for _, p := range mp {
				for i, r := range p {
					if !simpleRing(r) || (ringArea(r) > 0) != (i == 0) {
						t.Fatalf("z%d, parcel %d: ring %d %v is not a valid ring wound for MVT", z, it.ID, i, r)
					}
				}
			}
		}
		// Parcels are about 85 m: 2 pixels at z10, all kept from z12.
		if z >= 12 && kept != len(items) {
			t.Errorf("z%d: %d of %d parcels kept", z, kept, len(items))
		}
	}
}

func tileXY(p orb.Point, z int) (int, int) {
	q := newProjection(z, 0, 0).point(p)
	return int(q[0]) / Extent, int(q[1]) / Extent
}

// A layer whose tile at a zoom would hold more than MaxFeatures, by the
// catalog's count and extent, is left out there and the tile says so.
func TestThinning(t *testing.T) {
	// 1,000,000 synthetic parcels: 600 columns of 0.0009°, 1,667 rows.
	big := &layers.Collection{Count: 1_000_000, Extent: orb.Bound{Min: orb.Point{121.2, 31.9}, Max: orb.Point{121.74, 33.4}}}
	if z := MinZoom(big); z != 12 || estimate(big, z) > MaxFeatures || estimate(big, z-1) <= MaxFeatures {
		t.Errorf("MinZoom of a million parcels = %d (%.0f a tile; %.0f one zoom less), want 12", z, estimate(big, z), estimate(big, z-1))
	}
	s := parcels(t, 40000) // 67 rows: about 30,000 in a z10 tile
	col, _ := mustCatalog(t, s).Collection("parcels")
	mz := MinZoom(col)
	if mz <= 10 {
		t.Fatalf("MinZoom of 40,000 parcels = %d", mz)
	}
	x, y := tileXY(orb.Point{121.4, 31.93}, mz-1)
	tl, err := Build(ctx, s, mz-1, x, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Thinned) != 1 || len(tl.Data) != 0 || len(tl.Holds["parcels"]) != 0 {
		t.Errorf("tile below MinZoom: thinned %v, %d bytes, %d ids read", tl.Thinned, len(tl.Data), len(tl.Holds["parcels"]))
	}
	x, y = tileXY(orb.Point{121.4, 31.93}, mz)
	if tl, err = Build(ctx, s, mz, x, y, nil); err != nil {
		t.Fatal(err)
	}
	if len(tl.Thinned) != 0 || len(tl.Data) == 0 || len(tl.Holds["parcels"]) > MaxFeatures {
		t.Errorf("tile at MinZoom: thinned %v, %d bytes, %d ids read", tl.Thinned, len(tl.Data), len(tl.Holds["parcels"]))
	}
}

func mustCatalog(t *testing.T, s Source) *layers.Catalog {
	t.Helper()
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// The cache never holds more than its budget, and answers a tile again
// from what it holds.
func TestCacheBudget(t *testing.T) {
	s := parcels(t, 20000)
	const budget = 256 << 10
	c := NewCache(s, budget)
	x0, y0 := tileXY(orb.Point{121.2, 31.93}, 15)
	for i := range 60 {
		if _, err := c.Get(ctx, 15, x0+i, y0, nil); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.Bytes > budget || st.Tiles == 0 {
			t.Fatalf("after %d tiles the cache holds %d tiles, %d bytes; budget %d", i+1, st.Tiles, st.Bytes, budget)
		}
	}
	before := c.Stats()
	if _, err := c.Get(ctx, 15, x0+59, y0, nil); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Hits != before.Hits+1 || st.Tiles >= 60 {
		t.Errorf("stats %+v after asking the last tile again (before %+v): want a hit, and fewer than 60 tiles held", st, before)
	}
	none := NewCache(s, 0)
	if _, err := none.Get(ctx, 15, x0, y0, nil); err != nil {
		t.Fatal(err)
	}
	if st := none.Stats(); st.Tiles != 0 || st.Bytes != 0 {
		t.Errorf("a cache of budget 0 holds %+v", st)
	}
}

// Requests for one tile at once make it once.
func TestCacheMakesOnce(t *testing.T) {
	s := parcels(t, 20000)
	c := NewCache(s, DefaultBudget)
	x, y := tileXY(orb.Point{121.4, 31.93}, 12)
	var wg sync.WaitGroup
	tiles := make([]*Tile, 8)
	for i := range tiles {
		wg.Go(func() {
			tl, err := c.Get(ctx, 12, x, y, nil)
			if err != nil {
				t.Error(err)
			}
			tiles[i] = tl
		})
	}
	wg.Wait()
	st := c.Stats()
	t.Logf("%+v", st)
	if st.Misses != 1 || st.Hits+st.Shared != 7 {
		t.Errorf("8 requests at once for one tile: %+v; want it made once", st)
	}
	for _, tl := range tiles {
		if tl != tiles[0] {
			t.Errorf("the requests got different tiles")
		}
	}
}

// A feature changed and then deleted before the cache next looks (one
// batch of changes) leaves no tile showing it: the store answers EGONE
// for it by then, which is "deleted since", not a failure.
func TestCacheChangedThenDeleted(t *testing.T) {
	s := parcels(t, 20000)
	c := NewCache(s, DefaultBudget)
	const z = 15
	first, err := s.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	x, y := tileXY(first.Bound.Center(), z)
	tl, err := c.Get(ctx, z, x, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	held := tl.Holds["parcels"]
	if len(held) < 2 {
		t.Fatalf("tile %d/%d/%d holds %v; want at least two parcels", z, x, y, held)
	}
	other := held[len(held)-1]
	ed := layers.Edit{Author: "test"}
	if _, err := s.Replace(ctx, "parcels", first.ID, first.Feature(), "", ed); err != nil {
		t.Fatal(err)
	}
	for _, fid := range []int64{first.ID, other} {
		if err := s.Delete(ctx, "parcels", fid, "", ed); err != nil {
			t.Fatal(err)
		}
	}
	tl, err = c.Get(ctx, z, x, y, nil)
	if err != nil {
		t.Fatalf("the tile after an update and deletes: %v", err)
	}
	for _, fid := range tl.Holds["parcels"] {
		if fid == first.ID || fid == other {
			t.Errorf("tile %d/%d/%d still holds deleted parcel %d", z, x, y, fid)
		}
	}
}

// A tile of many features keeps the first of Fields, styleFields, and
// leaves out the rest, the names.
func TestStyleFieldsFirst(t *testing.T) {
	if !slices.Equal(Fields[:len(styleFields)], styleFields[:]) || !slices.Equal(Fields[len(styleFields):], []string{"name_zh", "name_en"}) {
		t.Errorf("Fields = %v: want styleFields %v, then the names", Fields, styleFields)
	}
}

// A tile of more than MaxNamed features of a layer keeps what the map
// styles by and leaves the names out; a tile of fewer keeps the names,
// also where the layer's count and extent promised many (a tile over the
// far one of 10,000 parcels and one large one far to the north-east of
// them, which readShapes reads again with the names).
func TestNamesOnlyInTilesOfFew(t *testing.T) {
	s := parcels(t, 10000)
	far := orb.Point{layerstest.ParcelsWest + 2, layerstest.ParcelsSouth + 2}
	const d = 0.05 // degrees: drawn at every zoom
	if _, err := s.Create(ctx, "parcels", layers.Feature{
		Geometry:   orb.MultiPolygon{{{far, {far[0] + d, far[1]}, {far[0] + d, far[1] + d}, {far[0], far[1] + d}, far}}},
		Properties: map[string]any{"name_zh": "远处的地块", "status": "planned"},
	}, layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	col, _ := mustCatalog(t, s).Collection("parcels")
	named, unnamed, sparse := 0, 0, 0
	type place struct{ z, x, y int }
	var places []place
	for z := 8; z <= 16; z++ {
		for _, at := range []orb.Point{col.Extent.Center(), col.Extent.Min} {
			x, y := tileXY(at, z)
			places = append(places, place{z, x, y})
		}
	}
	for z := 6; z <= 10; z++ {
		x0, y1 := tileXY(col.Extent.Min, z)
		x1, y0 := tileXY(col.Extent.Max, z)
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				places = append(places, place{z, x, y})
			}
		}
	}
	for _, pl := range places {
		z, x, y := pl.z, pl.x, pl.y
		tile, err := Build(ctx, s, z, x, y, nil)
		if err != nil {
			t.Fatalf("Build(%d/%d/%d): %v", z, x, y, err)
		}
		if len(tile.Data) == 0 {
			continue
		}
		mls, err := mvt.Unmarshal(tile.Data)
		if err != nil {
			t.Fatalf("tile %d/%d/%d: %v", z, x, y, err)
		}
		for _, ml := range mls {
			// Many or few read, whether or not drawn (below MinDetailZoom
			// the tiny are dropped).
			many := len(tile.Holds[ml.Name]) > MaxNamed
			if many {
				unnamed++
			} else {
				named++
				if col.Expected(Bound(z, x, y)) > 2*MaxNamed {
					sparse++
				}
			}
			for _, f := range ml.Features {
				_, hasName := f.Properties["name_zh"]
				if hasName == many || f.Properties["status"] == nil {
					t.Fatalf("tile %d/%d/%d of %d features read: feature %v has properties %v; want status, and name_zh only in a tile of at most %d",
						z, x, y, len(tile.Holds[ml.Name]), f.ID, f.Properties, MaxNamed)
				}
			}
		}
	}
	if named == 0 || unnamed == 0 || sparse == 0 {
		t.Errorf("%d tiles of few features (%d where many were expected), %d of many: want some of each", named, sparse, unnamed)
	}
}

// Every feature of a built tile is the shape its geometry makes alone, on
// a projection of its own: the slabs the tile's shapes share hand no two
// the same room.
func TestTileShapesShareNoRoom(t *testing.T) {
	s := parcels(t, 3000)
	col, _ := mustCatalog(t, s).Collection("parcels")
	compared := 0
	for z := 12; z <= 16; z++ {
		x, y := tileXY(col.Extent.Center(), z)
		tile, err := Build(ctx, s, z, x, y, nil)
		if err != nil {
			t.Fatalf("Build(%d/%d/%d): %v", z, x, y, err)
		}
		mls, err := mvt.Unmarshal(tile.Data)
		if err != nil {
			t.Fatalf("tile %d/%d/%d: %v", z, x, y, err)
		}
		items, err := s.Load(ctx, "parcels", tile.Holds["parcels"])
		if err != nil {
			t.Fatal(err)
		}
		geoms := map[int64]orb.Geometry{}
		for _, it := range items {
			geoms[it.ID] = it.Geometry()
		}
		for _, ml := range mls {
			for _, f := range ml.Features {
				var id int64
				switch v := f.ID.(type) {
				case float64:
					id = int64(v)
				case uint64:
					id = int64(v)
				}
				want := newProjection(z, x, y).shape(geoms[id], z < MinDetailZoom)
				if !orb.Equal(f.Geometry, want) {
					t.Fatalf("tile %d/%d/%d, feature %d: %v; alone it is %v", z, x, y, id, f.Geometry, want)
				}
				compared++
			}
		}
	}
	if compared < 900 { // the five tiles hold about a thousand
		t.Errorf("compared %d features: too few", compared)
	}
}

// Dense features with the same values share one map of properties; any
// other value, a blob's bytes included, gets its own, and nils are left
// out.
func TestPropertySets(t *testing.T) {
	var s propertySets
	a := s.of([]any{"R2", "residential", "planned", nil})
	b := s.of([]any{"R2", "residential", "planned", nil})
	c := s.of([]any{"R2", "residential", "built", nil})
	d := s.of([]any{"R2", []byte("x"), "planned", nil})
	named := s.of([]any{"R2", "residential", "planned", nil, "安置房", nil})
	want := map[string]any{"landuse_code": "R2", layers.ClassField: "residential", layers.StatusField: "planned"}
	if !maps.Equal(a, want) {
		t.Errorf("properties = %v, want %v", a, want)
	}
	if reflect.ValueOf(a).Pointer() != reflect.ValueOf(b).Pointer() {
		t.Error("the same values: two maps, want one shared")
	}
	if c[layers.StatusField] != "built" || reflect.ValueOf(a).Pointer() == reflect.ValueOf(c).Pointer() {
		t.Errorf("other values share the map: %v", c)
	}
	if v, ok := d[layers.ClassField].([]byte); !ok || string(v) != "x" {
		t.Errorf("a blob's value: %v", d)
	}
	if named["name_zh"] != "安置房" || len(named) != 4 {
		t.Errorf("named properties = %v", named)
	}
	if len(s) != 2 {
		t.Errorf("%d sets kept, want 2", len(s))
	}
}
