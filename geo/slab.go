package geo

import "github.com/paulmach/orb"

// Slab hands out slices of larger arrays: thousands of small slices in a
// few allocations. A slice taken keeps its whole array alive, so a slab
// serves values made together and dropped together, such as one vector
// tile's.
type Slab[T any] struct{ buf []T }

// Take returns an empty slice with room for n values, which an append
// beyond n moves elsewhere rather than into the next slice taken.
func (s *Slab[T]) Take(n int) []T {
	const most = 2048
	if n == 0 {
		return []T{} // not nil, as make gives: decoders compare equal
	}
	if n > most/4 {
		// Too large to share a slab with others, and kept apart so as
		// not to waste the rest of the one in use.
		return make([]T, 0, n)
	}
	if cap(s.buf)-len(s.buf) < n {
		// Each array twice the last, up to most: a slab that serves a
		// few geometries (the features a cache lacks) stays small.
		s.buf = make([]T, 0, min(most, max(2*cap(s.buf), 4*n, 64)))
	}
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	return s.buf[i : i : i+n]
}

// Arena decodes GeoPackage geometries whose positions, rings and
// polygons share its slabs: the geometries read for one vector tile in
// one allocation each (the geometry itself) and a few for all the rest,
// rather than four each. What it decodes keeps the slabs alive as long
// as any of it is: for geometries used together and dropped together.
type Arena struct {
	points   Slab[orb.Point]
	rings    Slab[orb.Ring]
	polygons Slab[orb.Polygon]
}

// DecodeGPKG is DecodeGPKG, into the arena's slabs.
func (a *Arena) DecodeGPKG(blob []byte) (orb.Geometry, error) {
	return decodeGPKG(blob, a)
}

// DecodeWKB is DecodeWKB, into the arena's slabs; a nil arena decodes as
// DecodeWKB does.
func (a *Arena) DecodeWKB(b []byte) (orb.Geometry, error) { return decodeWKBAny(b, a) }
