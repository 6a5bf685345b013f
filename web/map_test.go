package web_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"planmap/layers/cache"
	"planmap/web"
)

const chromium = "/usr/bin/chromium"

func requireChromium(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chromium); err == nil {
		return
	}
	if os.Getenv("PLANMAP_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is required (PLANMAP_REQUIRE_TOOLS=1) but missing (apt-get install --no-install-recommends chromium)", chromium)
	}
	t.Skipf("%s is not installed (apt-get install --no-install-recommends chromium); skipping", chromium)
}

// browser records what the page does that a test must see: every request,
// console errors and warnings, exceptions, log entries, dialogs.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	problems []string
}

func (b *browser) add(list *[]string, s string) {
	b.mu.Lock()
	*list = append(*list, s)
	b.mu.Unlock()
}

func (b *browser) snapshot() (requests, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...), append([]string(nil), b.problems...)
}

func newBrowser(t testing.TB, width, height int64, flags ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	requireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	}
	opts = append(opts, flags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The browser's whole life, every action in it: long enough for the
	// longest test (four PNG sheets: 171 s) on a loaded 2-core machine under
	// -race, where a test takes several times as long as on a quiet one.
	ctx, cancelT := context.WithTimeout(ctx, 10*time.Minute)
	t.Cleanup(cancelT)
	b := &browser{ctx: ctx}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// A Chinese browser: the map should start in Chinese.
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent:      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
		AcceptLanguage: "zh-CN,zh",
	}); err != nil {
		t.Fatalf("set the browser's language: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log domain: %v", err)
	}
	// Every Content-Security-Policy violation becomes a console error,
	// which the console watcher records: the policy must block nothing the
	// map does. The browser runs this script itself, outside the policy.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', (e) => console.error(
			'Content-Security-Policy violation: ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline code') +
			' in ' + e.sourceFile + ':' + e.lineNumber));`,
	}); err != nil {
		t.Fatalf("listen for CSP violations: %v", err)
	}
	// The page's events are recorded as they arrive, in order, before the
	// reply to any later command: after settle, every request the page
	// made until then is in b.requests. (chromedp.Events delivers from
	// another goroutine, later: on a loaded machine a count of requests
	// taken after settle could miss the last ones and find them "new" at
	// the next count.) fn must not run a command: the dialog is answered
	// from another goroutine.
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.add(&b.requests, ev.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.add(&b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			b.add(&b.problems, "exception: "+msg)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				b.add(&b.problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		case *page.EventJavascriptDialogOpening:
			b.add(&b.problems, "a dialog opened: "+ev.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatalf("listen to the page: %v", err)
	}
	return b
}

func (b *browser) do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		_, problems := b.snapshot()
		t.Fatalf("browser: %v\nproblems so far: %v", err, problems)
	}
}

func eval[T any](t testing.TB, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// settle waits until the map has loaded what it was loading. The deadline
// is generous: a dense layer of thousands of features, served under -race
// on a loaded 2-core machine, took more than 20 s.
func settle(t testing.TB, b *browser) {
	t.Helper()
	b.do(t, chromedp.Sleep(150*time.Millisecond))
	// Polled, not awaited: a page that failed to start says why in time.
	for deadline := time.Now().Add(60 * time.Second); !eval[bool](t, b, `document.body.dataset.ready === '1' && document.body.dataset.busy === '0'`); {
		if time.Now().After(deadline) {
			_, problems := b.snapshot()
			t.Fatalf("the map did not settle in 60 s; problems: %v", problems)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zoomTo shows one feature's bounds on the map, as big as will fit, with
// no popup open.
func zoomTo(t testing.TB, b *browser, layer string, id int) {
	t.Helper()
	js(t, b, fmt.Sprintf(`const l = planmap.state.layers.get(%q).byId.get(%d);
		planmap.map.closePopup();
		planmap.map.fitBounds(l.getBounds(), {maxZoom: 17, animate: false, padding: [60, 60]});`, layer, id))
	settle(t, b)
}

// js runs statements in the page.
func js(t testing.TB, b *browser, statements string) {
	t.Helper()
	eval[chromedp.Void](t, b, "(() => { "+statements+" })(), undefined")
}

// patience is how long a browser test waits for something the page does
// asynchronously (a fetch, a pan, an animation, an event from the server)
// before it fails. Generous: on a loaded 2-core machine under -race a
// browser test takes several times as long as on a quiet one, and a CI
// run lost to a wait cut short loses a day. A wait that ends fails the
// test; it never skips or passes.
const patience = 30 * time.Second

// waitText waits until the element's text contains want, and returns it:
// what it reads after patience if it never does, for the caller to report.
func waitText(t testing.TB, b *browser, selector, want string) string {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got := eval[string](t, b, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, selector))
		if strings.Contains(got, want) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func artifactDir(t testing.TB) string {
	dir := os.Getenv("PLANMAP_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "planmap-artifacts")
	}
	// A test run on each store keeps the pictures of each: the
	// GeoPackage's where they always were, the others' in a folder named
	// for the store.
	for _, st := range stores {
		if st.name != "GeoPackage" && strings.Contains(t.Name()+"/", "/"+st.name+"/") {
			dir = filepath.Join(dir, st.name)
		}
	}
	os.MkdirAll(dir, 0o755)
	return dir
}

func TestWebMap(t *testing.T) {
	srv, store := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)

	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)

	t.Run("EveryLayerIsDrawn", func(t *testing.T) {
		counts := eval[map[string]int](t, b, `Object.fromEntries(planmap.state.collections.map(c =>
			[c.id, document.querySelectorAll('path.pm-' + c.id).length]))`)
		info, _ := store.Info(ctx)
		for _, l := range info {
			if l.ID == "context" {
				continue // reaches far beyond the district's view: TestWebMapContext
			}
			if counts[l.ID] != l.Count {
				t.Errorf("layer %s: %d shapes drawn, want %d", l.ID, counts[l.ID], l.Count)
			}
		}
		if title := eval[string](t, b, `document.querySelector('#layer-list label[for="layer-boundary"]').textContent`); !strings.Contains(title, "新区范围") || !strings.Contains(title, "District boundary") {
			t.Errorf("first layer = %q, want its Chinese and English titles, Chinese first for a Chinese browser", title)
		}
		// The legend lists the land-use classes drawn, the logistics yard's W among them.
		if classes := eval[string](t, b, `[...document.querySelectorAll('#legend li[data-class]')].map(e => e.dataset.class).join('')`); classes != "RABMWSHUGE" {
			t.Errorf("legend classes = %q, want RABMWSHUGE", classes)
		}
	})

	t.Run("Screenshot", func(t *testing.T) {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(artifactDir(t), "map.png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the whole district: %s", path)
	})

	t.Run("LayerSwitcher", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.CSS(`#layer-resettlement`)))
		if n := eval[int](t, b, `document.querySelectorAll('path.pm-resettlement').length`); n != 0 {
			t.Errorf("%d resettlement shapes after switching the layer off", n)
		}
		if !strings.Contains(eval[string](t, b, `location.hash`), "boundary,water") || strings.Contains(eval[string](t, b, `location.hash`), "resettlement") {
			t.Errorf("the link does not follow the switch: %s", eval[string](t, b, `location.hash`))
		}
		b.do(t, chromedp.Click(chromedp.CSS(`#layer-resettlement`)))
		settle(t, b)
		if n := eval[int](t, b, `document.querySelectorAll('path.pm-resettlement').length`); n != 15 {
			t.Errorf("%d resettlement shapes after switching it on again, want 15", n)
		}
	})

	t.Run("PopupOfAResettlementBlock", func(t *testing.T) {
		zoomTo(t, b, "resettlement", 1)
		b.do(t, chromedp.Click(chromedp.CSS(`path.pm-resettlement-1`)), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
		text, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`.leaflet-popup-content`)))
		for _, want := range []string{"港西大道西侧连片安置房小区（1）", "Gangxi Avenue resettlement community, west side (1)", "070102", "R2", "在港西大道两侧", "公顷", "亩"} {
			if !strings.Contains(text, want) {
				t.Errorf("popup lacks %q:\n%s", want, text)
			}
		}
		png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		os.WriteFile(filepath.Join(artifactDir(t), "popup.png"), png, 0o644)
	})

	t.Run("XSSIsText", func(t *testing.T) {
		zoomTo(t, b, "xss", 1)
		b.do(t, chromedp.Click(chromedp.CSS(`path.pm-xss-1`)), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
		h3, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`.leaflet-popup-content h3`)))
		if h3 != "<img src=x onerror=alert(1)>" {
			t.Errorf("popup title = %q, want the name as text", h3)
		}
		if n := eval[int](t, b, `document.querySelectorAll('.leaflet-popup-content img, #layer-list script').length`); n != 0 {
			t.Errorf("the name became markup: %d elements", n)
		}
		if title := eval[string](t, b, `[...document.querySelectorAll('#layer-list .title')].map(e => e.textContent).join('|')`); !strings.Contains(title, "<script>alert(1)</script>") {
			t.Errorf("the layer title is not shown as text: %s", title)
		}
	})

	t.Run("Search", func(t *testing.T) {
		js(t, b, `planmap.map.closePopup();`)
		b.do(t, chromedp.SendKeys(chromedp.ID("search-q"), "生态公园"))
		if first := waitText(t, b, `#search-results button`, "生态公园"); !strings.Contains(first, "海港生态公园") {
			t.Fatalf("search for 生态公园 listed %q first", first)
		}
		b.do(t, chromedp.Click(chromedp.CSS(`#search-results button`)))
		if h3 := waitText(t, b, `.leaflet-popup-content h3`, "生态公园"); h3 != "海港生态公园" {
			t.Errorf("search for 生态公园 opened %q", h3)
		}
		settle(t, b)
		// The list of the first search goes once the field is empty: else
		// the wait below would find that list, not the answer to eco-park.
		js(t, b, `const q = document.getElementById('search-q'); q.value = ''; q.dispatchEvent(new Event('input'));`)
		waitFor(t, b, `document.getElementById('search-results').children.length === 0`)
		b.do(t, chromedp.SendKeys(chromedp.ID("search-q"), "eco-park"))
		if first := waitText(t, b, `#search-results button`, "生态公园"); !strings.Contains(first, "海港生态公园") {
			t.Errorf("search for eco-park found %q first", first)
		}
		js(t, b, `document.getElementById('search-results').hidden = true;`)
	})

	t.Run("LanguageSwitch", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.ID("lang")))
		if title := eval[string](t, b, `document.querySelector('#layer-list label[for="layer-boundary"] .title').textContent`); title != "District boundary" {
			t.Errorf("after switching to English the first layer is %q", title)
		}
		if h := eval[string](t, b, `document.querySelector('h1').textContent + '|' + document.documentElement.lang`); h != "Haimen Port New Area: planned land use|en" {
			t.Errorf("header after switching = %q", h)
		}
		if a := eval[string](t, b, `document.querySelector('.leaflet-control-attribution').textContent`); !strings.Contains(a, "hand-drawn approximations") || strings.Contains(a, "手绘") {
			t.Errorf("attribution after switching = %q", a)
		}
		b.do(t, chromedp.Click(chromedp.ID("lang")))
		if title := eval[string](t, b, `document.querySelector('#layer-list label[for="layer-boundary"] .title').textContent`); title != "新区范围" {
			t.Errorf("after switching back the first layer is %q", title)
		}
	})

	t.Run("DownloadTheView", func(t *testing.T) {
		zoomTo(t, b, "resettlement", 1)
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]any](`planmap.viewGeoJSON('resettlement')`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		bounds := eval[[]float64](t, b, `(() => { const b = planmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()`)
		inView, _ := getFC(t, srv.URL+fmt.Sprintf("/collections/resettlement/items?bbox=%f,%f,%f,%f", bounds[0], bounds[1], bounds[2], bounds[3]))
		want := inView.NumberMatched
		features, _ := got["features"].([]any)
		if got["type"] != "FeatureCollection" || got["name"] != "resettlement" || len(features) == 0 || len(features) != want {
			t.Errorf("the view's GeoJSON has %d features (want %d): %.300v", len(features), want, got)
		}
		for _, f := range features {
			if _, leak := f.(map[string]any)["properties"].(map[string]any)["__id"]; leak {
				t.Error("the download carries the map's own __id")
				break
			}
		}
	})

	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
	requests, _ := b.snapshot()
	checkRequests(t, srv.URL, requests)
}

