package web_test

import (
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"planmap/layers/cache"
	"planmap/web"
)

// clickAt clicks the map with the mouse where latitude lat, longitude lng
// is on screen now: the position is read just before the click, once the
// map stands still, since a popup or a load may have moved the map.
func clickAt(t *testing.T, b *browser, lat, lng float64) {
	t.Helper()
	still(t, b)
	xy := eval[[]float64](t, b, fmt.Sprintf(`(() => {
		const p = planmap.map.latLngToContainerPoint([%f, %f]);
		const r = planmap.map.getContainer().getBoundingClientRect();
		return [r.left + p.x, r.top + p.y];
	})()`, lat, lng))
	b.do(t, chromedp.MouseClickXY(xy[0], xy[1]))
}

// trackMoves is a page expression that makes the map record whether it
// is moving (between a movestart or zoomstart and its moveend or
// zoomend), once, and returns where the map is, prefixed with "moving "
// while a move, a pan animation (a popup's auto-pan) or a zoom animation
// is under way. The two animations are read from Leaflet's own fields
// (Leaflet 1.9, pinned in package-lock.json): a move that began before
// the listeners were added is seen too.
const trackMoves = `(() => {
	const m = planmap.map;
	if (!m.__moves) {
		const mv = m.__moves = {moving: false};
		m.on('movestart zoomstart', () => { mv.moving = true; });
		m.on('moveend zoomend', () => { mv.moving = false; });
	}
	const moving = m.__moves.moving || !!(m._panAnim && m._panAnim._inProgress) || !!m._animatingZoom;
	const p = m.getPixelOrigin(), c = m.getCenter();
	return (moving ? 'moving ' : '') + p.x + ',' + p.y + ',' + c.lat + ',' + c.lng + ',' + m.getZoom();
})()`

// still waits until the map stands still: no move or animation under way
// and the same view over a third of a second. A popup's auto-pan animates
// the map, late on a loaded machine, and a click meanwhile would land
// beside its target. A map that never stops within patience fails the
// test.
func still(t testing.TB, b *browser) {
	t.Helper()
	const stable = 4 // reads 80 ms apart
	last, same := "", 0
	for deadline := time.Now().Add(patience); ; {
		now := eval[string](t, b, trackMoves)
		if now == last && !strings.HasPrefix(now, "moving ") {
			same++
		} else {
			same = 0
		}
		if same >= stable {
			return
		}
		if time.Now().After(deadline) {
			_, problems := b.snapshot()
			t.Fatalf("the map did not stand still in %v: %s; problems: %v", patience, now, problems)
		}
		last = now
		time.Sleep(80 * time.Millisecond)
	}
}

// onlyBoundaryAt checks through the API that nothing but the district
// boundary lies within about 100 m of the point, so that a click there is
// a click on empty land.
func onlyBoundaryAt(t *testing.T, base string, lat, lng float64) {
	t.Helper()
	cols := get(t, base+"/collections").json(t)["collections"].([]any)
	for _, c := range cols {
		id := c.(map[string]any)["id"].(string)
		fc, _ := getFC(t, fmt.Sprintf("%s/collections/%s/items?bbox=%f,%f,%f,%f", base, id, lng-0.001, lat-0.001, lng+0.001, lat+0.001))
		if want := map[bool]int{true: 1, false: 0}[id == "boundary"]; fc.NumberMatched != want {
			t.Fatalf("test premise: %d features of %s near %f,%f, want %d", fc.NumberMatched, id, lat, lng, want)
		}
	}
}

