package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

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
			tg, ok := snapTargetNear(t, b, srv.URL, s.col, s.row, s.dx, s.dy, 0)
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

		// Editing parcel p, its old copy is not snappable, its neighbours
		// are; a vertex of it dragged 2 px off a neighbour's corner lands on
		// the nearest corner. At zoom 16, where a parcel's handles, 40 px
		// apart, do not overlap: at zoom 14 the mouse takes whichever is on
		// top.
		js(t, b, fmt.Sprintf(`planmap.map.setView([%f, %f], 16, {animate: false});`, lat0, lng0))
		settle(t, b)
		p := row*layerstest.ParcelsColumns + col + 1
		clickAt(t, b, lat0, lng0)
		clickOn(t, b, ".pm-edit-feature")
		waitJS(t, b, fmt.Sprintf("the form of parcel %d", p), `document.body.dataset.editing === 'feature' && !!document.querySelector('#edit-form')`)
		if id := eval[int](t, b, `planmap.editing.session.fid`); id != p {
			t.Fatalf("test premise: editing parcel %d, want %d", id, p)
		}
		snappable := func(id int) bool {
			return eval[bool](t, b, fmt.Sprintf(`planmap.editing.snaps.shapes.has('parcels/%d')`, id))
		}
		waitJS(t, b, "the neighbours snappable", fmt.Sprintf(`planmap.editing.snaps.shapes.has('parcels/%d')`, p+1))
		if snappable(p) {
			t.Errorf("editing parcel %d, its old copy is snappable", p)
		}
		settle(t, b)
		tg, ok := snapTargetNear(t, b, srv.URL, col+1, row+1, -1, -1, p)
		if !ok {
			t.Fatalf("test premise: no corner near parcel column %d row %d to drag a vertex to", col+1, row+1)
		}
		// The vertex of p farthest north-east, dragged there: taken 3 px
		// north-east of its middle, where no other handle overlaps its own
		// (the middle one of an edge would make a new vertex), and moved as
		// the mouse moves.
		from := eval[[]float64](t, b, `(() => { const m = planmap.map, r = m.getContainer().getBoundingClientRect();
			const v = planmap.editing.session.shape.getLatLngs().flat(3).reduce((a, b) => (b.lat + b.lng > a.lat + a.lng ? b : a));
			const p = m.latLngToContainerPoint(v).add([3, -3]), e = document.elementFromPoint(r.left + p.x, r.top + p.y);
			const h = Object.values(m._layers).find((l) => l._icon && l._icon.contains(e));
			return h && h.getLatLng().equals(v, 0) ? [r.left + p.x, r.top + p.y] : []; })()`)
		if len(from) != 2 {
			t.Fatalf("test premise: 3 px north-east of parcel %d's north-east vertex, its handle is not the one on top", p)
		}
		to := eval[[]float64](t, b, fmt.Sprintf(`(() => { const m = planmap.map, r = m.getContainer().getBoundingClientRect();
			const p = m.latLngToContainerPoint([%f, %f]).add([3, -3]); return [r.left + p.x, r.top + p.y]; })()`, tg.lat, tg.lng))
		before := eval[string](t, b, `JSON.stringify(planmap.editing.geometry())`)
		dragMouse(t, b, from[0], from[1], to[0], to[1])
		waitJS(t, b, "the shape changed", fmt.Sprintf(`JSON.stringify(planmap.editing.geometry()) !== %q`, before))
		shot(t, b, "edit-snap-dense-vertex.png")
		moved := eval[[][]float64](t, b, `planmap.editing.geometry().coordinates[0][0]`)
		if !slices.ContainsFunc(moved, func(c []float64) bool { return c[0] == tg.corner[0] && c[1] == tg.corner[1] }) {
			t.Errorf("a vertex of parcel %d dragged %.1f px off parcel %d's corner %v (the nearest): the ring is %v", p, tg.px, tg.owner, tg.corner, moved)
		}

		// What snaps follows what is shown: a filter hides the parcels of
		// the other stages, and they stop being snappable.
		stage := func(id int) string {
			it, err := store.Item(ctx, "parcels", int64(id))
			if err != nil {
				t.Fatal(err)
			}
			return it.Properties()["status"].(string)
		}
		other := p + 1
		for stage(other) == stage(p+2) {
			other++
		}
		js(t, b, fmt.Sprintf(`location.hash = location.hash.replace(/&status=[^&]*/, '') + '&status=%s';`, stage(p+2)))
		waitJS(t, b, "the filtered-out parcels not snappable", fmt.Sprintf(`!planmap.editing.snaps.shapes.has('parcels/%d') && planmap.editing.snaps.shapes.has('parcels/%d')`, other, p+2))
		js(t, b, `location.hash = location.hash.replace(/&status=[^&]*/, '');`)
		waitJS(t, b, "the filter cleared, snappable again", fmt.Sprintf(`planmap.editing.snaps.shapes.has('parcels/%d')`, other))

		// Someone moves parcel p+1 meanwhile: its new corner snaps, without
		// a move of the map.
		waitJS(t, b, "the change stream opens", `document.body.dataset.live === 'open'`)
		it, err := store.Item(ctx, "parcels", int64(p+1))
		if err != nil {
			t.Fatal(err)
		}
		shifted := orb.Clone(it.Geometry()).(orb.MultiPolygon)
		for _, poly := range shifted {
			for _, ring := range poly {
				for i := range ring {
					ring[i][0] += 0.00002 // about 2 m east: still in its cell
				}
			}
		}
		if _, err := store.Replace(ctx, "parcels", int64(p+1), layers.Feature{Properties: it.Properties(), Geometry: shifted}, "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		waitJS(t, b, "the moved parcel's corner snappable", fmt.Sprintf(`planmap.editing.snaps.group.getLayers().some((l) => l.getLatLngs().flat(3).some((ll) => ll.lng === %v && ll.lat === %v))`, shifted[0][0][0][0], shifted[0][0][0][1]))
		if eval[bool](t, b, fmt.Sprintf(`planmap.editing.snaps.group.getLayers().some((l) => l.getLatLngs().flat(3).some((ll) => ll.lng === %v && ll.lat === %v))`, it.Geometry().(orb.MultiPolygon)[0][0][0][0], it.Geometry().(orb.MultiPolygon)[0][0][0][1])) {
			t.Errorf("parcel %d moved, its old corner is still snappable", p+1)
		}

		// The layer turned off, none of it snaps; turned on, it does again.
		clickOn(t, b, "#layer-parcels")
		waitJS(t, b, "the layer off, nothing snappable", `planmap.editing.snaps.count === 0`)
		clickOn(t, b, "#layer-parcels")
		waitJS(t, b, "the layer on, snappable again", fmt.Sprintf(`planmap.editing.snaps.shapes.has('parcels/%d')`, p+1))
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
// column col and row row (but parcel exclude), a corner on the side dx, dy (-1 west or south,
// +1 east or north) that a click 2 pixels outside it, diagonally, has as
// its nearest vertex and as an end of its nearest edge, with no other
// vertex within a pixel as near: the corner a snapper going by distance
// takes. Every position is the map's own projection, now, of the API's
// coordinates.
func snapTargetNear(t *testing.T, b *browser, base string, col, row, dx, dy, exclude int) (snapTarget, bool) {
	t.Helper()
	bbox := layerstest.ParcelsBBox(col-4, row-4, 9, 9)
	var rings [][][2]float64
	var owners []int
	for _, f := range get(t, base+"/collections/parcels/items?limit=200&bbox="+bbox).json(t)["features"].([]any) {
		f := f.(map[string]any)
		if int(f["id"].(float64)) == exclude {
			continue
		}
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
	// Candidates: the parcels of the 5×5 cells around col, row, the
	// nearest first.
	var cells [][2]int
	for d := range 25 {
		cells = append(cells, [2]int{d%5 - 2, d/5 - 2})
	}
	slices.SortStableFunc(cells, func(a, b [2]int) int { return max(abs(a[0]), abs(a[1])) - max(abs(b[0]), abs(b[1])) })
	for _, d := range cells {
		id := (row+d[1])*layerstest.ParcelsColumns + col + d[0] + 1
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

// dragMouse presses the left button at x0, y0, moves the mouse to x1, y1
// in steps, as a hand does, and lets go there once the page has seen the
// last move.
func dragMouse(t *testing.T, b *browser, x0, y0, x1, y1 float64) {
	t.Helper()
	held := func(p *input.DispatchMouseEventParams) { p.Button, p.Buttons = input.MouseButtonLeft, 1 }
	b.do(t, chromedp.MouseEvent(chromedp.MouseMoved, x0, y0), chromedp.MouseEvent(chromedp.MousePressed, x0, y0, held, chromedp.ClickCount(1)))
	const steps = 8
	for i := 1; i <= steps; i++ {
		b.do(t, chromedp.Sleep(40*time.Millisecond), chromedp.MouseEvent(chromedp.MouseMoved, x0+(x1-x0)*float64(i)/steps, y0+(y1-y0)*float64(i)/steps, held))
	}
	b.do(t, chromedp.Sleep(100*time.Millisecond), chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, held, chromedp.ClickCount(1)))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
