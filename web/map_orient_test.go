package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"planmap/web"
)

// inRings reports whether the point lies inside a GeoJSON Polygon's or
// MultiPolygon's coordinates (even-odd rule, holes included).
func inRings(x, y float64, g map[string]any) bool {
	var polys [][][][]float64
	raw, _ := json.Marshal(g["coordinates"])
	switch g["type"] {
	case "Polygon":
		var p [][][]float64
		json.Unmarshal(raw, &p)
		polys = [][][][]float64{p}
	case "MultiPolygon":
		json.Unmarshal(raw, &polys)
	}
	for _, rings := range polys {
		inside := false
		for _, ring := range rings {
			for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
				a, b := ring[i], ring[j]
				if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
					inside = !inside
				}
			}
		}
		if inside {
			return true
		}
	}
	return false
}

type label struct {
	Layer, Text string
	ID          int
	Lat, Lng    float64
	Box         [4]float64
}

func labelsOnMap(t *testing.T, b *browser) []label {
	t.Helper()
	return eval[[]label](t, b, `planmap.labels.layer.getLayers().map(m => {
		const d = m.getElement().querySelector('.pm-label'), r = d.getBoundingClientRect();
		return {Layer: d.dataset.layer, ID: +d.dataset.id, Text: d.innerText.replace(/\n/g, ' '),
			Lat: m.getLatLng().lat, Lng: m.getLatLng().lng, Box: [r.left, r.top, r.right, r.bottom]};
	})`)
}

