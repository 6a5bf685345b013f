package geo

import (
	"math"
	"slices"
	"sort"

	"github.com/paulmach/orb"
)

// SnapDistance is how close, in metres, two boundaries must come to count
// as one: OverlapArea takes a vertex this close to a vertex or an edge of
// the other shape as lying on it, and Within never asks for less. It is a
// few times the rounding of a stored coordinate (Precision decimals, about
// 1 cm), so that edges snapped together when drawn stay together once
// stored.
const SnapDistance = 0.05

// plane is a local metric projection: x east and y north in metres of a
// point near the shapes, on the plane tangent there (equirectangular).
// Over the few kilometres of a district, lengths and areas on it differ
// from the geodesic ones by well under a per cent.
type plane struct{ lon0, lat0, kx, ky float64 }

func newPlane(b orb.Bound) plane {
	c := b.Center()
	k := math.Pi / 180 * meanRadius
	return plane{lon0: c[0], lat0: c[1], kx: k * math.Cos(c[1]*math.Pi/180), ky: k}
}

func (pl plane) point(p orb.Point) orb.Point {
	return orb.Point{(p[0] - pl.lon0) * pl.kx, (p[1] - pl.lat0) * pl.ky}
}

// region is a polygon or multipolygon on the plane: its rings, closed,
// exteriors counter-clockwise and holes clockwise, so that the interior is
// on the left of every edge.
type region [][]orb.Point

// polygonRegion projects the rings of a polygon or multipolygon; ok is
// false for other geometries.
func (pl plane) region(g orb.Geometry) (r region, ok bool) {
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	case orb.Bound:
		polys = []orb.Polygon{g.ToPolygon()}
	default:
		return nil, false
	}
	for _, p := range polys {
		for i, ring := range p {
			if len(ring) < 3 {
				continue
			}
			pts := make([]orb.Point, 0, len(ring)+1)
			for _, q := range ring {
				q = pl.point(q)
				if len(pts) > 0 && pts[len(pts)-1] == q {
					continue
				}
				pts = append(pts, q)
			}
			if pts[0] != pts[len(pts)-1] {
				pts = append(pts, pts[0])
			}
			if len(pts) < 4 {
				continue
			}
			if a := shoelace(pts); (i == 0) != (a > 0) {
				slices.Reverse(pts)
			}
			r = append(r, pts)
		}
	}
	return r, true
}

// shoelace returns twice the signed area of a closed ring, positive when
// it runs counter-clockwise.
func shoelace(ring []orb.Point) float64 {
	s := 0.0
	for i := 1; i < len(ring); i++ {
		s += cross(ring[i-1], ring[i])
	}
	return s
}

func cross(p, q orb.Point) float64 { return p[0]*q[1] - p[1]*q[0] }

// contains reports whether p lies inside the region, by the parity of the
// edges a ray from p crosses. Points on an edge may go either way.
func (r region) contains(p orb.Point) bool {
	in := false
	for _, ring := range r {
		for i := 1; i < len(ring); i++ {
			a, b := ring[i-1], ring[i]
			if (a[1] > p[1]) != (b[1] > p[1]) &&
				p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
				in = !in
			}
		}
	}
	return in
}

// boundaryDistance is the distance from p to the nearest edge.
func (r region) boundaryDistance(p orb.Point) float64 {
	d := math.Inf(1)
	for _, ring := range r {
		for i := 1; i < len(ring); i++ {
			d = math.Min(d, segmentDistance(ring[i-1], ring[i], p))
		}
	}
	return d
}

