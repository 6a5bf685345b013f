package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/web"
)

// snapTarget is a place to click a few pixels off a parcel's corner, with
// what a snapper that goes by distance makes of it.
type snapTarget struct {
	lat, lng float64    // the place clicked
	corner   [2]float64 // lng, lat of the nearest corner, as the API has it
	owner    int        // the parcel whose corner it is
	px       float64    // pixels from the place to the corner
}

// An editor drawing among thousands of small parcels drawn as GeoJSON
// snaps to the corner nearest the pointer: not to another parcel's,
// within reach but farther, that Leaflet-Geoman's list happens to give
// first.
func TestWebMapEditSnapsToDenseParcels(t *testing.T) {
	requireChromium(t)
	// 12,000 parcels in 20 rows: at zoom 14 the view and its margin hold
	// about 3,000 of them, ten pixels wide, loaded as GeoJSON on a canvas.
	onEachLoaded(t, parcelFiles(12000), func(t *testing.T, store loadedStore) {
		token, err := store.AddToken(ctx, "snapper", layers.RoleEditor, []string{"parcels"})
		if err != nil {
			t.Fatal(err)
		}
		srv := serveStore(t, store, web.Options{Tokens: store})
		b := newBrowser(t, 1024, 768)
		const row, col = 10, 300 // the grid cell in the middle of the view
		lat0 := layerstest.ParcelsSouth + (row+0.5)*layerstest.ParcelsCell
		lng0 := layerstest.ParcelsWest + (col+0.5)*layerstest.ParcelsCell
		b.do(t, chromedp.Navigate(fmt.Sprintf("%s/#map=14/%f/%f&layers=parcels", srv.URL, lat0, lng0)))
		settle(t, b)
		waitJS(t, b, "editing ready", `document.body.dataset.editReady === '1'`)
		signInWith(t, b, token)
		clickOn(t, b, "#edit-draw")
		waitJS(t, b, "drawing starts", `document.body.dataset.editing === 'drawing'`)
		settle(t, b)
		drawn := eval[int](t, b, `planmap.state.layers.get('parcels').group.getLayers().length`)
		if drawn < 2000 || eval[bool](t, b, `planmap.identify.tiled.has('parcels')`) {
			t.Fatalf("test premise: at zoom 14 thousands of parcels are drawn as GeoJSON; %d are", drawn)
		}
		t.Logf("%d parcels drawn as GeoJSON", drawn)

		// Four corners around the middle of the view, each clicked 2 pixels
		// diagonally outside it: the south-west corner of one parcel, the
		// south-east of one 6 columns east, the north-east and north-west
		// of ones 5 rows north.
		slots := []struct {
			col, row int
			dx, dy   int // the corner's side: -1 west or south, +1 east or north
		}{
			{col - 3, row - 2, -1, -1},
			{col + 3, row - 2, +1, -1},
			{col + 3, row + 3, +1, +1},
			{col - 3, row + 3, -1, +1},
		}
		var targets []snapTarget
		for i, s := range slots {
			if i > 0 {
				waitJS(t, b, fmt.Sprintf("vertex %d drawn", i), fmt.Sprintf(`planmap.map.pm.Draw.Polygon._layer.getLatLngs().length === %d`, i))
			}
			// Where things are on screen is read just before each click.
			tg, ok := snapTargetNear(t, b, srv.URL, s.col, s.row, s.dx, s.dy)
			if !ok {
				t.Fatalf("test premise: no corner near parcel column %d row %d is the nearest vertex and on the nearest edge to a place 2 px off it", s.col, s.row)
			}
			targets = append(targets, tg)
			approachClickAt(t, b, tg.lat, tg.lng)
			t.Logf("vertex %d: the drawing tool's marker %s", i+1, eval[string](t, b, fmt.Sprintf(`(() => {
				const m = planmap.map, h = m.pm.Draw.Polygon._hintMarker, p = m.latLngToContainerPoint([%f, %f]);
				return (h._snapped ? 'snapped ' : 'not snapped ') + m.latLngToContainerPoint(h.getLatLng()).distanceTo(p).toFixed(1) + ' px from the pointer'; })()`, tg.lat, tg.lng)))
			if i == 0 {
				shot(t, b, "edit-snap-dense-drawing.png")
			}
		}
		waitJS(t, b, "vertex 4 drawn", `planmap.map.pm.Draw.Polygon._layer.getLatLngs().length === 4`)
		approachClickAt(t, b, targets[0].lat, targets[0].lng) // on the first vertex: done
		waitJS(t, b, "the form opens", `!!document.querySelector('#edit-form')`)
		shot(t, b, "edit-snap-dense-drawn.png")
		got := eval[[][]float64](t, b, `planmap.editing.geometry().coordinates[0]`)
		if len(got) != 5 {
			t.Fatalf("drawn: %v, want 4 vertices and the closing one", got)
		}
		for i, tg := range targets {
			if got[i][0] != tg.corner[0] || got[i][1] != tg.corner[1] {
				t.Errorf("vertex %d, clicked %.1f px off parcel %d's corner %v (the nearest), is at %v", i+1, tg.px, tg.owner, tg.corner, got[i])
			}
		}
		clickOn(t, b, "#edit-cancel")
		waitJS(t, b, "the form closes", `!document.getElementById('edit-box')`)
		_, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}

// signInWith signs in on the map with token, typed into the sign-in box.
func signInWith(t *testing.T, b *browser, token string) {
	t.Helper()
	clickOn(t, b, "#signin-toggle")
	clickOn(t, b, "#signin-token")
	b.do(t, chromedp.SendKeys(chromedp.ID("signin-token"), token))
	clickOn(t, b, `#signin-form button[type="submit"]`)
	waitJS(t, b, "signed in", `document.body.dataset.editor === 'yes' && !!document.getElementById('edit-panel')`)
}

// snapTargetNear finds, among the parcels of a few cells around grid
// column col and row row, a corner on the side dx, dy (-1 west or south,
// +1 east or north) that a click 2 pixels outside it, diagonally, has as
// its nearest vertex and as an end of its nearest edge, with no other
// vertex within a pixel as near: the corner a snapper going by distance
// takes. Every position is the map's own projection, now, of the API's
// coordinates.
func snapTargetNear(t *testing.T, b *browser, base string, col, row, dx, dy int) (snapTarget, bool) {
	t.Helper()
	bbox := layerstest.ParcelsBBox(col-4, row-4, 9, 9)
	var rings [][][2]float64
	var owners []int
	for _, f := range get(t, base+"/collections/parcels/items?limit=200&bbox="+bbox).json(t)["features"].([]any) {
		f := f.(map[string]any)
		var ring [][2]float64
		for _, c := range f["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any) {
			c := c.([]any)
			ring = append(ring, [2]float64{c[0].(float64), c[1].(float64)})
		}
		rings = append(rings, ring)
		owners = append(owners, int(f["id"].(float64)))
	}
	in, _ := json.Marshal(rings)
	// The rings on screen, in container pixels.
	px := eval[[][][2]float64](t, b, fmt.Sprintf(`%s.map((r) => r.map(([lng, lat]) => {
		const p = planmap.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }))`, in))
	// Candidates: the parcels of the 5×5 cells around col, row, row by
	// row.
	for d := range 25 {
		id := (row+d/5-2)*layerstest.ParcelsColumns + col + d%5 - 2 + 1
		k := -1
		for i, o := range owners {
			if o == id {
				k = i
			}
		}
		if k < 0 {
			continue
		}
		// The corner: the vertex farthest towards dx, dy.
		c := 0
		for j, v := range rings[k] {
			if float64(dx)*v[0]+float64(dy)*v[1] > float64(dx)*rings[k][c][0]+float64(dy)*rings[k][c][1] {
				c = j
			}
		}
		// 2 px outside, in whole pixels (the mouse moves by whole pixels;
		// the container's top-left corner is at a whole pixel too).
		p := [2]float64{math.Round(px[k][c][0]) + 2*float64(dx), math.Round(px[k][c][1]) - 2*float64(dy)}
		// The vertices by distance (a ring's closing vertex is its first),
		// and the nearest edge.
		dist := map[[2]float64]float64{}
		edge, ends := math.Inf(1), [2][2]float64{}
		for i, r := range px {
			for j, v := range r {
				dist[rings[i][j]] = math.Hypot(v[0]-p[0], v[1]-p[1])
				if j+1 < len(r) {
					if de := segmentDistance(p, v, r[j+1]); de < edge {
						edge, ends = de, [2][2]float64{rings[i][j], rings[i][j+1]}
					}
				}
			}
		}
		corner := rings[k][c]
		best, second := dist[corner], math.Inf(1)
		for v, dv := range dist {
			if v != corner {
				second = math.Min(second, dv)
			}
		}
		if best > 5 || second-best < 1 || (ends[0] != corner && ends[1] != corner) {
			continue
		}
		ll := eval[[]float64](t, b, fmt.Sprintf(`(() => { const ll = planmap.map.containerPointToLatLng([%f, %f]); return [ll.lat, ll.lng]; })()`, p[0], p[1]))
		return snapTarget{lat: ll[0], lng: ll[1], corner: corner, owner: owners[k], px: best}, true
	}
	return snapTarget{}, false
}

// segmentDistance is the distance from p to the segment a–b.
func segmentDistance(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := dx*dx + dy*dy
	s := 0.0
	if l > 0 {
		s = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-s*dx, p[1]-a[1]-s*dy)
}
