package layers

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/seeds"
)

// statsLayer is a layer of test parcels with a field of each type.
var statsLayer = &Layer{ID: "plots", GeometryType: "MultiPolygon", Schema: []Field{
	{Name: "status", Type: String},
	{Name: "phase", Type: Integer},
	{Name: "public", Type: Boolean},
	{Name: "area_mu", Type: Number},
	{Name: "opened", Type: Date},
	{Name: ClassField, Type: String},
}}

func square(lon, lat, size float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}}
}

func plot(id int64, g orb.Geometry, props map[string]any) *Item {
	return NewItem(statsLayer, Feature{ID: id, Properties: props, Geometry: g})
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestNewFieldStats(t *testing.T) {
	for _, field := range []string{"", "status", "phase", "public", ClassField} {
		if _, err := NewFieldStats(statsLayer, field, nil); err != nil {
			t.Errorf("NewFieldStats(%q) = %v", field, err)
		}
	}
	for _, tc := range []struct{ field, says string }{
		{"nope", "not a field of layer plots"},
		{"area_mu", "number field"},
		{"opened", "date field"},
		{"geodesic_area_mu", "not a field"},
	} {
		_, err := NewFieldStats(statsLayer, tc.field, nil)
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.says) ||
			!strings.Contains(err.Error(), "status, phase, public, "+ClassField) {
			t.Errorf("NewFieldStats(%q) = %v, want EINVALID saying %q and naming status, phase, public, %s", tc.field, err, tc.says, ClassField)
		}
	}
}

func TestStatsGroups(t *testing.T) {
	a, b, c := square(121.50, 32.08, 0.01), square(121.52, 32.08, 0.01), square(121.54, 32.08, 0.02)
	items := []*Item{
		plot(1, a, map[string]any{"status": "signed", "phase": int64(2), "public": true}),
		plot(2, b, map[string]any{"status": "planned", "phase": int64(10)}),
		plot(3, c, map[string]any{"status": "signed", "phase": int64(2), "public": false}),
		plot(4, a, map[string]any{}),
	}
	for _, tc := range []struct {
		field string
		keys  []any
		areas []float64
	}{
		{"status", []any{"planned", "signed", nil}, []float64{geo.Area(b), geo.Area(a) + geo.Area(c), geo.Area(a)}},
		{"phase", []any{int64(2), int64(10), nil}, []float64{geo.Area(a) + geo.Area(c), geo.Area(b), geo.Area(a)}},
		{"public", []any{false, true, nil}, []float64{geo.Area(c), geo.Area(a), geo.Area(b) + geo.Area(a)}},
		{"", []any{nil}, []float64{2*geo.Area(a) + geo.Area(b) + geo.Area(c)}},
	} {
		t.Run("by "+tc.field, func(t *testing.T) {
			s, err := NewFieldStats(statsLayer, tc.field, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				s.Add("plots", it)
			}
			gs := s.Groups()
			if len(gs) != len(tc.keys) {
				t.Fatalf("%d groups %+v, want keys %v", len(gs), gs, tc.keys)
			}
			count := 0
			for i, g := range gs {
				if g.Key != tc.keys[i] || !near(g.AreaM2, tc.areas[i]) || len(g.Layers) != 1 || g.Layers[0] != "plots" {
					t.Errorf("group %d = %v %.3f m² %v, want %v %.3f m² [plots]", i, g.Key, g.AreaM2, g.Layers, tc.keys[i], tc.areas[i])
				}
				if !near(g.AreaMu(), g.AreaM2*15/1e4) || !near(g.AreaHa(), g.AreaM2/1e4) {
					t.Errorf("group %v: %.4f ha, %.4f mu of %.3f m²", g.Key, g.AreaHa(), g.AreaMu(), g.AreaM2)
				}
				count += g.Count
			}
			tot := s.Total()
			if count != 4 || tot.Count != 4 || !near(tot.AreaM2, 2*geo.Area(a)+geo.Area(b)+geo.Area(c)) || tot.LengthM != 0 || s.Cut() != 0 {
				t.Errorf("total = %+v (groups count %d), cut %d; want 4 features, no length, none cut", tot, count, s.Cut())
			}
		})
	}
}

