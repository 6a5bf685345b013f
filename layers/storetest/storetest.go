package storetest

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// Store is what the suite reads through: the query methods of web.Store.
type Store interface {
	Catalog(ctx context.Context) (*layers.Catalog, error)
	Items(ctx context.Context, id string, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	Item(ctx context.Context, id string, fid int64) (*layers.Item, error)
	Shapes(ctx context.Context, id string, f layers.Filter, p layers.Page, fields []string) ([]layers.Shape, int, error)
	Search(ctx context.Context, q string, limit int) ([]layers.Hit, error)
	Changes(ctx context.Context, after int64, limit int) ([]layers.Change, error)
}

// Holding is a store that can answer a page with the items a cache holds
// in place of its own (the cache's holdingStore): held gives the item of
// a feature the cache holds, or nil; ok is false when the store did not
// answer, and the cache asks otherwise. The contract wants it to answer
// most pages of one small box, whose answers are what it is for.
type Holding interface {
	ItemsHolding(ctx context.Context, id string, f layers.Filter, p layers.Page, held func(fid int64) *layers.Item) (items []*layers.Item, matched int, ok bool, err error)
}

// Writer writes into the data a Store reads, as another client would:
// for the GeoPackage store, a second store opened on the same file; for a
// cache, the store behind it.
type Writer interface {
	Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error)
	// Delete removes the features fids of layer id, in one transaction.
	Delete(ctx context.Context, id string, fids ...int64) error
}

// importer is a Store that writes too. Its own writes must be visible to
// its readers as soon as Import returns.
type importer interface {
	Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error)
}

// Harness gives the suite stores to test.
type Harness struct {
	// New returns a new, empty store under test and a Writer into the
	// same data. Both are closed when t ends.
	New func(t *testing.T) (Store, Writer)
	// Direct, if not nil, runs the tests of direct edits (direct.go) on
	// a store that checks them: nil for one that does not (a cache: the
	// store behind it checks).
	Direct *DirectHarness
}

// visible is how soon a write through the Writer must show in the Store:
// a second, held in the plain run; the race build is about ten times
// slower and shares two cores with every other package's tests, so there
// it only has to show.
var visible = map[bool]time.Duration{false: time.Second, true: 10 * time.Second}[raceEnabled]

var ctx = context.Background()

//go:embed testdata/parcels.geojson
var parcelsGeoJSON string

// Run runs the contract against the stores h gives.
func Run(t *testing.T, h Harness) {
	t.Run("Catalog", func(t *testing.T) { testCatalog(t, h) })
	t.Run("Search", func(t *testing.T) { testSearch(t, h) })
	t.Run("Item", func(t *testing.T) { testItem(t, h) })
	t.Run("BBox", func(t *testing.T) { testBBox(t, h) })
	t.Run("Bounds", func(t *testing.T) { testBounds(t, h) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, h) })
	t.Run("Shapes", func(t *testing.T) { testShapes(t, h) })
	t.Run("Properties", func(t *testing.T) { testProperties(t, h) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, h) })
	t.Run("CountAndExtent", func(t *testing.T) { testCountAndExtent(t, h) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, h) })
	t.Run("Visible", func(t *testing.T) { testVisible(t, h) })
	t.Run("ReadDuringImport", func(t *testing.T) { testReadDuringImport(t, h) })
	t.Run("Edit", func(t *testing.T) { testEdit(t, h) })
	t.Run("AsOf", func(t *testing.T) { testAsOf(t, h) })
	if h.Direct != nil {
		t.Run("DirectChecked", func(t *testing.T) { testDirectChecked(t, h.Direct) })
		t.Run("DirectRulesFlagged", func(t *testing.T) { testDirectRulesFlagged(t, h.Direct) })
	}
}

// parse parses a layer file the suite wrote.
func parse(t *testing.T, name string, data []byte) *layers.File {
	t.Helper()
	f, err := layers.ParseFile(name, data)
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return f
}

// write imports files through w and waits until s has taken the import
// in, returning the catalog that includes it.
func write(t *testing.T, s Store, w Writer, opt layers.ImportOptions, files ...*layers.File) *layers.Catalog {
	t.Helper()
	before := catalog(t, s).Seq
	if _, err := w.Import(ctx, files, opt); err != nil {
		t.Fatalf("Writer.Import: %v", err)
	}
	return waitSeq(t, s, before)
}

// remove deletes features through w and waits until s has taken it in.
func remove(t *testing.T, s Store, w Writer, id string, fids ...int64) *layers.Catalog {
	t.Helper()
	before := catalog(t, s).Seq
	if err := w.Delete(ctx, id, fids...); err != nil {
		t.Fatalf("Writer.Delete(%s, %v): %v", id, fids, err)
	}
	return waitSeq(t, s, before)
}

func catalog(t *testing.T, s Store) *layers.Catalog {
	t.Helper()
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	return cat
}

