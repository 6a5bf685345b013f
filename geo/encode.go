package geo

import (
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
	dst = strconv.AppendFloat(dst, p[0], 'f', -1, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, p[1], 'f', -1, 64)
	return append(dst, ']')
}

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