func TestWebMapOrientation(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/#map=15/32.1000/121.4840"))
	settle(t, b)
	waitFor(t, b, `document.querySelectorAll('.pm-label').length > 0`)

	features := map[string]map[string]any{}
	fc := get(t, srv.URL+"/collections/resettlement/items?limit=100").json(t)
	for _, f := range fc["features"].([]any) {
		m := f.(map[string]any)
		features[fmt.Sprint(m["id"])] = m
	}

	t.Run("ResettlementLabelsAtZoom15", func(t *testing.T) {
		labels := labelsOnMap(t, b)
		// The blocks wholly in view, as the API sees them.
		bounds := eval[[]float64](t, b, `(() => { const b = planmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()`)
		inView := 0
		for _, f := range features {
			bb := bbox(f["geometry"].(map[string]any))
			if bb[0] > bounds[0] && bb[1] > bounds[1] && bb[2] < bounds[2] && bb[3] < bounds[3] {
				inView++
			}
		}
		n := 0
		for _, l := range labels {
			if l.Layer != "resettlement" {
				continue
			}
			n++
			f := features[fmt.Sprint(l.ID)]
			p := f["properties"].(map[string]any)
			if squash(l.Text) != squash(p["name_zh"].(string)) {
				t.Errorf("label of block %d reads %q, want %q", l.ID, l.Text, p["name_zh"])
			}
			if !inRings(l.Lng, l.Lat, f["geometry"].(map[string]any)) {
				t.Errorf("label of block %d at %f,%f lies outside it", l.ID, l.Lat, l.Lng)
			}
		}
		if inView < 4 || n < inView {
			t.Errorf("%d resettlement labels at zoom 15 with %d blocks wholly in view", n, inView)
		}
		for i, a := range labels {
			for _, c := range labels[i+1:] {
				if a.Box[0] < c.Box[2]-1 && c.Box[0] < a.Box[2]-1 && a.Box[1] < c.Box[3]-1 && c.Box[1] < a.Box[3]-1 {
					t.Errorf("labels %q and %q overlap: %v %v", a.Text, c.Text, a.Box, c.Box)
				}
			}
		}
		png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		os.WriteFile(filepath.Join(artifactDir(t), "labels-z15.png"), png, 0o644)
	})

	t.Run("LabelsFollowTheLanguage", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.ID("lang")))
		settle(t, b)
		labels := labelsOnMap(t, b)
		for _, l := range labels {
			if l.Layer == "resettlement" && squash(l.Text) != squash(features[fmt.Sprint(l.ID)]["properties"].(map[string]any)["name_en"].(string)) {
				t.Errorf("English label of block %d reads %q", l.ID, l.Text)
			}
		}
		b.do(t, chromedp.Click(chromedp.ID("lang")))
		settle(t, b)
	})

	t.Run("FewerLabelsZoomedOut", func(t *testing.T) {
		js(t, b, `planmap.map.setZoom(12, {animate: false});`)
		settle(t, b)
		for _, l := range labelsOnMap(t, b) {
			if l.Layer == "resettlement" {
				t.Errorf("a resettlement label at zoom 12, where the blocks are a few pixels wide: %q", l.Text)
			}
		}
	})

	t.Run("ScaleAndCoordinatesFollowTheView", func(t *testing.T) {
		scale := func() string {
			return eval[string](t, b, `document.querySelector('.leaflet-control-scale-line').textContent`)
		}
		coords := func() string { return eval[string](t, b, `document.querySelector('.pm-coords').textContent`) }
		s1, c1 := scale(), coords()
		js(t, b, `planmap.map.setView([32.05, 121.45], 16, {animate: false});`)
		settle(t, b)
		s2, c2 := scale(), coords()
		if s1 == s2 || s2 == "" {
			t.Errorf("scale bar %q at zoom 12, %q at zoom 16", s1, s2)
		}
		if c1 == c2 || !strings.Contains(c2, "32.05000°N") || !strings.Contains(c2, "121.45000°E") {
			t.Errorf("coordinates %q, then %q after centring on 32.05 N 121.45 E", c1, c2)
		}
		// The cursor's position, with the mouse over the map.
		xy := eval[[]float64](t, b, `(() => { const p = planmap.map.latLngToContainerPoint([32.051, 121.452]); const r = planmap.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; })()`)
		b.do(t, chromedp.MouseEvent("mouseMoved", xy[0], xy[1]))
		var lat, lng float64
		if c := coords(); func() bool { _, err := fmt.Sscanf(c, "%f°N %f°E", &lat, &lng); return err != nil }() || math.Abs(lat-32.051) > 5e-5 || math.Abs(lng-121.452) > 5e-5 {
			t.Errorf("coordinates with the mouse over 32.051 N 121.452 E: %q", c)
		}
		if n := eval[int](t, b, `document.querySelectorAll('.pm-north').length`); n != 1 {
			t.Errorf("%d north arrows", n)
		}
	})

	t.Run("WholeDistrict", func(t *testing.T) {
		ext := get(t, srv.URL+"/collections/boundary").json(t)["extent"].(map[string]any)["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
		holds := fmt.Sprintf(`planmap.map.getBounds().contains([[%v, %v], [%v, %v]])`, ext[1], ext[0], ext[3], ext[2])
		if eval[bool](t, b, holds) {
			t.Fatalf("test premise: the view before the button already holds the district")
		}
		b.do(t, chromedp.Click(chromedp.CSS(`a.pm-whole`)))
		// The button zooms with an animation, which starts at the next
		// frame and ends late on a loaded machine: wait (patience at most) for
		// the view it ends in, not a fixed time. Until it ends the map's
		// bounds are those it started from.
		for deadline := time.Now().Add(patience); !eval[bool](t, b, holds) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		settle(t, b)
		if !eval[bool](t, b, holds) {
			t.Errorf("after the whole-district button the view %v does not hold the district %v", eval[[]float64](t, b, `(() => { const b = planmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()`), ext)
		}
	})

	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

// squash drops the spaces and line breaks a wrapped label has.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// waitFor is waitJS for a condition that says itself what it waits for.
func waitFor(t *testing.T, b *browser, cond string) {
	t.Helper()
	waitJS(t, b, "waited", cond)
}

// bbox is a GeoJSON geometry's [minx, miny, maxx, maxy].
func bbox(g map[string]any) [4]float64 {
	out := [4]float64{180, 90, -180, -90}
	var walk func(v any)
	walk = func(v any) {
		a, ok := v.([]any)
		if !ok {
			return
		}
		if x, ok := a[0].(float64); ok && len(a) >= 2 {
			y := a[1].(float64)
			out[0], out[1] = min(out[0], x), min(out[1], y)
			out[2], out[3] = max(out[2], x), max(out[3], y)
			return
		}
		for _, e := range a {
			walk(e)
		}
	}
	walk(g["coordinates"])
	return out
}

// The regional context is drawn like the other layers once the view
// reaches it: every feature, labelled, and never identified alone.
func TestWebMapContext(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/#map=10/31.95/121.25"))
	settle(t, b)
	fc := get(t, srv.URL+"/collections/context/items").json(t)
	want := len(fc["features"].([]any))
	if n := eval[int](t, b, `document.querySelectorAll('path.pm-context').length`); n != want || want < 5 {
		t.Errorf("%d context shapes drawn at zoom 10, want all %d", n, want)
	}
	labels := eval[string](t, b, `[...document.querySelectorAll('.pm-label-context')].map(e => e.textContent).join('|')`)
	for _, name := range []string{"南通新机场", "通州湾"} {
		if !strings.Contains(labels, name) {
			t.Errorf("context labels %q lack %s", labels, name)
		}
	}
	// A click on the airport alone opens nothing: the context frames the
	// map, it is not what one looks for.
	clickAt(t, b, 32.06, 121.15)
	time.Sleep(200 * time.Millisecond)
	if n := eval[int](t, b, `document.querySelectorAll('.leaflet-popup').length`); n != 0 {
		t.Errorf("a click on the context layer alone opened %d popups", n)
	}
	png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	os.WriteFile(filepath.Join(artifactDir(t), "context.png"), png, 0o644)
	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