// waitSeq polls the catalog until it includes a change after seq after.
// A write through the Writer is one transaction: a catalog past it
// includes all of it.
func waitSeq(t *testing.T, s Store, after int64) *layers.Catalog {
	t.Helper()
	start := time.Now()
	for {
		cat := catalog(t, s)
		if cat.Seq > after {
			return cat
		}
		if time.Since(start) > 2*visible {
			t.Fatalf("Catalog().Seq is still %d %v after a write through the Writer; want it past %d within %v", cat.Seq, time.Since(start).Round(time.Millisecond), after, visible)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func collection(t *testing.T, cat *layers.Catalog, id string) *layers.Collection {
	t.Helper()
	col, ok := cat.Collection(id)
	if !ok {
		t.Fatalf("Catalog (seq %d) has no collection %s", cat.Seq, id)
	}
	return col
}

func ids(items []*layers.Item) []int64 {
	out := make([]int64, 0, len(items))
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func items(t *testing.T, s Store, id string, f layers.Filter, p layers.Page) ([]int64, int) {
	t.Helper()
	page, matched, err := s.Items(ctx, id, f, p)
	if err != nil {
		t.Fatalf("Items(%s, %+v, %+v): %v", id, f, p, err)
	}
	return ids(page), matched
}

// testCatalog: counts, extents and item JSON of a small hand-made layer,
// and the catalog following writes through the Writer and the store's own.
func testCatalog(t *testing.T, h Harness) {
	s, w := h.New(t)
	if cat := catalog(t, s); len(cat.Collections) != 0 {
		t.Fatalf("a new store has %d collections", len(cat.Collections))
	}
	roads := strings.NewReplacer(`"parcels"`, `"roads"`).Replace(parcelsGeoJSON)
	cat := write(t, s, w, layers.ImportOptions{},
		parse(t, "parcels.geojson", []byte(parcelsGeoJSON)), parse(t, "roads.geojson", []byte(roads)))
	col := collection(t, cat, "parcels")
	if col.Count != 3 {
		t.Fatalf("parcels: Count = %d, want 3", col.Count)
	}
	if want := (orb.Bound{Min: orb.Point{121.4, 32.05}, Max: orb.Point{121.53, 32.12}}); col.Extent != want {
		t.Errorf("parcels: Extent = %v, want %v", col.Extent, want)
	}
	one, err := s.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatalf("Item(parcels, 1): %v", err)
	}
	for _, want := range []string{`{"type":"Feature","id":1,"properties":{"name_zh":"一号地块 <b>&"`, `"area_mu":575.5`, `"geodesic_area_m2":`, `"geodesic_area_mu":`, `"geometry":{"type":"MultiPolygon"`} {
		if !strings.Contains(string(one.JSON), want) {
			t.Errorf("Item(parcels, 1).JSON lacks %s:\n%s", want, one.JSON)
		}
	}
	for _, tt := range []struct {
		name    string
		f       layers.Filter
		off, n  int
		want    []int64
		matched int
	}{
		{"All", layers.Filter{}, 0, 10, []int64{1, 3, 7}, 3},
		{"Page", layers.Filter{}, 1, 1, []int64{3}, 3},
		{"PastTheEnd", layers.Filter{}, 5, 10, nil, 3},
		{"BBox", layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}}}}, 0, 10, []int64{1}, 1},
		// Inside the hole of parcel 3: its box matches, its geometry not.
		{"BBoxInHole", layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{121.412, 32.062}, Max: orb.Point{121.418, 32.068}}}}, 0, 10, nil, 0},
		{"TwoBoxes", layers.Filter{BBoxes: []orb.Bound{
			{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}},
			{Min: orb.Point{121.505, 32.101}, Max: orb.Point{121.506, 32.102}}}}, 0, 10, []int64{1, 7}, 2},
		{"Equals", layers.Filter{Equals: map[string]any{"status": "signed"}}, 0, 10, []int64{3}, 1},
		{"EqualsBool", layers.Filter{Equals: map[string]any{"public": false}}, 0, 10, []int64{7}, 1},
		{"EqualsAndBBox", layers.Filter{Equals: map[string]any{"status": "signed"},
			BBoxes: []orb.Bound{{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}}}}, 0, 10, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, matched := items(t, s, "parcels", tt.f, layers.Page{Offset: tt.off, Limit: tt.n})
			if matched != tt.matched || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Items(parcels, %+v, offset %d, limit %d) = %v, %d; want %v, %d", tt.f, tt.off, tt.n, got, matched, tt.want, tt.matched)
			}
		})
	}

	t.Run("Follows", func(t *testing.T) {
		again := catalog(t, s)
		if again.Seq != cat.Seq || collection(t, again, "parcels").Version != col.Version {
			t.Errorf("with nothing changed the catalog went from seq %d to %d, parcels from version %s to %s",
				cat.Seq, again.Seq, col.Version, collection(t, again, "parcels").Version)
		}
		more := strings.NewReplacer(`"id": 1,`, `"id": 11,`).Replace(roads)
		next := write(t, s, w, layers.ImportOptions{}, parse(t, "roads.geojson", []byte(more)))
		if r := collection(t, next, "roads"); r.Count != 4 || r.Version == collection(t, cat, "roads").Version {
			t.Errorf("after the Writer added a road: roads has %d items, version %s (was %s); want 4 and a new version",
				r.Count, r.Version, collection(t, cat, "roads").Version)
		}
		if p := collection(t, next, "parcels"); p.Version != col.Version || p.Count != 3 {
			t.Errorf("parcels, unchanged, went from version %s to %s, count %d", col.Version, p.Version, p.Count)
		}
		// The store's own writes, if it takes any, show at once.
		imp, ok := s.(importer)
		if !ok {
			return
		}
		mine := strings.NewReplacer(`"id": 1,`, `"id": 21,`).Replace(roads)
		if _, err := imp.Import(ctx, []*layers.File{parse(t, "roads.geojson", []byte(mine))}, layers.ImportOptions{}); err != nil {
			t.Fatalf("Import: %v", err)
		}
		if r := collection(t, catalog(t, s), "roads"); r.Count != 5 {
			t.Errorf("roads has %d items right after the store imported one, want 5", r.Count)
		}
		if _, err := s.Item(ctx, "roads", 21); err != nil {
			t.Errorf("Item(roads, 21) right after the store imported it: %v", err)
		}
	})
}

