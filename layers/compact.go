package layers

import (
	"bytes"
	"fmt"
	"math"
	"unsafe"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// Packed is an item as a cache holds it: its JSON, its Props (when they
// are not part of the JSON), its geometry as WKB and its Version in one
// byte array, with the offsets that find them there (Pack). Unpack makes
// the item again, pointing into the array, without its decoded geometry
// and property map, which Geometry and Properties read back.
//
// The array is its one pointer. A byte array is one object the collector
// marks without looking inside, and a Packed kept in a slice of them is
// scanned as part of it; an item is a struct of pointers, half a dozen
// objects more when its geometry is decoded, and the collector walks each
// of them in every cycle, however long it stays untouched. With a cache of
// 76,000 features that walk was half of what the cache added to each read
// it did not serve (BENCHMARKS.md).
type Packed struct {
	ID    int64
	Bound orb.Bound
	buf   []byte
	// The parts of buf: JSON is buf[:jsonEnd], Props buf[propsAt:propsEnd],
	// the WKB buf[wkbAt:versionAt] (none when empty), the version the rest.
	jsonEnd, propsAt, propsEnd, wkbAt, versionAt int32
}

// Pack copies it into one array of the exact size.
func (it *Item) Pack() (Packed, error) {
	pa, pb := it.propsAt, it.propsAt+len(it.Props)
	inside := pb <= len(it.JSON) && bytes.Equal(it.JSON[pa:pb], it.Props)
	version := it.Version()
	// geo.Size is about the WKB's length (a little over it for lines and
	// polygons, under for many points, which then grow the buffer once).
	n := len(it.JSON) + len(it.wkb) + geo.Size(it.geom) + len(version) + 32
	if !inside {
		n += len(it.Props)
	}
	b := append(make([]byte, 0, n), it.JSON...)
	if !inside {
		b = append(b, it.Props...)
		pa, pb = len(it.JSON), len(b)
	}
	g := len(b)
	var err error
	switch {
	case it.wkb != nil:
		b = append(b, it.wkb...)
	case it.geom != nil:
		if b, err = geo.AppendWKB(b, it.geom); err != nil {
			return Packed{}, fmt.Errorf("feature %d: %w", it.ID, err)
		}
	}
	v := len(b)
	b = append(b, version...)
	if len(b) > math.MaxInt32 {
		return Packed{}, fmt.Errorf("feature %d: %d bytes encoded, too many to hold", it.ID, len(b))
	}
	if cap(b)-len(b) > 64 {
		// A cache counts, and keeps, the whole array.
		b = append(make([]byte, 0, len(b)), b...)
	}
	return Packed{ID: it.ID, Bound: it.Bound, buf: b, jsonEnd: int32(len(it.JSON)), propsAt: int32(pa), propsEnd: int32(pb), wkbAt: int32(g), versionAt: int32(v)}, nil
}

// Size is how many bytes p keeps.
func (p *Packed) Size() int { return cap(p.buf) }

// Unpack sets *it to the item p was packed from, pointing into p's array,
// which nothing writes: each part is cut to its length, so that appending
// to one copies it.
func (p *Packed) Unpack(it *Item) {
	b := p.buf
	*it = Item{ID: p.ID, Bound: p.Bound, propsAt: int(p.propsAt)}
	it.JSON = b[:p.jsonEnd:p.jsonEnd]
	it.Props = b[p.propsAt:p.propsEnd:p.propsEnd]
	if p.versionAt > p.wkbAt {
		it.wkb = b[p.wkbAt:p.versionAt:p.versionAt]
	}
	if v := b[p.versionAt:]; len(v) > 0 {
		// The string shares the array rather than copying it per item
		// served: the array is never written after Pack.
		it.version = unsafe.String(&v[0], len(v))
	}
}
