package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/web"
)

// A big layer at a zoom where its features are too many to load is drawn
// from vector tiles on a canvas, and a click on a tiled parcel opens its
// popup, the feature fetched by the id the tile carries.
func TestWebMapDrawsBigLayerFromTiles(t *testing.T) {
	requireChromium(t)
	onEachLoaded(t, parcelFiles(25000), func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		limits := struct{ Big int }{}
		b := newBrowser(t, 1024, 768)
		// Zoom 12 over the grid: below the zoom big layers load as GeoJSON,
		// at or above the one their tiles hold them from (11 for 25,000).
		b.do(t, chromedp.Navigate(srv.URL+"/#map=12/31.915/121.43&layers=parcels"))
		settle(t, b)
		limits.Big = eval[int](t, b, `planmap.limits.bigLayer`)
		if limits.Big >= 25000 {
			t.Fatalf("test premise: 25,000 parcels are a big layer: %d", limits.Big)
		}
		// The tiles arrive after the map settles: wait for protomaps-leaflet's
		// canvases to be drawn.
		var drawn int
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			// A canvas is drawn when it differs from a blank one of its size
			// (compared as PNGs: reading pixels back makes Chromium warn).
			drawn = eval[int](t, b, `[...document.querySelectorAll('.leaflet-pm-parcels-pane canvas.leaflet-tile')].filter((c) => {
			const blank = document.createElement('canvas'); blank.width = c.width; blank.height = c.height;
			return c.width > 0 && c.toDataURL() !== blank.toDataURL(); }).length`)
			if drawn > 0 {
				break
			}
		}
		reqs, problems := b.snapshot()
		tileReqs, itemReqs := 0, 0
		for _, r := range reqs {
			if strings.Contains(r, "/collections/parcels/tiles/WebMercatorQuad/12/") {
				tileReqs++
			}
			if strings.Contains(r, "/collections/parcels/items?") {
				itemReqs++
			}
		}
		if drawn == 0 || tileReqs == 0 || itemReqs != 0 {
			t.Fatalf("zoom 12: %d tile canvases drawn, %d tile requests, %d items requests; want parcels drawn from z12 tiles, none loaded as GeoJSON; problems %v", drawn, tileReqs, itemReqs, problems)
		}
		// The map reads its tiles with its own reader (mvt.js): it reads of
		// the tiles on the map what protomaps-leaflet's own source does.
		same := evalAwait[string](t, b, `(async () => {
			const { TileSource } = await `+importMVT+`;
			const url = location.origin + '/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}';
			const plain = (m) => JSON.stringify([...m].map(([name, fs]) => [name, fs.map((f) =>
				[f.id, f.geomType, f.numVertices, f.bbox, f.props, (f.geom.rings ? f.geom.rings() : f.geom).map((r) => r.map((p) => [p.x, p.y]))])]));
			let views = 0;
			let ours = 0;
			planmap.map.eachLayer((l) => {
				if (!l.views) return;
				for (const v of l.views.values()) {
					views++;
					if (v.tileCache.source instanceof TileSource) ours++;
				}
			});
			if (views === 0 || ours !== views) return 'the map reads ' + ours + ' of its ' + views + ' tiled views with its own reader';
			let tiles = 0, features = 0;
			for (const c of document.querySelectorAll('.leaflet-pm-parcels-pane canvas.leaflet-tile')) {
				if (!c.key) continue;
				const [x, y, z] = c.key.split(':').map(Number);
				const ours = await new TileSource(url).get({ z, x, y }, 256);
				const theirs = await new protomapsL.ZxySource(url, false).get({ z, x, y }, 256);
				if (plain(ours) !== plain(theirs)) return 'tile ' + c.key + ' read as ' + plain(ours).slice(0, 300) + ', protomaps-leaflet reads ' + plain(theirs).slice(0, 300);
				tiles++;
				for (const fs of ours.values()) features += fs.length;
			}
			return 'same: ' + tiles + ' tiles, ' + features + ' features';
		})()`)
		if !strings.HasPrefix(same, "same: ") || strings.HasPrefix(same, "same: 0 ") || strings.Contains(same, " 0 features") {
			t.Errorf("the map's tile reader: %s", same)
		} else {
			t.Log(same)
		}
		if st := eval[string](t, b, `document.getElementById('status').textContent`); strings.Contains(st, "放大") {
			t.Errorf("drawn from tiles, the status still asks to zoom in: %q", st)
		}
		if a := eval[string](t, b, `document.querySelector('.leaflet-control-attribution').textContent`); strings.Contains(a, "OpenStreetMap") {
			t.Errorf("the attribution credits data the map does not show: %q", a)
		}
		// These parcels have no land-use class, so the statistics count nothing:
		// the panel says why instead of a total of zero.
		waitFor(t, b, `!!document.getElementById('stats-no-layers')`)
		if n := eval[int](t, b, `document.querySelectorAll('#filter fieldset').length`); n != 1 {
			t.Errorf("filter of parcels with stages but no land-use class: %d groups, want only the stages", n)
		}
		if st := eval[string](t, b, `document.getElementById('stats').textContent`); !strings.Contains(st, "没有带用地分类") || strings.Contains(st, "合计") {
			t.Errorf("statistics with no layer to count: %q; want the note that no visible layer has a land-use class, and no total", st)
		}
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-z12.png"), png, 0o644)
		}

		// Parcel 1 + 30 (row 0, column 30) lies under this point; its place on
		// the screen is read just before the click.
		const id = 31
		lon := layerstest.ParcelsWest + 30.5*layerstest.ParcelsCell
		lat := layerstest.ParcelsSouth + 0.5*layerstest.ParcelsCell
		js(t, b, fmt.Sprintf(`planmap.map.setView([%f, %f], 12, {animate: false});`, lat+0.01, lon))
		settle(t, b)
		// A click finds only what the tiles already loaded hold (a slow server
		// under -race may take seconds to send them): wait until the tile under
		// the point holds the parcel.
		waitFor(t, b, fmt.Sprintf(`planmap.identify.tiled.at(L.latLng(%f, %f)).some((h) => h.id == %d)`, lat, lon, id))
		xy := eval[[]float64](t, b, fmt.Sprintf(`(() => { const p = planmap.map.latLngToContainerPoint([%f, %f]);
		const r = planmap.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; })()`, lat, lon))
		b.do(t, chromedp.MouseClickXY(xy[0], xy[1]))
		got := waitText(t, b, ".leaflet-popup-content", fmt.Sprintf("%d号地块", id))
		if !strings.Contains(got, fmt.Sprintf("%d号地块", id)) {
			_, problems := b.snapshot()
			t.Errorf("clicking tiled parcel %d at %v opened %q; problems %v", id, xy, got, problems)
		}
		// Filtered to a stage parcel 31 is not in, it is neither drawn nor
		// found by a click.
		item := get(t, fmt.Sprintf("%s/collections/parcels/items/%d", srv.URL, id)).json(t)
		status := item["properties"].(map[string]any)["status"].(string)
		other := layerstest.ParcelsStatuses[0]
		if other == status {
			other = layerstest.ParcelsStatuses[1]
		}
		js(t, b, `planmap.map.closePopup();`)
		js(t, b, fmt.Sprintf(`location.hash = location.hash.replace(/&status=[^&]*/, '') + '&status=%s';`, other))
		settle(t, b)
		// The click is judged by the tiles as the filter now draws them.
		waitFor(t, b, fmt.Sprintf(`!planmap.identify.tiled.at(L.latLng(%f, %f)).some((h) => h.id == %d)`, lat, lon, id))
		xy = eval[[]float64](t, b, fmt.Sprintf(`(() => { const p = planmap.map.latLngToContainerPoint([%f, %f]);
		const r = planmap.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; })()`, lat, lon))
		b.do(t, chromedp.MouseClickXY(xy[0], xy[1]))
		time.Sleep(time.Second)
		if got := eval[string](t, b, `(document.querySelector('.leaflet-popup-content') || {}).textContent || ''`); strings.Contains(got, fmt.Sprintf("%d号地块", id)) {
			t.Errorf("filtered to status %s, a click on parcel %d (status %s) opened %q", other, id, status, got)
		}

		// Unticking the layer takes its tiles off the map.
		js(t, b, `planmap.map.closePopup();`)
		r := eval[[]float64](t, b, `(() => { const r = document.querySelector('input[data-layer="parcels"]').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()`)
		b.do(t, chromedp.MouseClickXY((r[0]+r[2])/2, (r[1]+r[3])/2))
		settle(t, b)
		if n := eval[int](t, b, `document.querySelectorAll('.leaflet-pm-parcels-pane canvas.leaflet-tile').length`); n != 0 {
			t.Errorf("after unticking the parcels, %d of their tile canvases are on the map", n)
		}
		_, problems = b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}

