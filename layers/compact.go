package layers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"planmap/geo"
)

// The compact form of an item is what a cache holds: the whole item in
// one byte slice. A slice of bytes is one object the collector marks
// without looking inside; an item with its geometry decoded is half a
// dozen objects full of pointers, and the collector walks every one of
// them in every cycle, however long the item stays untouched. With the
// 64 MB feature cache full, that walk was 4-5 µs of the 40-45 µs a
// feature served from it cost (BENCHMARKS.md).
//
// The box is kept beside the geometry, though the geometry gives it, so
// that making the item again decodes nothing.
//
// The layout, little-endian:
//
//	0   uint32  length of the JSON
//	4   uint32  start of Props, from the JSON's start
//	8   uint32  end of Props
//	12  4×f64   Bound: min x, min y, max x, max y
//	44  JSON, then Props if it is not part of the JSON, then the
//	    geometry as WKB (nothing when it has none)
const compactHead = 44

// Compact returns the item's compact form, from which CompactItem makes
// it again (without its property map: Properties reads them from Props).
func (it *Item) Compact() ([]byte, error) {
	pa, pb := it.propsAt, it.propsAt+len(it.Props)
	inside := pb <= len(it.JSON) && bytes.Equal(it.JSON[pa:pb], it.Props)
	// geo.Size is about the WKB's length (a little over it for lines and
	// polygons, under for many points, which then grow the buffer once).
	n := compactHead + len(it.JSON) + len(it.wkb) + geo.Size(it.Feature.Geometry) + 32
	if !inside {
		n += len(it.Props)
		pa, pb = len(it.JSON), len(it.JSON)+len(it.Props)
	}
	b := make([]byte, compactHead, n)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(it.JSON)))
	binary.LittleEndian.PutUint32(b[4:], uint32(pa))
	binary.LittleEndian.PutUint32(b[8:], uint32(pb))
	for i, v := range [4]float64{it.Bound.Min[0], it.Bound.Min[1], it.Bound.Max[0], it.Bound.Max[1]} {
		binary.LittleEndian.PutUint64(b[12+8*i:], math.Float64bits(v))
	}
	b = append(b, it.JSON...)
	if !inside {
		b = append(b, it.Props...)
	}
	switch {
	case it.wkb != nil:
		b = append(b, it.wkb...)
	case it.Feature.Geometry != nil:
		var err error
		if b, err = geo.AppendWKB(b, it.Feature.Geometry); err != nil {
			return nil, fmt.Errorf("feature %d: %w", it.ID, err)
		}
	}
	if cap(b)-len(b) > 64 {
		// A cache counts, and keeps, the whole array.
		b = append(make([]byte, 0, len(b)), b...)
	}
	return b, nil
}

// CompactItem makes feature fid again from its compact form b, which it
// shares: b must not change after. It works out the item's Version once.
func CompactItem(fid int64, b []byte) *Item {
	n := int(binary.LittleEndian.Uint32(b[0:]))
	pa := compactHead + int(binary.LittleEndian.Uint32(b[4:]))
	pb := compactHead + int(binary.LittleEndian.Uint32(b[8:]))
	f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b[12+8*i:])) }
	it := &Item{Feature: Feature{ID: fid}}
	it.Bound.Min, it.Bound.Max = [2]float64{f(0), f(1)}, [2]float64{f(2), f(3)}
	it.JSON = b[compactHead : compactHead+n : compactHead+n]
	it.Props, it.propsAt = b[pa:pb:pb], pa-compactHead
	if g := b[max(compactHead+n, pb):]; len(g) > 0 {
		it.wkb = g[:len(g):len(g)]
	}
	it.version = it.Version()
	return it
}
