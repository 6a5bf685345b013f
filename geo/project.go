package geo

import (
	"math"

	"github.com/paulmach/orb"
)

const earthRadius = 6378137.0 // WGS 84 semi-major axis, the sphere of EPSG:3857

// FromWebMercator returns g with its EPSG:3857 metres converted to
// longitude/latitude degrees. It returns a new geometry.
func FromWebMercator(g orb.Geometry) orb.Geometry {
	return Transform(g, func(p orb.Point) orb.Point {
		lon := p[0] / earthRadius * 180 / math.Pi
		lat := (2*math.Atan(math.Exp(p[1]/earthRadius)) - math.Pi/2) * 180 / math.Pi
		return orb.Point{lon, lat}
	})
}

// ToWebMercator returns g with its longitude/latitude degrees converted to
// EPSG:3857 metres. Latitudes are clamped to the projection's ±85.06°.
func ToWebMercator(g orb.Geometry) orb.Geometry {
	return Transform(g, func(p orb.Point) orb.Point {
		lat := math.Max(-MaxMercatorLat, math.Min(MaxMercatorLat, p[1]))
		x := p[0] * math.Pi / 180 * earthRadius
		y := math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)) * earthRadius
		return orb.Point{x, y}
	})
}

// MaxMercatorLat is the latitude, in degrees, where the square Web
// Mercator world ends.
const MaxMercatorLat = 85.0511287798066

// WorldXY returns where longitude/latitude p lies in the square world of
// Web Mercator tiles, as fractions from its west and north edges: tile
// x/y of zoom z is the whole part of 2^z times them. Latitudes past
// MaxMercatorLat are clamped.
func WorldXY(p orb.Point) (x, y float64) {
	lat := math.Max(-MaxMercatorLat, math.Min(MaxMercatorLat, p[1])) * math.Pi / 180
	return (p[0] + 180) / 360, (1 - math.Log(math.Tan(math.Pi/4+lat/2))/math.Pi) / 2
}

// Transform returns a copy of g with f applied to every position.
func Transform(g orb.Geometry, f func(orb.Point) orb.Point) orb.Geometry {
	pts := func(ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = f(p)
		}
		return out
	}
	poly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = pts(r)
		}
		return out
	}
	switch g := g.(type) {
	case orb.Point:
		return f(g)
	case orb.MultiPoint:
		return orb.MultiPoint(pts(g))
	case orb.LineString:
		return orb.LineString(pts(g))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(g))
		for i, l := range g {
			out[i] = pts(l)
		}
		return out
	case orb.Polygon:
		return poly(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = poly(p)
		}
		return out
	}
	return g
}

// SwapAxes returns g with each position's two coordinates exchanged: for
// CRSs such as EPSG:4326 whose authority puts latitude first.
func SwapAxes(g orb.Geometry) orb.Geometry {
	return Transform(g, func(p orb.Point) orb.Point { return orb.Point{p[1], p[0]} })
}
