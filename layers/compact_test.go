package layers

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// compact returns it packed and unpacked, as a cache gives it back.
func compact(t testing.TB, it *Item) *Item {
	t.Helper()
	p, err := it.Pack()
	if err != nil {
		t.Fatal(err)
	}
	c := new(Item)
	p.Unpack(c)
	return c
}

// An unpacked item serves the same JSON and has the same box, geometry
// and version, of every type a layer holds; and packing it again gives the
// same bytes.
func TestCompactRoundTrip(t *testing.T) {
	line := orb.LineString{{121.3, 31.9}, {121.31, 31.91}, {121.32, 31.9}}
	poly := square(121.3, 31.9, 0.01)[0]
	holed := orb.Polygon{poly[0], orb.Ring{{121.302, 31.902}, {121.302, 31.904}, {121.304, 31.904}, {121.302, 31.902}}}
	l := &Layer{ID: "x", GeometryType: "Geometry", Schema: []Field{{Name: "name", Type: String}}}
	for _, g := range []orb.Geometry{
		orb.Point{121.3, 31.9},
		orb.MultiPoint{{121.3, 31.9}, {121.4, 32}},
		line,
		orb.MultiLineString{line, {{121.4, 32}, {121.5, 32.1}}},
		poly,
		holed,
		orb.MultiPolygon{holed, square(121.4, 32, 0.02)[0]},
		orb.MultiPolygon{},
	} {
		it := NewItem(l, Feature{ID: 42, Properties: map[string]any{"name": `海港 "<b>"`}, Geometry: g})
		p, err := it.Pack()
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		c := new(Item)
		p.Unpack(c)
		switch {
		case c.ID != 42 || !bytes.Equal(c.JSON, it.JSON) || !bytes.Equal(c.Props, it.Props) || c.Bound != it.Bound:
			t.Errorf("%T: made again as %d %s %s %v, want %d %s %s %v", g, c.ID, c.JSON, c.Props, c.Bound, it.ID, it.JSON, it.Props, it.Bound)
		case c.geom != nil || c.props != nil:
			t.Errorf("%T: the unpacked item holds its decoded geometry or property map", g)
		case !c.HasGeometry():
			t.Errorf("%T: HasGeometry false", g)
		case !orb.Equal(c.Geometry(), g):
			t.Errorf("%T: geometry %v, want %v", g, c.Geometry(), g)
		case c.version == "" || c.Version() != it.Version():
			t.Errorf("%T: version %q (kept %q), want %s kept", g, c.Version(), c.version, it.Version())
		}
		again, err := c.Pack()
		a, b := again, p
		a.buf, b.buf = nil, nil // the offsets and the rest
		if err != nil || !bytes.Equal(again.buf, p.buf) || !reflect.DeepEqual(a, b) {
			t.Errorf("%T: packing the unpacked item gives other bytes (%v)", g, err)
		}
		if used := len(c.JSON) + len(c.wkb) + len(c.version); p.Size() > used+64 {
			t.Errorf("%T: %d bytes packed keep %d", g, used, p.Size())
		}
	}
}

// Appending to what an unpacked item shares does not write into the rest
// of its bytes, and each Geometry call gives a geometry of its own.
func TestCompactShared(t *testing.T) {
	it := compact(t, NewItem(statsLayer, Feature{ID: 7, Properties: map[string]any{"status": "planned"}, Geometry: square(121.3, 31.9, 0.01)}))
	want := string(it.JSON) + "|" + string(it.Props)
	_ = append(it.Props, "xxxxxxxxxx"...)
	_ = append(it.JSON, "xxxxxxxxxx"...)
	if got := string(it.JSON) + "|" + string(it.Props); got != want {
		t.Fatalf("appending changed the item: %s", got)
	}
	_ = append(it.wkb, "xxxxxxxxxx"...)
	g := it.Geometry().(orb.MultiPolygon)
	if !orb.Equal(g, square(121.3, 31.9, 0.01)) {
		t.Fatalf("appending changed the geometry: %v", g)
	}
	g[0][0][0] = orb.Point{0, 0}
	if p := it.Geometry().(orb.MultiPolygon)[0][0][0]; p == (orb.Point{0, 0}) {
		t.Fatal("a change to one geometry Geometry gave showed in the next")
	}
}

