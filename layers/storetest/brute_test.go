package storetest

import (
	"testing"

	"github.com/paulmach/orb"
)

// The brute force is the oracle of the bbox tests: it is tested on its
// own, on each way a geometry can meet a box or miss it.
func TestMeets(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}
	square := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	donut := orb.Polygon{square(-2, -2, 3, 3), reversed(square(-1, -1, 2, 2))}
	for _, tt := range []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"PointInside", orb.Point{0.5, 0.5}, true},
		{"PointOnEdge", orb.Point{1, 0.5}, true},
		{"PointAtCorner", orb.Point{1, 1}, true},
		{"PointOutside", orb.Point{1.01, 0.5}, false},
		{"MultiPointOneInside", orb.MultiPoint{{5, 5}, {0.2, 0.3}}, true},
		{"LineVertexInside", orb.LineString{{0.5, 0.5}, {5, 5}}, true},
		{"LineCrossing", orb.LineString{{-1, 0.5}, {2, 0.5}}, true},
		{"LineAcrossTheCorner", orb.LineString{{-0.5, 0.5}, {0.5, -0.5}}, true},
		{"LineTouchingACorner", orb.LineString{{0, 2}, {2, 0}}, true},
		{"LinePassingTheCorner", orb.LineString{{0.5, 2}, {2, 0.5}}, false},
		{"MultiLineOneCrossing", orb.MultiLineString{{{5, 5}, {6, 6}}, {{0.5, -1}, {0.5, 2}}}, true},
		{"PolygonInside", orb.Polygon{square(0.2, 0.2, 0.8, 0.8)}, true},
		{"PolygonAround", orb.Polygon{square(-1, -1, 2, 2)}, true},
		{"PolygonCrossing", orb.Polygon{square(0.5, -1, 0.6, 2)}, true},
		{"PolygonBesides", orb.Polygon{square(1.1, 0, 2, 1)}, false},
		{"PolygonBoxInItsHole", donut, false},
		{"PolygonBoxAcrossItsHole", orb.Polygon{square(-2, -2, 3, 3), reversed(square(0.2, 0.2, 0.8, 0.8))}, true},
		{"PolygonTriangleBoxInItsBound", orb.Polygon{{{-1, 3.5}, {3.5, 3.5}, {3.5, -1}, {-1, 3.5}}}, false},
		{"MultiPolygonSecondPart", orb.MultiPolygon{donut, {square(0.4, 0.4, 0.6, 0.6)}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := meets(tt.g, box); got != tt.want {
				t.Errorf("meets(%v, %v) = %v, want %v", tt.g, box, got, tt.want)
			}
		})
	}
}