func testSearch(t *testing.T, h Harness) {
	s, w := h.New(t)
	write(t, s, w, layers.ImportOptions{}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	names := func(hs []layers.Hit) (out []any) {
		for _, x := range hs {
			out = append(out, x.Item.Properties()["name_zh"])
		}
		return out
	}
	for q, want := range map[string]string{
		"七号":      "[七号地块]",
		"地块":      "[一号地块 <b>& 三号地块 七号地块]",
		"PARCEL":  "[一号地块 <b>&]",
		"  ":      "[]",
		"nothing": "[]",
	} {
		hits, err := s.Search(ctx, q, 10)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if got := fmt.Sprint(names(hits)); got != want {
			t.Errorf("Search(%q) = %s, want %s", q, got, want)
		}
		for _, hit := range hits {
			if hit.Layer != "parcels" {
				t.Errorf("Search(%q) found %d in layer %q, want parcels", q, hit.Item.ID, hit.Layer)
			}
		}
	}
	if got, err := s.Search(ctx, "地块", 2); err != nil || len(got) != 2 {
		t.Errorf("Search(地块, limit 2) gave %d hits, %v; want 2", len(got), err)
	}
}

func testItem(t *testing.T, h Harness) {
	s, w := h.New(t)
	write(t, s, w, layers.ImportOptions{}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	it, err := s.Item(ctx, "parcels", 7)
	if err != nil {
		t.Fatalf("Item(parcels, 7): %v", err)
	}
	if it.ID != 7 || it.Properties()["name_zh"] != "七号地块" || it.Properties()["public"] != false {
		t.Errorf("Item(parcels, 7) = id %d, properties %v", it.ID, it.Properties())
	}
	if !strings.HasPrefix(string(it.JSON), `{"type":"Feature","id":7,`) {
		t.Errorf("Item(parcels, 7).JSON = %s", it.JSON)
	}
	if want := (orb.Bound{Min: orb.Point{121.50, 32.10}, Max: orb.Point{121.53, 32.105}}); it.Bound != want {
		t.Errorf("Item(parcels, 7).Bound = %v, want %v", it.Bound, want)
	}
	page, _ := items(t, s, "parcels", layers.Filter{}, layers.Page{After: 3, Limit: 1})
	if len(page) != 1 || page[0] != 7 {
		t.Fatalf("Items(parcels, after 3, limit 1) = %v, want [7]", page)
	}
	for _, tt := range []struct {
		name  string
		layer string
		fid   int64
	}{
		{"ErrNoFeature", "parcels", 2},
		{"ErrNoLayer", "nowhere", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			it, err := s.Item(ctx, tt.layer, tt.fid)
			if code := layers.ErrorCode(err); code != layers.ENOTFOUND {
				t.Errorf("Item(%s, %d) = %v, %v (code %q); want an %s error", tt.layer, tt.fid, it, err, code, layers.ENOTFOUND)
			}
		})
	}
	t.Run("ErrItemsOfNoLayer", func(t *testing.T) {
		_, _, err := s.Items(ctx, "nowhere", layers.Filter{}, layers.Page{Limit: 10})
		if code := layers.ErrorCode(err); code != layers.ENOTFOUND {
			t.Errorf("Items(nowhere) error = %v (code %q); want an %s error", err, code, layers.ENOTFOUND)
		}
	})
}

// synthetic writes the suite's synthetic layers, of n features each:
// plots (MultiPolygon), roads (MultiLineString) and wells (Point).
func synthetic(t *testing.T, s Store, w Writer, n int) []*layerData {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(n)))
	ls := []*layerData{
		{ID: "plots", GeometryType: "MultiPolygon", Features: polygons(rng, n)},
		{ID: "roads", GeometryType: "MultiLineString", Features: lines(rng, n)},
		{ID: "wells", GeometryType: "Point", Features: points(rng, n)},
	}
	files := make([]*layers.File, len(ls))
	for i, l := range ls {
		files[i] = parse(t, l.ID+".geojson", layerFile(l, true, l.Features))
	}
	write(t, s, w, layers.ImportOptions{}, files...)
	return ls
}

// randomBox returns a box of width and height between lo and hi degrees
// somewhere over the grid of n features, reaching a little past it.
func randomBox(rng *rand.Rand, n int, lo, hi float64) orb.Bound {
	rows := float64((n + gridColumns - 1) / gridColumns)
	w, h := lo+rng.Float64()*(hi-lo), lo+rng.Float64()*(hi-lo)
	x := gridWest - gridCell + rng.Float64()*(gridColumns+2)*gridCell - w/2
	y := gridSouth - gridCell + rng.Float64()*(rows+2)*gridCell - h/2
	return orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}}
}

// holeBoxes returns boxes around the holes of a polygon: wholly inside a
// hole (which must match nothing of the polygon), and crossing its rim.
func holeBoxes(rng *rand.Rand, g orb.Geometry) []orb.Bound {
	var ps []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		ps = []orb.Polygon{g}
	case orb.MultiPolygon:
		ps = g
	}
	var out []orb.Bound
	for _, p := range ps {
		for _, hole := range p[1:] {
			hb := hole.Bound()
			c := hb.Center()
			// The hole is a quadrilateral whose corners moved in by up
			// to a sixth of its box: a box of a third of its size around
			// its centre lies inside it.
			in := orb.Bound{Min: orb.Point{c[0] - (hb.Max[0]-hb.Min[0])/6, c[1] - (hb.Max[1]-hb.Min[1])/6},
				Max: orb.Point{c[0] + (hb.Max[0]-hb.Min[0])/6, c[1] + (hb.Max[1]-hb.Min[1])/6}}
			grow := 0.6 + rng.Float64()*0.8
			across := orb.Bound{Min: orb.Point{c[0] - grow*(hb.Max[0]-hb.Min[0]), c[1] - (hb.Max[1]-hb.Min[1])/8},
				Max: orb.Point{c[0] + grow*(hb.Max[0]-hb.Min[0]), c[1] + (hb.Max[1]-hb.Min[1])/8}}
			out = append(out, in, across)
		}
	}
	return out
}

