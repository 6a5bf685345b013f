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
	return WorldX(p[0]), (1 - math.Log(math.Tan(math.Pi/4+lat/2))/math.Pi) / 2
}

// WorldX is WorldXY's x of longitude lon.
func WorldX(lon float64) float64 { return (lon + 180) / 360 }

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

// WorldYNear is WorldXY's y for latitudes in a narrow band, such as a
// tile's: a polynomial in place of the exact formula's tangent and
// logarithm, which were about a tenth of a dense tile's CPU. It is the
// Taylor series of order 4 of Mercator's y about the band's middle, used
// only as far from the middle as its remainder stays under the error
// asked for; latitudes beyond that take the exact formula, and so do all
// latitudes of a zero WorldYNear.
type WorldYNear struct {
	lat0  float64    // the series' middle, in radians
	reach float64    // how far from lat0, in radians, the series holds; 0 for nowhere
	y0    float64    // WorldXY's y at lat0
	c     [4]float64 // the terms' coefficients, d¹ to d⁴
}

// NewWorldYNear returns the series for latitudes south to north
// (degrees), within maxErr of WorldXY's y (a fraction of the world's
// height, as WorldXY's y is). A band reaching past 80° takes the exact
// formula throughout: there the terms grow fast, the series would hold
// over a sliver only, and no tile planmap serves lies there. So does a
// band that is no band (south > north, NaN) or a maxErr that is not
// positive.
func NewWorldYNear(south, north, maxErr float64) WorldYNear {
	const rad = math.Pi / 180
	if !(south <= north) || !(math.Max(math.Abs(south), math.Abs(north)) < 80) || !(maxErr > 0) {
		return WorldYNear{}
	}
	lat0 := (south + north) / 2 * rad
	half := (north - south) / 2 * rad
	// Mercator's y is Y(φ) = ln tan(π/4 + φ/2), and WorldXY's y is
	// (1 - Y/π)/2, so the k-th term is -Y⁽ᵏ⁾(φ₀)/(2π k!) dᵏ. With
	// s = sec φ and t = tan φ: Y' = s, Y'' = st, Y''' = s(2t² + 1),
	// Y⁽⁴⁾ = st(6t² + 5), Y⁽⁵⁾ = s(24t⁴ + 28t² + 5).
	s, t := 1/math.Cos(lat0), math.Tan(lat0)
	w := -1 / (2 * math.Pi)
	n := WorldYNear{lat0: lat0, c: [4]float64{
		w * s,
		w * s * t / 2,
		w * s * (2*t*t + 1) / 6,
		w * s * t * (6*t*t + 5) / 24,
	}}
	_, n.y0 = WorldXY(orb.Point{0, lat0 / rad})
	// The remainder is at most max|Y⁽⁵⁾| d⁵/(2π 5!), and |Y⁽⁵⁾| grows
	// with |φ|: bound it where the band is farthest from the equator.
	edge := math.Abs(lat0) + half
	se, te := 1/math.Cos(edge), math.Tan(edge)
	m5 := se * (24*te*te*te*te + 28*te*te + 5)
	n.reach = math.Min(half, math.Pow(maxErr*2*math.Pi*120/m5, 0.2))
	return n
}

// Y returns WorldXY's y at latitude lat (degrees), within the maxErr
// NewWorldYNear was given.
func (n *WorldYNear) Y(lat float64) float64 {
	d := lat*(math.Pi/180) - n.lat0
	if !(math.Abs(d) < n.reach) {
		_, y := WorldXY(orb.Point{0, lat})
		return y
	}
	return n.y0 + d*(n.c[0]+d*(n.c[1]+d*(n.c[2]+d*n.c[3])))
}
