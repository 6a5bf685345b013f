package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The fixtures are drawn in metres east and north of a point in the
// district and turned into longitude/latitude, as a layer holds them.
var fixtureOrigin = orb.Point{121.5, 32.1}

func lonlat(p orb.Point) orb.Point {
	k := math.Pi / 180 * meanRadius
	return orb.Point{fixtureOrigin[0] + p[0]/(k*math.Cos(fixtureOrigin[1]*math.Pi/180)), fixtureOrigin[1] + p[1]/k}
}

// poly builds a polygon from rings given in metres.
func poly(rings ...[]orb.Point) orb.Polygon {
	var p orb.Polygon
	for _, r := range rings {
		ring := make(orb.Ring, 0, len(r)+1)
		for _, q := range r {
			ring = append(ring, lonlat(q))
		}
		ring = append(ring, ring[0])
		p = append(p, ring)
	}
	return p
}

// rectRing is the ring of the rectangle [x0,x1]×[y0,y1], counter-clockwise.
func rectRing(x0, y0, x1, y1 float64) []orb.Point {
	return []orb.Point{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}

func reversed(r []orb.Point) []orb.Point {
	out := make([]orb.Point, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

func TestOverlapArea(t *testing.T) {
	square := poly(rectRing(0, 0, 100, 100))
	donut := poly(rectRing(0, 0, 100, 100), reversed(rectRing(25, 25, 75, 75)))
	tests := []struct {
		name string
		a, b orb.Geometry
		want float64 // m²
	}{
		{"Apart", square, poly(rectRing(200, 0, 300, 100)), 0},
		{"TouchingEdge", square, poly(rectRing(100, 0, 200, 100)), 0},
		{"TouchingCorner", square, poly(rectRing(100, 100, 200, 200)), 0},
		{"TouchingPartOfEdge", square, poly(rectRing(100, 30, 200, 60)), 0},
		// The neighbour's edge is drawn along the square's, its
		// vertices a few centimetres off and one in the middle of the
		// square's edge: snapped, they share it.
		{"SnappedSharedEdge", square, poly([]orb.Point{{100.02, -0.01}, {200, 0}, {200, 100}, {99.98, 100.03}, {100.03, 50}}), 0},
		{"SnappedOverlapBy3cm", square, poly(rectRing(99.97, 0, 200, 100)), 0},
		// A sharp corner of the neighbour 30 cm from the square's
		// corner, whose two edges both pass within SnapDistance of it:
		// snapped, the corner's edges run out to it and back.
		{"SnappedSharpCorner", poly([]orb.Point{{-100, 0}, {0, 0}, {0, 100}, {-100, 100}}),
			poly([]orb.Point{{-0.3, 100.001}, {40, 93.6}, {300, 93.6}, {300, 100}}), 0},
		{"Sliver", square, poly(rectRing(99.7, 0, 200, 100)), 30},
		{"SliverOfATriangle", square, poly([]orb.Point{{100, 0}, {200, 0}, {100, 100}, {99, 50}}), 50},
		{"Contained", square, poly(rectRing(40, 40, 60, 60)), 400},
		{"ContainedInCorner", square, poly(rectRing(0, 0, 20, 20)), 400},
		{"Containing", poly(rectRing(40, 40, 60, 60)), square, 400},
		{"Identical", square, square, 10000},
		{"IdenticalOtherWinding", square, poly(reversed(rectRing(0, 0, 100, 100))), 10000},
		{"Crossing", square, poly(rectRing(50, 50, 150, 150)), 2500},
		{"CrossingThrough", square, poly(rectRing(-10, 40, 110, 60)), 2000},
		{"CrossingConcave", poly([]orb.Point{{0, 0}, {100, 0}, {100, 100}, {50, 100}, {50, 50}, {0, 50}}), poly(rectRing(25, 25, 75, 150)), 2500},
		{"HoleCovered", donut, square, 7500},
		{"InHole", donut, poly(rectRing(40, 40, 60, 60)), 0},
		{"FillsHole", donut, poly(rectRing(25, 25, 75, 75)), 0},
		{"AcrossHole", donut, poly(rectRing(50, 0, 150, 100)), 5000 - 1250},
		{"HoleInBoth", donut, donut, 7500},
		{"HoleAgainstHole", donut, poly(rectRing(-50, -50, 150, 150), reversed(rectRing(10, 10, 90, 90))), 10000 - 6400},
		{"MultiPolygon", orb.MultiPolygon{poly(rectRing(0, 0, 10, 10)), poly(rectRing(20, 0, 30, 10))}, poly(rectRing(5, 0, 25, 10)), 100},
		{"MultiPolygonBoth", orb.MultiPolygon{poly(rectRing(0, 0, 10, 10)), poly(rectRing(20, 0, 30, 10))},
			orb.MultiPolygon{poly(rectRing(5, 5, 25, 20)), poly(rectRing(0, -10, 30, 0))}, 50},
		{"Point", square, lonlat(orb.Point{50, 50}), 0},
		{"Nil", square, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, swap := range []bool{false, true} {
				a, b := tt.a, tt.b
				if swap {
					a, b = b, a
				}
				got := OverlapArea(a, b)
				if math.Abs(got-tt.want) > 0.01+tt.want*2e-4 {
					t.Errorf("OverlapArea(swapped %v) = %.4f m², want %.4f", swap, got, tt.want)
				}
			}
		})
	}
}

// star is a random polygon whose every vertex sees its centre c: n
// vertices at increasing angles and random distances.
func star(rnd *rand.Rand, c orb.Point, size float64) orb.Ring {
	n := 3 + rnd.IntN(12)
	angles := make([]float64, n)
	for i := range angles {
		angles[i] = 2 * math.Pi * (float64(i) + 0.8*rnd.Float64()) / float64(n)
	}
	r := make(orb.Ring, 0, n+1)
	for _, a := range angles {
		d := size * (0.2 + 0.8*rnd.Float64())
		r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
	}
	return append(r, r[0])
}

func toRegion(ps ...orb.Polygon) region {
	pl := plane{kx: 1, ky: 1}
	r, _ := pl.region(orb.MultiPolygon(ps))
	return r
}

// estimate counts the points of an n×n grid over box bd inside both
// shapes, by orb's own point-in-polygon test.
func estimate(a, b orb.MultiPolygon, bd orb.Bound, n int) float64 {
	dx, dy := (bd.Max[0]-bd.Min[0])/float64(n), (bd.Max[1]-bd.Min[1])/float64(n)
	// orb's RingContains computes the ring's box on every call, which
	// over a grid costs most of the test: the same ray test, boxes
	// computed once.
	type ring struct {
		r  orb.Ring
		bd orb.Bound
	}
	rings := func(mp orb.MultiPolygon) []ring {
		var out []ring
		for _, p := range mp {
			for _, r := range p {
				out = append(out, ring{r, r.Bound()})
			}
		}
		return out
	}
	ra, rb := rings(a), rings(b)
	// Inside by parity: the rings of valid polygons do not cross.
	in := func(rs []ring, p orb.Point) bool {
		n := 0
		for _, r := range rs {
			if r.bd.Contains(p) && rayParity(r.r, p) {
				n++
			}
		}
		return n%2 == 1
	}
	ba, bb := a.Bound(), b.Bound()
	hits := 0
	for i := range n {
		for j := range n {
			p := orb.Point{bd.Min[0] + (float64(i)+0.5)*dx, bd.Min[1] + (float64(j)+0.5)*dy}
			if ba.Contains(p) && bb.Contains(p) && in(ra, p) && in(rb, p) {
				hits++
			}
		}
	}
	return float64(hits) * dx * dy
}

// TestOverlapAreaRandom compares the area of random star-shaped polygons,
// some with a hole, against counting the points of a fine grid: the count
// can be off by about the perimeter times the grid's spacing.
func TestOverlapAreaRandom(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		mk := func() orb.Polygon {
			c := orb.Point{rnd.Float64() * 100, rnd.Float64() * 100}
			p := orb.Polygon{star(rnd, c, 20+60*rnd.Float64())}
			if rnd.IntN(3) == 0 {
				// A small hole around the centre, which every
				// vertex of the star sees, is inside it.
				p = append(p, star(rnd, c, 3))
			}
			return p
		}
		a, b := orb.MultiPolygon{mk()}, orb.MultiPolygon{mk()}
		if rnd.IntN(4) == 0 {
			// A second polygon, far from the first.
			a = append(a, orb.Polygon{star(rnd, orb.Point{400, 400}, 50)})
			b = append(b, orb.Polygon{star(rnd, orb.Point{420, 380}, 50)})
		}
		// Only where the boxes meet can both hold a point.
		bd, ok := intersection(a.Bound(), b.Bound())
		if !ok {
			bd = orb.Bound{}
		}
		const n = 250
		want := estimate(a, b, bd, n)
		spacing := math.Max(bd.Max[0]-bd.Min[0], bd.Max[1]-bd.Min[1]) / n
		slack := (planar.Length(a) + planar.Length(b)) * spacing
		got := overlapArea(toRegion(a...), toRegion(b...), 1e-9)
		if math.Abs(got-want) > slack {
			t.Fatalf("case %d: overlapArea = %.2f, grid estimate %.2f ± %.2f\na = %v\nb = %v", i, got, want, slack, a, b)
		}
		if snapped := overlapArea(toRegion(a...), toRegion(b...), SnapDistance); math.Abs(snapped-got) > slack {
			t.Fatalf("case %d: snapped %.2f, unsnapped %.2f", i, snapped, got)
		}
	}
}

func rayParity(r orb.Ring, p orb.Point) bool {
	in := false
	for i := 1; i < len(r); i++ {
		a, b := r[i-1], r[i]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
	}
	return in
}

func intersection(a, b orb.Bound) (orb.Bound, bool) {
	c := orb.Bound{Min: orb.Point{max(a.Min[0], b.Min[0]), max(a.Min[1], b.Min[1])}, Max: orb.Point{min(a.Max[0], b.Max[0]), min(a.Max[1], b.Max[1])}}
	return c, c.Min[0] < c.Max[0] && c.Min[1] < c.Max[1]
}

// TestOverlapAreaGrid runs rectangles with holes on a grid of whole
// metres against each other: edges overlap, touch and cross at vertices
// all the time, and the exact area is the number of unit cells inside
// both.
func TestOverlapAreaGrid(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	shape := func() orb.MultiPolygon {
		var mp orb.MultiPolygon
		for k := range 1 + rnd.IntN(2) {
			// The second polygon starts where the first may end at
			// the most: the polygons of a multipolygon do not overlap.
			x0, y0 := float64(15*k+rnd.IntN(8)), float64(rnd.IntN(8))
			x1, y1 := x0+float64(2+rnd.IntN(6)), y0+float64(2+rnd.IntN(6))
			p := orb.Polygon{orb.Ring(append(rectRing(x0, y0, x1, y1), orb.Point{x0, y0}))}
			if x1-x0 > 2 && y1-y0 > 2 && rnd.IntN(2) == 0 {
				hx, hy := x0+1+float64(rnd.IntN(int(x1-x0)-2)), y0+1+float64(rnd.IntN(int(y1-y0)-2))
				p = append(p, orb.Ring(append(reversed(rectRing(hx, hy, hx+1, hy+1)), orb.Point{hx, hy + 1})))
			}
			mp = append(mp, p)
		}
		return mp
	}
	for i := range 2000 {
		a, b := shape(), shape()
		want := 0.0
		for x := 0.5; x < 30; x++ {
			for y := 0.5; y < 20; y++ {
				p := orb.Point{x, y}
				if planar.MultiPolygonContains(a, p) && planar.MultiPolygonContains(b, p) {
					want++
				}
			}
		}
		// Scaled to parcel sizes: cells of 10 m.
		scale := func(mp orb.MultiPolygon) region {
			r := toRegion(mp...)
			for _, ring := range r {
				for j := range ring {
					ring[j] = orb.Point{ring[j][0] * 10, ring[j][1] * 10}
				}
			}
			return r
		}
		if got := overlapArea(scale(a), scale(b), SnapDistance); math.Abs(got-want*100) > 1e-6 {
			t.Fatalf("case %d: overlapArea = %.4f, want %.0f\na = %v\nb = %v", i, got, want*100, a, b)
		}
	}
}

func TestWithin(t *testing.T) {
	square := poly(rectRing(0, 0, 100, 100))
	// A square with a V-shaped notch of depth h cut into its top edge
	// between x = 40 and x = 60.
	notched := func(h float64) orb.Polygon {
		return poly([]orb.Point{{0, 0}, {100, 0}, {100, 100}, {60, 100}, {50, 100 - h}, {40, 100}, {0, 100}})
	}
	// The deepest point of a polygon across the notch's mouth is its
	// middle, 10h/√(100+h²) from the notch's sides.
	notchOut := func(h float64) float64 { return 10 * h / math.Sqrt(100+h*h) }
	line := func(ps ...orb.Point) orb.LineString {
		var l orb.LineString
		for _, p := range ps {
			l = append(l, lonlat(p))
		}
		return l
	}
	tests := []struct {
		name string
		a, b orb.Geometry
		tol  float64
		ok   bool
		far  float64 // when not ok
	}{
		{"Inside", poly(rectRing(10, 10, 90, 90)), square, 0, true, 0},
		{"Identical", square, square, 0, true, 0},
		{"SharedEdge", poly(rectRing(0, 0, 50, 100)), square, 0, true, 0},
		{"VertexOut03", poly([]orb.Point{{10, 10}, {90, 10}, {100.3, 50}, {90, 90}, {10, 90}}), square, 0.5, true, 0},
		{"VertexOut1", poly([]orb.Point{{10, 10}, {90, 10}, {101, 50}, {90, 90}, {10, 90}}), square, 0.5, false, 1},
		{"EdgeOut03", poly(rectRing(0, 0, 100.3, 100)), square, 0.5, true, 0},
		{"EdgeOut1", poly(rectRing(0, 0, 101, 100)), square, 0.5, false, 1},
		{"AcrossNotch03", poly(rectRing(10, 10, 90, 100)), notched(0.3), 0.5, true, 0},
		{"AcrossNotch1", poly(rectRing(10, 10, 90, 100)), notched(1), 0.5, false, notchOut(1)},
		{"AcrossNotch5", poly(rectRing(10, 10, 90, 100)), notched(5), 0.5, false, notchOut(5)},
		{"OverHole", poly(rectRing(10, 10, 90, 90)), poly(rectRing(0, 0, 100, 100), reversed(rectRing(40, 40, 60, 60))), 0.5, false, 10},
		{"OverSmallHole", poly(rectRing(10, 10, 90, 90)), poly(rectRing(0, 0, 100, 100), reversed(rectRing(49.7, 49.7, 50.3, 50.3))), 0.5, true, 0},
		{"Apart", poly(rectRing(200, 0, 300, 100)), square, 0.5, false, 200},
		{"InMultiPolygon", poly(rectRing(110, 10, 190, 90)), orb.MultiPolygon{square, poly(rectRing(100, 0, 200, 100))}, 0, true, 0},
		{"AcrossMultiPolygon", poly(rectRing(50, 10, 150, 90)), orb.MultiPolygon{square, poly(rectRing(100, 0, 200, 100))}, 0, true, 0},
		// Two features of the layer a is within, overlapping: a point in
		// both is inside.
		{"InOverlappingParts", poly(rectRing(40, 10, 60, 90)), orb.MultiPolygon{square, poly(rectRing(30, 0, 130, 100))}, 0, true, 0},
		{"AcrossGap", poly(rectRing(50, 10, 150, 90)), orb.MultiPolygon{square, poly(rectRing(104, 0, 200, 100))}, 0.5, false, 2},
		{"PointIn", lonlat(orb.Point{50, 50}), square, 0, true, 0},
		{"PointNear", lonlat(orb.Point{100.3, 50}), square, 0.5, true, 0},
		{"PointOut", lonlat(orb.Point{103, 50}), square, 0.5, false, 3},
		{"LineIn", line(orb.Point{0, 0}, orb.Point{100, 100}), square, 0, true, 0},
		{"LineAcrossNotch", line(orb.Point{10, 100}, orb.Point{90, 100}), notched(1), 0.5, false, notchOut(1)},
		{"LineOut", line(orb.Point{50, 50}, orb.Point{150, 50}), square, 0.5, false, 50},
		{"NotPolygon", square, lonlat(orb.Point{50, 50}), 0.5, false, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, far := Within(tt.a, tt.b, tt.tol)
			if ok != tt.ok {
				t.Fatalf("Within(tol %g) = %v (farthest %.3f m), want %v", tt.tol, ok, far, tt.ok)
			}
			if ok && far > math.Max(tt.tol, SnapDistance)+resolution {
				t.Errorf("Within(tol %g) is ok with farthest %.3f m", tt.tol, far)
			}
			if !ok && !(math.IsInf(tt.far, 1) && math.IsInf(far, 1)) && math.Abs(far-tt.far) > math.Max(resolution, tt.far/100)+tt.far*2e-4 {
				t.Errorf("Within(tol %g): farthest %.3f m, want %.3f", tt.tol, far, tt.far)
			}
		})
	}
}

