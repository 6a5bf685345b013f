package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/layers"
	"planmap/web"
)

// TestWebMapLiveLayers opens the map, then an admin creates a layer over
// HTTP with a feature in it, redeclares it and drops it, and another
// process imports a new layer: each shows on the open map without a
// reload (the layer listed and drawn, its new title and colour, then
// nothing of it, its open popup, table and drawing closed), the layer's title as
// text, and the page reports no error.
func TestWebMapLiveLayers(t *testing.T) {
	s := newStore(t)
	admin, err := s.AddToken(ctx, "root", layers.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServerOn(t, s, web.Options{Tokens: s})
	as := func(method, path, body string) response {
		t.Helper()
		return send(t, method, srv.URL+path, body, "Content-Type", "application/json", "Authorization", "Bearer "+admin)
	}
	// A layer whose title tries to be markup: titles are user data.
	decl := func(title, color string) string {
		return `{"id": "zones", "title": {"zh": "<i>` + title + `</i>", "en": "Zones"}, "description": {"zh": "", "en": ""},
			"geometryType": "MultiPolygon", "order": 90, "style": {"color": "` + color + `"},
			"schema": [{"name": "name_zh", "type": "string", "required": true, "description": {"zh": "名称", "en": "Name"}}]}`
	}

	b := newBrowser(t, 1024, 700)
	b.do(t, chromedp.Navigate(srv.URL+"/#layers=boundary"))
	settle(t, b)
	waitJS(t, b, "the change stream opens", `document.body.dataset.live === 'open'`)
	// The new feature is a square in the middle of the view.
	center := eval[[]float64](t, b, `(() => { const c = planmap.map.getCenter(); return [c.lng, c.lat]; })()`)
	x, y, d := center[0], center[1], 0.01
	square := fmt.Sprintf(`{"type": "Feature", "properties": {"name_zh": "新分区"}, "geometry": {"type": "Polygon",
		"coordinates": [[[%g, %g], [%g, %g], [%g, %g], [%g, %g], [%g, %g]]]}}`, x-d, y-d, x+d, y-d, x+d, y+d, x-d, y+d, x-d, y-d)
	noMarkup := func(when string) {
		t.Helper()
		if n := eval[int](t, b, `document.querySelectorAll('#layer-list i, #legend i, #live-notice i, #table-layer i').length`); n != 0 {
			t.Errorf("%s: the layer's title became markup (%d <i> elements)", when, n)
		}
	}

	var fid string
	t.Run("Created", func(t *testing.T) {
		if r := as("POST", "/collections", decl("分区", "#336699")); r.StatusCode != 201 {
			t.Fatalf("POST /collections = %d, want 201:\n%s", r.StatusCode, r.body)
		}
		r := as("POST", "/collections/zones/items", square)
		if r.StatusCode != 201 {
			t.Fatalf("POST /collections/zones/items = %d, want 201:\n%s", r.StatusCode, r.body)
		}
		fid = fmt.Sprint(r.json(t)["id"])
		waitJS(t, b, "the new layer listed", `(document.querySelector('#layer-list label[for="layer-zones"] .title') || {}).textContent === '<i>分区</i>'`)
		waitJS(t, b, "its feature drawn", `document.querySelectorAll('path.pm-f.pm-zones-`+fid+`').length === 1`)
		settle(t, b)
		if !eval[bool](t, b, `document.querySelector('#layer-list input[data-layer="zones"]').checked`) {
			t.Errorf("the new layer is listed but not ticked")
		}
		if got := eval[string](t, b, `document.querySelector('#legend').textContent`); !strings.Contains(got, "<i>分区</i>") {
			t.Errorf("legend %q, want it to name the new layer", got)
		}
		if got := waitText(t, b, "#live-notice", "新图层"); !strings.Contains(got, "<i>分区</i>") {
			t.Errorf("notice %q, want it to say the layer <i>分区</i> is new", got)
		}
		if got := eval[string](t, b, `location.hash`); !strings.Contains(got, "zones") {
			t.Errorf("link %q, want it to name the layer shown", got)
		}
		noMarkup("created")
		shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(artifactDir(t), "live-layer-added.png"), shot, 0o644)
	})

	t.Run("Redeclared", func(t *testing.T) {
		if r := as("PUT", "/collections/zones", decl("规划分区", "#aa3300")); r.StatusCode != 200 {
			t.Fatalf("PUT /collections/zones = %d, want 200:\n%s", r.StatusCode, r.body)
		}
		waitJS(t, b, "the new title listed", `(document.querySelector('#layer-list label[for="layer-zones"] .title') || {}).textContent === '<i>规划分区</i>'`)
		waitJS(t, b, "the new colour drawn", `(document.querySelector('path.pm-zones-`+fid+`') || {getAttribute: () => ''}).getAttribute('stroke') === '#aa3300'`)
		if got := waitText(t, b, "#live-notice", "图层已重新定义"); !strings.Contains(got, "<i>规划分区</i>") {
			t.Errorf("notice %q, want it to say <i>规划分区</i> was redefined", got)
		}
		noMarkup("redeclared")
	})

	t.Run("Dropped", func(t *testing.T) {
		// A new feature of it being drawn, its popup open, and its rows in
		// the table.
		signInWith(t, b, admin)
		js(t, b, `const s = document.getElementById('edit-layer'); s.value = 'zones'; s.dispatchEvent(new Event('change'));`)
		clickOn(t, b, "#edit-draw")
		waitJS(t, b, "drawing starts", `document.body.dataset.editing === 'drawing'`)
		js(t, b, `const e = planmap.state.layers.get('zones'); const l = e.byId.get(`+fid+`);
			planmap.identify.show(e.col, l.feature, l.getBounds().getCenter());`)
		waitJS(t, b, "its popup open", `!!document.querySelector('.leaflet-popup-content')`)
		b.do(t, chromedp.Click(chromedp.ID("table-toggle")))
		js(t, b, `const s = document.getElementById('table-layer'); s.value = 'zones'; s.dispatchEvent(new Event('change'));`)
		waitJS(t, b, "its row in the table", `planmap.table.col && planmap.table.col.id === 'zones'`)
		settle(t, b)
		if !eval[bool](t, b, `document.body.dataset.editing === 'drawing' && !!document.querySelector('.leaflet-popup-content')`) {
			t.Fatalf("test premise: before the drop, a feature of the layer is being drawn and its popup is open")
		}

		if r := as("DELETE", "/collections/zones", ""); r.StatusCode != 204 {
			t.Fatalf("DELETE /collections/zones = %d, want 204:\n%s", r.StatusCode, r.body)
		}
		waitJS(t, b, "the layer gone from the list", `!document.querySelector('#layer-list input[data-layer="zones"]')`)
		settle(t, b)
		for what, cond := range map[string]string{
			"its shapes":         `document.querySelectorAll('path.pm-zones').length === 0`,
			"its popup":          `!document.querySelector('.leaflet-popup-content')`,
			"its drawing":        `document.body.dataset.editing === undefined && !document.querySelector('#edit-box')`,
			"its edit option":    `!document.querySelector('#edit-layer option[value="zones"]')`,
			"its table":          `!planmap.table.col || planmap.table.col.id !== 'zones'`,
			"its table option":   `!document.querySelector('#table-layer option[value="zones"]')`,
			"its state":          `!planmap.state.layers.has('zones') && !planmap.state.visible.has('zones')`,
			"its place in links": `!location.hash.includes('zones')`,
			"its legend entry":   `!document.querySelector('#legend').textContent.includes('规划分区')`,
		} {
			if !eval[bool](t, b, cond) {
				t.Errorf("after the layer was dropped, %s remain: %s", what, cond)
			}
		}
		if got := waitText(t, b, "#live-notice", "图层已删除"); !strings.Contains(got, "<i>规划分区</i>") {
			t.Errorf("notice %q, want it to say <i>规划分区</i> was removed", got)
		}
		noMarkup("dropped")
	})

	t.Run("Imported", func(t *testing.T) {
		// planmap import of a new layer, from another process.
		file, err := layers.ParseFile("wards.geojson", []byte(`{"type": "FeatureCollection", "id": "wards",
			"title": {"zh": "街区", "en": "Wards"}, "order": 91, "geometryType": "Polygon", "style": {"color": "#117733"},
			"schema": [{"name": "name_zh", "type": "string", "description": {"zh": "名称", "en": "Name"}}],
			"features": [`+strings.Replace(square, `"type": "Feature"`, `"type": "Feature", "id": 1`, 1)+`]}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := otherStore(t, s).Import(ctx, []*layers.File{file}, layers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		waitJS(t, b, "the imported layer listed", `!!document.querySelector('#layer-list input[data-layer="wards"]')`)
		waitJS(t, b, "its feature drawn", `document.querySelectorAll('path.pm-f.pm-wards-1').length === 1`)
		// The admin signed in above may edit it, without signing in again.
		waitJS(t, b, "it offered for editing", `!!document.querySelector('#edit-layer option[value="wards"]')`)
	})

	if _, problems := b.snapshot(); len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}
}