// The export of the filtered features holds every feature of the visible
// layers that passes the filter, also of a layer drawn from tiles, whose
// features the map has not loaded: the map pages through the items API,
// which selects the stages ticked, and the filter decides the rest.
func TestWebMapExportsFilteredTiledLayer(t *testing.T) {
	requireChromium(t)
	const n, small = 25000, 400
	files := func(t testing.TB) []*layers.File {
		t.Helper()
		// lots: a layer small enough for the map to load whole, beside the
		// big one, with stages and land-use codes too.
		text := strings.Replace(landuseParcelsText(small), `"id": "parcels"`, `"id": "lots"`, 1)
		text = strings.Replace(text, `"name": "parcels"`, `"name": "lots"`, 1)
		text = strings.Replace(text, `"order": 50`, `"order": 51`, 1)
		text = strings.Replace(text, `"en": "Synthetic parcels"}`, `"en": "Synthetic lots"}`, 1)
		text = strings.Replace(text, `"zh": "合成地块"`, `"zh": "合成宗地"`, 1)
		lots, err := layers.ParseFile("lots.geojson", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		// The big layer allows no parcel in operation: a stage the map may
		// filter by, but the API refuses to select in this layer.
		text = strings.Replace(landuseParcelsText(n), `"under_construction", "in_operation"]`, `"under_construction"]`, 1)
		text = strings.ReplaceAll(text, `"status": "in_operation"`, `"status": "planned"`)
		parcels, err := layers.ParseFile("parcels.geojson", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return []*layers.File{parcels, lots}
	}
	onEachLoaded(t, files, func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		b := newBrowser(t, 1280, 860)
		downloads := t.TempDir()
		if _, err := chromedp.Call(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
		}); err != nil {
			t.Fatalf("Browser.setDownloadBehavior: %v", err)
		}
		b.do(t, chromedp.Navigate(srv.URL+"/#map=12/31.915/121.43&layers=parcels,lots"))
		settle(t, b)
		waitFor(t, b, fmt.Sprintf(`(document.getElementById('filter-total') || {dataset: {}}).dataset.count === '%d'`, n+small))
		if got := eval[[]int](t, b, `[planmap.state.layers.get('parcels').byId.size, planmap.state.layers.get('lots').byId.size]`); got[0] != 0 || got[1] != small {
			t.Fatalf("test premise: parcels drawn from tiles (none loaded as GeoJSON), lots loaded whole; loaded %v", got)
		}

		// Three stages and one class, ticked with the mouse: two of the
		// stages the big layer allows, one it does not.
		stages := []string{"planned", "signed", "in_operation"}
		const code = "R2"
		for _, box := range []string{"#filter-status-" + stages[0], "#filter-status-" + stages[1], "#filter-status-" + stages[2], "#filter-class-" + code[:1]} {
			clickOn(t, b, box)
			settle(t, b)
			waitFor(t, b, fmt.Sprintf(`document.querySelector(%q).checked`, box))
		}

		// What passes, as the store itself answers: the features of any of
		// the stages with a land-use code of class R (R2 is the only one).
		want := map[string]bool{}
		for _, layer := range []string{"parcels", "lots"} {
			for _, st := range stages {
				for after := int64(0); ; {
					page, _, err := store.Items(ctx, layer, layers.Filter{Equals: map[string]any{"status": st, "landuse_gb50137": code}}, layers.Page{After: after, Limit: 5000})
					if err != nil {
						t.Fatal(err)
					}
					if len(page) == 0 {
						break
					}
					for _, it := range page {
						want[fmt.Sprintf("%s/%d", layer, it.ID)] = true
					}
					after = page[len(page)-1].ID
				}
			}
		}
		if len(want) < 1000 {
			t.Fatalf("test premise: %d features pass the filter", len(want))
		}
		inOperation := func(layer string) int {
			_, matched, err := store.Items(ctx, layer, layers.Filter{Equals: map[string]any{"status": "in_operation", "landuse_gb50137": code}}, layers.Page{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			return matched
		}
		if p, l := inOperation("parcels"), inOperation("lots"); p != 0 || l == 0 {
			t.Fatalf("test premise: of class R in operation, %d parcels (want none) and %d lots (want some)", p, l)
		}
		waitFor(t, b, fmt.Sprintf(`document.getElementById('filter-total').dataset.count === '%d'`, len(want)))

		clickOn(t, b, "#export-filtered")
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-export.png"), png, 0o644)
		}
		var doc struct {
			Type     string `json:"type"`
			Features []struct {
				ID         int64          `json:"id"`
				Properties map[string]any `json:"properties"`
				Geometry   *struct {
					Type string `json:"type"`
				} `json:"geometry"`
			} `json:"features"`
		}
		path := filepath.Join(downloads, "haimen-filtered.geojson")
		for deadline := time.Now().Add(patience); ; time.Sleep(100 * time.Millisecond) {
			// Chromium may show the file under its name before it has
			// written all of it: it is whole when it parses.
			body, err := os.ReadFile(path)
			if err == nil && json.Unmarshal(body, &doc) == nil {
				break
			}
			if failed := eval[string](t, b, `document.getElementById('status').dataset.kind`) == "error"; failed || time.Now().After(deadline) {
				_, problems := b.snapshot()
				t.Fatalf("the export downloaded nothing whole (%v); status %q; problems %v", err,
					eval[string](t, b, `document.getElementById('status').textContent`), problems)
			}
		}
		got := map[string]bool{}
		for _, f := range doc.Features {
			key := fmt.Sprintf("%v/%d", f.Properties["layer"], f.ID)
			if got[key] {
				t.Errorf("the export holds %s twice", key)
			}
			got[key] = true
			if f.Geometry == nil || f.Geometry.Type != "MultiPolygon" {
				t.Errorf("the export's %s has geometry %v", key, f.Geometry)
			}
			if _, ok := f.Properties["__id"]; ok {
				t.Errorf("the export's %s keeps the map's __id", key)
			}
		}
		byLayer := func(m map[string]bool) map[string]int {
			out := map[string]int{}
			for k := range m {
				out[strings.SplitN(k, "/", 2)[0]]++
			}
			return out
		}
		if doc.Type != "FeatureCollection" || len(doc.Features) != len(want) || !maps.Equal(got, want) {
			var missing, extra []string
			for k := range want {
				if !got[k] {
					missing = append(missing, k)
				}
			}
			for k := range got {
				if !want[k] {
					extra = append(extra, k)
				}
			}
			t.Errorf("the export holds a %s of %d features %v; the store finds %d passing %v; missing %d (%v), extra %d (%v)",
				doc.Type, len(doc.Features), byLayer(got), len(want), byLayer(want), len(missing), missing[:min(5, len(missing))], len(extra), extra[:min(5, len(extra))])
		}

		// The big layer was asked of the API a stage at a time, never whole,
		// and only for the stages it allows.
		allowed := stages[:2]
		reqs, problems := b.snapshot()
		asked := map[string]int{}
		for _, r := range reqs {
			if !strings.Contains(r, "/collections/parcels/items?") {
				continue
			}
			q, err := url.ParseQuery(r[strings.Index(r, "?")+1:])
			if err != nil || !slices.Contains(allowed, q.Get("status")) {
				t.Errorf("the export asked %s, not for one of the stages %v", r, allowed)
				continue
			}
			asked[q.Get("status")]++
		}
		if len(asked) != len(allowed) {
			t.Errorf("the export asked the parcels of the stages %v, want each of %v", asked, allowed)
		}
		waitFor(t, b, `document.body.dataset.busy === '0' && !document.getElementById('export-filtered').disabled`)
		if st := eval[string](t, b, `document.getElementById('status').dataset.kind`); st == "error" {
			t.Errorf("after the export the status says %q", eval[string](t, b, `document.getElementById('status').textContent`))
		}
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}

		// The server gone, the export fails as loading does: it says so, and
		// saves nothing (not the features it could read).
		srv.Listener.Close()
		srv.CloseClientConnections()
		clickOn(t, b, "#export-filtered")
		waitFor(t, b, `document.body.dataset.busy === '0' && document.getElementById('status').dataset.kind === 'error'`)
		// In the page's language, not the browser's "Failed to fetch".
		if st := eval[string](t, b, `document.getElementById('status').textContent`); !strings.Contains(st, "加载失败: 无法连接服务器") {
			t.Errorf("the export failing, the status says %q; want 加载失败: 无法连接服务器", st)
		}
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-export-failed.png"), png, 0o644)
		}
		time.Sleep(time.Second) // a download would have begun by now
		if files, _ := os.ReadDir(downloads); len(files) != 1 {
			t.Errorf("the export failing, the downloads are %v; want only the first export", files)
		}
	})
}

