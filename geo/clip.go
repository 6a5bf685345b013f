package geo

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
)

// Clip returns the part of g inside box b: a polygon or multipolygon cut
// along the box's edges, a line cut into the pieces inside it, the points
// inside it; nil when nothing of g is inside b. Edges are cut where they
// cross the box in longitude/latitude, the plane the edges of hand-drawn
// shapes are straight in. g is not modified (orb's clip works in place on
// its input, and a store may share its geometries between readers).
//
// The parts of a polygon are not made valid: a concave polygon cut by the
// box may come back as one ring that runs along the box's edge and back,
// with zero width there. Area and Length measure such rings correctly, the
// zero-width parts adding nothing.
func Clip(g orb.Geometry, b orb.Bound) orb.Geometry {
	if g == nil || !g.Bound().Intersects(b) {
		return nil
	}
	switch g := g.(type) {
	case orb.Point:
		if !b.Contains(g) {
			return nil
		}
		return g
	case orb.MultiPoint:
		if mp := clip.MultiPoint(b, g); len(mp) > 0 {
			return mp
		}
		return nil
	case orb.LineString:
		if ml := clip.LineString(b, g); len(ml) > 0 {
			return ml
		}
		return nil
	case orb.MultiLineString:
		if ml := clip.MultiLineString(b, g); len(ml) > 0 {
			return ml
		}
		return nil
	case orb.Polygon:
		if p := clip.Polygon(b, g.Clone()); len(p) > 0 {
			return p
		}
		return nil
	case orb.MultiPolygon:
		if mp := clip.MultiPolygon(b, g.Clone()); len(mp) > 0 {
			return mp
		}
		return nil
	}
	return nil
}