// Props that are not part of the JSON (an item not made by NewItem) are
// kept beside it.
func TestCompactPropsApart(t *testing.T) {
	it := &Item{ID: 3, geom: orb.Point{1, 2}, Bound: orb.Point{1, 2}.Bound(),
		JSON:  []byte(`{"type":"Feature","id":3,"properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}}`),
		Props: []byte(`{"a":2}`)}
	c := compact(t, it)
	if string(c.JSON) != string(it.JSON) || string(c.Props) != `{"a":2}` || !orb.Equal(c.Geometry(), orb.Point{1, 2}) {
		t.Fatalf("made again as %s, props %s, geometry %v", c.JSON, c.Props, c.Geometry())
	}
	if got := compact(t, c); string(got.Props) != `{"a":2}` || string(got.JSON) != string(it.JSON) {
		t.Fatalf("twice: %s, props %s", got.JSON, got.Props)
	}
}

// An item made from a row (NewRowItem) is the item NewItem makes of the
// same feature, byte for byte and value for value, without its decoded
// geometry and property map; it compacts as any other.
func TestRowItemSameAsItem(t *testing.T) {
	for _, tt := range []struct {
		props map[string]any
		g     orb.Geometry
	}{
		{map[string]any{"status": `海港 "<b>"`, "phase": int64(3), "public": true, "area_mu": 12.0, "opened": "2026-12-05", ClassField: "R2"}, square(121.3, 31.9, 0.001)},
		{map[string]any{"status": "planned", "area_mu": 0.25, "public": false}, orb.LineString{{121.3, 31.9}, {121.31, 31.91}}},
		{map[string]any{}, orb.Point{121.3, 31.9}},
		{map[string]any{"phase": int64(-7)}, nil},
	} {
		f := Feature{ID: 42, Properties: tt.props, Geometry: tt.g}
		want := NewItem(statsLayer, f)
		values := make([]any, len(statsLayer.Schema))
		for i, fd := range statsLayer.Schema {
			values[i] = tt.props[fd.Name]
		}
		var wkb []byte
		if tt.g != nil {
			var err error
			if wkb, err = geo.AppendWKB(nil, tt.g); err != nil {
				t.Fatal(err)
			}
		}
		var box orb.Bound
		if tt.g != nil {
			box = tt.g.Bound()
		}
		got := NewRowItem(statsLayer, 42, values, tt.g, box, wkb)
		clear(wkb) // the item keeps a copy, not the caller's bytes (a driver's)
		switch {
		case got.ID != 42 || !bytes.Equal(got.JSON, want.JSON) || !bytes.Equal(got.Props, want.Props) || got.Bound != want.Bound || got.Version() != want.Version():
			t.Errorf("%T: row item %d %s %s %v, want %d %s %s %v", tt.g, got.ID, got.JSON, got.Props, got.Bound, want.ID, want.JSON, want.Props, want.Bound)
		case got.geom != nil || got.props != nil:
			t.Errorf("%T: the row item keeps a decoded geometry or property map", tt.g)
		case got.HasGeometry() != (tt.g != nil) || !orb.Equal(got.Geometry(), want.Geometry()) && tt.g != nil:
			t.Errorf("%T: geometry %v, want %v", tt.g, got.Geometry(), want.Geometry())
		case !sameValues(got.Properties(), tt.props):
			t.Errorf("%T: properties %#v, want %#v", tt.g, got.Properties(), tt.props)
		}
		if c := compact(t, got); !bytes.Equal(c.JSON, want.JSON) || !orb.Equal(c.Geometry(), got.Geometry()) {
			t.Errorf("%T: unpacked %s, %v", tt.g, c.JSON, c.Geometry())
		}
	}
}
