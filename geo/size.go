package geo

import "github.com/paulmach/orb"

// Size is about how many bytes g holds in memory: its points and the
// slice headers around them. Caches with a byte budget count with it.
func Size(g orb.Geometry) int {
	switch g := g.(type) {
	case orb.Point:
		return pointSize
	case orb.MultiPoint:
		return pointsSize(len(g))
	case orb.LineString:
		return pointsSize(len(g))
	case orb.Ring:
		return pointsSize(len(g))
	case orb.MultiLineString:
		n := sliceHeader
		for _, l := range g {
			n += pointsSize(len(l))
		}
		return n
	case orb.Polygon:
		return polygonSize(g)
	case orb.MultiPolygon:
		n := sliceHeader
		for _, p := range g {
			n += polygonSize(p)
		}
		return n
	case orb.Collection:
		n := sliceHeader
		for _, c := range g {
			n += 16 + Size(c)
		}
		return n
	}
	return 0
}

const pointSize, sliceHeader = 16, 24

// pointsSize and polygonSize are Size of the parts of a geometry, taken
// as they are: passing them to Size would box each part in an interface,
// an allocation per ring on every feature read.
func pointsSize(n int) int { return sliceHeader + pointSize*n }

func polygonSize(p orb.Polygon) int {
	n := sliceHeader
	for _, r := range p {
		n += pointsSize(len(r))
	}
	return n
}