// Parcels as drawn: irregular polygons of 20 vertices some 200 m across,
// against a neighbour and against a district boundary of 400 vertices.
func benchParcels() (a, b, boundary orb.Polygon) {
	rnd := rand.New(rand.NewPCG(5, 6))
	ring := func(c orb.Point, size float64, n int) []orb.Point {
		var r []orb.Point
		for i := range n {
			ang := 2 * math.Pi * float64(i) / float64(n)
			d := size * (0.85 + 0.15*rnd.Float64())
			r = append(r, orb.Point{c[0] + d*math.Cos(ang), c[1] + d*math.Sin(ang)})
		}
		return r
	}
	return poly(ring(orb.Point{0, 0}, 100, 20)), poly(ring(orb.Point{150, 0}, 100, 20)), poly(ring(orb.Point{0, 0}, 5000, 400))
}

func BenchmarkOverlapArea(b *testing.B) {
	p, q, boundary := benchParcels()
	b.Run("Parcels", func(b *testing.B) {
		for b.Loop() {
			OverlapArea(p, q)
		}
	})
	b.Run("ParcelBoundary", func(b *testing.B) {
		for b.Loop() {
			OverlapArea(p, boundary)
		}
	})
}

func BenchmarkWithin(b *testing.B) {
	p, _, boundary := benchParcels()
	b.Run("ParcelInBoundary", func(b *testing.B) {
		for b.Loop() {
			Within(p, boundary, 0.5)
		}
	})
	// A parcel drawn against the boundary, sharing 10 of its edges.
	edge := poly(rectRing(0, 0, 100, 100))
	whole := poly([]orb.Point{{0, 0}, {100, 0}, {100, 50}, {100, 100}, {200, 100}, {200, -100}, {0, -100}})
	b.Run("ParcelOnBoundary", func(b *testing.B) {
		for b.Loop() {
			Within(edge, whole, 0.5)
		}
	})
}