// testBBox compares the store's bbox answers with the brute force of
// brute.go on hundreds of random filters over a few thousand features of
// each kind of geometry.
func testBBox(t *testing.T, h Harness) {
	n := 3000
	if raceEnabled {
		// The geometry is checked without -race; under it (about ten
		// times slower) a third of the features still cover every case.
		n = 1000
	}
	s, w := h.New(t)
	ls := synthetic(t, s, w, n)
	rng := rand.New(rand.NewSource(7))
	type query struct {
		name  string
		boxes []orb.Bound
	}
	var qs []query
	for i := 0; i < 200; i++ {
		qs = append(qs, query{fmt.Sprintf("small%d", i), []orb.Bound{randomBox(rng, n, gridCell/20, 2*gridCell)}})
	}
	for i := 0; i < 40; i++ {
		qs = append(qs, query{fmt.Sprintf("large%d", i), []orb.Bound{randomBox(rng, n, 5*gridCell, 30*gridCell)}})
	}
	for i := 0; i < 60; i++ {
		boxes := []orb.Bound{randomBox(rng, n, gridCell/10, 3*gridCell), randomBox(rng, n, gridCell/10, 10*gridCell)}
		if i%3 == 0 {
			boxes = append(boxes, randomBox(rng, n, gridCell/10, gridCell))
		}
		qs = append(qs, query{fmt.Sprintf("multi%d", i), boxes})
	}
	plots := ls[0].Features
	var inside []orb.Bound
	for i := 0; i < len(plots) && len(inside) < 60; i += 1 + rng.Intn(40) {
		for j, b := range holeBoxes(rng, plots[i].Geom) {
			qs = append(qs, query{fmt.Sprintf("hole%d-%d", plots[i].ID, j), []orb.Bound{b}})
			if j%2 == 0 {
				inside = append(inside, b)
			}
		}
	}
	// Two boxes, each inside a hole of a different feature.
	for i := 0; i+1 < len(inside); i += 2 {
		qs = append(qs, query{fmt.Sprintf("holes%d", i), inside[i : i+2]})
	}
	// Boxes with a corner exactly on a vertex of a feature, reaching away
	// in any direction: they touch it, and touching is meeting.
	for i := 0; i < 60; i++ {
		l := ls[i%len(ls)]
		v := vertices(l.Features[rng.Intn(len(l.Features))].Geom)
		p := v[rng.Intn(len(v))]
		d := orb.Point{gridCell / 50 * float64(1+rng.Intn(20)), gridCell / 50 * float64(1+rng.Intn(20))}
		b := orb.Bound{Min: p, Max: p}
		switch i % 4 {
		case 0:
			b.Max = orb.Point{p[0] + d[0], p[1] + d[1]}
		case 1:
			b.Min = orb.Point{p[0] - d[0], p[1] - d[1]}
		case 2:
			b.Min[0], b.Max[1] = p[0]-d[0], p[1]+d[1]
		case 3:
			// A box of no size at the vertex itself.
		}
		qs = append(qs, query{fmt.Sprintf("touch%d-%s", i, l.ID), []orb.Bound{b}})
	}
	qs = append(qs, query{"everything", []orb.Bound{{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}}})
	qs = append(qs, query{"nowhere", []orb.Bound{{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}}})

	hs, holding := s.(Holding)
	var nonEmpty, inHoles int
	for _, l := range ls {
		smallHeld, small := 0, 0
		// Every feature's item, of which a cache holding every other one
		// would hold those, for a store that takes them: the store's own,
		// so that only whether the page is made of them tells them apart.
		var all map[int64]*layers.Item
		if holding {
			all = map[int64]*layers.Item{}
			for _, it := range mustItems(t, s, l.ID, layers.Filter{}, n+1) {
				all[it.ID] = it
			}
		}
		for _, q := range qs {
			f := layers.Filter{BBoxes: q.boxes}
			want := bruteIDs(l.Features, q.boxes, nil)
			got, matched := items(t, s, l.ID, f, layers.Page{Limit: n + 1})
			if !slices.Equal(got, want) || matched != len(want) {
				t.Errorf("%s: Items(%s, bbox %v) = %d features, matched %d; brute force finds %d\n  only the store: %v\n  only brute force: %v",
					q.name, l.ID, q.boxes, len(got), matched, len(want), minus(got, want), minus(want, got))
			}
			if holding {
				answered := checkHolding(t, hs, l.ID, q.name, f, n, want, all)
				if strings.HasPrefix(q.name, "small") {
					small++
					if answered {
						smallHeld++
					}
				}
			}
			sh, shMatched := shapes(t, s, l.ID, f, layers.Page{Limit: n + 1}, nil)
			if got := shapeIDs(sh); !slices.Equal(got, want) || shMatched != len(want) {
				t.Errorf("%s: Shapes(%s, bbox %v) = %d features, matched %d; brute force finds %d\n  only the store: %v\n  only brute force: %v",
					q.name, l.ID, q.boxes, len(got), shMatched, len(want), minus(got, want), minus(want, got))
			}
			if len(want) > 0 {
				nonEmpty++
			}
			if l.ID == "plots" && (strings.HasPrefix(q.name, "holes") || strings.HasPrefix(q.name, "hole") && strings.HasSuffix(q.name, "-0")) {
				inHoles++
				if len(want) != 0 {
					t.Errorf("%s: boxes inside holes meet %v by brute force: the test's geometry is wrong", q.name, want)
				}
			}
		}
		if holding {
			t.Logf("%s: ItemsHolding answered %d of the %d small boxes", l.ID, smallHeld, small)
			if smallHeld < small/2 {
				t.Errorf("%s: ItemsHolding answered %d of the %d small boxes; want most", l.ID, smallHeld, small)
			}
		}
	}
	t.Logf("%d filters on %d layers of %d features: %d answers not empty, %d boxes inside holes", len(qs), len(ls), n, nonEmpty, inHoles)
	if nonEmpty < len(qs) || inHoles < 20 {
		t.Errorf("the random boxes are too easy: %d of %d answers not empty, %d boxes inside holes", nonEmpty, len(qs)*len(ls), inHoles)
	}
}

// checkHolding asks hs for the page of f with the even-numbered features
// of all held, and checks it against the brute force's want: the same
// features, matched the same, the very items held where they are, and
// the others as all has them. It reports whether hs answered rather
// than handing the query back.
func checkHolding(t *testing.T, hs Holding, id, name string, f layers.Filter, n int, want []int64, all map[int64]*layers.Item) bool {
	t.Helper()
	held := func(fid int64) *layers.Item {
		if fid%2 != 0 {
			return nil
		}
		return all[fid]
	}
	page, matched, ok, err := hs.ItemsHolding(ctx, id, f, layers.Page{Limit: n + 1}, held)
	if err != nil {
		t.Fatalf("%s: ItemsHolding(%s, bbox %v): %v", name, id, f.BBoxes, err)
	}
	if !ok {
		return false
	}
	if got := ids(page); !slices.Equal(got, want) || matched != len(want) {
		t.Errorf("%s: ItemsHolding(%s, bbox %v) = %d features, matched %d; brute force finds %d\n  only the store: %v\n  only brute force: %v",
			name, id, f.BBoxes, len(got), matched, len(want), minus(got, want), minus(want, got))
		return true
	}
	for _, it := range page {
		if h := held(it.ID); h != nil && it != h {
			t.Errorf("%s: ItemsHolding(%s) encoded feature %d again, where the cache held it", name, id, it.ID)
			return true
		}
		w := all[it.ID]
		if w == nil {
			t.Errorf("%s: ItemsHolding(%s) gives feature %d, which Items does not", name, id, it.ID)
			return true
		}
		if !bytes.Equal(it.JSON, w.JSON) {
			t.Errorf("%s: ItemsHolding(%s) feature %d is %s, Items gives %s", name, id, it.ID, it.JSON, w.JSON)
			return true
		}
	}
	return true
}

// vertices returns every vertex of g.
func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.LineString:
		out = append(out, g...)
	case orb.MultiLineString:
		for _, ls := range g {
			out = append(out, ls...)
		}
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, vertices(p)...)
		}
	}
	return out
}

