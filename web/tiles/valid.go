package tiles

import (
	"cmp"
	"slices"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// simpleRing reports whether r is a ring a renderer fills as meant:
// closed, of at least three distinct positions, with an area, and no two
// edges meeting except neighbours at their shared end. Consecutive
// positions must differ (dedupe). Edges are compared only where their
// x-ranges overlap (sorted by their least x), so that long rings cost
// about n log n.
//
// Two edges that both lie on one side of the clip box are not compared:
// clipping a concave shape leaves parts that run along the box's edge and
// back, with no width, outside the drawn tile (in the buffer); renderers
// draw them as nothing.
func simpleRing(r orb.Ring) bool {
	n := len(r) - 1 // edges
	if n < 3 || r[0] != r[n] || ringArea(r) == 0 {
		return false
	}
	edges := make([]int, n)
	for i := range edges {
		edges[i] = i
	}
	minX := func(i int) float64 { return min(r[i][0], r[i+1][0]) }
	slices.SortFunc(edges, func(a, b int) int { return cmp.Compare(minX(a), minX(b)) })
	for k, i := range edges {
		maxX := max(r[i][0], r[i+1][0])
		for _, j := range edges[k+1:] {
			if minX(j) > maxX {
				break
			}
			a, b := min(i, j), max(i, j)
			adjacent := b == a+1 || (a == 0 && b == n-1)
			if onBoxSide(r[a], r[a+1], r[b], r[b+1]) {
				continue
			}
			if segmentsMeet(r[a], r[a+1], r[b], r[b+1], adjacent) {
				return false
			}
		}
	}
	return true
}

// onBoxSide reports whether segments ab and cd both lie on one side of
// the clip box.
func onBoxSide(a, b, c, d orb.Point) bool {
	for _, v := range [...]float64{clipBox.Min[0], clipBox.Max[0]} {
		if a[0] == v && b[0] == v && c[0] == v && d[0] == v {
			return true
		}
	}
	for _, v := range [...]float64{clipBox.Min[1], clipBox.Max[1]} {
		if a[1] == v && b[1] == v && c[1] == v && d[1] == v {
			return true
		}
	}
	return false
}

// segmentsMeet reports whether segments ab and cd share a point; for
// adjacent segments (b == c, or d == a), whether they share more than
// that end: they fold back onto each other.
func segmentsMeet(a, b, c, d orb.Point, adjacent bool) bool {
	d1 := cross(c, d, a)
	d2 := cross(c, d, b)
	d3 := cross(a, b, c)
	d4 := cross(a, b, d)
	if adjacent {
		// Neighbours share one end; they overlap only if collinear and
		// pointing back over each other.
		if d1 != 0 || d2 != 0 || d3 != 0 || d4 != 0 {
			return false
		}
		var shared, p, q orb.Point
		switch {
		case b == c:
			shared, p, q = b, a, d
		default:
			shared, p, q = a, b, c
		}
		// Overlap when p and q lie on the same side of the shared end.
		return (p[0]-shared[0])*(q[0]-shared[0])+(p[1]-shared[1])*(q[1]-shared[1]) > 0
	}
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return d1 == 0 && onSegment(c, d, a) || d2 == 0 && onSegment(c, d, b) ||
		d3 == 0 && onSegment(a, b, c) || d4 == 0 && onSegment(a, b, d)
}

// cross is the z of (b-a)×(p-a): which side of ab p lies on. Exact on
// the grid's integers.
func cross(a, b, p orb.Point) float64 {
	return (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
}

// onSegment reports whether p, collinear with ab, lies on it.
func onSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// validPolygons checks polygons with holes or of several parts whole.
func validPolygons(mp orb.MultiPolygon) bool {
	return geo.ValidatePlanar(mp) == nil
}
