package geo

import (
	"encoding/binary"
	"math"

	"github.com/paulmach/orb"
)

// decodeWKB decodes the little-endian WKB that AppendGPKG writes (and
// GDAL, QGIS and every GeoPackage writer on little-endian machines):
// points, lines, polygons and their multi forms, in two dimensions. The
// points of the whole geometry share one allocation, each part its own
// stretch of it (capped, so that appending to one never writes into the
// next), instead of one allocation per ring as orb's decoder makes: a
// feature read from the file is decoded on every request. ok is false
// for anything else (big-endian, Z or M, collections, extended WKB,
// truncated data), which the caller leaves to orb. With an arena a, the
// points, rings and polygons come from its slabs instead.
func decodeWKB(b []byte, a *Arena) (g orb.Geometry, ok bool) {
	d := wkbReader{b: b, room: len(b) / 16, arena: a}
	typ, ok := d.head()
	if !ok {
		return nil, false
	}
	switch typ {
	case 1:
		p, ok := d.point()
		return p, ok
	case 2:
		ls, ok := d.points()
		return orb.LineString(ls), ok
	case 3:
		p, ok := d.polygon()
		return p, ok
	case 4:
		n, ok := d.count()
		if !ok {
			return nil, false
		}
		mp := d.points0(n)
		for range n {
			if t, ok := d.head(); !ok || t != 1 {
				return nil, false
			}
			p, ok := d.point()
			if !ok {
				return nil, false
			}
			mp = append(mp, p)
		}
		return orb.MultiPoint(mp), true
	case 5:
		n, ok := d.count()
		if !ok {
			return nil, false
		}
		ml := make(orb.MultiLineString, 0, n)
		for range n {
			if t, ok := d.head(); !ok || t != 2 {
				return nil, false
			}
			ls, ok := d.points()
			if !ok {
				return nil, false
			}
			ml = append(ml, ls)
		}
		return ml, true
	case 6:
		n, ok := d.count()
		if !ok {
			return nil, false
		}
		mp := orb.MultiPolygon(d.polygons0(n))
		for range n {
			if t, ok := d.head(); !ok || t != 3 {
				return nil, false
			}
			p, ok := d.polygon()
			if !ok {
				return nil, false
			}
			mp = append(mp, p)
		}
		return mp, true
	}
	return nil, false
}

// wkbReader reads WKB from b, the points into pts.
type wkbReader struct {
	b   []byte
	pts []orb.Point
	// room is how many points pts gets when first needed: each point
	// takes 16 bytes of the WKB, so len(b)/16 holds them all.
	room  int
	arena *Arena // nil: pts, and a slice of its own for each ring list
}

// head reads a little-endian geometry's byte order and type.
func (d *wkbReader) head() (uint32, bool) {
	if len(d.b) < 5 || d.b[0] != 1 {
		return 0, false
	}
	t := binary.LittleEndian.Uint32(d.b[1:])
	d.b = d.b[5:]
	return t, true
}

// count reads a number of parts, which must fit in what is left.
func (d *wkbReader) count() (int, bool) {
	if len(d.b) < 4 {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	// Every part takes at least 4 bytes.
	if uint64(n)*4 > uint64(len(d.b)) {
		return 0, false
	}
	return int(n), true
}

func (d *wkbReader) point() (orb.Point, bool) {
	if len(d.b) < 16 {
		return orb.Point{}, false
	}
	p := orb.Point{
		math.Float64frombits(binary.LittleEndian.Uint64(d.b)),
		math.Float64frombits(binary.LittleEndian.Uint64(d.b[8:])),
	}
	d.b = d.b[16:]
	return p, true
}

// points0 returns an empty slice of the shared points with room for n.
func (d *wkbReader) points0(n int) []orb.Point {
	if d.arena != nil {
		return d.arena.points.Take(n)
	}
	if d.pts == nil {
		d.pts = make([]orb.Point, 0, max(d.room, n))
	}
	if len(d.pts)+n > cap(d.pts) {
		return make([]orb.Point, 0, n)
	}
	start := len(d.pts)
	d.pts = d.pts[:start+n]
	return d.pts[start : start : start+n]
}

// points reads a count and that many points.
func (d *wkbReader) points() ([]orb.Point, bool) {
	if len(d.b) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	if uint64(n)*16 > uint64(len(d.b)) {
		return nil, false
	}
	ps := d.points0(int(n))
	for i := range int(n) {
		ps = append(ps, orb.Point{
			math.Float64frombits(binary.LittleEndian.Uint64(d.b[16*i:])),
			math.Float64frombits(binary.LittleEndian.Uint64(d.b[16*i+8:])),
		})
	}
	d.b = d.b[16*n:]
	return ps, true
}

func (d *wkbReader) polygon() (orb.Polygon, bool) {
	n, ok := d.count()
	if !ok {
		return nil, false
	}
	p := orb.Polygon(d.rings0(n))
	for range n {
		r, ok := d.points()
		if !ok {
			return nil, false
		}
		p = append(p, r)
	}
	return p, true
}

// rings0 returns an empty list of rings with room for n.
func (d *wkbReader) rings0(n int) []orb.Ring {
	if d.arena != nil {
		return d.arena.rings.Take(n)
	}
	return make([]orb.Ring, 0, n)
}

// polygons0 returns an empty list of polygons with room for n.
func (d *wkbReader) polygons0(n int) []orb.Polygon {
	if d.arena != nil {
		return d.arena.polygons.Take(n)
	}
	return make([]orb.Polygon, 0, n)
}