// minus returns the ids of a not in b, at most 10.
func minus(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
			if len(out) == 10 {
				break
			}
		}
	}
	return out
}

// testPaging checks that pages by Offset and by After give the same
// features as one big page, with the same exact count on every page.
func testPaging(t *testing.T, h Harness) {
	const n = 1000
	s, w := h.New(t)
	ls := synthetic(t, s, w, n)
	rng := rand.New(rand.NewSource(11))
	filters := []layers.Filter{
		{},
		{BBoxes: []orb.Bound{randomBox(rng, n, 5*gridCell, 12*gridCell)}},
		{BBoxes: []orb.Bound{randomBox(rng, n, 10*gridCell, 16*gridCell), randomBox(rng, n, 4*gridCell, 8*gridCell)}, Equals: map[string]any{"status": "signed"}},
		{Equals: map[string]any{"public": true}},
	}
	for _, l := range ls {
		for i, f := range filters {
			all, matched := items(t, s, l.ID, f, layers.Page{Limit: n + 1})
			if want := bruteIDs(l.Features, f.BBoxes, f.Equals); !slices.Equal(all, want) || matched != len(want) {
				t.Fatalf("Items(%s, %+v) = %d features, matched %d; want %d", l.ID, f, len(all), matched, len(want))
			}
			if len(all) < 10 {
				t.Fatalf("filter %d of %s selects only %d features: paging is not tested", i, l.ID, len(all))
			}
			for _, size := range []int{1, 7, 50} {
				if size == 1 && len(all) > 200 {
					continue
				}
				var byAfter, byOffset []int64
				after := int64(0)
				for pages := 0; ; pages++ {
					page, m := items(t, s, l.ID, f, layers.Page{After: after, Limit: size})
					if m != matched {
						t.Fatalf("Items(%s, filter %d, after %d, limit %d): matched %d, want %d on every page", l.ID, i, after, size, m, matched)
					}
					if len(page) == 0 {
						break
					}
					if len(page) > size || pages > len(all) {
						t.Fatalf("Items(%s, filter %d, after %d, limit %d) gave %d features", l.ID, i, after, size, len(page))
					}
					byAfter = append(byAfter, page...)
					after = page[len(page)-1]
				}
				for off := 0; off <= len(all); off += size {
					page, m := items(t, s, l.ID, f, layers.Page{Offset: off, Limit: size})
					if m != matched {
						t.Fatalf("Items(%s, filter %d, offset %d, limit %d): matched %d, want %d", l.ID, i, off, size, m, matched)
					}
					byOffset = append(byOffset, page...)
				}
				if !slices.Equal(byAfter, all) || !slices.Equal(byOffset, all) {
					t.Errorf("Items(%s, filter %d) in pages of %d: by After %d features, by Offset %d; one page %d (they differ)",
						l.ID, i, size, len(byAfter), len(byOffset), len(all))
				}
			}
			// Uncounted pages (the statistics read so) are the same pages;
			// the same page counted after one uncounted has its count.
			var uncounted []int64
			for after := int64(0); ; {
				page, _ := items(t, s, l.ID, f, layers.Page{After: after, Limit: 7, Uncounted: true})
				if len(page) == 0 || len(uncounted) > len(all) {
					break
				}
				if _, m := items(t, s, l.ID, f, layers.Page{After: after, Limit: 7}); m != matched {
					t.Fatalf("Items(%s, filter %d, after %d, limit 7) after the same page uncounted: matched %d, want %d", l.ID, i, after, m, matched)
				}
				uncounted = append(uncounted, page...)
				after = page[len(page)-1]
			}
			if !slices.Equal(uncounted, all) {
				t.Errorf("Items(%s, filter %d) in uncounted pages of 7: %d features, want the %d of one page", l.ID, i, len(uncounted), len(all))
			}
			if len(all) >= 6 {
				page, _ := items(t, s, l.ID, f, layers.Page{After: all[2], Offset: 2, Limit: 2, Uncounted: true})
				if want := all[5:min(7, len(all))]; !slices.Equal(page, want) {
					t.Errorf("Items(%s, filter %d, after %d, offset 2, limit 2, uncounted) = %v, want %v", l.ID, i, all[2], page, want)
				}
			}
			// After and Offset together: skip Offset of those past After.
			if len(all) >= 6 {
				page, _ := items(t, s, l.ID, f, layers.Page{After: all[2], Offset: 2, Limit: 2})
				if want := all[5:min(7, len(all))]; !slices.Equal(page, want) {
					t.Errorf("Items(%s, filter %d, after %d, offset 2, limit 2) = %v, want %v", l.ID, i, all[2], page, want)
				}
			}
			if page, m := items(t, s, l.ID, f, layers.Page{Offset: len(all), Limit: 10}); len(page) != 0 || m != matched {
				t.Errorf("Items(%s, filter %d, offset %d) = %v, %d; want none, %d", l.ID, i, len(all), page, m, matched)
			}
			if _, m := items(t, s, l.ID, f, layers.Page{Limit: 0}); m != matched {
				t.Errorf("Items(%s, filter %d, limit 0): matched %d, want %d", l.ID, i, m, matched)
			}
		}
	}
}

