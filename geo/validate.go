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
		for i, p := range g {
			if err := checkPolygon(p); err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
		}
		return checkDisjoint(g)
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
	if err := checkCrossings([]orb.Polygon{p}); err != nil {
		return err
	}
	shell := p[0]
	for i := 1; i < len(p); i++ {
		if !ringInside(p[i], shell) {
			return fmt.Errorf("ring %d: %w", i, ErrHoleOutside)
		}
		for j := 1; j < len(p); j++ {
			if j != i && ringInside(p[i], p[j]) {
				return fmt.Errorf("ring %d: %w (ring %d)", i, ErrHoleInHole, j)
			}
		}
	}
	return nil
}

// checkDisjoint reports polygons whose boundaries cross or of which one
// lies inside another. Touching at points is allowed.
func checkDisjoint(mp orb.MultiPolygon) error {
	if len(mp) < 2 {
		return nil
	}
	if err := checkCrossings(mp); err != nil {
		return err
	}
	for i := range mp {
		for j := range mp {
			if i != j && ringInside(mp[i][0], mp[j][0]) && !ringInsideAnyHole(mp[i][0], mp[j]) {
				return fmt.Errorf("polygon %d lies inside polygon %d: %w", i, j, ErrPolygonsOverlap)
			}
		}
	}
	return nil
}

func ringInsideAnyHole(r orb.Ring, p orb.Polygon) bool {
	for _, h := range p[1:] {
		if ringInside(r, h) {
			return true
		}
	}
	return false
}

func distinct(r orb.Ring) int {
	seen := make(map[orb.Point]struct{}, len(r))
	for _, p := range r {
		seen[p] = struct{}{}
	}
	return len(seen)
}

// segment is one edge of a ring, with where it came from.
type segment struct {
	a, b       orb.Point
	poly, ring int
	idx, n     int // index of the edge in its ring, and the ring's edge count
	minX, maxX float64
}

// checkCrossings sweeps all edges of the polygons sorted by their minimum x,
// so only edges whose x-ranges overlap are compared. Hand-drawn rings are
// small, but an imported file may hold rings of many thousand vertices.
func checkCrossings(polys []orb.Polygon) error {
	var segs []segment
	for pi, p := range polys {
		for ri, r := range p {
			n := len(r) - 1
			for i := 0; i < n; i++ {
				a, b := r[i], r[i+1]
				segs = append(segs, segment{a: a, b: b, poly: pi, ring: ri, idx: i, n: n,
					minX: math.Min(a[0], b[0]), maxX: math.Max(a[0], b[0])})
			}
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].minX < segs[j].minX })
	for i := range segs {
		s := &segs[i]
		for j := i + 1; j < len(segs) && segs[j].minX <= s.maxX; j++ {
			if err := crossing(s, &segs[j], len(polys) > 1); err != nil {
				return err
			}
		}
	}
	return nil
}

func crossing(s, t *segment, multi bool) error {
	if math.Max(s.a[1], s.b[1]) < math.Min(t.a[1], t.b[1]) ||
		math.Max(t.a[1], t.b[1]) < math.Min(s.a[1], s.b[1]) {
		return nil
	}
	where := func(err error) error {
		if multi {
			if s.poly == t.poly {
				return fmt.Errorf("polygon %d, ring %d: %w", s.poly, s.ring, err)
			}
			return fmt.Errorf("polygons %d and %d: %w", min(s.poly, t.poly), max(s.poly, t.poly), err)
		}
		if err == ErrRingsCross {
			return fmt.Errorf("rings %d and %d: %w", min(s.ring, t.ring), max(s.ring, t.ring), err)
		}
		return fmt.Errorf("ring %d: %w", s.ring, err)
	}
	if s.poly == t.poly && s.ring == t.ring {
		d := s.idx - t.idx
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
		if s.poly != t.poly {
			return where(ErrPolygonsOverlap)
		}
		return where(ErrRingsCross)
	}
	return nil
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

// ringInside reports whether ring r lies inside ring outer, judged by the
// first vertex of r that is not on outer's boundary. Crossings between the
// two are found by checkCrossings.
func ringInside(r, outer orb.Ring) bool {
	for _, p := range r {
		switch pointInRing(p, outer) {
		case 1:
			return true
		case -1:
			return false
		}
	}
	// Every vertex is on the boundary: the same ring drawn twice.
	return true
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
