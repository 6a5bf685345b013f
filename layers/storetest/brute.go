package storetest

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// This file answers bbox queries by brute force, independently of
// layers.Filter and of every store: a geometry meets a box if and only if
// one of its vertices lies in the box, a corner of the box lies in it (for
// a polygon: inside the exterior and outside every hole), or one of its
// edges crosses an edge of the box. The suite compares every store's
// answers with these.

// meets reports whether g meets box.
func meets(g orb.Geometry, box orb.Bound) bool {
	switch g := g.(type) {
	case orb.Point:
		return box.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if box.Contains(p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return pathMeets(g, box)
	case orb.MultiLineString:
		for _, ls := range g {
			if pathMeets(ls, box) {
				return true
			}
		}
		return false
	case orb.Polygon:
		return polygonMeets(g, box)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonMeets(p, box) {
				return true
			}
		}
		return false
	}
	panic("storetest: meets: unexpected geometry")
}

func pathMeets(ps []orb.Point, box orb.Bound) bool {
	for i, p := range ps {
		if box.Contains(p) {
			return true
		}
		if i > 0 && segmentCrossesBox(ps[i-1], p, box) {
			return true
		}
	}
	return false
}

func polygonMeets(p orb.Polygon, box orb.Bound) bool {
	for _, r := range p {
		if pathMeets(r, box) {
			return true
		}
	}
	for _, c := range corners(box) {
		if planar.PolygonContains(p, c) {
			return true
		}
	}
	return false
}

func corners(b orb.Bound) [4]orb.Point {
	return [4]orb.Point{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}}
}

// segmentCrossesBox reports whether segment a–b meets an edge of box.
func segmentCrossesBox(a, b orb.Point, box orb.Bound) bool {
	c := corners(box)
	for i := range c {
		if segmentsMeet(a, b, c[i], c[(i+1)%4]) {
			return true
		}
	}
	return false
}

// segmentsMeet reports whether segments p1–p2 and q1–q2 have a point in
// common, touching included.
func segmentsMeet(p1, p2, q1, q2 orb.Point) bool {
	d1 := orient(q1, q2, p1)
	d2 := orient(q1, q2, p2)
	d3 := orient(p1, p2, q1)
	d4 := orient(p1, p2, q2)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	on := func(a, b, p orb.Point) bool {
		return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
	}
	return (d1 == 0 && on(q1, q2, p1)) || (d2 == 0 && on(q1, q2, p2)) ||
		(d3 == 0 && on(p1, p2, q1)) || (d4 == 0 && on(p1, p2, q2))
}

// orient is the sign of the turn a→b→c: positive counter-clockwise.
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// bruteIDs returns, in id order, the ids of the features that meet any of
// boxes and whose properties hold every value of equals.
func bruteIDs(fs []feature, boxes []orb.Bound, equals map[string]any) []int64 {
	var out []int64
	for _, f := range fs {
		ok := len(boxes) == 0
		for _, b := range boxes {
			if meets(f.Geom, b) {
				ok = true
				break
			}
		}
		for name, want := range equals {
			if v, has := f.Props[name]; !has || v != want {
				ok = false
			}
		}
		if ok {
			out = append(out, f.ID)
		}
	}
	return out
}