// landuseParcels are the layer files of n synthetic parcels
// (layerstest.Parcels) that also carry a land-use code, so that every
// panel of the map (the filter's classes, the legend, the 统计 panel) has
// something to count; one parcel in seven has no stage.
func landuseParcels(n int) func(t testing.TB) []*layers.File {
	return func(t testing.TB) []*layers.File {
		t.Helper()
		f, err := layers.ParseFile("parcels.geojson", []byte(landuseParcelsText(n)))
		if err != nil {
			t.Fatal(err)
		}
		return []*layers.File{f}
	}
}

// landuseParcelsText is the GeoJSON of landuseParcels.
func landuseParcelsText(n int) string {
	text := strings.Replace(string(layerstest.Parcels(n)), `"schema": [`, `"schema": [
    {"name": "landuse_gb50137", "type": "string", "description": {"zh": "用地代码", "en": "Land-use code"}},`, 1)
	text = strings.Replace(text, `{"name": "status", "type": "string", "required": true,`, `{"name": "status", "type": "string",`, 1)
	feature := regexp.MustCompile(`"id": (\d+), "properties": \{"name_zh": "[^"]*", "status": "[a-z_]+", `)
	stage := regexp.MustCompile(`"status": "[a-z_]+", `)
	text = feature.ReplaceAllStringFunc(text, func(m string) string {
		id, _ := strconv.Atoi(feature.FindStringSubmatch(m)[1])
		if id%7 == 0 {
			m = stage.ReplaceAllString(m, "")
		}
		return m + `"landuse_gb50137": "` + parcelCodes[id%len(parcelCodes)] + `", `
	})
	return text
}

// parcelCodes are the land-use codes of landuseParcels, by id modulo 4.
var parcelCodes = []string{"R2", "M1", "W1", "G1"}

// apiCount is what the statistics API counts for query on a collection:
// the total, and the count per group.
func apiCount(t *testing.T, base, query string) (int, map[string]int) {
	t.Helper()
	var doc struct {
		Groups []struct {
			Key   *string `json:"key"`
			Count int     `json:"count"`
		} `json:"groups"`
		Total struct {
			Count int `json:"count"`
		} `json:"total"`
	}
	r := get(t, base+"/collections/parcels/stats?"+query)
	if err := json.Unmarshal(r.body, &doc); err != nil || r.StatusCode != 200 {
		t.Fatalf("GET stats?%s = %d %s", query, r.StatusCode, r.body)
	}
	by := map[string]int{}
	for _, g := range doc.Groups {
		if g.Key != nil {
			by[*g.Key] += g.Count
		}
	}
	return doc.Total.Count, by
}

