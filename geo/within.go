package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// resolution is how finely Within looks, in metres: a point of a farther
// than the tolerance by less than this may pass.
const resolution = 0.01

// Within reports whether a lies within b with tolerance tol metres: whether
// every point of a (its whole area, for a polygon; every point along it,
// for a line; each point) lies inside polygon or multipolygon b or at most
// tol metres from it. A tolerance under SnapDistance counts as
// SnapDistance, since boundaries that close are one (see OverlapArea).
//
// So a polygon drawn out of b by 0.3 m anywhere, at a vertex or between
// two vertices of a concave b, passes with tol 0.5, and one that pokes out
// 1 m does not. A point of a farther from b than the tolerance by less
// than a centimetre may pass: Within bisects a (halving edges, and cells
// of a polygon's area) until the distance from b, which changes by at most
// the length moved, cannot exceed the tolerance, or the pieces are a
// centimetre small. A hole of b inside a counts as outside b.
//
// When a is not within b, farthest is how far from b the point of a
// farthest from it lies, to within a centimetre or a per cent; when it is,
// farthest is at most the tolerance. The polygons of a multipolygon b may
// overlap, as the features of a layer taken together may: b is their
// union. b that is not a polygon or
// multipolygon, or is empty, holds nothing: ok is false and farthest
// infinite. A nil or empty a is within anything.
func Within(a, b orb.Geometry, tol float64) (ok bool, farthest float64) {
	if a == nil {
		return true, 0
	}
	if b == nil {
		return false, math.Inf(1)
	}
	pl := newPlane(a.Bound().Union(b.Bound()))
	rb, okB := pl.region(b)
	if !okB || len(rb) == 0 {
		return false, math.Inf(1)
	}
	w := &witness{b: rb, parts: pl.parts(b), tol: math.Max(tol, SnapDistance), far: 0}
	var points []orb.Point
	var lines [][]orb.Point
	var areas region
	switch g := a.(type) {
	case orb.Point:
		points = []orb.Point{g}
	case orb.MultiPoint:
		points = g
	case orb.LineString:
		lines = [][]orb.Point{g}
	case orb.MultiLineString:
		for _, l := range g {
			lines = append(lines, l)
		}
	case orb.Polygon, orb.MultiPolygon:
		areas, _ = pl.region(g)
		lines = areas
	}
	for _, p := range points {
		w.at(pl.point(p))
	}
	for _, l := range lines {
		if areas == nil {
			l = projectLine(pl, l)
		}
		w.line(l)
	}
	if len(areas) > 0 {
		w.area(areas)
	}
	return w.far <= w.tol, w.far
}

func projectLine(pl plane, l []orb.Point) []orb.Point {
	out := make([]orb.Point, len(l))
	for i, p := range l {
		out[i] = pl.point(p)
	}
	return out
}

// witness keeps the farthest a point of a has been found from b.
type witness struct {
	b     region   // all of b's rings, whose edges distances are measured to
	parts []region // b's polygons, each on its own: they may overlap
	tol   float64
	far   float64
}

// signed is the distance from p to b's boundary, negative inside b: it
// changes by at most the distance p moves, and where it is positive it is
// the distance from b. (Where b's polygons overlap, the distance inside is
// to the nearest edge of any, which is no farther than b's boundary: it
// only makes the bisection finer.)
func (w *witness) signed(p orb.Point) float64 {
	d := w.b.boundaryDistance(p)
	for _, r := range w.parts {
		if r.contains(p) {
			return -d
		}
	}
	return d
}

// parts projects each polygon of g on its own. The polygons of one feature
// never overlap, but b may be the polygons of several features taken
// together, which may; a point in two of them is inside, not outside by
// parity.
func (pl plane) parts(g orb.Geometry) []region {
	var out []region
	switch g := g.(type) {
	case orb.MultiPolygon:
		for _, p := range g {
			if r, _ := pl.region(p); len(r) > 0 {
				out = append(out, r)
			}
		}
	default:
		if r, _ := pl.region(g); len(r) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// at records p, a point of a, and returns its signed distance from b.
func (w *witness) at(p orb.Point) float64 {
	d := w.signed(p)
	w.far = math.Max(w.far, d)
	return d
}

// enough is the distance from b below which nothing more needs finding:
// the tolerance, or once something is out, the farthest found so far.
func (w *witness) enough() float64 { return math.Max(w.tol, w.far) }

// fine is the size below which pieces are not cut further.
func (w *witness) fine() float64 {
	if w.far > w.tol {
		return math.Max(resolution, w.far/100)
	}
	return resolution
}

// line bisects each edge of l: on an edge from p to q, whose ends lie at
// signed distances dp and dq from b, no point lies farther than
// (dp + dq + |pq|) / 2.
func (w *witness) line(l []orb.Point) {
	type piece struct {
		p, q   orb.Point
		dp, dq float64
	}
	if len(l) == 0 {
		return
	}
	var stack []piece
	prev, dprev := l[0], w.at(l[0])
	for _, q := range l[1:] {
		dq := w.at(q)
		stack = append(stack[:0], piece{prev, q, dprev, dq})
		for len(stack) > 0 {
			s := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n := math.Hypot(s.q[0]-s.p[0], s.q[1]-s.p[1])
			if (s.dp+s.dq+n)/2 <= w.enough() || n/2 < w.fine() {
				continue
			}
			m := orb.Point{(s.p[0] + s.q[0]) / 2, (s.p[1] + s.q[1]) / 2}
			dm := w.at(m)
			stack = append(stack, piece{s.p, m, s.dp, dm}, piece{m, s.q, dm, s.dq})
		}
		prev, dprev = q, dq
	}
}

// area bisects square cells over the area of a: in a cell of half-diagonal
// r around c no point lies farther from b than signed(c) + r, and none of
// a lies in it when c is outside a by r or more. This finds what edges
// alone miss: a hole of b, or a notch of its boundary, inside a.
func (w *witness) area(a region) {
	type cell struct {
		c    orb.Point
		half float64 // half the side
	}
	bd := a.bound()
	half := math.Max(bd.Max[0]-bd.Min[0], bd.Max[1]-bd.Min[1]) / 2
	stack := []cell{{bd.Center(), half}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r := s.half * math.Sqrt2
		in := a.contains(s.c)
		if !in && a.boundaryDistance(s.c) >= r {
			continue
		}
		d := w.signed(s.c)
		if in {
			w.far = math.Max(w.far, d)
		}
		if d+r <= w.enough() || r < w.fine() {
			continue
		}
		h := s.half / 2
		for _, o := range [4][2]float64{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
			stack = append(stack, cell{orb.Point{s.c[0] + o[0]*h, s.c[1] + o[1]*h}, h})
		}
	}
}
