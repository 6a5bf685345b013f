package geo

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// Validate checks that g is a shape planmap can store: finite coordinates
// inside the longitude/latitude range, lines of at least two distinct
// positions, closed polygon rings of at least four positions that do not
// intersect themselves, holes inside their exterior ring and not inside
// each other, rings of one polygon that do not cross, and polygons of a
// multipolygon that do not overlap. Rings may touch other rings at a point.
//
// The error wraps one of the package's sentinel errors and says where the
// problem is ("polygon 2, ring 0: ring intersects itself"). A nil geometry
// is valid: GeoJSON allows features without geometry.
func Validate(g orb.Geometry) error {
	switch g := g.(type) {
	case nil:
		return nil
	case orb.Point:
		return checkPoint(g)
	case orb.MultiPoint:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
		for i, p := range g {
			if err := checkPoint(p); err != nil {
				return fmt.Errorf("point %d: %w", i, err)
			}
		}
	case orb.LineString:
		return checkLine(g)
	case orb.MultiLineString:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
		for i, l := range g {
			if err := checkLine(l); err != nil {
				return fmt.Errorf("line %d: %w", i, err)
			}
		}
	case orb.Polygon:
		return checkPolygon(g)
	case orb.MultiPolygon:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
		polys := make([]orb.Polygon, len(g))
		for i, p := range g {
			if err := checkRings(p); err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
			polys[i] = withoutRepeats(p)
		}
		return checkTopology(polys)
	default:
		return fmt.Errorf("%w %s", ErrUnknownType, g.GeoJSONType())
	}
	return nil
}

func checkPoint(p orb.Point) error {
	for _, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ErrNonFinite
		}
	}
	if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return fmt.Errorf("%w: [%g, %g]", ErrOutOfRange, p[0], p[1])
	}
	return nil
}

func checkPoints(ps []orb.Point) error {
	for i, p := range ps {
		if err := checkPoint(p); err != nil {
			return fmt.Errorf("position %d: %w", i, err)
		}
	}
	return nil
}

func checkLine(l orb.LineString) error {
	if err := checkPoints(l); err != nil {
		return err
	}
	for _, p := range l {
		if p != l[0] {
			return nil
		}
	}
	return ErrLineTooShort
}

func checkPolygon(p orb.Polygon) error {
	if err := checkRings(p); err != nil {
		return err
	}
	return checkTopology([]orb.Polygon{withoutRepeats(p)})
}

// withoutRepeats returns p without consecutive repeated positions, which
// are no edge at all: a ring may repeat a position, as GEOS allows.
func withoutRepeats(p orb.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		q := make(orb.Ring, 0, len(r))
		for _, pt := range r {
			if len(q) == 0 || q[len(q)-1] != pt {
				q = append(q, pt)
			}
		}
		out[i] = q
	}
	return out
}

// checkRings checks each ring on its own: coordinates, closure, length.
func checkRings(p orb.Polygon) error {
	if len(p) == 0 {
		return ErrEmptyGeometry
	}
	for i, r := range p {
		if err := checkPoints(r); err != nil {
			return fmt.Errorf("ring %d: %w", i, err)
		}
		if len(r) < 4 {
			return fmt.Errorf("ring %d: %w", i, ErrRingTooShort)
		}
		if r[0] != r[len(r)-1] {
			return fmt.Errorf("ring %d: %w", i, ErrRingNotClosed)
		}
		if distinct(r) < 3 {
			return fmt.Errorf("ring %d: %w", i, ErrRingTooShort)
		}
	}
	return nil
}

func distinct(r orb.Ring) int {
	seen := make(map[orb.Point]struct{}, len(r))
	for _, p := range r {
		seen[p] = struct{}{}
	}
	return len(seen)
}

// ringID names a ring: polygon and ring index.
type ringID struct{ poly, ring int }

// edgeID names an edge: its ring and index in the ring.
type edgeID struct {
	ringID
	idx int
}

// segment is one edge of a ring.
type segment struct {
	a, b       orb.Point
	id         edgeID
	n          int // edge count of its ring
	minX, maxX float64
}

// topology is what the sweep over all edges found: where rings of
// different polygons or of one polygon touch without crossing.
type topology struct {
	polys   []orb.Polygon
	splits  map[edgeID][]orb.Point           // points where another ring touches an edge
	touches map[[2]ringID]map[orb.Point]bool // touch points of two rings
}

