package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// rect is the polygon of the box lon0..lon1 × lat0..lat1, counter-clockwise.
func rect(lon0, lat0, lon1, lat1 float64) orb.Polygon {
	return orb.Polygon{{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}}
}

func box(lon0, lat0, lon1, lat1 float64) orb.Bound {
	return orb.Bound{Min: orb.Point{lon0, lat0}, Max: orb.Point{lon1, lat1}}
}

func TestClip(t *testing.T) {
	// A 0.01° square parcel near Haimen, about 1.1 km by 0.94 km.
	square := rect(121.50, 32.08, 121.51, 32.09)
	withHole := orb.Polygon{square[0], {{121.503, 32.083}, {121.503, 32.087}, {121.507, 32.087}, {121.507, 32.083}, {121.503, 32.083}}}
	// A U of seven 0.01° cells in a 3 × 3 grid: the left and right
	// columns and the bottom row.
	u := orb.Polygon{{{0, 0}, {0.03, 0}, {0.03, 0.03}, {0.02, 0.03}, {0.02, 0.01}, {0.01, 0.01}, {0.01, 0.03}, {0, 0.03}, {0, 0}}}
	cell := func(col, row float64) float64 {
		return Area(rect(col*0.01, row*0.01, (col+1)*0.01, (row+1)*0.01))
	}
	meridian := orb.LineString{{121.5, 32.0}, {121.5, 32.2}}
	zigzag := orb.LineString{{121.0, 32.0}, {121.2, 32.0}, {121.2, 32.1}, {121.0, 32.1}}

	tests := []struct {
		name         string
		g            orb.Geometry
		b            orb.Bound
		area, length float64
		isNil        bool
	}{
		{name: "square half inside", g: square, b: box(121.505, 32.0, 121.6, 32.2), area: Area(square) / 2},
		{name: "square wholly inside", g: square, b: box(121.4, 32.0, 121.6, 32.2), area: Area(square)},
		{name: "square outside", g: square, b: box(121.6, 32.0, 121.7, 32.2), isNil: true},
		{name: "box inside square", g: square, b: box(121.502, 32.082, 121.504, 32.084), area: Area(rect(121.502, 32.082, 121.504, 32.084))},
		{name: "hole cut in half", g: withHole, b: box(121.505, 32.0, 121.6, 32.2),
			area: Area(rect(121.505, 32.08, 121.51, 32.09)) - Area(rect(121.505, 32.083, 121.507, 32.087))},
		{name: "multipolygon one part inside", g: orb.MultiPolygon{square, rect(121.6, 32.08, 121.61, 32.09)}, b: box(121.4, 32.0, 121.55, 32.2), area: Area(square)},
		{name: "U arms cut", g: u, b: box(-1, 0.01, 1, 1), area: cell(0, 1) + cell(0, 2) + cell(2, 1) + cell(2, 2)},
		{name: "U base cut", g: u, b: box(-1, -1, 1, 0.005),
			area: Area(rect(0, 0, 0.03, 0.005))},
		{name: "line crosses box", g: meridian, b: box(121.4, 32.05, 121.6, 32.1), length: Distance(orb.Point{121.5, 32.05}, orb.Point{121.5, 32.1})},
		{name: "multiline", g: orb.MultiLineString{meridian, {{121.7, 32.0}, {121.7, 32.2}}}, b: box(121.4, 32.05, 121.6, 32.1), length: Distance(orb.Point{121.5, 32.05}, orb.Point{121.5, 32.1})},
		{name: "line leaves and comes back", g: zigzag, b: box(120.9, 31.9, 121.1, 32.2),
			length: Distance(orb.Point{121.0, 32.0}, orb.Point{121.1, 32.0}) + Distance(orb.Point{121.1, 32.1}, orb.Point{121.0, 32.1})},
		{name: "line outside", g: meridian, b: box(121.6, 32.0, 121.7, 32.2), isNil: true},
		{name: "point inside", g: orb.Point{121.5, 32.1}, b: box(121.4, 32.0, 121.6, 32.2)},
		{name: "point outside", g: orb.Point{121.5, 32.1}, b: box(121.6, 32.0, 121.7, 32.2), isNil: true},
		{name: "multipoint", g: orb.MultiPoint{{121.5, 32.1}, {121.8, 32.1}}, b: box(121.4, 32.0, 121.6, 32.2)},
		{name: "nil", g: nil, b: box(0, 0, 1, 1), isNil: true},
		{name: "empty polygon", g: orb.Polygon{}, b: box(0, 0, 1, 1), isNil: true},
		{name: "empty line", g: orb.LineString{}, b: box(0, 0, 1, 1), isNil: true},
		{name: "empty multipolygon", g: orb.MultiPolygon{}, b: box(0, 0, 1, 1), isNil: true},
		{name: "empty multiline", g: orb.MultiLineString{}, b: box(0, 0, 1, 1), isNil: true},
		{name: "empty multipoint", g: orb.MultiPoint{}, b: box(0, 0, 1, 1), isNil: true},
		{name: "polygon of an empty ring", g: orb.Polygon{{}}, b: box(0, 0, 1, 1), isNil: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before orb.Geometry
			if tc.g != nil {
				before = orb.Clone(tc.g)
			}
			got := Clip(tc.g, tc.b)
			if tc.g != nil && !orb.Equal(before, tc.g) {
				t.Errorf("Clip modified its input: %v, was %v", tc.g, before)
			}
			if tc.isNil {
				if got != nil {
					t.Errorf("Clip(%v, %v) = %v, want nil", tc.g, tc.b, got)
				}
				return
			}
			if got == nil {
				t.Fatalf("Clip(%v, %v) = nil", tc.g, tc.b)
			}
			if a := Area(got); math.Abs(a-tc.area) > 1e-9*math.Max(1, tc.area) {
				t.Errorf("Area(Clip) = %.9f m², want %.9f", a, tc.area)
			}
			if l := Length(got); math.Abs(l-tc.length) > 1e-9*math.Max(1, tc.length) {
				t.Errorf("Length(Clip) = %.9f m, want %.9f", l, tc.length)
			}
			if !tc.b.Pad(1e-12).Contains(got.Bound().Min) || !tc.b.Pad(1e-12).Contains(got.Bound().Max) {
				t.Errorf("Clip(%v, %v) = %v reaches outside the box", tc.g, tc.b, got)
			}
		})
	}
	if mp, ok := Clip(orb.MultiPoint{{121.5, 32.1}, {121.8, 32.1}}, box(121.4, 32.0, 121.6, 32.2)).(orb.MultiPoint); !ok || len(mp) != 1 {
		t.Errorf("Clip of two points, one inside = %v, want that one", mp)
	}
}