func segmentDistance(a, b, p orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

func (r region) bound() orb.Bound {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, ring := range r {
		for _, p := range ring {
			b = b.Extend(p)
		}
	}
	return b
}

// OverlapArea returns the area in square metres that the interiors of two
// polygons or multipolygons (longitude/latitude) share: 0 when they are
// apart, touch at points, or share an edge; the area of the smaller when
// one holds the other; the area of the lens where they cross. Holes count
// as outside. Other geometries share no area.
//
// Hand-drawn neighbours are seldom exactly snapped, so a vertex within
// SnapDistance of a vertex or an edge of the other shape is taken to lie
// on it: both shapes then pass through it, and an edge drawn along a
// neighbour's edge, a few centimetres off, shares it instead of making a
// sliver of its length times those centimetres. A sliver wider than
// SnapDistance keeps its area. Everything is measured on a plane tangent
// to the shapes, within a fraction of a per cent of the geodesic area.
//
// The area is the integral of Green's theorem over the boundary of the
// intersection: the parts of a's boundary inside b, the parts of b's
// boundary inside a, and the boundary the two share where their interiors
// lie on the same side of it. The polygons of a multipolygon are taken not
// to overlap each other (Validate refuses those that do).
func OverlapArea(a, b orb.Geometry) float64 {
	if a == nil || b == nil {
		return 0
	}
	ba, bb := a.Bound(), b.Bound()
	pl := newPlane(ba.Union(bb))
	ra, okA := pl.region(a)
	rb, okB := pl.region(b)
	if !okA || !okB || len(ra) == 0 || len(rb) == 0 {
		return 0
	}
	return overlapArea(ra, rb, SnapDistance)
}

// overlapArea is OverlapArea on the plane, with vertices closer than eps
// to the other region's boundary snapped onto it.
func overlapArea(a, b region, eps float64) float64 {
	if !a.bound().Pad(eps).Intersects(b.bound()) {
		return 0
	}
	a, b = snap(a, b, eps)
	pa, pb := split(a, b, eps)
	pa, pb = unspike(pa), unspike(pb)

	type key [4]float64
	k := func(p, q orb.Point) key { return key{p[0], p[1], q[0], q[1]} }
	inB := make(map[key]bool, len(pb))
	for _, s := range pb {
		inB[k(s[0], s[1])] = true
	}
	inA := make(map[key]bool, len(pa))
	sum := 0.0
	for _, s := range pa {
		inA[k(s[0], s[1])] = true
		switch {
		case inB[k(s[0], s[1])]:
			// Shared, both interiors on its left: on the boundary of
			// the intersection, counted once, here.
			sum += cross(s[0], s[1])
		case inB[k(s[1], s[0])]:
			// Shared, the interiors on either side: the intersection
			// does not reach it.
		case b.contains(mid(s)):
			sum += cross(s[0], s[1])
		}
	}
	for _, s := range pb {
		if inA[k(s[0], s[1])] || inA[k(s[1], s[0])] {
			continue
		}
		if a.contains(mid(s)) {
			sum += cross(s[0], s[1])
		}
	}
	return math.Max(0, sum/2)
}

// unspike removes the pieces a region's boundary runs along both ways: a
// spike or a cut of no width, such as snapping makes when a vertex lies
// near two edges of the other shape. It bounds nothing, and were it kept,
// a piece of the other shape along it would count as shared.
func unspike(ps [][2]orb.Point) [][2]orb.Point {
	type key [4]float64
	n := map[key]int{}
	for _, s := range ps {
		n[key{s[0][0], s[0][1], s[1][0], s[1][1]}]++
	}
	out := ps[:0]
	for _, s := range ps {
		fwd, back := key{s[0][0], s[0][1], s[1][0], s[1][1]}, key{s[1][0], s[1][1], s[0][0], s[0][1]}
		if n[back] > 0 && n[fwd] > 0 {
			// Cancel one piece each way: keep neither.
			n[back]--
			n[fwd]--
			continue
		}
		if n[fwd] > 0 {
			out = append(out, s)
		}
	}
	return out
}

func mid(s [2]orb.Point) orb.Point {
	return orb.Point{(s[0][0] + s[1][0]) / 2, (s[0][1] + s[1][1]) / 2}
}

// snap returns copies of a and b in which the vertices of b within eps of
// a vertex of a are that vertex, the vertices of b within eps of an edge
// of a are vertices of that edge too, and the vertices of a within eps of
// an edge of b are vertices of that edge. Boundaries drawn along each
// other then run through the same vertices, edge for edge.
func snap(a, b region, eps float64) (region, region) {
	av := sortedVertices(a)
	nb := make(region, len(b))
	for i, ring := range b {
		out := make([]orb.Point, 0, len(ring))
		for _, p := range ring {
			if q, ok := av.nearest(p, eps); ok {
				p = q
			}
			if len(out) > 0 && out[len(out)-1] == p {
				continue
			}
			out = append(out, p)
		}
		if len(out) >= 4 {
			nb[i] = out
		}
	}
	nb = slices.DeleteFunc(nb, func(r []orb.Point) bool { return r == nil })
	bv := sortedVertices(nb)
	return insertNear(a, bv, eps), insertNear(nb, av, eps)
}

// vertices are points sorted by x, to find those near a point or an edge.
type vertices []orb.Point

func sortedVertices(r region) vertices {
	var v vertices
	for _, ring := range r {
		v = append(v, ring[:len(ring)-1]...)
	}
	sort.Slice(v, func(i, j int) bool { return v[i][0] < v[j][0] })
	return v
}

// within calls fn with every vertex whose x lies in [x0, x1].
func (v vertices) within(x0, x1 float64, fn func(orb.Point)) {
	i := sort.Search(len(v), func(i int) bool { return v[i][0] >= x0 })
	for ; i < len(v) && v[i][0] <= x1; i++ {
		fn(v[i])
	}
}

func (v vertices) nearest(p orb.Point, eps float64) (orb.Point, bool) {
	best, found := eps, false
	var q orb.Point
	v.within(p[0]-eps, p[0]+eps, func(c orb.Point) {
		if d := math.Hypot(c[0]-p[0], c[1]-p[1]); d <= best {
			best, q, found = d, c, true
		}
	})
	return q, found
}

// insertNear returns r with the vertices of v that lie within eps of an
// edge of r, and farther than eps from its ends, inserted into that edge.
func insertNear(r region, v vertices, eps float64) region {
	out := make(region, len(r))
	for i, ring := range r {
		pts := make([]orb.Point, 0, len(ring))
		for j := 1; j < len(ring); j++ {
			p, q := ring[j-1], ring[j]
			pts = append(pts, p)
			type at struct {
				t float64
				p orb.Point
			}
			var ins []at
			dx, dy := q[0]-p[0], q[1]-p[1]
			l2 := dx*dx + dy*dy
			bb := orb.Bound{Min: p, Max: p}.Extend(q).Pad(eps)
			v.within(bb.Min[0], bb.Max[0], func(c orb.Point) {
				if c[1] < bb.Min[1] || c[1] > bb.Max[1] || l2 == 0 {
					return
				}
				if math.Hypot(c[0]-p[0], c[1]-p[1]) <= eps || math.Hypot(c[0]-q[0], c[1]-q[1]) <= eps {
					return
				}
				if segmentDistance(p, q, c) <= eps {
					ins = append(ins, at{((c[0]-p[0])*dx + (c[1]-p[1])*dy) / l2, c})
				}
			})
			sort.Slice(ins, func(i, j int) bool { return ins[i].t < ins[j].t })
			for _, x := range ins {
				if x.p != pts[len(pts)-1] {
					pts = append(pts, x.p)
				}
			}
		}
		pts = append(pts, ring[len(ring)-1])
		out[i] = pts
	}
	return out
}

// split cuts the edges of a and b where they cross each other and returns
// the pieces, each running in its ring's direction. A crossing point is
// computed once and given to both pieces, so pieces that meet share their
// ends exactly. Crossings within eps of an edge's end are where the edges
// touch at that vertex (snap has made it a vertex of both), not cuts.
func split(a, b region, eps float64) (pa, pb [][2]orb.Point) {
	type edge struct {
		p, q orb.Point
		box  orb.Bound
		cuts []cut
	}
	edges := func(r region) []edge {
		var es []edge
		for _, ring := range r {
			for i := 1; i < len(ring); i++ {
				p, q := ring[i-1], ring[i]
				es = append(es, edge{p: p, q: q, box: orb.Bound{Min: p, Max: p}.Extend(q)})
			}
		}
		sort.Slice(es, func(i, j int) bool { return es[i].box.Min[0] < es[j].box.Min[0] })
		return es
	}
	ea, eb := edges(a), edges(b)
	// b's edges are sorted by their least x: those that begin east of
	// an edge of a are not compared with it.
	for i := range ea {
		e := &ea[i]
		for j := 0; j < len(eb) && eb[j].box.Min[0] <= e.box.Max[0]; j++ {
			f := &eb[j]
			if !e.box.Intersects(f.box) {
				continue
			}
			t, u, x, ok := crossing(e.p, e.q, f.p, f.q, eps)
			if !ok {
				continue
			}
			e.cuts = append(e.cuts, cut{t, x})
			f.cuts = append(f.cuts, cut{u, x})
		}
	}
	pieces := func(es []edge) [][2]orb.Point {
		var out [][2]orb.Point
		for _, e := range es {
			sort.Slice(e.cuts, func(i, j int) bool { return e.cuts[i].t < e.cuts[j].t })
			p := e.p
			for _, c := range e.cuts {
				if c.x != p {
					out = append(out, [2]orb.Point{p, c.x})
					p = c.x
				}
			}
			if p != e.q {
				out = append(out, [2]orb.Point{p, e.q})
			}
		}
		return out
	}
	return pieces(ea), pieces(eb)
}

type cut struct {
	t float64
	x orb.Point
}

// crossing returns where segments pq and rs cross, at t along pq and u
// along rs, when that is away from all four ends by more than eps.
func crossing(p, q, r, s orb.Point, eps float64) (t, u float64, x orb.Point, ok bool) {
	d1 := orb.Point{q[0] - p[0], q[1] - p[1]}
	d2 := orb.Point{s[0] - r[0], s[1] - r[1]}
	den := cross(d1, d2)
	if den == 0 {
		return 0, 0, x, false
	}
	w := orb.Point{r[0] - p[0], r[1] - p[1]}
	t = cross(w, d2) / den
	u = cross(w, d1) / den
	if t < 0 || t > 1 || u < 0 || u > 1 {
		return 0, 0, x, false
	}
	x = orb.Point{p[0] + t*d1[0], p[1] + t*d1[1]}
	for _, e := range [4]orb.Point{p, q, r, s} {
		if math.Hypot(x[0]-e[0], x[1]-e[1]) <= eps {
			return 0, 0, x, false
		}
	}
	return t, u, x, true
}
