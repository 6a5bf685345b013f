package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// CGCS2000 ellipsoid (China Geodetic Coordinate System 2000): the same
// semi-major axis as WGS 84, a flattening that differs in the ninth digit.
const (
	CGCS2000A    = 6378137.0
	CGCS2000InvF = 298.257222101
)

// TransverseMercator is the transverse Mercator projection on an ellipsoid
// (Gauss–Krüger), computed with Krüger's series in the sixth power of the
// third flattening n as Karney (2011, "Transverse Mercator with an accuracy
// of a few nanometers", J. Geod. 85) gives them: within a few thousand
// kilometres of the central meridian the error is far below a millimetre,
// so a 3° zone, and well beyond it, is exact for planning data.
//
// Projected coordinates are easting, northing in metres; geographic ones
// longitude, latitude in degrees. Latitude of origin is the equator.
type TransverseMercator struct {
	lon0, k0, fe, fn float64
	e                float64    // first eccentricity
	scale            float64    // k0 times the rectifying radius A
	alpha, beta      [7]float64 // series coefficients, 1-based
}

// NewTransverseMercator returns the projection on the ellipsoid with
// semi-major axis a and inverse flattening invF, central meridian lon0
// (degrees), scale factor k0 on it, and false easting and northing in
// metres.
func NewTransverseMercator(a, invF, lon0, k0, falseEasting, falseNorthing float64) *TransverseMercator {
	f := 1 / invF
	n := f / (2 - f)
	n2 := n * n
	n3 := n2 * n
	n4, n5, n6 := n2*n2, n2*n3, n3*n3
	t := &TransverseMercator{lon0: lon0, k0: k0, fe: falseEasting, fn: falseNorthing, e: math.Sqrt(f * (2 - f))}
	A := a / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	t.scale = k0 * A
	// Karney (2011), eqs. 35 (alpha: conformal to projected) and 36 (beta:
	// projected to conformal).
	t.alpha = [7]float64{0,
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	t.beta = [7]float64{0,
		n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
		n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
		17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
		4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
		4583*n5/161280 - 108847*n6/3991680,
		20648693 * n6 / 638668800,
	}
	return t
}

// conformal returns tan χ, the tangent of the conformal latitude, for tan φ.
func (t *TransverseMercator) conformal(tau float64) float64 {
	s := math.Hypot(1, tau)
	sigma := math.Sinh(t.e * math.Atanh(t.e*tau/s))
	return tau*math.Hypot(1, sigma) - sigma*s
}

// Forward projects a longitude/latitude in degrees to easting/northing in
// metres.
func (t *TransverseMercator) Forward(p orb.Point) orb.Point {
	lam := (p[0] - t.lon0) * math.Pi / 180
	phi := p[1] * math.Pi / 180
	tauP := t.conformal(math.Tan(phi))
	sl, cl := math.Sincos(lam)
	xiP := math.Atan2(tauP, cl)
	etaP := math.Asinh(sl / math.Hypot(tauP, cl))
	xi, eta := xiP, etaP
	for j := 1; j <= 6; j++ {
		s, c := math.Sincos(2 * float64(j) * xiP)
		xi += t.alpha[j] * s * math.Cosh(2*float64(j)*etaP)
		eta += t.alpha[j] * c * math.Sinh(2*float64(j)*etaP)
	}
	return orb.Point{t.fe + t.scale*eta, t.fn + t.scale*xi}
}

// Inverse converts an easting/northing in metres to longitude/latitude in
// degrees.
func (t *TransverseMercator) Inverse(p orb.Point) orb.Point {
	eta := (p[0] - t.fe) / t.scale
	xi := (p[1] - t.fn) / t.scale
	xiP, etaP := xi, eta
	for j := 1; j <= 6; j++ {
		s, c := math.Sincos(2 * float64(j) * xi)
		xiP -= t.beta[j] * s * math.Cosh(2*float64(j)*eta)
		etaP -= t.beta[j] * c * math.Sinh(2*float64(j)*eta)
	}
	sx, cx := math.Sincos(xiP)
	she := math.Sinh(etaP)
	tauP := sx / math.Hypot(she, cx)
	lam := math.Atan2(she, cx)

	// Solve conformal(tau) = tauP for tau by Newton's method (Karney 2011,
	// eqs. 19–21); it converges to full precision in two or three steps.
	e2 := t.e * t.e
	tau := tauP
	for i := 0; i < 5; i++ {
		tp := t.conformal(tau)
		d := (tauP - tp) / math.Hypot(1, tp) * (1 + (1-e2)*tau*tau) / ((1 - e2) * math.Hypot(1, tau))
		tau += d
		if math.Abs(d) < 1e-14 {
			break
		}
	}
	return orb.Point{t.lon0 + lam*180/math.Pi, math.Atan(tau) * 180 / math.Pi}
}

// CGCS2000GaussKruger returns the projection of a CGCS2000 3-degree
// Gauss–Krüger zone by its EPSG code, or nil for any other code.
// EPSG:4513–4533 are zones 25–45 (central meridians 75°E–135°E) with the
// zone number in the easting (false easting zone×10⁶ + 500 000 m);
// EPSG:4534–4554 are the same central meridians without it (500 000 m).
func CGCS2000GaussKruger(epsg int) *TransverseMercator {
	switch {
	case epsg >= 4513 && epsg <= 4533:
		zone := epsg - 4513 + 25
		return NewTransverseMercator(CGCS2000A, CGCS2000InvF, float64(3*zone), 1, float64(zone)*1e6+500000, 0)
	case epsg >= 4534 && epsg <= 4554:
		return NewTransverseMercator(CGCS2000A, CGCS2000InvF, float64(75+3*(epsg-4534)), 1, 500000, 0)
	}
	return nil
}
