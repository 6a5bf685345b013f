package web_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"planmap/layers/layerstest"
	"planmap/web"
)

// evalAwait evaluates js, an expression whose value is a promise, in the
// page and returns what the promise resolves to.
func evalAwait[T any](t testing.TB, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		_, problems := b.snapshot()
		t.Fatalf("evaluate %.200s: %v; problems %v", js, err, problems)
	}
	return v
}

// importMVT is a page's expression for the map's tile reader module
// (mvt.js), found by its preload link under its hashed name.
const importMVT = `import([...document.querySelectorAll('link[rel=modulepreload]')].map((l) => l.href).find((h) => /\/static\/mvt\.[0-9a-f]{10}\.js$/.test(h)))`

// The map's own reader of vector tiles (mvt.js) reads every geometry type,
// every type of value a property may have in a tile, ids beyond 32 bits,
// and layers apart, as orb wrote them; here against orb's own reading of
// the same bytes. (That it reads the server's tiles as protomaps-leaflet
// does is TestWebMapDrawsBigLayerFromTiles'.)
func TestWebMapTileReader(t *testing.T) {
	requireChromium(t)
	square := func(x, y, d float64) orb.Ring {
		return orb.Ring{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
	}
	reversed := func(r orb.Ring) orb.Ring {
		r = slices.Clone(r)
		slices.Reverse(r)
		return r
	}
	feature := func(id any, g orb.Geometry, props geojson.Properties) *geojson.Feature {
		f := geojson.NewFeature(g)
		f.ID = id
		f.Properties = props
		return f
	}
	parcels := &geojson.FeatureCollection{Features: []*geojson.Feature{
		feature(uint64(7), orb.Polygon{square(100, 100, 2000), square(600, 600, 400)}, geojson.Properties{
			"name_zh": "一号地块 <b>&", "ratio": 2.5, "share": float32(0.75), "plots": int64(-3), "big": uint64(1) << 40, "leased": true, "public": false}),
		feature(uint64(1)<<40+3, orb.MultiPolygon{{square(3000, 3000, 500)}, {square(3600, 3000, 300)}}, geojson.Properties{"name_zh": "二号", "plots": int64(12)}),
		feature(uint64(9), orb.Polygon{square(-64, -64, 200)}, nil), // in the buffer: negative coordinates
		// A hole wound against its outer ring, as a polygon's holes are.
		feature(uint64(11), orb.Polygon{square(2200, 100, 1500), reversed(square(2600, 500, 400))}, nil),
	}}
	roads := &geojson.FeatureCollection{Features: []*geojson.Feature{
		feature(uint64(1), orb.LineString{{0, 0}, {4096, 4096}, {4100, 10}}, geojson.Properties{"name_en": "Gangxi Avenue"}),
		feature(uint64(2), orb.MultiLineString{{{10, 10}, {20, 20}}, {{30, 30}, {40, 45}}}, nil),
		feature(uint64(3), orb.Point{2048, 1024}, geojson.Properties{"class": "station"}),
		feature(uint64(4), orb.MultiPoint{{1, 2}, {3, 4}, {5, 6}}, nil),
		feature(uint64(5), orb.LineString{{100, 100}, {100, 100}, {300, 100}}, nil), // a segment of no length
	}}
	// Enough points that the reader's array of them grows as it reads.
	grid := &geojson.FeatureCollection{}
	for i := range 800 {
		grid.Features = append(grid.Features, feature(uint64(i+1), orb.Polygon{square(float64(i%40)*100, float64(i/40)*100, 50)}, nil))
	}
	// A layer without features is left out, as protomaps-leaflet's
	// parser leaves it.
	empty := mvt.NewLayer("empty", &geojson.FeatureCollection{})
	vt, err := mvt.MarshalToVectorTile(mvt.Layers{mvt.NewLayer("parcels", parcels), empty, mvt.NewLayer("roads", roads), mvt.NewLayer("grid", grid)})
	if err != nil {
		t.Fatal(err)
	}
	// orb writes an integer as a sint64 or a uint64; other encoders write
	// int64 (PostGIS's ST_AsMVT does): plots = -3 so.
	wroteInt := false
	for _, v := range vt.Layers[0].Values {
		if v.SintValue != nil && *v.SintValue == -3 {
			i := *v.SintValue
			v.IntValue, v.SintValue = &i, nil
			wroteInt = true
		}
	}
	if !wroteInt {
		t.Fatal("test premise: orb wrote plots = -3 as a sint64")
	}
	data, err := vt.XXX_Marshal(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := mvt.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}

	srv := serveStore(t, layerstest.MustOpen(t), web.Options{})
	b := newBrowser(t, 800, 600)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	got := evalAwait[string](t, b, fmt.Sprintf(`(async () => {
		const { decodeTile } = await %s;
		const bytes = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
		const out = {};
		for (const [name, fs] of decodeTile(bytes, 256)) {
			out[name] = fs.map((f) => ({ id: f.id, type: f.geomType, n: f.numVertices, bbox: f.bbox, props: f.props,
				geom: f.geom.rings().map((r) => r.map((p) => [p.x, p.y])) }));
		}
		return JSON.stringify(out);
	})()`, importMVT, base64.StdEncoding.EncodeToString(data)))
	type readFeature struct {
		ID    float64
		Type  int
		N     int
		BBox  struct{ MinX, MinY, MaxX, MaxY float64 }
		Props map[string]any
		Geom  [][][2]float64
	}
	var read map[string][]readFeature
	if err := json.Unmarshal([]byte(got), &read); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if len(read) != len(want)-1 {
		t.Errorf("read layers %v, want %d", read, len(want)-1)
	}
	if _, ok := read["empty"]; ok {
		t.Error("read the layer without features, want it left out")
	}
	const scale = 256.0 / 4096
	for _, l := range want {
		if l.Name == "empty" {
			continue
		}
		fs := read[l.Name]
		if len(fs) != len(l.Features) {
			t.Errorf("layer %s: read %d features, want %d", l.Name, len(fs), len(l.Features))
			continue
		}
		for i, w := range l.Features {
			g := fs[i]
			// As protomaps-leaflet reads the commands: each MoveTo begins a
			// ring (a point of a multipoint too), a ClosePath repeats the
			// ring's first point (orb gives rings closed).
			var rings [][][2]float64
			add := func(ps []orb.Point) {
				var r [][2]float64
				for _, p := range ps {
					r = append(r, [2]float64{p[0] * scale, p[1] * scale})
				}
				rings = append(rings, r)
			}
			typ := 0
			switch geom := w.Geometry.(type) {
			case orb.Point:
				typ = 1
				add([]orb.Point{geom})
			case orb.MultiPoint:
				typ = 1
				for _, p := range geom {
					add([]orb.Point{p})
				}
			case orb.LineString:
				typ = 2
				add(geom)
			case orb.MultiLineString:
				typ = 2
				for _, ls := range geom {
					add(ls)
				}
			case orb.Polygon:
				typ = 3
				for _, r := range geom {
					add(r)
				}
			case orb.MultiPolygon:
				typ = 3
				for _, p := range geom {
					for _, r := range p {
						add(r)
					}
				}
			}
			n := 0
			box := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
			for _, r := range rings {
				n += len(r)
				for _, p := range r {
					box = box.Extend(orb.Point(p))
				}
			}
			wantID, _ := w.ID.(float64)
			if id, ok := w.ID.(uint64); ok {
				wantID = float64(id)
			}
			if g.ID != wantID || g.Type != typ || g.N != n || fmt.Sprint(g.Geom) != fmt.Sprint(rings) {
				t.Errorf("layer %s feature %d: read id %v, type %d, %d points %v; want id %v, type %d, %d points %v", l.Name, i, g.ID, g.Type, g.N, g.Geom, wantID, typ, n, rings)
			}
			if g.BBox.MinX != box.Min[0] || g.BBox.MinY != box.Min[1] || g.BBox.MaxX != box.Max[0] || g.BBox.MaxY != box.Max[1] {
				t.Errorf("layer %s feature %d: bbox %+v, want %v", l.Name, i, g.BBox, box)
			}
			wantProps := map[string]any{}
			for k, v := range w.Properties {
				wantProps[k] = v
			}
			if fmt.Sprint(g.Props) != fmt.Sprint(wantProps) {
				t.Errorf("layer %s feature %d: properties %v, want %v", l.Name, i, g.Props, wantProps)
			}
		}
	}
	// The values as written, not only as orb reads them back.
	if p := read["parcels"][0].Props; p["plots"] != -3.0 || p["big"] != float64(uint64(1)<<40) || p["share"] != 0.75 || p["leased"] != true || p["public"] != false || p["name_zh"] != "一号地块 <b>&" {
		t.Errorf("parcel 7 read with properties %v", p)
	}

	// The shapes answer where a click lands as orb's planar functions do:
	// inside an area (not in its hole, not between its parts), and how far
	// from a line or a point, in the tile's pixels.
	probes := []struct {
		layer string
		i     int
		x, y  float64 // pixels
	}{
		{"parcels", 0, 20, 20}, {"parcels", 0, 50, 50}, {"parcels", 0, 200, 20}, {"parcels", 0, 131, 131},
		{"parcels", 1, 230, 195}, {"parcels", 1, 222, 195}, {"parcels", 1, 190, 190},
		{"parcels", 2, -1, -1}, {"parcels", 2, 9, 9},
		{"parcels", 3, 168.75, 37.5}, {"parcels", 3, 143.75, 12.5}, {"parcels", 3, 230, 50},
		{"roads", 0, 100, 103}, {"roads", 0, 100, 110}, {"roads", 0, 256.1, 100}, {"roads", 0, -3, -4},
		{"roads", 1, 1.9, 1.1}, {"roads", 1, 2.2, 2.4}, {"roads", 2, 131, 68}, {"roads", 3, 0.3, 0.4}, {"roads", 3, 0.0625, 0.125},
		{"roads", 4, 6.25, 8.25}, {"roads", 4, 4, 6.25},
		{"grid", 0, 1, 1}, {"grid", 799, 245, 120}, {"grid", 799, 248, 120},
	}
	var asked []any
	for _, p := range probes {
		asked = append(asked, []any{p.layer, p.i, p.x, p.y})
	}
	js, _ := json.Marshal(asked)
	answers := evalAwait[[]float64](t, b, fmt.Sprintf(`(async () => {
		const { decodeTile } = await %s;
		const tile = decodeTile(Uint8Array.from(atob(%q), (c) => c.charCodeAt(0)), 256);
		return %s.map(([layer, i, x, y]) => { const f = tile.get(layer)[i];
			return f.geomType === 3 ? (f.geom.contains(x, y) ? 1 : 0) : f.geom.distance(x, y); });
	})()`, importMVT, base64.StdEncoding.EncodeToString(data), js))
	if len(answers) != len(probes) {
		t.Fatalf("%d answers to %d probes", len(answers), len(probes))
	}
	holes := 0
	for i, p := range probes {
		var l *mvt.Layer
		for _, wl := range want {
			if wl.Name == p.layer {
				l = wl
			}
		}
		g := l.Features[p.i].Geometry
		at := orb.Point{p.x / scale, p.y / scale}
		switch g := g.(type) {
		case orb.Polygon, orb.MultiPolygon:
			in := false
			if poly, ok := g.(orb.Polygon); ok {
				in = planar.PolygonContains(poly, at)
				if !in && planar.RingContains(poly[0], at) {
					holes++
				}
			} else {
				in = planar.MultiPolygonContains(g.(orb.MultiPolygon), at)
			}
			if (answers[i] == 1) != in {
				t.Errorf("%s feature %d contains %v, %v: %v, want %v", p.layer, p.i, p.x, p.y, answers[i] == 1, in)
			}
		default:
			if d := planar.DistanceFrom(g, at) * scale; math.Abs(answers[i]-d) > 1e-3 {
				t.Errorf("%s feature %d is %v pixels from %v, %v; want %v", p.layer, p.i, answers[i], p.x, p.y, d)
			}
		}
	}

	if holes == 0 {
		t.Error("test premise: a probe lies in a hole")
	}

	// A tile the server refuses is an error that names it and the
	// status, not its JSON read as a tile.
	refused := evalAwait[string](t, b, `(async () => {
		const { TileSource } = await `+importMVT+`;
		try { await new TileSource(location.origin + '/collections/nowhere/tiles/WebMercatorQuad/{z}/{y}/{x}').get({ z: 3, x: 6, y: 2 }, 256); return 'read'; } catch (e) { return e.message; }
	})()`)
	if !strings.HasPrefix(refused, "tile 3/6/2: 404") {
		t.Errorf("a tile of no collection: %q, want an error naming the tile and its 404", refused)
	}

	// A tile cut short (in a layer, or in a double of a value), or of an
	// unknown geometry command, is an error, not a tile of what could be
	// read.
	for _, bad := range [][]byte{data[:len(data)-3], {0x1a, 0x06, 0x22, 0x04, 0x19, 0x00, 0x00, 0x00}, {0x1a, 0x05, 0x12, 0x03, 0x22, 0x01, 0x05}} {
		msg := evalAwait[string](t, b, fmt.Sprintf(`(async () => {
			const { decodeTile } = await %s;
			try { decodeTile(Uint8Array.from(atob(%q), (c) => c.charCodeAt(0)), 256); return 'read'; } catch (e) { return e.message; }
		})()`, importMVT, base64.StdEncoding.EncodeToString(bad)))
		if !strings.HasPrefix(msg, "vector tile: ") {
			t.Errorf("a bad tile %x: %q, want an error", bad, msg)
		}
	}
}
