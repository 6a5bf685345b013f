package layers

import (
	"bytes"
	"fmt"

	"planmap/geo"
)

// Compacted returns the item as a cache holds it: its JSON, its Props
// (when they are not part of the JSON) and its geometry as WKB copied
// into one byte array, and an item that points into it, without its
// decoded geometry and property map, which Geometry and Properties read
// back. size is the array's.
//
// A byte array is one object the collector marks without looking inside;
// an item with its geometry decoded is half a dozen objects full of
// pointers, and the collector walks every one of them in every cycle,
// however long the item stays untouched. With the 64 MB feature cache
// full, that walk was 4-5 µs of the 40-45 µs a feature served from it
// cost (BENCHMARKS.md).
//
// The item works out its Version once: a held feature is served again and
// again.
func (it *Item) Compacted() (c *Item, size int, err error) {
	pa, pb := it.propsAt, it.propsAt+len(it.Props)
	inside := pb <= len(it.JSON) && bytes.Equal(it.JSON[pa:pb], it.Props)
	// geo.Size is about the WKB's length (a little over it for lines and
	// polygons, under for many points, which then grow the buffer once).
	n := len(it.JSON) + len(it.wkb) + geo.Size(it.geom) + 32
	if !inside {
		n += len(it.Props)
	}
	b := append(make([]byte, 0, n), it.JSON...)
	if !inside {
		b = append(b, it.Props...)
		pa, pb = len(it.JSON), len(b)
	}
	g := len(b)
	switch {
	case it.wkb != nil:
		b = append(b, it.wkb...)
	case it.geom != nil:
		if b, err = geo.AppendWKB(b, it.geom); err != nil {
			return nil, 0, fmt.Errorf("feature %d: %w", it.ID, err)
		}
	}
	if cap(b)-len(b) > 64 {
		// A cache counts, and keeps, the whole array.
		b = append(make([]byte, 0, len(b)), b...)
	}
	c = &Item{ID: it.ID, Bound: it.Bound, propsAt: pa, version: it.Version()}
	c.JSON = b[:len(it.JSON):len(it.JSON)]
	c.Props = b[pa:pb:pb]
	if len(b) > g {
		c.wkb = b[g:len(b):len(b)]
	}
	return c, cap(b), nil
}