// A layer drawn from tiles is counted like any other: the filter's
// counts, the legend, the 统计 panel and the table show what the API
// says of it, not zero for the features the map has not loaded; and an
// edit shows on its tiles without a reload: a parcel deleted leaves its
// place blank, a parcel given the stage the map is filtered to appears.
func TestWebMapTiledLayerCountsAndEdits(t *testing.T) {
	requireChromium(t)
	const n = 25000
	onEachLoaded(t, landuseParcels(n), func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		b := newBrowser(t, 1280, 860)
		b.do(t, chromedp.Navigate(srv.URL+"/#map=12/31.915/121.43&layers=parcels"))
		settle(t, b)
		// Parcels 31 and 32 (row 0, columns 30 and 31), at their centres.
		at := func(id int) (lat, lon float64) {
			return layerstest.ParcelsSouth + 0.5*layerstest.ParcelsCell, layerstest.ParcelsWest + (float64(id-1)+0.5)*layerstest.ParcelsCell
		}
		lat31, lon31 := at(31)
		lat32, lon32 := at(32)
		js(t, b, fmt.Sprintf(`planmap.map.setView([%f, %f], 12, {animate: false});`, lat31+0.01, lon31))
		settle(t, b)
		tiledAt := func(id int, lat, lon float64) string {
			return fmt.Sprintf(`planmap.identify.tiled.at(L.latLng(%f, %f)).some((h) => h.id == %d)`, lat, lon, id)
		}
		waitFor(t, b, tiledAt(31, lat31, lon31))
		if eval[int](t, b, `planmap.state.layers.get('parcels').byId.size`) != 0 {
			t.Fatal("test premise: at zoom 12 the parcels are drawn from tiles, none loaded as GeoJSON")
		}

		// The filter's counts: every stage and class over the whole layer.
		waitFor(t, b, fmt.Sprintf(`(document.getElementById('filter-total') || {dataset: {}}).dataset.count === '%d'`, n))
		_, byStatus := apiCount(t, srv.URL, "groupby=status")
		_, byCode := apiCount(t, srv.URL, "groupby=landuse_gb50137")
		staged := 0
		for _, c := range byStatus {
			staged += c
		}
		if staged != n-n/7 || len(byCode) != len(parcelCodes) {
			t.Fatalf("test premise: %d of %d parcels have a stage, want all but one in seven; codes %v", staged, n, byCode)
		}
		for _, s := range layerstest.ParcelsStatuses {
			if got := eval[string](t, b, fmt.Sprintf(`document.querySelector('#filter-status-%s + label .count').dataset.count`, s)); got != strconv.Itoa(byStatus[s]) {
				t.Errorf("the filter counts %s parcels of stage %s; the API %d", got, s, byStatus[s])
			}
		}
		for _, code := range parcelCodes {
			if got := eval[string](t, b, fmt.Sprintf(`document.querySelector('#filter-class-%s + label .count').dataset.count`, code[:1])); got != strconv.Itoa(byCode[code]) {
				t.Errorf("the filter counts %s parcels of class %s; the API %d", got, code[:1], byCode[code])
			}
		}
		// The legend lists what the tiles draw: every stage and class.
		waitFor(t, b, `document.querySelectorAll('#legend li[data-status]').length === 4 && document.querySelectorAll('#legend li[data-class]').length === 4`)

		// The 统计 panel: for the district (from the API already) and for what
		// the filter shows (from the API now, not from the features loaded).
		statsCount := func(want int) {
			t.Helper()
			waitFor(t, b, fmt.Sprintf(`document.getElementById('stats').dataset.count === '%d'`, want))
		}
		statsCount(n)
		// Opening the map, the filter, the legend and the 统计 panel asked the
		// statistics API of the big layer once (by stage and code at once):
		// each request reads the whole layer.
		layerStats := func() (all []string) {
			reqs, _ := b.snapshot()
			for _, r := range reqs {
				if strings.Contains(r, "/collections/parcels/stats") {
					all = append(all, r)
				}
			}
			return all
		}
		if got := layerStats(); len(got) != 1 || !strings.Contains(got[0], "groupby=status,landuse_gb50137") {
			t.Errorf("opening the map asked for the parcels' statistics %d times, want once by status and code: %q", len(got), got)
		}
		js(t, b, `const s = document.getElementById('stats-scope'); s.value = 'filter'; s.dispatchEvent(new Event('change'));`)
		statsCount(n)
		status := layerstest.ParcelsStatuses[0]
		js(t, b, fmt.Sprintf(`location.hash = location.hash.replace(/&status=[^&]*/, '') + '&status=%s';`, status))
		statsCount(byStatus[status])
		waitFor(t, b, fmt.Sprintf(`document.getElementById('filter-total').dataset.count === '%d'`, byStatus[status]))
		// The panel shows the legend and, below it, the 统计 panel.
		js(t, b, `document.getElementById('legend').scrollIntoView();`)
		settle(t, b)
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-z12-panels.png"), png, 0o644)
		}

		// The table lists the first parcels in the view of the stage chosen,
		// and says how many the view holds, as the API does.
		b.do(t, chromedp.Click(chromedp.ID("table-toggle")))
		js(t, b, `const s = document.getElementById('table-layer'); s.value = 'parcels'; s.dispatchEvent(new Event('change'));`)
		waitFor(t, b, `document.getElementById('table-count').dataset.matched !== undefined`)
		bbox := eval[string](t, b, `(() => { const v = planmap.map.getBounds(); return [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()].map((x) => x.toFixed(6)).join(','); })()`)
		matched := int(get(t, srv.URL+"/collections/parcels/items?limit=1&status="+status+"&bbox="+bbox).json(t)["numberMatched"].(float64))
		rows := eval[int](t, b, `document.querySelectorAll('#feature-table tbody tr').length`)
		if got := eval[string](t, b, `document.getElementById('table-count').dataset.matched`); got != strconv.Itoa(matched) || matched == 0 || rows != min(matched, 500) {
			t.Errorf("the table of the view (%s) says %s parcels of stage %s, lists %d; the API matches %d", bbox, got, status, rows, matched)
		}
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-z12-table.png"), png, 0o644)
		}
		b.do(t, chromedp.Click(chromedp.ID("table-close")))

		// Edits. The opacity of the map's own tile canvas at a place.
		alpha := func(lat, lon float64) int {
			if px := tilePixel(t, b, "parcels", 12, lat, lon); len(px) == 4 {
				return px[3]
			}
			return -1
		}
		// colour is the colour of the tile canvas's pixel at a place.
		colour := func(lat, lon float64) []int {
			px := tilePixel(t, b, "parcels", 12, lat, lon)
			return px[:min(3, len(px))]
		}
		// waitAlpha waits until the pixel at a place is drawn (or blank): a
		// tile is painted a moment after its data is in.
		waitAlpha := func(what string, lat, lon float64, drawn bool) {
			t.Helper()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				a := alpha(lat, lon)
				if (drawn && a > 0) || (!drawn && a == 0) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: alpha %d at %f, %f after 10 s", what, a, lat, lon)
				}
			}
		}
		js(t, b, `location.hash = location.hash.replace(/&status=[^&]*/, '');`)
		waitFor(t, b, fmt.Sprintf(`document.getElementById('filter-total').dataset.count === '%d'`, n))
		waitFor(t, b, `document.body.dataset.live === 'open'`)
		waitFor(t, b, tiledAt(31, lat31, lon31))
		waitAlpha("test premise: parcel 31 is drawn on its tile", lat31, lon31, true)
		// Each parcel in its land-use colour (fill and outline alike below
		// zoom 14): 31 is G1, 32 R2 (parcelCodes).
		for _, p := range []struct {
			id       int
			lat, lon float64
		}{{31, lat31, lon31}, {32, lat32, lon32}} {
			code := parcelCodes[p.id%len(parcelCodes)]
			want, ok := layers.ShadeOf(code)
			if !ok {
				t.Fatalf("test premise: no colour for %s", code)
			}
			if got := colour(p.lat, p.lon); len(got) != 3 || !near(hexColour(t, want), 6)(uint8(got[0]), uint8(got[1]), uint8(got[2])) {
				t.Errorf("parcel %d (%s) drawn on its tile in %v, want its land-use colour %s", p.id, code, got, want)
			}
		}
		tile31 := "/collections/parcels/tiles/WebMercatorQuad/" + tilePath(tileAt(orb.Point{lon31, lat31}, 12))
		asked := func() int {
			reqs, _ := b.snapshot()
			n := 0
			for _, r := range reqs {
				if strings.Contains(r, tile31) {
					n++
				}
			}
			return n
		}
		before := asked()
		if err := store.Delete(ctx, "parcels", 31, "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, b, "!"+tiledAt(31, lat31, lon31))
		// The map asks for the tile again (that it drew the new one, not a
		// stale copy from the browser's cache, the pixels below say). The
		// parcel leaves the map's tile data when the tile is dropped, before
		// the request goes out, and the browser reports requests late: wait.
		for deadline := time.Now().Add(10 * time.Second); asked() <= before; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("10 s after the edit, %s was requested %d times, as before it", tile31, asked())
				break
			}
		}
		waitFor(t, b, fmt.Sprintf(`document.getElementById('filter-total').dataset.count === '%d'`, n-1))
		waitAlpha("parcel 31 deleted, its place on the tiled map", lat31, lon31, false)
		// The tile is painted at once, whole: its neighbour is still there.
		if a := alpha(lat32, lon32); a <= 0 {
			t.Errorf("parcel 32, next to the one deleted, is no longer drawn: alpha %d", a)
		}

		// Filtered to a stage parcel 32 is not in, it shows once an edit gives
		// it that stage.
		it, err := store.Item(ctx, "parcels", 32)
		if err != nil {
			t.Fatal(err)
		}
		other := layerstest.ParcelsStatuses[0]
		if it.Properties()["status"] == other {
			other = layerstest.ParcelsStatuses[1]
		}
		js(t, b, fmt.Sprintf(`location.hash = location.hash.replace(/&status=[^&]*/, '') + '&status=%s';`, other))
		settle(t, b)
		waitFor(t, b, "!"+tiledAt(32, lat32, lon32))
		waitAlpha(fmt.Sprintf("test premise: filtered to stage %s, parcel 32 is not drawn", other), lat32, lon32, false)
		props := maps.Clone(it.Properties())
		props["status"] = other
		if _, err := store.Replace(ctx, "parcels", 32, layers.Feature{Properties: props, Geometry: it.Geometry()}, "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, b, tiledAt(32, lat32, lon32))
		waitAlpha(fmt.Sprintf("parcel 32 given stage %s, the map filtered to it", other), lat32, lon32, true)
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-z12-edited.png"), png, 0o644)
		}
		_, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}