// checkRequests fails on any request that left the test server.
func checkRequests(t *testing.T, base string, requests []string) {
	t.Helper()
	for _, r := range requests {
		if !strings.HasPrefix(r, base+"/") && !strings.HasPrefix(r, "data:") && !strings.HasPrefix(r, "blob:") {
			t.Errorf("the page requested %s, outside the server", r)
		}
	}
	if len(requests) < 5 {
		t.Errorf("only %d requests recorded: %v", len(requests), requests)
	}
}

// A map opened close in loads only its view, and loads more as it pans,
// without fetching a feature twice.
func TestWebMapLoadsByBBox(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		b := newBrowser(t, 800, 600)
		b.do(t, chromedp.Navigate(srv.URL+"/#map=17/32.0950/121.4790&layers=resettlement&lang=en"))
		settle(t, b)
		count := func() (loaded, drawn int) {
			v := eval[[]int](t, b, `[planmap.state.layers.get('resettlement').byId.size, document.querySelectorAll('path.pm-resettlement').length]`)
			return v[0], v[1]
		}
		before, drawn := count()
		if before == 0 || before >= 15 || drawn != before {
			t.Fatalf("zoomed in: %d loaded, %d drawn; want some of the 15, each drawn once", before, drawn)
		}
		reqs, _ := b.snapshot()
		bboxRequests := func(rs []string) int {
			n := 0
			for _, r := range rs {
				if strings.Contains(r, "/collections/resettlement/items?") && strings.Contains(r, "bbox=") {
					n++
				}
			}
			return n
		}
		first := bboxRequests(reqs)
		if first == 0 {
			t.Fatalf("no bbox request: %v", reqs)
		}
		js(t, b, `planmap.map.setView([32.1210, 121.4790], 16, {animate: false});`)
		settle(t, b)
		after, drawn := count()
		if after <= before || drawn != after {
			t.Errorf("after panning: %d loaded (%d before), %d drawn", after, before, drawn)
		}
		// Back where it started: all there already, nothing fetched again.
		reqs, _ = b.snapshot()
		n := bboxRequests(reqs)
		js(t, b, `planmap.map.setView([32.0950, 121.4790], 17, {animate: false});`)
		settle(t, b)
		reqs, _ = b.snapshot()
		if m := bboxRequests(reqs); m != n {
			t.Errorf("panning back to a loaded view made %d new requests", m-n)
		}
		if !strings.Contains(eval[string](t, b, `document.querySelector('h1').textContent`), "Haimen") {
			t.Error("lang=en in the link was not honoured")
		}
		// The same place one world to the east: the map comes back to this
		// world and keeps loading; no box the API refuses.
		js(t, b, `planmap.map.setView([32.1210, 121.4790 + 360], 16, {animate: false});`)
		settle(t, b)
		if st := eval[string](t, b, `document.getElementById('status').textContent`); st != "" {
			t.Errorf("after panning a world east the status says %q", st)
		}
		if lng := eval[float64](t, b, `planmap.map.getCenter().wrap().lng`); lng < 121 || lng > 122 {
			t.Errorf("centre longitude %v", lng)
		}
		// Zoomed out to the whole world, and a link pasted into the tab.
		js(t, b, `planmap.map.setView([0, 0], 1, {animate: false});`)
		settle(t, b)
		js(t, b, `location.hash = 'map=15/32.1100/121.4800&layers=resettlement,roads&lang=en';`)
		settle(t, b)
		if v := eval[[]float64](t, b, `[planmap.map.getZoom(), planmap.map.getCenter().lat, planmap.state.visible.size]`); v[0] != 15 || v[1] < 32.10 || v[1] > 32.12 || v[2] != 2 {
			t.Errorf("after the pasted link: zoom, lat, layers = %v", v)
		}
		reqs, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
		checkRequests(t, srv.URL, reqs)
	})
}

