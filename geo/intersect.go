package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// IntersectsBound reports whether geometry g and box b share a point:
// touching counts, as for the OGC bbox parameter.
func IntersectsBound(g orb.Geometry, b orb.Bound) bool {
	if g == nil || !g.Bound().Intersects(b) {
		return false
	}
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if b.Contains(p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return lineHitsBound(g, b)
	case orb.MultiLineString:
		for _, l := range g {
			if lineHitsBound(l, b) {
				return true
			}
		}
		return false
	case orb.Polygon:
		return polygonHitsBound(g, b)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonHitsBound(p, b) {
				return true
			}
		}
		return false
	}
	return true
}

func lineHitsBound(l []orb.Point, b orb.Bound) bool {
	for i, p := range l {
		if b.Contains(p) {
			return true
		}
		if i > 0 && segmentHitsBound(l[i-1], p, b) {
			return true
		}
	}
	return false
}

// segmentHitsBound clips segment pq against box b (Liang–Barsky).
func segmentHitsBound(p, q orb.Point, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := q[0]-p[0], q[1]-p[1]
	for _, c := range [4][2]float64{
		{-dx, p[0] - b.Min[0]}, {dx, b.Max[0] - p[0]},
		{-dy, p[1] - b.Min[1]}, {dy, b.Max[1] - p[1]},
	} {
		pp, qq := c[0], c[1]
		if pp == 0 {
			if qq < 0 {
				return false
			}
			continue
		}
		r := qq / pp
		if pp < 0 {
			t0 = math.Max(t0, r)
		} else {
			t1 = math.Min(t1, r)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

func polygonHitsBound(p orb.Polygon, b orb.Bound) bool {
	for _, r := range p {
		if lineHitsBound(r, b) {
			return true
		}
	}
	// The box may lie wholly inside the polygon, away from its rings.
	return len(p) > 0 && inInterior(b.Min, p)
}
