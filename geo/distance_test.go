package geo_test

import (
	"math"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
)

func TestSeparation(t *testing.T) {
	// A square of about 111 m a side at the equator, and shapes around it.
	sq := orb.Polygon{{{0, 0}, {0.001, 0}, {0.001, 0.001}, {0, 0.001}, {0, 0}}}
	metre := 1 / (math.Pi / 180 * 6371008.8) // degrees of latitude in a metre
	for _, tc := range []struct {
		name string
		b    orb.Geometry
		want float64 // metres
	}{
		{"Inside", orb.Point{0.0005, 0.0005}, 0},
		{"Holds", orb.Polygon{{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}}}, 0},
		{"SharesAnEdge", orb.Polygon{{{0.001, 0}, {0.002, 0}, {0.002, 0.001}, {0.001, 0.001}, {0.001, 0}}}, 0},
		{"Crosses", orb.LineString{{0.0005, -1}, {0.0005, 1}}, 0},
		{"CrossShapedOverlap", orb.Polygon{{{-0.001, 0.0004}, {0.002, 0.0004}, {0.002, 0.0006}, {-0.001, 0.0006}, {-0.001, 0.0004}}}, 0},
		{"PointNorth", orb.Point{0.0005, 0.001 + 50*metre}, 50},
		{"LineEast", orb.LineString{{0.001 + 100*metre, -1}, {0.001 + 100*metre, 1}}, 100},
		{"MultiPolygonNearestPart", orb.MultiPolygon{
			{{{0.01, 0.01}, {0.011, 0.01}, {0.011, 0.011}, {0.01, 0.01}}},
			{{{0.0005, -20 * metre}, {0.0006, -30 * metre}, {0.0004, -30 * metre}, {0.0005, -20 * metre}}},
		}, 20},
		{"Nil", nil, math.Inf(1)},
		{"Empty", orb.MultiPolygon{}, math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := geo.Separation(sq, tc.b)
			if math.IsInf(tc.want, 1) {
				if !math.IsInf(got, 1) {
					t.Errorf("Separation(square, %v) = %v, want +Inf", tc.b, got)
				}
				return
			}
			if math.Abs(got-tc.want) > 0.5 {
				t.Errorf("Separation(square, %v) = %.2f m, want %.2f m", tc.b, got, tc.want)
			}
			if back := geo.Separation(tc.b, sq); math.Abs(back-got) > 0.5 {
				t.Errorf("Separation is not symmetric: %.2f one way, %.2f the other", got, back)
			}
		})
	}
}
