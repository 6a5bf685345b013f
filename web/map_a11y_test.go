package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"planmap/web"
)

// On a phone a feature's popup fits the screen, and its close button is
// on it and closes it.
func TestWebMapPhonePopup(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 390, 780)
	b.do(t, chromedp.Navigate(srv.URL+"/#map=16/32.0960/121.4807"))
	settle(t, b)
	clickAt(t, b, 32.0960, 121.4807)
	b.do(t, chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
	// The popup pans the map when it opens and again when its content
	// grows; on a loaded machine the second pan may start late, so wait
	// (up to 10 s) for the button to come on screen with the map still.
	var r []float64
	for deadline := time.Now().Add(10 * time.Second); ; {
		still(t, b)
		r = eval[[]float64](t, b, `(() => { const r = document.querySelector('.leaflet-popup-close-button').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()`)
		if (r[0] >= 0 && r[1] >= 0 && r[2] <= 390 && r[3] <= 780) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r[0] < 0 || r[1] < 0 || r[2] > 390 || r[3] > 780 {
		t.Errorf("the popup's close button at %v is off the 390 × 780 screen", r)
	}
	if !eval[bool](t, b, fmt.Sprintf(`document.elementFromPoint(%f, %f).closest('.leaflet-popup-close-button') !== null`, (r[0]+r[2])/2, (r[1]+r[3])/2)) {
		t.Errorf("something covers the popup's close button: %s", eval[string](t, b, fmt.Sprintf(`document.elementFromPoint(%f, %f).outerHTML.slice(0, 120)`, (r[0]+r[2])/2, (r[1]+r[3])/2)))
	}
	p := eval[[]float64](t, b, `(() => { const r = document.querySelector('.leaflet-popup').getBoundingClientRect(); return [r.left, r.right]; })()`)
	if p[0] < 0 || p[1] > 390 {
		t.Errorf("the popup spans %v, wider than the screen", p)
	}
	png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	os.WriteFile(filepath.Join(artifactDir(t), "phone-popup.png"), png, 0o644)
	b.do(t, chromedp.MouseClickXY((r[0]+r[2])/2, (r[1]+r[3])/2))
	waitFor(t, b, `document.querySelectorAll('.leaflet-popup').length === 0`)
	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

// The keyboard reaches the map by a skip link, and focus is visible.
func TestWebMapKeyboard(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)
	b.do(t, chromedp.KeyEvent(kb.Tab))
	first := eval[[]string](t, b, `(() => { const e = document.activeElement, r = e.getBoundingClientRect(); return [e.className, e.textContent, String(r.left >= 0 && r.top >= 0 && r.width > 0)]; })()`)
	if first[0] != "skip" || first[1] != "跳到地图" || first[2] != "true" {
		t.Errorf("the first Tab reaches %v, want the skip link to the map, on screen", first)
	}
	b.do(t, chromedp.KeyEvent(kb.Enter))
	if id := eval[string](t, b, `document.activeElement.id`); id != "map" {
		t.Errorf("the skip link moved focus to %q, want the map", id)
	}
	if o := eval[string](t, b, `getComputedStyle(document.activeElement).outlineStyle`); o == "none" {
		t.Error("the focused map shows no outline")
	}
	// Tab through the page from its top: every focused control shows an
	// outline.
	js(t, b, `document.querySelector('.skip').focus();`)
	for i := 0; i < 14; i++ {
		b.do(t, chromedp.KeyEvent(kb.Tab))
		got := eval[[]string](t, b, `[document.activeElement.tagName + '#' + document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]`)
		if got[1] == "none" {
			t.Errorf("focus on %s (Tab %d) is not visible", got[0], i+1)
		}
	}
}

// failingRouter answers the items of the given layers, and search, with
// a server error; everything else as the real router does.
func failingRouter(t *testing.T, failing ...string) *httptest.Server {
	t.Helper()
	s := newStore(t)
	h := web.NewRouter(s, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, id := range failing {
			if strings.HasPrefix(r.URL.Path, "/collections/"+id+"/items") || r.URL.Path == "/search" {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"title":"Service Unavailable","status":503,"detail":"the database is busy"}`)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Failures are said plainly: every failed layer by name, a failed search
// where its answer was expected, a link naming a layer that does not
// exist.
func TestWebMapSaysWhatFailed(t *testing.T) {
	srv := failingRouter(t, "roads", "rivers")
	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/#layers=boundary,roads,rivers,nosuch"))
	settle(t, b)
	status := eval[string](t, b, `document.getElementById('status').textContent + '|' + document.getElementById('status').dataset.kind`)
	for _, want := range []string{"加载失败", "道路", "河道", "the database is busy", "链接中的图层不存在: nosuch", "|error"} {
		if !strings.Contains(status, want) {
			t.Errorf("status %q lacks %q", status, want)
		}
	}
	b.do(t, chromedp.SendKeys(chromedp.ID("search-q"), "港西"))
	if got := waitText(t, b, `#search-results li`, "搜索失败"); !strings.Contains(got, "搜索失败") || !strings.Contains(got, "503") {
		t.Errorf("a failed search says %q", got)
	}
	// The console is not where a failure is told: nothing logged there.
	_, problems := b.snapshot()
	for _, p := range problems {
		if !strings.Contains(p, "503") { // the browser's own network log of the failed requests
			t.Errorf("browser: %s", p)
		}
	}
}

// Both languages everywhere: the About links too.
func TestWebMapAboutInBothLanguages(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)
	about := func() string {
		return eval[string](t, b, `[...document.querySelectorAll('.about a')].map(a => a.textContent).join('|')`)
	}
	if got := about(); !strings.Contains(got, "接口定义（OpenAPI 3.0）") || strings.Contains(got, "the API definition") {
		t.Errorf("About links in Chinese: %s", got)
	}
	b.do(t, chromedp.Click(chromedp.ID("lang")))
	if got := about(); !strings.Contains(got, "the API definition (OpenAPI 3.0)") || strings.Contains(got, "接口定义") {
		t.Errorf("About links in English: %s", got)
	}
}
