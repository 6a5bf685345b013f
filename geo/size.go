package geo

import "github.com/paulmach/orb"

// Size is about how many bytes g holds in memory: its points and the
// slice headers around them. Caches with a byte budget count with it.
func Size(g orb.Geometry) int {
	const point, header = 16, 24
	switch g := g.(type) {
	case orb.Point:
		return point
	case orb.MultiPoint:
		return header + point*len(g)
	case orb.LineString:
		return header + point*len(g)
	case orb.Ring:
		return header + point*len(g)
	case orb.MultiLineString:
		n := header
		for _, l := range g {
			n += Size(l)
		}
		return n
	case orb.Polygon:
		n := header
		for _, r := range g {
			n += Size(r)
		}
		return n
	case orb.MultiPolygon:
		n := header
		for _, p := range g {
			n += Size(p)
		}
		return n
	case orb.Collection:
		n := header
		for _, c := range g {
			n += 16 + Size(c)
		}
		return n
	}
	return 0
}
