package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Precision is the number of decimals kept on write: 7 decimals of a degree
// are about 1 cm, well below what a hand-drawn shape means, and GDAL's
// RFC 7946 writer keeps as many.
const Precision = 7

var scale = math.Pow(10, Precision)

// Round rounds a coordinate to Precision decimals.
func Round(v float64) float64 { return math.Round(v*scale) / scale }

// Normalize returns g as planmap stores it: coordinates rounded to
// Precision decimals, consecutive repeated positions removed, polygon rings
// wound by the right-hand rule (exterior counter-clockwise, holes
// clockwise), and single geometries promoted to their multi type when multi
// is true. The input is not modified. Normalize does not close open rings
// or otherwise repair shapes; run Validate on the result.
func Normalize(g orb.Geometry, multi bool) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		p := roundPoint(g)
		if multi {
			return orb.MultiPoint{p}
		}
		return p
	case orb.MultiPoint:
		mp := make(orb.MultiPoint, len(g))
		for i, p := range g {
			mp[i] = roundPoint(p)
		}
		return mp
	case orb.LineString:
		l := orb.LineString(dedupe(g))
		if multi {
			return orb.MultiLineString{l}
		}
		return l
	case orb.MultiLineString:
		ml := make(orb.MultiLineString, len(g))
		for i, l := range g {
			ml[i] = orb.LineString(dedupe(l))
		}
		return ml
	case orb.Polygon:
		p := normPolygon(g)
		if multi {
			return orb.MultiPolygon{p}
		}
		return p
	case orb.MultiPolygon:
		mp := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			mp[i] = normPolygon(p)
		}
		return mp
	}
	return g
}

func roundPoint(p orb.Point) orb.Point { return orb.Point{Round(p[0]), Round(p[1])} }

// dedupe rounds the positions and drops each that repeats its predecessor.
func dedupe(ps []orb.Point) []orb.Point {
	out := make([]orb.Point, 0, len(ps))
	for _, p := range ps {
		p = roundPoint(p)
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	return out
}

func normPolygon(p orb.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		ring := orb.Ring(dedupe(r))
		want := orb.CCW
		if i > 0 {
			want = orb.CW
		}
		if len(ring) >= 4 && ring.Closed() && ring.Orientation() != want && ring.Orientation() != 0 {
			ring.Reverse()
		}
		out[i] = ring
	}
	return out
}

// IsMulti reports whether the GeoJSON geometry type name is a multi type.
func IsMulti(geometryType string) bool {
	switch geometryType {
	case "MultiPoint", "MultiLineString", "MultiPolygon":
		return true
	}
	return false
}
