package geo

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// TestDecodeWKB checks decodeWKB against orb's decoder, which it stands
// in for: the same geometry for every kind a layer holds (empty parts
// included), and a refusal (so that orb decides) for what it does not
// read, truncated blobs among them; alone and into one arena shared by
// all of them.
func TestDecodeWKB(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pts := func(n int) []orb.Point {
		ps := make([]orb.Point, n)
		for i := range ps {
			ps[i] = orb.Point{r.Float64()*360 - 180, r.Float64()*180 - 90}
		}
		return ps
	}
	poly := func() orb.Polygon {
		p := make(orb.Polygon, r.IntN(3))
		for i := range p {
			p[i] = pts(r.IntN(7))
		}
		return p
	}
	var geoms []orb.Geometry
	for range 500 {
		mp := make(orb.MultiPolygon, r.IntN(4))
		for i := range mp {
			mp[i] = poly()
		}
		ml := make(orb.MultiLineString, r.IntN(4))
		for i := range ml {
			ml[i] = pts(r.IntN(5))
		}
		geoms = append(geoms, pts(1)[0], orb.LineString(pts(r.IntN(6))), poly(), orb.MultiPoint(pts(r.IntN(5))), ml, mp)
	}
	var arena Arena
	var decoded, wants []orb.Geometry
	for _, g := range geoms {
		b, err := wkb.Marshal(g, binary.LittleEndian)
		if err != nil {
			t.Fatal(err)
		}
		want, err := wkb.Unmarshal(b)
		if err != nil {
			t.Fatalf("wkb.Unmarshal(%v): %v", g, err)
		}
		got, ok := decodeWKB(b, nil)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeWKB(%x) = %v, %v; want %v", b, got, ok, want)
		}
		got, ok = decodeWKB(b, &arena)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeWKB(%x) into an arena = %v, %v; want %v", b, got, ok, want)
		}
		decoded, wants = append(decoded, got), append(wants, want)
		// Truncated: never a geometry orb would not give.
		for _, n := range []int{0, 1, 5, 8, len(b) / 2, len(b) - 1} {
			if n < 0 || n >= len(b) {
				continue
			}
			if got, ok := decodeWKB(b[:n], nil); ok {
				if want, err := wkb.Unmarshal(b[:n]); err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("decodeWKB(%x) = %v, ok; orb gives %v, %v", b[:n], got, want, err)
				}
			}
		}
		big, _ := wkb.Marshal(g, binary.BigEndian)
		if _, ok := decodeWKB(big, nil); ok {
			t.Fatalf("decodeWKB read big-endian %x, want it left to orb", big)
		}
	}
	// Nothing decoded later wrote into what was decoded before.
	if !reflect.DeepEqual(decoded, wants) {
		t.Fatal("geometries decoded into the arena changed as more were")
	}
	col, _ := wkb.Marshal(orb.Collection{orb.Point{1, 2}}, binary.LittleEndian)
	if _, ok := decodeWKB(col, nil); ok {
		t.Fatal("decodeWKB read a collection, want it left to orb")
	}
}

// TestDecodeWKBParts checks that the parts decodeWKB gives share no
// room, alone or in an arena: appending to one ring, or to the rings of
// one polygon, leaves the next ring or polygon as it was.
func TestDecodeWKBParts(t *testing.T) {
	want := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, {{5, 5}, {6, 5}, {6, 6}, {5, 5}}}, {{{7, 7}, {8, 7}, {8, 8}, {7, 7}}}}
	b, _ := wkb.Marshal(want, binary.LittleEndian)
	for _, a := range []*Arena{nil, new(Arena)} {
		g, ok := decodeWKB(b, a)
		if !ok {
			t.Fatal("decodeWKB refused a multipolygon")
		}
		mp := g.(orb.MultiPolygon)
		_ = append(mp[0][0], orb.Point{9, 9})
		_ = append(mp[0], orb.Ring{{9, 9}})
		if !reflect.DeepEqual(mp, want) {
			t.Fatalf("arena %v: after appending to ring 0 and to polygon 0: %v, want %v", a != nil, mp, want)
		}
	}
}

// TestSlab checks what Slab.Take hands out: empty slices with the room
// asked for and no more, so that appending to one never writes into the
// next; not nil when empty; large ones apart; small arrays first.
func TestSlab(t *testing.T) {
	var s Slab[int]
	if got := s.Take(0); got == nil || len(got) != 0 {
		t.Fatalf("Take(0) = %#v, want an empty slice that is not nil", got)
	}
	var taken [][]int
	for i := range 3000 {
		n := 1 + i%7
		p := s.Take(n)
		if len(p) != 0 || cap(p) != n {
			t.Fatalf("Take(%d) = len %d, cap %d", n, len(p), cap(p))
		}
		for j := range n {
			p = append(p, i*10+j)
		}
		taken = append(taken, p)
		if i == 0 && cap(s.buf) > 64 {
			t.Errorf("the first array holds %d, want a small one", cap(s.buf))
		}
	}
	for i, p := range taken {
		_ = append(p, -1) // beyond its room: moved, not written into the next
		for j, v := range p {
			if v != i*10+j {
				t.Fatalf("slice %d, value %d = %d, want %d", i, j, v, i*10+j)
			}
		}
	}
	if cap(s.buf) != 2048 {
		t.Errorf("after 12,000 values the array holds %d, want the most, 2048", cap(s.buf))
	}
	big := s.Take(513)
	if cap(big) != 513 || cap(s.buf) != 2048 {
		t.Errorf("Take(513): cap %d (the slab's array %d), want 513 of its own", cap(big), cap(s.buf))
	}
}
