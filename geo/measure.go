package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// WGS 84 ellipsoid.
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
	wgs84B = wgs84A * (1 - wgs84F)
)

var (
	wgs84E2 = wgs84F * (2 - wgs84F)
	wgs84E  = math.Sqrt(wgs84E2)
	// qp is q at the pole, for the authalic latitude.
	qp = authalicQ(1)
	// authalicRadius is the radius of the sphere with the ellipsoid's area.
	authalicRadius = wgs84A * math.Sqrt(qp/2)
)

func authalicQ(sinPhi float64) float64 {
	es := wgs84E * sinPhi
	return (1 - wgs84E2) * (sinPhi/(1-es*es) - math.Log((1-es)/(1+es))/(2*wgs84E))
}

// sinAuthalic returns the sine of the authalic latitude of a geodetic
// latitude in degrees.
func sinAuthalic(lat float64) float64 {
	return authalicQ(math.Sin(lat*math.Pi/180)) / qp
}

// Area returns the area in square metres of a polygon or multipolygon on
// the WGS 84 ellipsoid, holes subtracted; 0 for other geometries. Latitudes
// are mapped to authalic latitudes on the sphere of equal area, where the
// ring area is the spherical excess; edges are taken as lines of constant
// bearing, which for rings of a few kilometres differs from geodesic edges
// by far less than the precision of hand-drawn shapes.
func Area(g orb.Geometry) float64 {
	switch g := g.(type) {
	case orb.Polygon:
		return polygonArea(g)
	case orb.MultiPolygon:
		a := 0.0
		for _, p := range g {
			a += polygonArea(p)
		}
		return a
	}
	return 0
}

func polygonArea(p orb.Polygon) float64 {
	if len(p) == 0 {
		return 0
	}
	a := math.Abs(ringArea(p[0]))
	for _, h := range p[1:] {
		a -= math.Abs(ringArea(h))
	}
	return a
}

// ringArea is the signed area of a ring on the authalic sphere
// (Chamberlain & Duquette, "Some algorithms for polygons on a sphere",
// 2007), positive for counter-clockwise rings.
func ringArea(r orb.Ring) float64 {
	n := len(r)
	if n < 4 {
		return 0
	}
	// Each vertex's authalic sine is computed once and carried to the
	// next edge: the same values, summed in the same order, at half the
	// logarithms and sines.
	sum := 0.0
	sa := sinAuthalic(r[0][1])
	for i := 0; i < n-1; i++ {
		a, b := r[i], r[i+1]
		sb := sinAuthalic(b[1])
		dLon := (b[0] - a[0]) * math.Pi / 180
		sum += dLon * (2 + sa + sb)
		sa = sb
	}
	return sum * authalicRadius * authalicRadius / 2
}

// Length returns the length in metres of a line or multiline along
// geodesics on the WGS 84 ellipsoid; 0 for other geometries.
func Length(g orb.Geometry) float64 {
	line := func(l orb.LineString) float64 {
		d := 0.0
		for i := 1; i < len(l); i++ {
			d += Distance(l[i-1], l[i])
		}
		return d
	}
	switch g := g.(type) {
	case orb.LineString:
		return line(g)
	case orb.MultiLineString:
		d := 0.0
		for _, l := range g {
			d += line(l)
		}
		return d
	}
	return 0
}

// Distance returns the geodesic distance in metres between two points on
// the WGS 84 ellipsoid, by Vincenty's inverse formula. For nearly
// antipodal points, where it does not converge, it falls back to the
// great-circle distance on the authalic sphere.
func Distance(p, q orb.Point) float64 {
	if p == q {
		return 0
	}
	rad := math.Pi / 180
	L := (q[0] - p[0]) * rad
	U1 := math.Atan((1 - wgs84F) * math.Tan(p[1]*rad))
	U2 := math.Atan((1 - wgs84F) * math.Tan(q[1]*rad))
	sinU1, cosU1 := math.Sincos(U1)
	sinU2, cosU2 := math.Sincos(U2)
	lambda := L
	for i := 0; i < 200; i++ {
		sinL, cosL := math.Sincos(lambda)
		sinSigma := math.Hypot(cosU2*sinL, cosU1*sinU2-sinU1*cosU2*cosL)
		if sinSigma == 0 {
			return 0
		}
		cosSigma := sinU1*sinU2 + cosU1*cosU2*cosL
		sigma := math.Atan2(sinSigma, cosSigma)
		sinAlpha := cosU1 * cosU2 * sinL / sinSigma
		cos2Alpha := 1 - sinAlpha*sinAlpha
		cos2SigmaM := 0.0
		if cos2Alpha != 0 {
			cos2SigmaM = cosSigma - 2*sinU1*sinU2/cos2Alpha
		}
		C := wgs84F / 16 * cos2Alpha * (4 + wgs84F*(4-3*cos2Alpha))
		prev := lambda
		lambda = L + (1-C)*wgs84F*sinAlpha*(sigma+C*sinSigma*(cos2SigmaM+C*cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)))
		if math.Abs(lambda-prev) < 1e-12 {
			u2 := cos2Alpha * (wgs84A*wgs84A - wgs84B*wgs84B) / (wgs84B * wgs84B)
			A := 1 + u2/16384*(4096+u2*(-768+u2*(320-175*u2)))
			B := u2 / 1024 * (256 + u2*(-128+u2*(74-47*u2)))
			dSigma := B * sinSigma * (cos2SigmaM + B/4*(cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)-
				B/6*cos2SigmaM*(-3+4*sinSigma*sinSigma)*(-3+4*cos2SigmaM*cos2SigmaM)))
			return wgs84B * A * (sigma - dSigma)
		}
	}
	// Great circle on the authalic sphere.
	la1, la2 := p[1]*rad, q[1]*rad
	h := math.Pow(math.Sin((la2-la1)/2), 2) + math.Cos(la1)*math.Cos(la2)*math.Pow(math.Sin(L/2), 2)
	return 2 * authalicRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// SquareMetresPerMu is the area of one mu (亩), the Chinese land unit
// planners quote: 1/15 of a hectare.
const SquareMetresPerMu = 10000.0 / 15