// testProperties checks equality filters on fields of every type, alone,
// together and with a box.
func testProperties(t *testing.T, h Harness) {
	const n = 1500
	s, w := h.New(t)
	ls := synthetic(t, s, w, n)
	box := []orb.Bound{{Min: orb.Point{gridWest + 10*gridCell, gridSouth + 3*gridCell}, Max: orb.Point{gridWest + 40*gridCell, gridSouth + 17*gridCell}}}
	for _, tt := range []struct {
		name   string
		equals map[string]any
		boxes  []orb.Bound
	}{
		{"String", map[string]any{"status": "under_construction"}, nil},
		{"Integer", map[string]any{"berths": int64(2)}, nil},
		{"IntegerZero", map[string]any{"berths": int64(0)}, nil},
		{"Number", map[string]any{"area_mu": 36.75}, nil},
		{"NumberZero", map[string]any{"area_mu": 0.0}, nil},
		{"True", map[string]any{"public": true}, nil},
		{"False", map[string]any{"public": false}, nil},
		{"Date", map[string]any{"opened": "2021-02-11"}, nil},
		{"Name", map[string]any{"name_zh": "77号"}, nil},
		{"NoSuchValue", map[string]any{"status": "abandoned"}, nil},
		{"Two", map[string]any{"public": false, "berths": int64(1)}, nil},
		{"Three", map[string]any{"public": true, "opened": "2021-03-10", "status": "planned"}, nil},
		{"WithBBox", map[string]any{"public": false}, box},
		{"NumberWithBBox", map[string]any{"area_mu": 12.25, "status": "signed"}, box},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, l := range ls {
				want := bruteIDs(l.Features, tt.boxes, tt.equals)
				f := layers.Filter{BBoxes: tt.boxes, Equals: tt.equals}
				got, matched := items(t, s, l.ID, f, layers.Page{Limit: 20})
				if matched != len(want) || !slices.Equal(got, want[:min(20, len(want))]) {
					t.Errorf("Items(%s, %v) = %v…, matched %d; want %v…, %d", l.ID, f, got, matched, want[:min(20, len(want))], len(want))
				}
				if tt.name != "NoSuchValue" && len(want) == 0 {
					t.Errorf("%s: no feature of %s matches %v: the test data do not test it", tt.name, l.ID, tt.equals)
				}
				for _, it := range mustItems(t, s, l.ID, f, 20) {
					for name, v := range tt.equals {
						if it.Properties()[name] != v {
							t.Errorf("Items(%s, %v) gave feature %d with %s = %#v", l.ID, f, it.ID, name, it.Properties()[name])
						}
					}
				}
			}
		})
	}
}

func mustItems(t *testing.T, s Store, id string, f layers.Filter, limit int) []*layers.Item {
	t.Helper()
	page, _, err := s.Items(ctx, id, f, layers.Page{Limit: limit})
	if err != nil {
		t.Fatalf("Items(%s, %+v): %v", id, f, err)
	}
	return page
}

func mustItem(t *testing.T, s Store, id string, fid int64) *layers.Item {
	t.Helper()
	it, err := s.Item(ctx, id, fid)
	if err != nil {
		t.Fatalf("Item(%s, %d): %v", id, fid, err)
	}
	return it
}

// testVersions checks that a feature's version changes exactly when it
// does, and a layer's only when that layer changes.
func testVersions(t *testing.T, h Harness) {
	s, w := h.New(t)
	ls := synthetic(t, s, w, 200)
	plots := ls[0]
	before := catalog(t, s)
	v5, v6 := mustItem(t, s, "plots", 5).Version(), mustItem(t, s, "plots", 6).Version()
	if v5 == v6 {
		t.Fatalf("features 5 and 6 have the same version %s", v5)
	}
	if again := mustItem(t, s, "plots", 5).Version(); again != v5 {
		t.Errorf("feature 5 read twice: version %s, then %s", v5, again)
	}
	changed := plots.Features[4]
	changed.Props = map[string]any{"name_zh": "改过的", "status": "signed"}
	after := write(t, s, w, layers.ImportOptions{}, parse(t, "plots.geojson", layerFile(plots, false, []feature{changed})))
	if v := mustItem(t, s, "plots", 5).Version(); v == v5 {
		t.Errorf("feature 5 changed and kept its version %s", v)
	}
	if it := mustItem(t, s, "plots", 5); it.Properties()["name_zh"] != "改过的" || it.Properties()["berths"] != nil {
		t.Errorf("feature 5 after the change has properties %v", it.Properties())
	}
	if v := mustItem(t, s, "plots", 6).Version(); v != v6 {
		t.Errorf("feature 6 did not change, its version did: %s → %s", v6, v)
	}
	for _, l := range ls {
		was, now := collection(t, before, l.ID).Version, collection(t, after, l.ID).Version
		if changedLayer := l.ID == "plots"; changedLayer == (was == now) {
			t.Errorf("%s (changed: %v): version %s → %s", l.ID, changedLayer, was, now)
		}
	}
	// Only the geometry changes: the version follows too.
	moved := plots.Features[5]
	moved.Geom = orb.Polygon{closeRing(orb.Ring{{121.0, 31.0}, {121.001, 31.0}, {121.001, 31.001}})}
	again := write(t, s, w, layers.ImportOptions{}, parse(t, "plots.geojson", layerFile(plots, false, []feature{moved})))
	if v := mustItem(t, s, "plots", 6).Version(); v == v6 {
		t.Errorf("feature 6 moved and kept its version %s", v)
	}
	if collection(t, again, "plots").Version == collection(t, after, "plots").Version {
		t.Error("plots kept its version when feature 6 moved")
	}
}

// testCountAndExtent follows Count and Extent through inserts, updates and
// deletes, the exact extent shrinking back when the outermost feature goes.
func testCountAndExtent(t *testing.T, h Harness) {
	const n = 300
	s, w := h.New(t)
	ls := synthetic(t, s, w, n)
	check := func(cat *layers.Catalog, l *layerData, fs []feature, when string) {
		t.Helper()
		col := collection(t, cat, l.ID)
		var want orb.Bound
		for i, f := range fs {
			if i == 0 {
				want = f.Geom.Bound()
			} else {
				want = want.Union(f.Geom.Bound())
			}
		}
		if col.Count != len(fs) || col.Extent != want {
			t.Errorf("%s: %s has Count %d, Extent %v; want %d, %v", when, l.ID, col.Count, col.Extent, len(fs), want)
		}
		if _, matched := items(t, s, l.ID, layers.Filter{}, layers.Page{Limit: 0}); matched != len(fs) {
			t.Errorf("%s: Items(%s) matched %d, want %d", when, l.ID, matched, len(fs))
		}
	}
	cat := catalog(t, s)
	for _, l := range ls {
		check(cat, l, l.Features, "after the import")
	}
	for _, l := range ls {
		fs := slices.Clone(l.Features)
		// A feature far to the north-east: the extent grows.
		far := fs[n/2]
		far.ID = n + 1
		far.Geom = translate(far.Geom, 0.2, 0.1)
		fs = append(fs, far)
		cat = write(t, s, w, layers.ImportOptions{}, parse(t, l.ID+".geojson", layerFile(l, false, []feature{far})))
		check(cat, l, fs, "after an insert far away")
		// It moves further.
		far.Geom = translate(far.Geom, 0.05, 0.3)
		fs[n] = far
		cat = write(t, s, w, layers.ImportOptions{}, parse(t, l.ID+".geojson", layerFile(l, false, []feature{far})))
		check(cat, l, fs, "after it moved")
		// It goes, and the extent is back to the grid's.
		fs = fs[:n]
		cat = remove(t, s, w, l.ID, far.ID)
		check(cat, l, fs, "after its delete")
		// The outermost features of the grid go: the one at the south-west
		// corner, and the last one, which is in the top row.
		cat = remove(t, s, w, l.ID, 1, int64(n))
		fs = fs[1 : n-1]
		check(cat, l, fs, "after deleting the first and the last")
		// Every feature goes.
		all := make([]int64, len(fs))
		for i, f := range fs {
			all[i] = f.ID
		}
		cat = remove(t, s, w, l.ID, all...)
		if col := collection(t, cat, l.ID); col.Count != 0 || col.Extent != (orb.Bound{}) {
			t.Errorf("after deleting every feature %s has Count %d, Extent %v; want 0 and a zero extent", l.ID, col.Count, col.Extent)
		}
	}
}