// TestStatsTwoFields groups by a pair of fields: each group a Pair of
// values, sorted by the first then the second, nil last in each.
func TestStatsTwoFields(t *testing.T) {
	a, b := square(121.50, 32.08, 0.01), square(121.52, 32.08, 0.01)
	s, err := NewFieldsStats(statsLayer, []string{"status", "public"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range []*Item{
		plot(1, a, map[string]any{"status": "signed", "public": true}),
		plot(2, b, map[string]any{"status": "planned"}),
		plot(3, b, map[string]any{"status": "signed", "public": false}),
		plot(4, a, map[string]any{"public": true}),
		plot(5, a, map[string]any{"status": "signed", "public": true}),
	} {
		s.Add("plots", it)
	}
	want := []struct {
		key   Pair
		count int
		area  float64
	}{
		{Pair{"planned", nil}, 1, geo.Area(b)},
		{Pair{"signed", false}, 1, geo.Area(b)},
		{Pair{"signed", true}, 2, 2 * geo.Area(a)},
		{Pair{nil, true}, 1, geo.Area(a)},
	}
	gs := s.Groups()
	if len(gs) != len(want) {
		t.Fatalf("%d groups %+v, want %d", len(gs), gs, len(want))
	}
	for i, g := range gs {
		if g.Key != want[i].key || g.Count != want[i].count || !near(g.AreaM2, want[i].area) {
			t.Errorf("group %d = %v, %d, %.1f m²; want %v, %d, %.1f m²", i, g.Key, g.Count, g.AreaM2, want[i].key, want[i].count, want[i].area)
		}
	}
	for _, tc := range []struct {
		fields []string
		says   string
	}{
		{[]string{"status", "status"}, "named twice"},
		{[]string{"status", "phase", "public"}, "at most 2"},
		{[]string{"status", "area_mu"}, "number field"},
	} {
		if _, err := NewFieldsStats(statsLayer, tc.fields, nil); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("NewFieldsStats(%q) = %v, want EINVALID saying %q", tc.fields, err, tc.says)
		}
	}
}

// TestStatsBBox splits synthetic parcels with a box: a parcel half inside
// counts half its area, one inside all of it, one outside nothing.
func TestStatsBBox(t *testing.T) {
	half := square(121.50, 32.08, 0.01)   // the box's west edge at 121.505 halves it
	inside := square(121.52, 32.08, 0.01) // wholly in the box
	corner := square(121.54, 32.09, 0.02) // a quarter in: the box ends at 121.55, 32.10
	box := orb.Bound{Min: orb.Point{121.505, 32.0}, Max: orb.Point{121.55, 32.10}}
	s, _ := NewFieldStats(statsLayer, "", []orb.Bound{box})
	for i, g := range []orb.MultiPolygon{half, inside, corner} {
		s.Add("plots", plot(int64(i+1), g, nil))
	}
	want := geo.Area(half)/2 + geo.Area(inside) + geo.Area(square(121.54, 32.09, 0.01))
	if tot := s.Total(); tot.Count != 3 || math.Abs(tot.AreaM2-want) > 1e-6 || s.Cut() != 2 {
		t.Errorf("total = %d features %.6f m², %d cut; want 3, %.6f m², 2 cut", tot.Count, tot.AreaM2, s.Cut(), want)
	}
	// The quarter of corner is a cell of the same size as the others,
	// further north: a little smaller.
	if q := geo.Area(square(121.54, 32.09, 0.01)); !(q < geo.Area(inside) && q > 0.99*geo.Area(inside)) {
		t.Errorf("a 0.01° cell at 32.09° = %.1f m², one at 32.08° %.1f m²", q, geo.Area(inside))
	}
}

func TestMeasureWithin(t *testing.T) {
	line := orb.LineString{{121.5, 32.0}, {121.5, 32.2}}
	sq := square(121.50, 32.08, 0.01)
	// A C open to the east, cut through its opening.
	c := orb.Polygon{{{0, 0}, {0.03, 0}, {0.03, 0.01}, {0.01, 0.01}, {0.01, 0.02}, {0.03, 0.02}, {0.03, 0.03}, {0, 0.03}, {0, 0}}}
	for _, tc := range []struct {
		name         string
		g            orb.Geometry
		boxes        []orb.Bound
		area, length float64
		cut          bool
	}{
		{name: "no boxes", g: sq, area: geo.Area(sq)},
		{name: "line half", g: line, boxes: []orb.Bound{{Min: orb.Point{121, 32.1}, Max: orb.Point{122, 33}}},
			length: geo.Distance(orb.Point{121.5, 32.1}, orb.Point{121.5, 32.2}), cut: true},
		{name: "two boxes, as across the antimeridian", g: sq, boxes: []orb.Bound{
			{Min: orb.Point{121.0, 32.0}, Max: orb.Point{121.505, 33}}, {Min: orb.Point{121.505, 32.0}, Max: orb.Point{122, 33}}},
			area: geo.Area(sq)},
		{name: "concave shape cut", g: c, boxes: []orb.Bound{{Min: orb.Point{-1, -1}, Max: orb.Point{0.05, 0.015}}},
			area: geo.Area(orb.Polygon{{{0, 0}, {0.03, 0}, {0.03, 0.01}, {0.01, 0.01}, {0.01, 0.015}, {0, 0.015}, {0, 0}}}), cut: true},
		{name: "point", g: orb.Point{121.5, 32.1}, boxes: []orb.Bound{{Min: orb.Point{121, 32}, Max: orb.Point{122, 33}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			area, length, cut := MeasureWithin(tc.g, tc.g.Bound(), tc.boxes)
			if !near(area, tc.area) || !near(length, tc.length) || cut != tc.cut {
				t.Errorf("MeasureWithin = %.6f m², %.6f m, cut %v; want %.6f, %.6f, %v", area, length, cut, tc.area, tc.length, tc.cut)
			}
		})
	}
}

func TestClassStats(t *testing.T) {
	a, b := square(121.50, 32.08, 0.01), square(121.52, 32.08, 0.01)
	s := NewClassStats(nil)
	s.Add("resettlement", plot(1, a, map[string]any{ClassField: "R2"}))
	s.Add("facilities", plot(1, b, map[string]any{ClassField: "r1"}))
	s.Add("facilities", plot(2, b, map[string]any{ClassField: "A33"}))
	s.Add("boundary", plot(1, a, map[string]any{ClassField: "—"}))
	s.Add("industry", plot(1, b, map[string]any{}))
	gs := s.Groups()
	want := []struct {
		key    any
		count  int
		area   float64
		layers string
	}{
		{"A", 1, geo.Area(b), "facilities"},
		{"R", 2, geo.Area(a) + geo.Area(b), "resettlement,facilities"},
		{nil, 2, geo.Area(a) + geo.Area(b), "boundary,industry"},
	}
	if len(gs) != len(want) {
		t.Fatalf("groups = %+v, want %d", gs, len(want))
	}
	for i, w := range want {
		g := gs[i]
		if g.Key != w.key || g.Count != w.count || !near(g.AreaM2, w.area) || strings.Join(g.Layers, ",") != w.layers {
			t.Errorf("group %d = %v %d %.1f m² %v; want %v %d %.1f m² %s", i, g.Key, g.Count, g.AreaM2, g.Layers, w.key, w.count, w.area, w.layers)
		}
	}
}

// TestMeasureWithinSeeds cuts every hand-drawn area and line of the seeds
// into the four quarters of its bounding box: the parts add up to the
// whole, however concave the shape.
func TestMeasureWithinSeeds(t *testing.T) {
	files, err := ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		var p Problems
		f.Check(f.Layer, &p)
		if p.Len() > 0 {
			t.Fatalf("%s: %v", f.Name, &p)
		}
		for _, ft := range f.Features {
			g := ft.Geometry
			// Cut the box at 0.4 of its width and height, so that no
			// vertex lies on a cut; a straight meridian or parallel, whose
			// box has no width or height, is cut the other way only (on
			// the line between two boxes, it would be in both).
			b := g.Bound()
			xs, ys := []float64{b.Min[0], b.Max[0]}, []float64{b.Min[1], b.Max[1]}
			if b.Max[0] > b.Min[0] {
				xs = []float64{b.Min[0], b.Min[0] + 0.4*(b.Max[0]-b.Min[0]), b.Max[0]}
			}
			if b.Max[1] > b.Min[1] {
				ys = []float64{b.Min[1], b.Min[1] + 0.4*(b.Max[1]-b.Min[1]), b.Max[1]}
			}
			area, length := 0.0, 0.0
			cut := false
			for i := 1; i < len(xs); i++ {
				for j := 1; j < len(ys); j++ {
					q := orb.Bound{Min: orb.Point{xs[i-1], ys[j-1]}, Max: orb.Point{xs[i], ys[j]}}
					a, l, c := MeasureWithin(g, b, []orb.Bound{q})
					area, length, cut = area+a, length+l, cut || c
				}
			}
			whole := geo.Area(g) + geo.Length(g)
			if whole == 0 {
				continue
			}
			n++
			// The cuts put new vertices on edges where they are straight
			// in longitude and latitude; the measures take edges as
			// geodesics (lines) or interpolate in authalic latitude
			// (areas), nearly but not quite the same over kilometres: the
			// parts add up to the whole within 5e-6 for the largest
			// shapes; a cut gone wrong is off by a percent or more.
			if math.Abs(area+length-whole) > 5e-5*whole || !cut {
				t.Errorf("%s feature %d: quarters add up to %.3f m² and %.3f m (cut %v), the whole is %.3f m² %.3f m",
					f.Layer.ID, ft.ID, area, length, cut, geo.Area(g), geo.Length(g))
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d areas and lines in the seeds", n)
	}
}
