package geo

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// Index is a static packed R-tree over bounding boxes: built once, then
// searched by any number of goroutines. Items are sorted along a Hilbert
// curve and packed into nodes of indexNodeSize, as in flatbush.
type Index struct {
	boxes []orb.Bound // leaves, then each level of nodes up to the root
	refs  []int       // for a leaf, the item number; for a node, its first child
	level []int       // start of each level in boxes; the last level is the root
}

const indexNodeSize = 16

// NewIndex indexes the bounds; Search reports items by their position in
// bounds.
func NewIndex(bounds []orb.Bound) *Index {
	n := len(bounds)
	ix := &Index{}
	if n == 0 {
		return ix
	}
	total := orb.Bound{Min: bounds[0].Min, Max: bounds[0].Max}
	for _, b := range bounds {
		total = total.Union(b)
	}
	w, h := total.Max[0]-total.Min[0], total.Max[1]-total.Min[1]
	keys := make([]uint32, n)
	order := make([]int, n)
	for i, b := range bounds {
		const max = 1<<16 - 1
		x, y := 0.0, 0.0
		if w > 0 {
			x = ((b.Min[0]+b.Max[0])/2 - total.Min[0]) / w
		}
		if h > 0 {
			y = ((b.Min[1]+b.Max[1])/2 - total.Min[1]) / h
		}
		keys[i] = hilbert(uint32(x*max), uint32(y*max))
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	for _, i := range order {
		ix.boxes = append(ix.boxes, bounds[i])
		ix.refs = append(ix.refs, i)
	}
	ix.level = []int{0}
	start, count := 0, n
	for count > 1 {
		next := len(ix.boxes)
		for i := start; i < start+count; i += indexNodeSize {
			end := min(i+indexNodeSize, start+count)
			b := ix.boxes[i]
			for j := i + 1; j < end; j++ {
				b = b.Union(ix.boxes[j])
			}
			ix.boxes = append(ix.boxes, b)
			ix.refs = append(ix.refs, i)
		}
		ix.level = append(ix.level, next)
		start, count = next, len(ix.boxes)-next
	}
	return ix
}

// SearchAppend appends to dst every item whose bounds intersect b, in no
// particular order, and returns it. It walks the tree with a stack of its
// own: no recursion, no callback, no allocation beyond dst.
func (ix *Index) SearchAppend(dst []int, b orb.Bound) []int {
	if len(ix.boxes) == 0 {
		return dst
	}
	type entry struct{ level, node int }
	var stackBuf [64]entry
	stack := stackBuf[:0]
	top := len(ix.level) - 1
	for node := ix.level[top]; node < ix.levelEnd(top); node++ {
		stack = append(stack, entry{top, node})
	}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !ix.boxes[e.node].Intersects(b) {
			continue
		}
		if e.level == 0 {
			dst = append(dst, ix.refs[e.node])
			continue
		}
		first := ix.refs[e.node]
		end := min(first+indexNodeSize, ix.levelEnd(e.level-1))
		for c := first; c < end; c++ {
			stack = append(stack, entry{e.level - 1, c})
		}
	}
	return dst
}

func (ix *Index) levelEnd(level int) int {
	if level+1 < len(ix.level) {
		return ix.level[level+1]
	}
	return len(ix.boxes)
}

// hilbert returns the distance of (x, y) along a Hilbert curve filling the
// 2^16 × 2^16 grid.
func hilbert(x, y uint32) uint32 {
	var d uint32
	for s := uint32(1 << 15); s > 0; s /= 2 {
		var rx, ry uint32
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				x, y = 1<<16-1-x, 1<<16-1-y
			}
			x, y = y, x
		}
	}
	return d
}

// IntersectsBound reports whether geometry g and box b share a point:
// touching counts, as for the OGC bbox parameter.
func IntersectsBound(g orb.Geometry, b orb.Bound) bool {
	if g == nil || !g.Bound().Intersects(b) {
		return false
	}
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if b.Contains(p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return lineHitsBound(g, b)
	case orb.MultiLineString:
		for _, l := range g {
			if lineHitsBound(l, b) {
				return true
			}
		}
		return false
	case orb.Polygon:
		return polygonHitsBound(g, b)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonHitsBound(p, b) {
				return true
			}
		}
		return false
	}
	return true
}

func lineHitsBound(l []orb.Point, b orb.Bound) bool {
	for i, p := range l {
		if b.Contains(p) {
			return true
		}
		if i > 0 && segmentHitsBound(l[i-1], p, b) {
			return true
		}
	}
	return false
}

// segmentHitsBound clips segment pq against box b (Liang–Barsky).
func segmentHitsBound(p, q orb.Point, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := q[0]-p[0], q[1]-p[1]
	for _, c := range [4][2]float64{
		{-dx, p[0] - b.Min[0]}, {dx, b.Max[0] - p[0]},
		{-dy, p[1] - b.Min[1]}, {dy, b.Max[1] - p[1]},
	} {
		pp, qq := c[0], c[1]
		if pp == 0 {
			if qq < 0 {
				return false
			}
			continue
		}
		r := qq / pp
		if pp < 0 {
			t0 = math.Max(t0, r)
		} else {
			t1 = math.Min(t1, r)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

func polygonHitsBound(p orb.Polygon, b orb.Bound) bool {
	for _, r := range p {
		if lineHitsBound(r, b) {
			return true
		}
	}
	// The box may lie wholly inside the polygon, away from its rings.
	return len(p) > 0 && inInterior(b.Min, p)
}