// On a phone-sized screen the panel starts closed and the map fills it.
func TestWebMapOnAPhone(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 390, 780)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)
	v := eval[[]float64](t, b, `[document.getElementById('map').getBoundingClientRect().width, document.body.classList.contains('panel-closed') ? 1 : 0]`)
	if v[0] < 380 || v[1] != 1 {
		t.Errorf("on a phone: map %v px wide, panel closed %v", v[0], v[1])
	}
	b.do(t, chromedp.Click(chromedp.ID("panel-toggle")), chromedp.WaitVisible(chromedp.ID("layer-list")))
	png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	os.WriteFile(filepath.Join(artifactDir(t), "phone.png"), png, 0o644)
	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

// tileServer answers every tile with a small PNG, slowly enough that a
// zoom leaves tiles half-loaded, and records the hosts asked and the
// Referer sent.
type tileServer struct {
	mu       sync.Mutex
	hosts    map[string]bool
	referers map[string]bool
}

func (ts *tileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	ts.hosts[hostOnly(r.Host)] = true
	ts.referers[r.Referer()] = true
	ts.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0xdd, 0xe8, 0xd0, 0xff}), image.Point{}, draw.Src)
	w.Header().Set("Content-Type", "image/png")
	png.Encode(w, img)
}

func hostOnly(hostport string) string {
	h, _, _ := net.SplitHostPort(hostport)
	return h
}