// tilePixel is the pixel of layer's tile canvas of zoom z at a place: red,
// green, blue (not premultiplied by its opacity) and opacity, or nothing
// when no tile there is drawn. It reads through a copy made for reading
// back, so that Chromium does not warn.
func tilePixel(t testing.TB, b *browser, layer string, z int, lat, lon float64) []int {
	t.Helper()
	return eval[[]int](t, b, fmt.Sprintf(`(() => {
		const z = %d, n = 2 ** z, s = Math.sin(%f * Math.PI / 180);
		const wx = (%f + 180) / 360 * n, wy = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n;
		const x = Math.floor(wx), y = Math.floor(wy);
		const c = [...document.querySelectorAll('.leaflet-pm-' + %q + '-pane canvas.leaflet-tile')].find((c) => c.key === x + ':' + y + ':' + z);
		if (!c || !c.width) return [];
		const k = c.width / 256;
		const o = document.createElement('canvas'); o.width = 1; o.height = 1;
		const g = o.getContext('2d', {willReadFrequently: true});
		g.drawImage(c, Math.floor((wx - x) * 256 * k), Math.floor((wy - y) * 256 * k), 1, 1, 0, 0, 1, 1);
		return [...g.getImageData(0, 0, 1, 1).data]; })()`, z, lat, lon, layer))
}