// TestOverlapAreaSharedBoundary draws two neighbours along a random
// boundary, the second's copy of it a couple of centimetres off and with
// vertices of its own along it, as snapping in an editor and rounding to
// 7 decimals leave it: they share no area. Moved 30 cm into the first, the
// second shares the strip between the two lines, 30 cm times its height,
// when the boundary is steep enough that the strip is wider than
// SnapDistance everywhere; where it is flatter, the strip is narrower and
// is taken as shared, so there is less.
func TestOverlapAreaSharedBoundary(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	jitter := func(p orb.Point, r float64) orb.Point {
		a, d := 2*math.Pi*rnd.Float64(), r*rnd.Float64()
		return orb.Point{p[0] + d*math.Cos(a), p[1] + d*math.Sin(a)}
	}
	for i := range 600 {
		h := 200 + 800*rnd.Float64()
		k := 2 + rnd.IntN(30)
		dy := h / float64(k)
		// Steep: each edge within 63° of north, so the strip between
		// the line and the line moved 30 cm east is over 13 cm wide.
		steep := i%2 == 0
		line := []orb.Point{{60 * (rnd.Float64() - 0.5), 0}}
		for j := 1; j <= k; j++ {
			x := 60 * (rnd.Float64() - 0.5)
			if steep {
				x = line[j-1][0] + 2*dy*(2*rnd.Float64()-1)
			}
			line = append(line, orb.Point{x, dy * float64(j)})
		}
		far := 3 * h
		west := append([]orb.Point{{-far, 0}}, line...)
		west = append(west, orb.Point{-far, h}, orb.Point{-far, 0})
		for _, shift := range []float64{0, 0.3} {
			var east []orb.Point
			for j := len(line) - 1; j >= 0; j-- {
				p := line[j]
				east = append(east, jitter(orb.Point{p[0] - shift, p[1]}, 0.02))
				if j > 0 && rnd.IntN(2) == 0 {
					// A vertex of its own, on the shared edge.
					q, f := line[j-1], rnd.Float64()
					east = append(east, jitter(orb.Point{p[0] + f*(q[0]-p[0]) - shift, p[1] + f*(q[1]-p[1])}, 0.01))
				}
			}
			east = append(east, orb.Point{far, 0}, orb.Point{far, h}, east[0])
			a, b := toRegion(orb.Polygon{west}), toRegion(orb.Polygon{east})
			got := overlapArea(a, b, SnapDistance)
			want, slack := shift*h, 0.03*h
			switch {
			case shift == 0 && got > 0.01:
				t.Fatalf("case %d: neighbours share %.4f m², want none\nwest = %v\neast = %v", i, got, west, east)
			case steep && math.Abs(got-want) > slack, !steep && (got < 0 || got > want+slack):
				t.Fatalf("case %d (steep %v), shift %g m: overlapArea = %.3f m², want %.1f ± %.1f\nwest = %v\neast = %v", i, steep, shift, got, want, slack, west, east)
			}
		}
	}
}