// translate returns g moved by dx, dy degrees.
func translate(g orb.Geometry, dx, dy float64) orb.Geometry {
	move := func(ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = orb.Point{round(p[0] + dx), round(p[1] + dy)}
		}
		return out
	}
	switch g := g.(type) {
	case orb.Point:
		return orb.Point(move([]orb.Point{g})[0])
	case orb.LineString:
		return orb.LineString(move(g))
	case orb.MultiLineString:
		out := orb.MultiLineString{}
		for _, ls := range g {
			out = append(out, move(ls))
		}
		return out
	case orb.Polygon:
		out := orb.Polygon{}
		for _, r := range g {
			out = append(out, move(r))
		}
		return out
	case orb.MultiPolygon:
		out := orb.MultiPolygon{}
		for _, p := range g {
			out = append(out, translate(p, dx, dy).(orb.Polygon))
		}
		return out
	}
	panic("storetest: translate: unexpected geometry")
}

// testChanges checks the change log: a row per feature written into an
// existing layer, one 'layer' row for a new layer.
func testChanges(t *testing.T, h Harness) {
	s, w := h.New(t)
	ls := synthetic(t, s, w, 100)
	plots := ls[0]
	start := catalog(t, s)
	// Three updated, two new.
	fs := []feature{plots.Features[9], plots.Features[19], plots.Features[29], plots.Features[0], plots.Features[1]}
	fs[3].ID, fs[4].ID = 101, 102
	before := time.Now()
	cat := write(t, s, w, layers.ImportOptions{}, parse(t, "plots.geojson", layerFile(plots, false, fs)))
	after := time.Now()
	cs, err := s.Changes(ctx, start.Seq, 1000)
	if err != nil {
		t.Fatalf("Changes(%d): %v", start.Seq, err)
	}
	got := map[int64]layers.Op{}
	for _, c := range cs {
		if c.Layer != "plots" || c.Seq <= start.Seq || c.Seq > cat.Seq {
			t.Errorf("Changes(%d) after an import into plots (catalog now at %d) has %+v", start.Seq, cat.Seq, c)
		}
		got[c.FID] = c.Op
	}
	want := map[int64]layers.Op{10: layers.OpUpdate, 20: layers.OpUpdate, 30: layers.OpUpdate, 101: layers.OpInsert, 102: layers.OpInsert}
	if len(cs) != 5 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Changes(%d) after importing 3 features to update and 2 new ones = %+v; want exactly %v", start.Seq, cs, want)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Seq <= cs[i-1].Seq {
			t.Errorf("Changes out of order: %+v", cs)
		}
	}
	// When each was made, to the millisecond the log keeps.
	for _, c := range cs {
		if c.At.Before(before.Add(-time.Millisecond)) || c.At.After(after) || c.At.Location() != time.UTC {
			t.Errorf("change %d is dated %v; want UTC between %v and %v, when it was written", c.Seq, c.At, before.UTC(), after.UTC())
		}
	}
	if cs, err := s.Changes(ctx, start.Seq, 2); err != nil || len(cs) != 2 {
		t.Errorf("Changes(%d, limit 2) = %d changes, %v", start.Seq, len(cs), err)
	}
	if cs, err := s.Changes(ctx, cat.Seq, 1000); err != nil || len(cs) != 0 {
		t.Errorf("Changes(%d), the catalog's own seq = %+v, %v; want none", cat.Seq, cs, err)
	}

	// A new layer: one 'layer' row.
	rng := rand.New(rand.NewSource(3))
	fresh := &layerData{ID: "fresh", GeometryType: "Point", Features: points(rng, 50)}
	next := write(t, s, w, layers.ImportOptions{}, parse(t, "fresh.geojson", layerFile(fresh, true, fresh.Features)))
	cs, err = s.Changes(ctx, cat.Seq, 1000)
	if err != nil {
		t.Fatalf("Changes(%d): %v", cat.Seq, err)
	}
	if len(cs) != 1 || cs[0].Layer != "fresh" || cs[0].Op != layers.OpLayer || cs[0].FID != 0 || cs[0].Seq != next.Seq {
		t.Errorf("Changes(%d) after a new layer of 50 features = %+v; want one %s row of fresh at seq %d", cat.Seq, cs, layers.OpLayer, next.Seq)
	}
	if col := collection(t, next, "fresh"); col.Count != 50 {
		t.Errorf("fresh has Count %d, want 50", col.Count)
	}

	// A layer replaced whole: one 'layer' row too.
	replaced := write(t, s, w, layers.ImportOptions{Replace: true}, parse(t, "fresh.geojson", layerFile(fresh, true, fresh.Features[:20])))
	cs, err = s.Changes(ctx, next.Seq, 1000)
	if err != nil {
		t.Fatalf("Changes(%d): %v", next.Seq, err)
	}
	if len(cs) != 1 || cs[0].Layer != "fresh" || cs[0].Op != layers.OpLayer || cs[0].Seq != replaced.Seq {
		t.Errorf("Changes(%d) after replacing fresh with 20 features = %+v; want one %s row of fresh at seq %d", next.Seq, cs, layers.OpLayer, replaced.Seq)
	}
	if col := collection(t, replaced, "fresh"); col.Count != 20 {
		t.Errorf("fresh has Count %d after it was replaced with 20 features", col.Count)
	}
	// Feature 21 was deleted by the replacement: its id is retired.
	if _, err := s.Item(ctx, "fresh", 21); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(fresh, 21) after fresh was replaced with features 1 to 20: %v, want %s", err, layers.EGONE)
	}
	if _, err := s.Item(ctx, "fresh", 51); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("Item(fresh, 51), a feature fresh never had: %v, want %s", err, layers.ENOTFOUND)
	}
	next = replaced

	// Deletes.
	last := remove(t, s, w, "plots", 101, 5)
	cs, err = s.Changes(ctx, next.Seq, 1000)
	if err != nil {
		t.Fatalf("Changes(%d): %v", next.Seq, err)
	}
	got = map[int64]layers.Op{}
	for _, c := range cs {
		got[c.FID] = c.Op
	}
	if want := (map[int64]layers.Op{5: layers.OpDelete, 101: layers.OpDelete}); len(cs) != 2 || fmt.Sprint(got) != fmt.Sprint(want) || cs[1].Seq != last.Seq {
		t.Errorf("Changes(%d) after deleting 101 and 5 = %+v; want %v", next.Seq, cs, want)
	}
}

