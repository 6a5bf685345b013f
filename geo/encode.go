package geo

import (
	"math"
	"strconv"

	"github.com/paulmach/orb"
)

// AppendGeoJSON appends g as a compact GeoJSON geometry object. Numbers are
// written in their shortest form that reads back to the same float64, so a
// rounded coordinate is written with at most Precision decimals. A nil
// geometry is written as null.
func AppendGeoJSON(dst []byte, g orb.Geometry) []byte {
	if g == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"type":"`...)
	dst = append(dst, g.GeoJSONType()...)
	dst = append(dst, `","coordinates":`...)
	switch g := g.(type) {
	case orb.Point:
		dst = appendPoint(dst, g)
	case orb.MultiPoint:
		dst = appendPoints(dst, g)
	case orb.LineString:
		dst = appendPoints(dst, g)
	case orb.MultiLineString:
		dst = append(dst, '[')
		for i, l := range g {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPoints(dst, l)
		}
		dst = append(dst, ']')
	case orb.Polygon:
		dst = appendPolygon(dst, g)
	case orb.MultiPolygon:
		dst = append(dst, '[')
		for i, p := range g {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPolygon(dst, p)
		}
		dst = append(dst, ']')
	default:
		dst = append(dst, "[]"...)
	}
	return append(dst, '}')
}

func appendPoint(dst []byte, p orb.Point) []byte {
	dst = append(dst, '[')
	dst = appendCoord(dst, p[0])
	dst = append(dst, ',')
	dst = appendCoord(dst, p[1])
	return append(dst, ']')
}

// appendCoord appends v exactly as strconv.AppendFloat(dst, v, 'f', -1,
// 64) does, the shortest decimal that reads back as v, several times
// faster for what coordinates nearly always are: a value of at most nine
// decimals, as typed or as any GIS writes them.
//
// When v is the double nearest k·10⁻⁹ for an integer k, that decimal is
// the shortest: doubles between 10⁻³ and 10⁶ lie less than 10⁻⁹ apart,
// so no other decimal of nine places or fewer reads back as v, and one of
// more places would need more digits. Anything else goes to strconv.
func appendCoord(dst []byte, v float64) []byte {
	const scale = 1e9
	a := math.Abs(v)
	if a < 1e-3 || a >= 1e6 {
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	k := math.Round(a * scale)
	if k/scale != a {
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	if v < 0 {
		dst = append(dst, '-')
	}
	n := uint64(k)
	dst = strconv.AppendUint(dst, n/1e9, 10)
	frac := n % 1e9
	if frac == 0 {
		return dst
	}
	var digits [10]byte
	digits[0] = '.'
	for i := 9; i >= 1; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := 10
	for digits[end-1] == '0' {
		end--
	}
	return append(dst, digits[:end]...)
}

// AppendShortest appends v as strconv.AppendFloat(dst, v, 'f', -1, 64)
// does, the shortest decimal that reads back as v; for values of at most
// nine decimals between 0.001 and 1,000,000 (coordinates, and measures
// rounded to a few decimals) without strconv's general algorithm.
func AppendShortest(dst []byte, v float64) []byte { return appendCoord(dst, v) }

func appendPoints(dst []byte, ps []orb.Point) []byte {
	dst = append(dst, '[')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPoint(dst, p)
	}
	return append(dst, ']')
}

func appendPolygon(dst []byte, p orb.Polygon) []byte {
	dst = append(dst, '[')
	for i, r := range p {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPoints(dst, r)
	}
	return append(dst, ']')
}