// haversine is the distance Leaflet computes (L.CRS.Earth, R = 6371 km).
func haversine(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371000
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

var metres = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?) (米|千米|m|km)`)

// shownMetres reads a distance as the map shows it.
func shownMetres(t *testing.T, text string) float64 {
	t.Helper()
	m := metres.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no distance in %q", text)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	if m[2] == "千米" || m[2] == "km" {
		v *= 1000
	}
	return v
}

// Identify and measuring, driven by real mouse clicks.
func TestWebMapIdentify(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		b := newBrowser(t, 1280, 860)
		b.do(t, chromedp.Navigate(srv.URL+"/#map=16/32.0960/121.4840"))
		settle(t, b)
		popups := func() int { return eval[int](t, b, `document.querySelectorAll('.leaflet-popup').length`) }

		t.Run("ListsEveryFeatureBoundaryLast", func(t *testing.T) {
			// The middle of resettlement block 1, a rectangle.
			clickAt(t, b, 32.0960, 121.4807)
			b.do(t, chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
			hits := eval[[]string](t, b, `[...document.querySelectorAll('.pm-hits button')].map(b => b.dataset.layer + '/' + b.dataset.id)`)
			if len(hits) < 2 || hits[0] != "resettlement/1" || hits[len(hits)-1] != "boundary/1" {
				t.Errorf("identify listed %v; want resettlement/1 first and the boundary last", hits)
			}
			if h3 := eval[string](t, b, `document.querySelector('.leaflet-popup-content h3').textContent`); h3 != "港西大道西侧连片安置房小区（1）" {
				t.Errorf("identify shows %q first", h3)
			}
			// The position note in the interface language.
			if text := eval[string](t, b, `document.querySelector('.leaflet-popup-content').textContent`); !strings.Contains(text, "推测：原文称港西大道两侧布置连片安置房小区") || strings.Contains(text, "guess: article says") {
				t.Errorf("the Chinese popup's position note: %s", text)
			}
			if n := eval[int](t, b, `document.querySelectorAll('path.pm-highlight-resettlement-1').length`); n != 1 {
				t.Errorf("%d highlights of the chosen block, want 1", n)
			}
			// Choosing the boundary in the list shows it and moves the highlight.
			still(t, b)
			b.do(t, chromedp.Click(chromedp.CSS(`.pm-hits button[data-layer="boundary"]`)))
			if h3 := waitText(t, b, `.leaflet-popup-content h3`, "海门港新区"); !strings.Contains(h3, "海门港新区") {
				t.Errorf("after choosing the boundary the popup shows %q", h3)
			}
			if n := eval[int](t, b, `document.querySelectorAll('path.pm-highlight-resettlement-1, path.pm-highlight-boundary-1').length`); n != 1 ||
				eval[int](t, b, `document.querySelectorAll('path.pm-highlight-boundary-1').length`) != 1 {
				t.Errorf("after choosing the boundary: %d highlights, want only the boundary's", n)
			}
			png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			os.WriteFile(filepath.Join(artifactDir(t), "identify.png"), png, 0o644)
		})

		t.Run("EmptyLandOpensNothing", func(t *testing.T) {
			const lat, lng = 32.010, 121.510
			onlyBoundaryAt(t, srv.URL, lat, lng)
			js(t, b, fmt.Sprintf(`planmap.map.setView([%f, %f], 15, {animate: false});`, lat, lng))
			settle(t, b)
			clickAt(t, b, lat, lng)
			time.Sleep(200 * time.Millisecond)
			if n := popups(); n != 0 {
				t.Errorf("a click on empty land inside the district opened %d popups: %s", n, eval[string](t, b, `document.querySelector('.leaflet-popup').textContent`))
			}
			if n := eval[int](t, b, `document.querySelectorAll('.pm-highlight').length`); n != 0 {
				t.Errorf("%d highlights after a click on empty land", n)
			}
		})

		t.Run("MeasureOverFeatures", func(t *testing.T) {
			// Both points inside the district, on resettlement blocks.
			const lat1, lng1, lat2, lng2 = 32.0960, 121.4807, 32.0975, 121.4880
			js(t, b, `planmap.map.setView([32.0967, 121.4843], 16, {animate: false});`)
			settle(t, b)
			b.do(t, chromedp.Click(chromedp.ID("measure-distance")))
			clickAt(t, b, lat1, lng1)
			clickAt(t, b, lat2, lng2)
			label := waitText(t, b, `.pm-measure-label`, "距离")
			want := haversine(lat1, lng1, lat2, lng2)
			if got := shownMetres(t, label); math.Abs(got-want) > want/100 {
				t.Errorf("measured %q on the map, want %.0f m ±1 %%", label, want)
			}
			if n := popups(); n != 0 {
				t.Errorf("measuring opened %d popups", n)
			}
			// Finishing keeps the figure on the map and in the panel.
			b.do(t, chromedp.Click(chromedp.ID("measure-distance")))
			if got := eval[string](t, b, `document.getElementById('measure-result').textContent + '|' + document.querySelector('.pm-measure-label').textContent`); !strings.Contains(got, "距离") || strings.Count(got, "距离") != 2 {
				t.Errorf("after finishing: %q", got)
			}
			png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			os.WriteFile(filepath.Join(artifactDir(t), "measure.png"), png, 0o644)
			// Identify is back once measuring is over.
			clickAt(t, b, lat1, lng1)
			b.do(t, chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
		})

		t.Run("MeasureArea", func(t *testing.T) {
			js(t, b, `planmap.map.closePopup();`)
			b.do(t, chromedp.Click(chromedp.ID("measure-area")))
			pts := [][2]float64{{32.0950, 121.4800}, {32.0950, 121.4860}, {32.0990, 121.4860}}
			for _, p := range pts {
				clickAt(t, b, p[0], p[1])
			}
			label := waitText(t, b, `.pm-measure-label`, "面积")
			// A right triangle 0.006° by 0.004°: half of the rectangle.
			w := haversine(32.0950, 121.4800, 32.0950, 121.4860)
			h := haversine(32.0950, 121.4860, 32.0990, 121.4860)
			want := w * h / 2 / 1e4
			m := regexp.MustCompile(`([0-9.]+) 公顷`).FindStringSubmatch(label)
			if m == nil {
				t.Fatalf("area label %q", label)
			}
			if got, _ := strconv.ParseFloat(m[1], 64); math.Abs(got-want) > want/100 {
				t.Errorf("area %q, want %.2f ha ±1 %%", label, want)
			}
			if n := popups(); n != 0 {
				t.Errorf("measuring opened %d popups", n)
			}
			b.do(t, chromedp.KeyEvent("\x1b"))
			if n := eval[int](t, b, `document.querySelectorAll('.pm-measure-label').length`); n != 0 {
				t.Errorf("Esc left %d measure labels", n)
			}
		})

		reqs, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
		checkRequests(t, srv.URL, reqs)
	})
}

// tapAt taps the map with a finger where lat, lng is on screen now.
func tapAt(t *testing.T, b *browser, lat, lng float64) {
	t.Helper()
	still(t, b)
	xy := eval[[]float64](t, b, fmt.Sprintf(`(() => {
		const p = planmap.map.latLngToContainerPoint([%f, %f]);
		const r = planmap.map.getContainer().getBoundingClientRect();
		return [r.left + p.x, r.top + p.y];
	})()`, lat, lng))
	points := []*input.TouchPoint{{X: xy[0], Y: xy[1]}}
	for _, typ := range []input.DispatchTouchEventType{input.DispatchTouchEventTypeTouchStart, input.DispatchTouchEventTypeTouchEnd} {
		p := points
		if typ == input.DispatchTouchEventTypeTouchEnd {
			p = []*input.TouchPoint{}
		}
		if _, err := chromedp.Call(b.ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: p}); err != nil {
			t.Fatalf("tap: %v", err)
		}
	}
	time.Sleep(120 * time.Millisecond)
}

// Measuring by touch on a phone: taps add points, the button finishes.
func TestWebMapMeasureByTouch(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 390, 780)
	if _, err := chromedp.Call(b.ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 1}); err != nil {
		t.Fatal(err)
	}
	b.do(t, chromedp.Navigate(srv.URL+"/#map=16/32.0967/121.4843"))
	settle(t, b)
	js(t, b, `document.getElementById('measure-distance').click();`)
	const lat1, lng1, lat2, lng2 = 32.0960, 121.4820, 32.0975, 121.4866
	tapAt(t, b, lat1, lng1)
	tapAt(t, b, lat2, lng2)
	label := waitText(t, b, `.pm-measure-label`, "距离")
	want := haversine(lat1, lng1, lat2, lng2)
	if got := shownMetres(t, label); math.Abs(got-want) > want/100 {
		t.Errorf("measured %q by touch, want %.0f m ±1 %%", label, want)
	}
	if n := eval[int](t, b, `document.querySelectorAll('.leaflet-popup').length`); n != 0 {
		t.Errorf("measuring by touch opened %d popups", n)
	}
	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