// testVisible measures how soon a write through the Writer is served.
func testVisible(t *testing.T, h Harness) {
	s, w := h.New(t)
	ls := synthetic(t, s, w, 100)
	plots := ls[0]
	// Readers have been reading; now another client edits.
	mustItems(t, s, "plots", layers.Filter{}, 10)
	edited := plots.Features[41]
	edited.Props = map[string]any{"name_zh": "别人改的", "status": "in_operation"}
	if _, err := w.Import(ctx, []*layers.File{parse(t, "plots.geojson", layerFile(plots, false, []feature{edited}))}, layers.ImportOptions{}); err != nil {
		t.Fatalf("Writer.Import: %v", err)
	}
	start := time.Now()
	for {
		it := mustItem(t, s, "plots", 42)
		page := mustItems(t, s, "plots", layers.Filter{Equals: map[string]any{"name_zh": "别人改的"}}, 10)
		if it.Properties()["name_zh"] == "别人改的" && len(page) == 1 {
			break
		}
		if time.Since(start) > visible {
			t.Fatalf("feature 42 edited through the Writer is still %q after %v; want the edit within %v", it.Properties()["name_zh"], time.Since(start), visible)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("an edit through the Writer was served after %v", time.Since(start).Round(time.Microsecond))
}

// testReadDuringImport reads without pause while the Writer imports
// 20,000 features: every read answers, and sees the layer either before
// the import or after it, never in between.
func testReadDuringImport(t *testing.T, h Harness) {
	const before = 100
	added := 20000
	if raceEnabled {
		// Under -race an import is about ten times slower; 5,000 features
		// still take long enough for the readers to overlap it.
		added = 5000
	}
	s, w := h.New(t)
	rng := rand.New(rand.NewSource(5))
	bulk := &layerData{ID: "bulk", GeometryType: "Point", Features: points(rng, before+added)}
	write(t, s, w, layers.ImportOptions{}, parse(t, "bulk.geojson", layerFile(bulk, true, bulk.Features[:before])))
	big := parse(t, "bulk.geojson", layerFile(bulk, false, bulk.Features[before:]))

	const readers = 2
	done := make(chan struct{})
	started := make(chan struct{}, readers)
	type result struct {
		reads   int
		slowest time.Duration
		errs    []string
	}
	results := make(chan result, readers)
	for r := 0; r < readers; r++ {
		go func(r int) {
			var res result
			bad := func(format string, args ...any) {
				if len(res.errs) < 5 {
					res.errs = append(res.errs, fmt.Sprintf(format, args...))
				}
			}
			box := []orb.Bound{{Min: orb.Point{gridWest, gridSouth}, Max: orb.Point{gridWest + 5*gridCell, gridSouth + 2*gridCell}}}
			for i := 0; ; i++ {
				t0 := time.Now()
				if _, matched, err := s.Items(ctx, "bulk", layers.Filter{}, layers.Page{Limit: 10}); err != nil {
					bad("Items: %v", err)
				} else if matched != before && matched != before+added {
					bad("Items matched %d, want %d or %d", matched, before, before+added)
				}
				if page, _, err := s.Items(ctx, "bulk", layers.Filter{BBoxes: box}, layers.Page{Limit: 100}); err != nil || len(page) == 0 {
					bad("Items in a box of the first features: %d, %v", len(page), err)
				}
				if _, err := s.Item(ctx, "bulk", int64(1+i%before)); err != nil {
					bad("Item(%d): %v", 1+i%before, err)
				}
				if cat, err := s.Catalog(ctx); err != nil {
					bad("Catalog: %v", err)
				} else if col, ok := cat.Collection("bulk"); !ok || (col.Count != before && col.Count != before+added) {
					bad("Catalog: bulk %v", col)
				}
				res.slowest = max(res.slowest, time.Since(t0))
				res.reads++
				if i == 0 {
					started <- struct{}{}
				}
				select {
				case <-done:
					results <- res
					return
				case <-time.After(time.Millisecond):
					// As a busy map's requests come: one after another,
					// not a loop that leaves the writer no CPU.
				}
			}
		}(r)
	}
	for r := 0; r < readers; r++ {
		<-started
	}
	t0 := time.Now()
	_, err := w.Import(ctx, []*layers.File{big}, layers.ImportOptions{})
	took := time.Since(t0)
	close(done)
	var reads int
	var slowest time.Duration
	for r := 0; r < readers; r++ {
		res := <-results
		reads += res.reads
		slowest = max(slowest, res.slowest)
		for _, e := range res.errs {
			t.Errorf("a reader during the import: %s", e)
		}
	}
	if err != nil {
		t.Fatalf("Writer.Import of %d features: %v", added, err)
	}
	t.Logf("%d readers did %d rounds of reads during an import of %d features that took %v; the slowest round took %v",
		readers, reads, added, took.Round(time.Millisecond), slowest.Round(time.Millisecond))
	start := time.Now()
	for collection(t, catalog(t, s), "bulk").Count != before+added {
		if time.Since(start) > 2*visible {
			t.Fatalf("bulk still has %d features %v after the import", collection(t, catalog(t, s), "bulk").Count, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, matched := items(t, s, "bulk", layers.Filter{}, layers.Page{Limit: 1}); matched != before+added {
		t.Errorf("after the import Items(bulk) matched %d, want %d", matched, before+added)
	}
}
