package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"planmap/layers/layerstest"
	"planmap/web"
)

// A big layer at a zoom where its features are too many to load is drawn
// from vector tiles on a canvas, and a click on a tiled parcel opens its
// popup, the feature fetched by the id the tile carries.
func TestWebMapDrawsBigLayerFromTiles(t *testing.T) {
	requireChromium(t)
	srv := serveStore(t, parcelsStore(t, 25000), web.Options{})
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
	if st := eval[string](t, b, `document.getElementById('status').textContent`); strings.Contains(st, "放大") {
		t.Errorf("drawn from tiles, the status still asks to zoom in: %q", st)
	}
	if a := eval[string](t, b, `document.querySelector('.leaflet-control-attribution').textContent`); strings.Contains(a, "OpenStreetMap") {
		t.Errorf("the attribution credits data the map does not show: %q", a)
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
	time.Sleep(300 * time.Millisecond)
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
}
