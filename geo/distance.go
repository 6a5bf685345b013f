package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// meanRadius is the WGS 84 mean radius (IUGG R1), in metres.
const meanRadius = 6371008.8

// Separation returns the shortest distance in metres between two
// geometries in lon/lat: 0 when they touch, cross or one holds the other.
// It measures on a plane tangent at a's first point (an equirectangular
// projection), which for the few kilometres of a neighbourhood is within a
// fraction of a per cent of the geodesic distance; it is not meant for
// geometries far apart. Empty or nil geometries are infinitely far.
func Separation(a, b orb.Geometry) float64 {
	if a == nil || b == nil {
		return math.Inf(1)
	}
	pa, pb := parts(a), parts(b)
	if len(pa.points) == 0 || len(pb.points) == 0 {
		return math.Inf(1)
	}
	lon0, lat0 := pa.points[0][0], pa.points[0][1]
	k := math.Pi / 180 * meanRadius
	kx := k * math.Cos(lat0*math.Pi/180)
	proj := func(p orb.Point) orb.Point { return orb.Point{(p[0] - lon0) * kx, (p[1] - lat0) * k} }
	qa, qb := pa.project(proj), pb.project(proj)
	if qa.inside(qb) || qb.inside(qa) || qa.crosses(qb) {
		return 0
	}
	d := math.Inf(1)
	for _, p := range qa.points {
		d = math.Min(d, qb.distance(p))
	}
	for _, p := range qb.points {
		d = math.Min(d, qa.distance(p))
	}
	return d
}

// shape is a geometry taken apart: its vertices, its segments (a point is
// a segment of length 0) and its polygons.
type shape struct {
	points   []orb.Point
	segments [][2]orb.Point
	polygons []orb.Polygon
}

func parts(g orb.Geometry) shape {
	var s shape
	line := func(ps []orb.Point) {
		s.points = append(s.points, ps...)
		for i := 1; i < len(ps); i++ {
			s.segments = append(s.segments, [2]orb.Point{ps[i-1], ps[i]})
		}
		if len(ps) == 1 {
			s.segments = append(s.segments, [2]orb.Point{ps[0], ps[0]})
		}
	}
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			line([]orb.Point{g})
		case orb.MultiPoint:
			for _, p := range g {
				line([]orb.Point{p})
			}
		case orb.LineString:
			line(g)
		case orb.MultiLineString:
			for _, l := range g {
				line(l)
			}
		case orb.Ring:
			line(g)
		case orb.Polygon:
			for _, r := range g {
				line(r)
			}
			if len(g) > 0 {
				s.polygons = append(s.polygons, g)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				walk(p)
			}
		case orb.Collection:
			for _, h := range g {
				walk(h)
			}
		case orb.Bound:
			walk(g.ToPolygon())
		}
	}
	walk(g)
	return s
}

func (s shape) project(f func(orb.Point) orb.Point) shape {
	out := shape{points: make([]orb.Point, len(s.points)), segments: make([][2]orb.Point, len(s.segments))}
	for i, p := range s.points {
		out.points[i] = f(p)
	}
	for i, sg := range s.segments {
		out.segments[i] = [2]orb.Point{f(sg[0]), f(sg[1])}
	}
	for _, p := range s.polygons {
		q := make(orb.Polygon, len(p))
		for i, r := range p {
			q[i] = make(orb.Ring, len(r))
			for j, pt := range r {
				q[i][j] = f(pt)
			}
		}
		out.polygons = append(out.polygons, q)
	}
	return out
}

// inside reports whether a vertex of s lies in a polygon of o.
func (s shape) inside(o shape) bool {
	for _, poly := range o.polygons {
		for _, p := range s.points {
			if planar.PolygonContains(poly, p) {
				return true
			}
		}
	}
	return false
}

// crosses reports whether a segment of s meets one of o.
func (s shape) crosses(o shape) bool {
	for _, a := range s.segments {
		for _, b := range o.segments {
			if intersects(a[0], a[1], b[0], b[1]) {
				return true
			}
		}
	}
	return false
}

func (s shape) distance(p orb.Point) float64 {
	d := math.Inf(1)
	for _, sg := range s.segments {
		d = math.Min(d, planar.DistanceFromSegment(sg[0], sg[1], p))
	}
	return d
}