// An editor drawing next to the parcels of a layer drawn from tiles snaps
// to them: while drawing, the map reads the features of the tiled layers
// in view from the items API (exact, not the tiles' rounded shapes) as
// shapes only Leaflet-Geoman sees; a view holding too many snaps to none
// and says so; nothing is read when no one edits.
func TestWebMapEditSnapsToTiledParcels(t *testing.T) {
	requireChromium(t)
	onEachLoaded(t, parcelFiles(25000), func(t *testing.T, store loadedStore) {
		token, err := store.AddToken(ctx, "snapper", layers.RoleEditor, []string{"parcels"})
		if err != nil {
			t.Fatal(err)
		}
		srv := serveStore(t, store, web.Options{Tokens: store})
		b := newBrowser(t, 1024, 768)
		b.do(t, chromedp.Navigate(srv.URL+"/#map=12/31.915/121.43&layers=parcels"))
		settle(t, b)
		waitJS(t, b, "editing ready", `document.body.dataset.editReady === '1'`)
		clickOn(t, b, "#signin-toggle")
		clickOn(t, b, "#signin-token")
		b.do(t, chromedp.SendKeys(chromedp.ID("signin-token"), token))
		clickOn(t, b, `#signin-form button[type="submit"]`)
		waitJS(t, b, "signed in", `document.body.dataset.editor === 'yes' && !!document.getElementById('edit-panel')`)
		itemReqs := func() int {
			reqs, _ := b.snapshot()
			n := 0
			for _, r := range reqs {
				if strings.Contains(r, "/collections/parcels/items?") {
					n++
				}
			}
			return n
		}
		if n := itemReqs(); n != 0 {
			t.Errorf("signed in but not editing, the map read %d pages of the tiled parcels", n)
		}

		// Drawing over the middle of the grid at zoom 12: far more parcels
		// than snap in view. The status line says so; none is read.
		clickOn(t, b, "#edit-draw")
		waitJS(t, b, "drawing starts", `document.body.dataset.editing === 'drawing'`)
		waitJS(t, b, "too many to snap to", `document.body.dataset.snap === 'zoom-in'`)
		if !eval[bool](t, b, `planmap.identify.tiled.has('parcels')`) {
			t.Fatal("test premise: at zoom 12 the parcels are drawn from tiles")
		}
		if st := eval[string](t, b, `document.getElementById('status').textContent`); !strings.Contains(st, "放大后才能吸附到") || !strings.Contains(st, "合成地块") {
			t.Errorf("status line with too many parcels to snap to: %q", st)
		}
		if n := eval[int](t, b, `planmap.editing.snaps.count`); n != 0 {
			t.Errorf("too many parcels in view, yet %d are snappable", n)
		}

		// Zoom 12.5 (still drawn from tiles), the grid's south-west corner in
		// the right of the view, so that the view holds a few thousand.
		p1 := get(t, srv.URL+"/collections/parcels/items/1").json(t)
		ring := p1["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)
		var sw [2]float64 // lat, lng of parcel 1's south-west corner (least lng + lat)
		for i, c := range ring {
			c := c.([]any)
			lng, lat := c[0].(float64), c[1].(float64)
			if i == 0 || lng+lat < sw[0]+sw[1] {
				sw = [2]float64{lat, lng}
			}
		}
		cornerView := fmt.Sprintf(`(() => { const m = planmap.map, s = m.getSize(), z = 12.5;
		const c = m.project([%f, %f], z).subtract([s.x / 2 - 170, 0]);
		m.setView(m.unproject(c, z), z, {animate: false}); })()`, sw[0], sw[1])
		js(t, b, cornerView)
		waitJS(t, b, "the parcels in view read to snap to", `document.body.dataset.snap === 'ready' && planmap.editing.snaps.shapes.has('parcels/1')`)
		if z := eval[float64](t, b, `planmap.map.getZoom()`); z >= 13 || !eval[bool](t, b, `planmap.identify.tiled.has('parcels') && planmap.state.layers.get('parcels').byId.size === 0`) {
			t.Fatalf("test premise: at zoom %v the parcels are drawn from tiles, none loaded as GeoJSON", z)
		}
		if st := eval[string](t, b, `document.getElementById('status').textContent`); strings.Contains(st, "吸附") {
			t.Errorf("zoomed in to snap, the status line still says %q", st)
		}
		count := eval[int](t, b, `planmap.editing.snaps.count`)
		t.Logf("%d parcels snappable in view", count)

		// near is the place dx, dy pixels from lat, lng on screen now.
		near := func(lat, lng float64, dx, dy int) [2]float64 {
			ll := eval[[]float64](t, b, fmt.Sprintf(`(() => { const p = planmap.map.latLngToContainerPoint([%f, %f]).add([%d, %d]);
			const ll = planmap.map.containerPointToLatLng(p); return [ll.lat, ll.lng]; })()`, lat, lng, dx, dy))
			return [2]float64{ll[0], ll[1]}
		}
		// A polygon south of the grid: its first vertex clicked 3 pixels
		// south-west of parcel 1's corner, its second 3 pixels south of the
		// south edge of parcel 31, the others well away from every parcel.
		east := [2]float64{layerstest.ParcelsSouth + 2*layerstest.ParcelsMargin, layerstest.ParcelsWest + 30.5*layerstest.ParcelsCell}
		clicks := []func() [2]float64{
			func() [2]float64 { return near(sw[0], sw[1], -3, 3) },
			func() [2]float64 { return near(east[0], east[1], 0, 3) },
			func() [2]float64 { return near(east[0], east[1], 0, 60) },
			func() [2]float64 { return near(sw[0], sw[1], 0, 60) },
			func() [2]float64 { return near(sw[0], sw[1], -3, 3) },
		}
		var clicked [][2]float64
		for i, at := range clicks {
			v := at() // where it is on screen just before the click
			clicked = append(clicked, v)
			approachClickAt(t, b, v[0], v[1])
			if i == 1 {
				shot(t, b, "edit-snap-tiled-drawing.png")
			}
			if i < len(clicks)-1 {
				waitJS(t, b, fmt.Sprintf("vertex %d drawn", i+1), fmt.Sprintf(`planmap.map.pm.Draw.Polygon._layer.getLatLngs().length === %d`, i+1))
			}
		}
		waitJS(t, b, "the form opens", `!!document.querySelector('#edit-form')`)
		shot(t, b, "edit-snap-tiled-drawn.png")
		got := eval[[][]float64](t, b, `planmap.editing.geometry().coordinates[0]`)
		if len(got) != 5 {
			t.Fatalf("drawn: %v, want 4 vertices and the closing one", got)
		}
		// The first vertex is parcel 1's corner, exactly: the only parcel near
		// it, and the one Geoman prefers among close ones (the first added).
		if math.Abs(got[0][0]-sw[1]) > 1e-12 || math.Abs(got[0][1]-sw[0]) > 1e-12 {
			t.Errorf("vertex clicked 3 px from parcel 1's corner %v is at %v", sw, got[0])
		}
		// The second is a corner of one of the parcels around the click, as
		// the API has it: not rounded to a tile's grid.
		bbox := fmt.Sprintf("%f,%f,%f,%f", clicked[1][1]-0.002, clicked[1][0]-0.002, clicked[1][1]+0.002, clicked[1][0]+0.002)
		var corner []float64
		var owner float64
		for _, f := range get(t, srv.URL+"/collections/parcels/items?limit=100&bbox="+bbox).json(t)["features"].([]any) {
			f := f.(map[string]any)
			for _, c := range f["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any) {
				c := c.([]any)
				if math.Abs(got[1][0]-c[0].(float64)) < 1e-12 && math.Abs(got[1][1]-c[1].(float64)) < 1e-12 {
					corner, owner = []float64{c[0].(float64), c[1].(float64)}, f["id"].(float64)
				}
			}
		}
		if corner == nil || owner != 31 {
			t.Errorf("vertex clicked 3 px south of parcel 31 is at %v, on a corner of parcel %v %v; want one of parcel 31's", got[1], owner, corner)
		}
		// Far from every parcel, nothing snaps: the vertex is where the mouse
		// clicked, within half a pixel (the mouse moves by whole pixels).
		if math.Abs(got[2][0]-clicked[2][1]) > 1e-4 || math.Abs(got[2][1]-clicked[2][0]) > 1e-4 {
			t.Errorf("vertex clicked away from every parcel moved from %v to %v", clicked[2], got[2])
		}

		// Editing over, the snappable copies go.
		clickOn(t, b, "#edit-cancel")
		waitJS(t, b, "the form closes", `!document.getElementById('edit-box')`)
		if n := eval[int](t, b, `planmap.editing.snaps.count + (document.body.dataset.snap ? 1 : 0)`); n != 0 {
			t.Errorf("editing over, %d snappable copies (or the snap state) are kept", n)
		}
		before := itemReqs()
		js(t, b, `planmap.map.panBy([200, 0], {animate: false});`)
		settle(t, b)
		if n := itemReqs(); n != before {
			t.Errorf("editing over, moving the map read %d pages of the tiled parcels", n-before)
		}

		// Editing tiled parcel 31 (opened from its popup), its own old copy is
		// not snappable: a vertex moved a little would snap back. Its
		// neighbour is.
		js(t, b, cornerView)
		settle(t, b)
		lat31, lon31 := layerstest.ParcelsSouth+0.5*layerstest.ParcelsCell, layerstest.ParcelsWest+30.5*layerstest.ParcelsCell
		waitFor(t, b, fmt.Sprintf(`planmap.identify.tiled.at(L.latLng(%f, %f)).some((h) => h.id == 31)`, lat31, lon31))
		clickAt(t, b, lat31, lon31)
		clickOn(t, b, ".pm-edit-feature")
		waitJS(t, b, "the form of parcel 31", `document.body.dataset.editing === 'feature' && !!document.querySelector('#edit-form')`)
		// The form may have moved the map aside: back to a view of a few
		// thousand parcels, and wait for the snappable copies read for it.
		run := eval[int](t, b, `planmap.editing.snaps.run`)
		js(t, b, cornerView)
		waitJS(t, b, "the parcels in view read again", fmt.Sprintf(`planmap.editing.snaps.run > %d && document.body.dataset.snap === 'ready'`, run))
		if !eval[bool](t, b, `planmap.editing.snaps.shapes.has('parcels/32')`) || eval[bool](t, b, `planmap.editing.snaps.shapes.has('parcels/31')`) {
			t.Errorf("editing parcel 31: its old copy snappable %v, its neighbour 32 %v; want only the neighbour",
				eval[bool](t, b, `planmap.editing.snaps.shapes.has('parcels/31')`), eval[bool](t, b, `planmap.editing.snaps.shapes.has('parcels/32')`))
		}
		// Someone moves parcel 32 meanwhile: what snaps follows, without a
		// move of the map.
		waitJS(t, b, "the change stream opens", `document.body.dataset.live === 'open'`)
		it, err := store.Item(ctx, "parcels", 32)
		if err != nil {
			t.Fatal(err)
		}
		moved := orb.Clone(it.Geometry()).(orb.MultiPolygon)
		for _, poly := range moved {
			for _, ring := range poly {
				for i := range ring {
					ring[i][0] += 0.00002 // about 2 m east: still in its cell
				}
			}
		}
		if _, err := store.Replace(ctx, "parcels", 32, layers.Feature{Properties: it.Properties(), Geometry: moved}, "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		waitJS(t, b, "the moved parcel's corner snappable", fmt.Sprintf(`planmap.editing.snaps.group.getLayers().some((l) => l.getLatLngs().flat(3).some((ll) => Math.abs(ll.lng - %.9f) < 1e-9 && Math.abs(ll.lat - %.9f) < 1e-9))`, moved[0][0][0][0], moved[0][0][0][1]))
		clickOn(t, b, "#edit-cancel")
		waitJS(t, b, "the form closes", `!document.getElementById('edit-box')`)
		_, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}

// approachClickAt moves the mouse to where lat, lng is on screen now from
// 40 pixels south-west (outside the grid of parcels: nothing on the way
// snaps), waits until the drawing tool has seen the move, and clicks.
func approachClickAt(t *testing.T, b *browser, lat, lng float64) {
	t.Helper()
	xy := eval[[]float64](t, b, fmt.Sprintf(`(() => {
		const p = planmap.map.latLngToContainerPoint([%f, %f]);
		const r = planmap.map.getContainer().getBoundingClientRect();
		return [r.left + p.x, r.top + p.y];
	})()`, lat, lng))
	b.do(t, chromedp.MouseEvent(chromedp.MouseMoved, xy[0]-40, xy[1]+40), chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]))
	// The drawing tool has seen the last move when its marker is at the
	// pointer, or was there before it snapped (Leaflet-Geoman keeps where
	// the pointer put it in _orgLatLng; wherever it snapped to).
	waitJS(t, b, "the drawing tool follows the mouse", fmt.Sprintf(`(() => {
		const h = planmap.map.pm.Draw.Polygon._hintMarker, r = planmap.map.getContainer().getBoundingClientRect();
		if (!h) return false;
		const at = h._snapped ? h._orgLatLng : h.getLatLng();
		return planmap.map.latLngToContainerPoint(at).distanceTo([%f - r.left, %f - r.top]) <= 1; })()`, xy[0], xy[1]))
	b.do(t, chromedp.MouseClickXY(xy[0], xy[1]))
}

// Big layers of points and of lines are drawn from tiles too: a point as a
// circle filled in its layer's fill colour, a line as a stroke of its
// colour; and a click finds a point or a line within a few pixels of it,
// and nothing farther.
func TestWebMapDrawsTiledPointsAndLines(t *testing.T) {
	requireChromium(t)
	const n = 21000 // above the map's bigLayer (20,000), checked below
	const cols = 150
	const cell = 0.006 // degrees: about 18 pixels apart at zoom 12
	// Feature id's cell, its lower left corner.
	corner := func(id int) (lon, lat float64) {
		return layerstest.ParcelsWest + float64((id-1)%cols)*cell, layerstest.ParcelsSouth + float64((id-1)/cols)*cell
	}
	layer := func(id, geometryType, style string, geometry func(id int) string) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"type": "FeatureCollection", "id": %q, "title": {"zh": %q, "en": %q}, "geometryType": %q, "order": 70,
			"schema": [{"name": "name_zh", "type": "string", "description": {"zh": "中文名称", "en": "Name in Chinese"}}],
			"style": %s, "features": [`, id, id, id, geometryType, style)
		for i := 1; i <= n; i++ {
			if i > 1 {
				sb.WriteString(",\n")
			}
			fmt.Fprintf(&sb, `{"type": "Feature", "id": %d, "properties": {"name_zh": "%d号"}, "geometry": %s}`, i, i, geometry(i))
		}
		sb.WriteString("]}")
		return sb.String()
	}
	const wellFill, wellEdge, ditchColour = "#E04020", "#1F4E9C", "#2080FF"
	wells := layer("wells", "Point", `{"color": "`+wellEdge+`", "fillColor": "`+wellFill+`", "weight": 1, "opacity": 1, "fillOpacity": 1}`, func(id int) string {
		lon, lat := corner(id)
		return fmt.Sprintf(`{"type": "Point", "coordinates": [%.7f, %.7f]}`, lon+0.5*cell, lat+0.5*cell)
	})
	ditches := layer("ditches", "LineString", `{"color": "`+ditchColour+`", "weight": 3, "opacity": 1}`, func(id int) string {
		lon, lat := corner(id)
		return fmt.Sprintf(`{"type": "LineString", "coordinates": [[%.7f, %.7f], [%.7f, %.7f]]}`, lon+0.1*cell, lat+0.2*cell, lon+0.9*cell, lat+0.2*cell)
	})
	files := func(t testing.TB) []*layers.File {
		var fs []*layers.File
		for _, l := range []struct{ name, text string }{{"wells.geojson", wells}, {"ditches.geojson", ditches}} {
			f, err := layers.ParseFile(l.name, []byte(l.text))
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		return fs
	}
	onEachLoaded(t, files, func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		b := newBrowser(t, 1024, 768)
		const id = 70*cols + 75 // in the middle of the grid
		lon, lat := corner(id)
		wellLon, wellLat := lon+0.5*cell, lat+0.5*cell
		ditchLon, ditchLat := lon+0.5*cell, lat+0.2*cell
		b.do(t, chromedp.Navigate(fmt.Sprintf("%s/#map=12/%f/%f&layers=wells,ditches", srv.URL, wellLat, wellLon)))
		settle(t, b)
		if big := eval[int](t, b, `planmap.limits.bigLayer`); n <= big {
			t.Fatalf("test premise: %d features are a big layer: bigLayer %d", n, big)
		}
		hits := func(lat, lon float64) string {
			return eval[string](t, b, fmt.Sprintf(`planmap.identify.tiled.at(L.latLng(%f, %f)).map((h) => h.col.id + '/' + h.id).sort().join(' ')`, lat, lon))
		}
		// Each layer's tiles are requests of their own: wait for both.
		waitFor(t, b, fmt.Sprintf(`planmap.identify.tiled.at(L.latLng(%f, %f)).length > 0`, wellLat, wellLon))
		waitFor(t, b, fmt.Sprintf(`planmap.identify.tiled.at(L.latLng(%f, %f)).length > 0`, ditchLat, ditchLon))
		if eval[int](t, b, `planmap.state.layers.get('wells').byId.size + planmap.state.layers.get('ditches').byId.size`) != 0 {
			t.Fatal("test premise: at zoom 12 both layers are drawn from tiles, none loaded as GeoJSON")
		}
		// Pixels a degree of latitude here, and of longitude (the map's
		// projection, unrounded).
		perLat := eval[float64](t, b, fmt.Sprintf(`planmap.map.project([%f, %f], 12).y - planmap.map.project([%f, %f], 12).y`, wellLat, wellLon, wellLat+1e-3, wellLon)) * 1e3
		perLon := eval[float64](t, b, fmt.Sprintf(`planmap.map.project([%f, %f], 12).x - planmap.map.project([%f, %f], 12).x`, wellLat, wellLon+1e-3, wellLat, wellLon)) * 1e3
		for _, c := range []struct {
			what     string
			lat, lon float64
			want     string
		}{
			{"the well's centre", wellLat, wellLon, fmt.Sprintf("wells/%d", id)},
			{"3 pixels east of the well", wellLat, wellLon + 3/perLon, fmt.Sprintf("wells/%d", id)},
			{"7 pixels east of the well", wellLat, wellLon + 7/perLon, ""},
			{"the ditch's middle", ditchLat, ditchLon, fmt.Sprintf("ditches/%d", id)},
			{"3 pixels south of the ditch", ditchLat - 3/perLat, ditchLon, fmt.Sprintf("ditches/%d", id)},
			{"5 pixels south of the ditch", ditchLat - 5/perLat, ditchLon, ""},
		} {
			if got := hits(c.lat, c.lon); got != c.want {
				t.Errorf("tiled features at %s: %q, want %q", c.what, got, c.want)
			}
		}
		for _, c := range []struct {
			layer, want string
			lat, lon    float64
		}{{"wells", wellFill, wellLat, wellLon}, {"ditches", ditchColour, ditchLat, ditchLon}} {
			var px []int
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if px = tilePixel(t, b, c.layer, 12, c.lat, c.lon); len(px) == 4 && px[3] > 0 {
					break
				}
				if time.Now().After(deadline) {
					break
				}
			}
			if len(px) != 4 || px[3] != 255 || !near(hexColour(t, c.want), 6)(uint8(px[0]), uint8(px[1]), uint8(px[2])) {
				t.Errorf("%s drawn on its tile in %v (red, green, blue, opacity), want %s, opaque", c.layer, px, c.want)
			}
		}
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(artifactDir(t), "map-tiles-points-lines.png"), png, 0o644)
		}

		// Redeclared with another fill, the wells are drawn in it.
		f, err := layers.ParseFile("wells.geojson", []byte(wells))
		if err != nil {
			t.Fatal(err)
		}
		const newFill = "#20A040"
		f.Layer.Style.FillColor = newFill
		if err := store.(interface {
			RedeclareLayer(context.Context, *layers.Layer, layers.Edit) error
		}).RedeclareLayer(ctx, f.Layer, layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		var px []int
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			px = tilePixel(t, b, "wells", 12, wellLat, wellLon)
			if len(px) == 4 && near(hexColour(t, newFill), 6)(uint8(px[0]), uint8(px[1]), uint8(px[2])) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("15 s after the wells were redeclared with fill %s, a well is drawn in %v", newFill, px)
				break
			}
		}
		_, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}