// checkTopology checks the rings of one polygon, or of the polygons of a
// multipolygon, against each other: rings do not cross or share edges;
// holes lie inside their shell and outside each other; the interior of a
// polygon is connected (rings touch each other at most once, in no cycle);
// polygons of a multipolygon have no interior in common.
//
// Where rings touch, the touched edges are split at the touch points, and
// each piece is classified by its midpoint, so that a ring passing through
// another's vertex is caught as surely as one crossing an edge.
func checkTopology(polys []orb.Polygon) error {
	multi := len(polys) > 1
	tp := topology{polys: polys, splits: map[edgeID][]orb.Point{}, touches: map[[2]ringID]map[orb.Point]bool{}}
	if err := tp.sweep(multi); err != nil {
		return err
	}
	for pi, p := range polys {
		where := func(format string, args ...any) string {
			if multi {
				return fmt.Sprintf("polygon %d, "+format, append([]any{pi}, args...)...)
			}
			return fmt.Sprintf(format, args...)
		}
		for h := 1; h < len(p); h++ {
			mids := tp.midpoints(ringID{pi, h})
			for _, m := range mids {
				if pointInRing(m, p[0]) < 0 {
					return fmt.Errorf("%s: %w", where("ring %d", h), ErrHoleOutside)
				}
			}
			for j := 1; j < len(p); j++ {
				if j == h || !p[h].Bound().Intersects(p[j].Bound()) {
					continue
				}
				for _, m := range mids {
					if pointInRing(m, p[j]) > 0 {
						return fmt.Errorf("%s: %w (ring %d)", where("ring %d", h), ErrHoleInHole, j)
					}
				}
			}
		}
		if err := tp.connected(pi); err != nil {
			return fmt.Errorf("%s: %w", where("rings"), err)
		}
	}
	for i := range polys {
		for j := range polys {
			if i == j || !polys[i][0].Bound().Intersects(polys[j][0].Bound()) {
				continue
			}
			for _, m := range tp.midpoints(ringID{i, 0}) {
				if inInterior(m, polys[j]) {
					return fmt.Errorf("polygons %d and %d: %w", min(i, j), max(i, j), ErrPolygonsOverlap)
				}
			}
		}
	}
	return nil
}

// sweep compares all edges, sorted by their minimum x, so that only edges
// whose x-ranges overlap are compared: hand-drawn rings are small, but an
// imported file may hold rings of many thousand vertices.
func (tp *topology) sweep(multi bool) error {
	var segs []segment
	for pi, p := range tp.polys {
		for ri, r := range p {
			n := len(r) - 1
			for i := 0; i < n; i++ {
				a, b := r[i], r[i+1]
				segs = append(segs, segment{a: a, b: b, id: edgeID{ringID{pi, ri}, i}, n: n,
					minX: math.Min(a[0], b[0]), maxX: math.Max(a[0], b[0])})
			}
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].minX < segs[j].minX })
	for i := range segs {
		s := &segs[i]
		for j := i + 1; j < len(segs) && segs[j].minX <= s.maxX; j++ {
			if err := tp.compare(s, &segs[j], multi); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tp *topology) compare(s, t *segment, multi bool) error {
	if math.Max(s.a[1], s.b[1]) < math.Min(t.a[1], t.b[1]) ||
		math.Max(t.a[1], t.b[1]) < math.Min(s.a[1], s.b[1]) {
		return nil
	}
	sr, tr := s.id.ringID, t.id.ringID
	where := func(err error) error {
		switch {
		case sr.poly != tr.poly:
			return fmt.Errorf("polygons %d and %d: %w", min(sr.poly, tr.poly), max(sr.poly, tr.poly), err)
		case multi && sr == tr:
			return fmt.Errorf("polygon %d, ring %d: %w", sr.poly, sr.ring, err)
		case multi:
			return fmt.Errorf("polygon %d, rings %d and %d: %w", sr.poly, min(sr.ring, tr.ring), max(sr.ring, tr.ring), err)
		case sr == tr:
			return fmt.Errorf("ring %d: %w", sr.ring, err)
		}
		return fmt.Errorf("rings %d and %d: %w", min(sr.ring, tr.ring), max(sr.ring, tr.ring), err)
	}
	if sr == tr {
		d := s.id.idx - t.id.idx
		if d < 0 {
			d = -d
		}
		if d == 1 || d == s.n-1 {
			// Neighbouring edges share a vertex; they are wrong only when
			// they fold back over each other (a spike).
			if collinearOverlap(s.a, s.b, t.a, t.b) {
				return where(ErrSelfIntersects)
			}
			return nil
		}
		if intersects(s.a, s.b, t.a, t.b) {
			return where(ErrSelfIntersects)
		}
		return nil
	}
	if properCross(s.a, s.b, t.a, t.b) || collinearOverlap(s.a, s.b, t.a, t.b) {
		if sr.poly != tr.poly {
			return where(ErrPolygonsOverlap)
		}
		return where(ErrRingsCross)
	}
	for _, p := range [2]orb.Point{s.a, s.b} {
		if onEdge(t.a, t.b, p) {
			tp.touch(sr, tr, p, t.id, t)
		}
	}
	for _, p := range [2]orb.Point{t.a, t.b} {
		if onEdge(s.a, s.b, p) {
			tp.touch(sr, tr, p, s.id, s)
		}
	}
	return nil
}

// touch records that rings a and b meet at p, which lies on edge e.
func (tp *topology) touch(a, b ringID, p orb.Point, e edgeID, s *segment) {
	key := [2]ringID{a, b}
	if b.poly < a.poly || (b.poly == a.poly && b.ring < a.ring) {
		key = [2]ringID{b, a}
	}
	if tp.touches[key] == nil {
		tp.touches[key] = map[orb.Point]bool{}
	}
	tp.touches[key][p] = true
	if p != s.a && p != s.b {
		tp.splits[e] = append(tp.splits[e], p)
	}
}

// midpoints returns the midpoints of the ring's edges, each edge first cut
// where other rings touch it.
func (tp *topology) midpoints(id ringID) []orb.Point {
	r := tp.polys[id.poly][id.ring]
	var out []orb.Point
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		cuts := tp.splits[edgeID{id, i}]
		if len(cuts) == 0 {
			out = append(out, orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2})
			continue
		}
		pts := append([]orb.Point{a}, cuts...)
		sort.Slice(pts[1:], func(x, y int) bool {
			return sqDist(a, pts[1+x]) < sqDist(a, pts[1+y])
		})
		pts = append(pts, b)
		for k := 1; k < len(pts); k++ {
			out = append(out, orb.Point{(pts[k-1][0] + pts[k][0]) / 2, (pts[k-1][1] + pts[k][1]) / 2})
		}
	}
	return out
}