// With a tile base map the page loads tiles from each {s} host the
// Content-Security-Policy names, and nothing is blocked, zooming included.
func TestWebMapTiles(t *testing.T) {
	ts := &tileServer{hosts: map[string]bool{}, referers: map[string]bool{}}
	tiles := httptest.NewServer(ts)
	t.Cleanup(tiles.Close)
	_, port, _ := net.SplitHostPort(tiles.Listener.Addr().String())
	srv, _ := newServer(t, web.Options{Tiles: "http://{s}.tiles.test:" + port + "/{z}/{x}/{y}.png", Attribution: "test tiles"})
	// The tile hosts are names, as a tile provider's are, all of them this
	// machine.
	b := newBrowser(t, 1024, 768, chromedp.Flag("host-resolver-rules", "MAP *.tiles.test 127.0.0.1"))
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)
	waitTiles := func() {
		t.Helper()
		waitJS(t, b, "tiles loaded", `document.querySelectorAll('img.leaflet-tile-loaded').length >= 4`)
	}
	waitTiles()
	// Zooming in and out at once drops tiles still loading, which Leaflet
	// points at a blank data: image.
	js(t, b, `const m = planmap.map, z = m.getZoom(); m.setZoom(z + 2, {animate: false}); m.setZoom(z, {animate: false}); m.setZoom(z + 1, {animate: false});`)
	settle(t, b)
	waitTiles()
	time.Sleep(300 * time.Millisecond)
	shot, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	os.WriteFile(filepath.Join(artifactDir(t), "tiles.png"), shot, 0o644)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, h := range []string{"a.tiles.test", "b.tiles.test", "c.tiles.test"} {
		if !ts.hosts[h] {
			t.Errorf("no tile from %s; tiles came from %v", h, ts.hosts)
		}
	}
	// The site sends no Referer elsewhere but its origin to the tile
	// server, which may require one.
	if want := srv.URL + "/"; len(ts.referers) != 1 || !ts.referers[want] {
		t.Errorf("tile requests came with Referer %v, want only %s", ts.referers, want)
	}
	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
