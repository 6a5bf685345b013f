package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/layers"
	"planmap/web"
)

// denseLayer is a layer file of cols × rows square parcels, 0.001° by
// 0.0005°, from lon 121.44, lat 32.02: more than the map draws as SVG.
func denseLayer(cols, rows int) string {
	var b strings.Builder
	b.WriteString(`{"type": "FeatureCollection", "id": "dense", "title": {"zh": "密集地块", "en": "Dense parcels"}, "order": 80,
 "geometryType": "Polygon", "schema": [{"name": "name_zh", "type": "string", "description": {"zh": "名", "en": "name"}},
 {"name": "landuse_gb50137", "type": "string", "description": {"zh": "用地", "en": "land use"}}], "style": {"color": "#555555"},
 "features": [`)
	n := 0
	for i := 0; i < cols; i++ {
		for j := 0; j < rows; j++ {
			n++
			x, y := 121.44+float64(i)*0.001, 32.02+float64(j)*0.0005
			if n > 1 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `{"type": "Feature", "id": %d, "properties": {"name_zh": "地块%d", "landuse_gb50137": "R2"}, "geometry": {"type": "Polygon", "coordinates": [[[%.4f, %.4f], [%.4f, %.4f], [%.4f, %.4f], [%.4f, %.4f], [%.4f, %.4f]]]}}`,
				n, n, x, y, x+0.0009, y, x+0.0009, y+0.00045, x, y+0.00045, x, y)
		}
	}
	b.WriteString("]}")
	return b.String()
}

// A dense layer is drawn on a canvas, no more than a bounded number of
// its shapes at once, and what is panned away is released.
func TestWebMapDenseLayer(t *testing.T) {
	s := newStore(t)
	f, err := layers.ParseFile("dense.geojson", []byte(denseLayer(60, 100)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewRouter(s, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)

	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/#map=16/32.0300/121.4500&layers=boundary,dense"))
	settle(t, b)
	limits := eval[map[string]int](t, b, `planmap.limits`)
	if limits["denseLayer"] >= 6000 || limits["maxShapes"] >= 6000 {
		t.Fatalf("test premise: 6000 parcels are a dense layer over the shape limit: %v", limits)
	}
	type counts struct{ Loaded, Drawn, SVG, Canvas int }
	now := func() counts {
		return eval[counts](t, b, `(() => { const e = planmap.state.layers.get('dense');
			return {Loaded: e.byId.size, Drawn: e.group.getLayers().length,
				SVG: document.querySelectorAll('path.pm-dense').length,
				Canvas: document.querySelectorAll('.leaflet-pm-dense-pane canvas').length}; })()`)
	}
	// What the API holds in the box the map loads: the view and a quarter
	// of it on each side.
	inBox := func() int {
		bb := eval[[]float64](t, b, `(() => { const b = planmap.map.getBounds().pad(0.25); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()`)
		fc, _ := getFC(t, fmt.Sprintf("%s/collections/dense/items?bbox=%f,%f,%f,%f&limit=1", srv.URL, bb[0], bb[1], bb[2], bb[3]))
		return fc.NumberMatched
	}
	requests := func() int {
		reqs, _ := b.snapshot()
		n := 0
		for _, r := range reqs {
			if strings.Contains(r, "/collections/dense/items?") {
				n++
			}
		}
		return n
	}

	c := now()
	want := inBox()
	if c.Canvas != 1 || c.SVG != 0 || c.Drawn != want || c.Loaded != want || want == 0 {
		t.Errorf("zoom 16 in a corner: %+v; want the %d parcels of the loaded box drawn on one canvas, none as SVG", c, want)
	}
	first := eval[[]int](t, b, `[...planmap.state.layers.get('dense').byId.keys()].slice(0, 50)`)

	// Panned to the far corner: the first parcels are released.
	js(t, b, `planmap.map.setView([32.0650, 121.4950], 16, {animate: false});`)
	settle(t, b)
	c = now()
	want = inBox()
	if c.Drawn != want || c.Loaded != want {
		t.Errorf("after panning: %+v, want the %d parcels of the new box only", c, want)
	}
	ids, _ := json.Marshal(first)
	if kept := eval[int](t, b, fmt.Sprintf(`%s.filter(id => planmap.state.layers.get('dense').byId.has(id)).length`, ids)); kept != 0 {
		t.Errorf("%d parcels of the first view were kept after panning away", kept)
	}

	// Zoomed out over all 6000: no more than the limit drawn, requests
	// stop there, and the map says to zoom in.
	before := requests()
	js(t, b, `planmap.map.setView([32.045, 121.47], 13, {animate: false});`)
	settle(t, b)
	c = now()
	if c.Drawn > limits["maxShapes"] || c.Loaded > limits["maxShapes"]+1000 {
		t.Errorf("zoomed out over 6000 parcels: %+v, want at most %d drawn", c, limits["maxShapes"])
	}
	if n := requests() - before; n > limits["maxShapes"]/1000+1 {
		t.Errorf("zoomed out: %d requests for the dense layer, want at most %d pages", n, limits["maxShapes"]/1000+1)
	}
	if st := eval[string](t, b, `document.getElementById('status').dataset.kind + ' ' + document.getElementById('status').textContent`); !strings.HasPrefix(st, "notice ") || !strings.Contains(st, "密集地块") {
		t.Errorf("zoomed out, the status says %q; want a notice to zoom in to see the dense parcels; %s", st, eval[string](t, b, `JSON.stringify([planmap.state.notice, planmap.state.layers.get('dense').covered, planmap.state.layers.get('dense').byId.size, planmap.map.getZoom()])`))
	}
	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