func sqDist(a, b orb.Point) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

// connected reports an error when the rings of polygon pi touch so as to
// cut its interior in pieces: two rings touching at two points, or rings
// touching in a cycle.
func (tp *topology) connected(pi int) error {
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		if p, ok := parent[x]; ok && p != x {
			parent[x] = find(p)
			return parent[x]
		}
		parent[x] = x
		return x
	}
	// The rings meeting at one point are joined once each, in a star, so
	// that three rings meeting at a single point are not taken for a cycle.
	at := map[orb.Point][]int{}
	for key, pts := range tp.touches {
		if key[0].poly != pi || key[1].poly != pi {
			continue
		}
		for p := range pts {
			at[p] = appendUnique(appendUnique(at[p], key[0].ring), key[1].ring)
		}
	}
	points := make([]orb.Point, 0, len(at))
	for p := range at {
		points = append(points, p)
	}
	sort.Slice(points, func(i, j int) bool {
		return points[i][0] < points[j][0] || (points[i][0] == points[j][0] && points[i][1] < points[j][1])
	})
	for _, p := range points {
		rings := at[p]
		for _, r := range rings[1:] {
			a, b := find(rings[0]), find(r)
			if a == b {
				return ErrDisconnected
			}
			parent[b] = a
		}
	}
	return nil
}

func appendUnique(list []int, v int) []int {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// inInterior reports whether p lies strictly inside polygon poly: inside
// its shell and outside (not on) every hole.
func inInterior(p orb.Point, poly orb.Polygon) bool {
	if pointInRing(p, poly[0]) <= 0 {
		return false
	}
	for _, h := range poly[1:] {
		if pointInRing(p, h) >= 0 {
			return false
		}
	}
	return true
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// onEdge reports whether p lies on segment ab.
func onEdge(a, b, p orb.Point) bool {
	return orient(a, b, p) == 0 && onSegment(a, b, p)
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// intersects reports whether segments ab and cd share any point.
func intersects(a, b, c, d orb.Point) bool {
	o1, o2 := sign(orient(a, b, c)), sign(orient(a, b, d))
	o3, o4 := sign(orient(c, d, a)), sign(orient(c, d, b))
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// properCross reports whether ab and cd cross at a single point interior to
// both.
func properCross(a, b, c, d orb.Point) bool {
	o1, o2 := sign(orient(a, b, c)), sign(orient(a, b, d))
	o3, o4 := sign(orient(c, d, a)), sign(orient(c, d, b))
	return o1*o2 < 0 && o3*o4 < 0
}

// collinearOverlap reports whether ab and cd lie on one line and share more
// than a single point.
func collinearOverlap(a, b, c, d orb.Point) bool {
	if orient(a, b, c) != 0 || orient(a, b, d) != 0 {
		return false
	}
	// Project on the axis with the larger extent.
	k := 0
	if math.Abs(b[0]-a[0]) < math.Abs(b[1]-a[1]) {
		k = 1
	}
	lo1, hi1 := math.Min(a[k], b[k]), math.Max(a[k], b[k])
	lo2, hi2 := math.Min(c[k], d[k]), math.Max(c[k], d[k])
	return math.Min(hi1, hi2) > math.Max(lo1, lo2)
}

// pointInRing returns 1 inside, -1 outside, 0 on the boundary.
func pointInRing(p orb.Point, r orb.Ring) int {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if orient(a, b, p) == 0 && onSegment(a, b, p) {
			return 0
		}
		if (a[1] > p[1]) != (b[1] > p[1]) &&
			p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	if in {
		return 1
	}
	return -1
}
