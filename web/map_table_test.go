package web_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"planmap/layers/cache"
	"planmap/web"
)

// statusCount is how many features of each layer the API finds in a
// stage, for the layers that have one.
func statusCount(t *testing.T, base, status string) map[string]int {
	t.Helper()
	out := map[string]int{}
	cols := get(t, base+"/collections").json(t)["collections"].([]any)
	for _, c := range cols {
		id := c.(map[string]any)["id"].(string)
		if id == "boundary" || id == "context" {
			continue // background layers: never filtered
		}
		r := get(t, fmt.Sprintf("%s/collections/%s/items?status=%s&limit=1", base, id, status))
		if r.StatusCode == 400 {
			continue // the layer has no status field
		}
		out[id] = int(r.json(t)["numberMatched"].(float64))
	}
	return out
}

func TestWebMapFilterAndTable(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		b := newBrowser(t, 1280, 860)
		downloads := t.TempDir()
		if _, err := chromedp.Call(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
		}); err != nil {
			t.Fatal(err)
		}
		b.do(t, chromedp.Navigate(srv.URL+"/"))
		settle(t, b)

		want := statusCount(t, srv.URL, "under_construction")
		total := 0
		for _, n := range want {
			total += n
		}
		if total < 5 {
			t.Fatalf("test premise: %d features under construction: %v", total, want)
		}

		t.Run("FilterUnderConstruction", func(t *testing.T) {
			b.do(t, chromedp.Click(chromedp.ID("filter-status-under_construction")))
			settle(t, b)
			drawn := eval[map[string]int](t, b, `Object.fromEntries(planmap.state.collections.filter(c => c.id !== 'boundary' && c.id !== 'context').map(c =>
			[c.id, document.querySelectorAll('path.pm-' + c.id).length]))`)
			for id, n := range drawn {
				if n != want[id] {
					t.Errorf("filtered to under construction, %s draws %d shapes; the API finds %d", id, n, want[id])
				}
			}
			if n := eval[string](t, b, `document.getElementById('filter-total').dataset.count`); n != fmt.Sprint(total) {
				t.Errorf("filter total says %s, the API %d", n, total)
			}
			if c := eval[string](t, b, `document.querySelector('label[for="filter-status-under_construction"] .count').dataset.count`); c != fmt.Sprint(total) {
				t.Errorf("the under-construction choice counts %s, the API %d", c, total)
			}
			if h := eval[string](t, b, `location.hash`); !strings.Contains(h, "status=under_construction") {
				t.Errorf("the link does not hold the filter: %s", h)
			}
			if eval[bool](t, b, `document.getElementById('filter-downloads').hidden`) {
				t.Error("filtering does not say which downloads follow the filter")
			}
			if n := eval[int](t, b, `document.querySelectorAll('path.pm-boundary').length`); n != 1 {
				t.Errorf("the filter hid the district boundary (%d shapes)", n)
			}
			// The view's download follows the filter: the industry of the
			// whole-district view, under construction only.
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]any](`planmap.viewGeoJSON('industry')`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			feats, _ := got["features"].([]any)
			for _, f := range feats {
				if st := f.(map[string]any)["properties"].(map[string]any)["status"]; st != "under_construction" {
					t.Errorf("the view's download holds a feature %v while filtering to under construction", st)
				}
			}
			if len(feats) == 0 || len(feats) > want["industry"] {
				t.Errorf("the view's download holds %d industry features, want 1..%d", len(feats), want["industry"])
			}
			png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			os.WriteFile(filepath.Join(artifactDir(t), "filtered.png"), png, 0o644)
		})

		var rows []string
		t.Run("TableFollowsTheFilter", func(t *testing.T) {
			b.do(t, chromedp.Click(chromedp.ID("table-toggle")))
			js(t, b, `const s = document.getElementById('table-layer'); s.value = 'industry'; s.dispatchEvent(new Event('change'));`)
			waitFor(t, b, fmt.Sprintf(`document.querySelectorAll('#feature-table tbody tr[data-layer="industry"]').length === %d`, want["industry"]))
			rows = eval[[]string](t, b, `[...document.querySelectorAll('#feature-table tbody tr')].map(r => r.dataset.id)`)
		})

		t.Run("RowClickHighlightsTheShape", func(t *testing.T) {
			id := rows[0]
			name := eval[string](t, b, fmt.Sprintf(`document.querySelector('#feature-table tr[data-id="%s"] .row-pick').textContent`, id))
			b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#feature-table tr[data-id="%s"] .row-pick`, id))))
			b.do(t, chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
			settle(t, b)
			if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll('path.pm-highlight-industry-%s').length`, id)); n != 1 {
				t.Errorf("row %s chosen: %d highlights of it", id, n)
			}
			if h3 := eval[string](t, b, `document.querySelector('.leaflet-popup-content h3').textContent`); h3 != name {
				t.Errorf("row %q chosen, the popup shows %q", name, h3)
			}
			if sel := eval[string](t, b, `(document.querySelector('#feature-table tr[aria-selected="true"]') || {dataset: {}}).dataset.id || ''`); sel != id {
				t.Errorf("selected row %q, want %s", sel, id)
			}
		})

		t.Run("MapClickSelectsTheRow", func(t *testing.T) {
			if len(rows) < 2 {
				t.Skip("one row only")
			}
			id := rows[1]
			f := get(t, srv.URL+"/collections/industry/items/"+id+"?f=json").json(t)
			g := f["geometry"].(map[string]any)
			bb := bbox(g)
			lat, lng := (bb[1]+bb[3])/2, (bb[0]+bb[2])/2
			if !inRings(lng, lat, g) {
				t.Skipf("the middle of industry %s's box is outside it", id)
			}
			js(t, b, fmt.Sprintf(`planmap.map.closePopup(); planmap.map.fitBounds([[%f, %f], [%f, %f]], {animate: false, maxZoom: 16});`, bb[1], bb[0], bb[3], bb[2]))
			settle(t, b)
			clickAt(t, b, lat, lng)
			b.do(t, chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
			waitFor(t, b, fmt.Sprintf(`!!document.querySelector('#feature-table tr[aria-selected="true"][data-id="%s"]')`, id))
		})

		t.Run("Sort", func(t *testing.T) {
			b.do(t, chromedp.Click(chromedp.CSS(`#feature-table th button[data-sort="ha"]`)))
			b.do(t, chromedp.Click(chromedp.CSS(`#feature-table th button[data-sort="ha"]`)))
			ha := eval[[]float64](t, b, `[...document.querySelectorAll('#feature-table tbody tr')].map(r => parseFloat(r.cells[4].textContent))`)
			for i := 1; i < len(ha); i++ {
				if ha[i] > ha[i-1] {
					t.Errorf("sorted by area, largest first: %v", ha)
					break
				}
			}
		})

		t.Run("CompareAndExport", func(t *testing.T) {
			b.do(t, chromedp.Click(chromedp.CSS(`#feature-table tbody tr:nth-child(1) input[type=checkbox]`)),
				chromedp.Click(chromedp.CSS(`#feature-table tbody tr:nth-child(2) input[type=checkbox]`)),
				chromedp.Click(chromedp.ID("table-compare")),
				chromedp.WaitVisible(chromedp.ID("compare")))
			if n := eval[int](t, b, `document.querySelectorAll('#compare .compare-item h3').length`); n != 2 {
				t.Errorf("comparing %d features, want 2", n)
			}
			b.do(t, chromedp.Click(chromedp.ID("compare-close")), chromedp.Click(chromedp.ID("table-export")))
			var doc struct {
				Type     string
				Features []struct {
					ID         any
					Properties map[string]any
				}
			}
			path := filepath.Join(downloads, "haimen-selection.geojson")
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &doc) == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s", path)
				}
			}
			if doc.Type != "FeatureCollection" || len(doc.Features) != 2 || doc.Features[0].Properties["layer"] != "industry" || doc.Features[0].Properties["status"] != "under_construction" {
				t.Errorf("exported selection: %+v", doc)
			}
		})

		t.Run("SearchTheTable", func(t *testing.T) {
			name := eval[string](t, b, `document.querySelector('#feature-table tbody tr .row-pick').textContent`)
			b.do(t, chromedp.SendKeys(chromedp.ID("table-q"), name))
			waitFor(t, b, `document.querySelectorAll('#feature-table tbody tr').length === 1`)
		})

		t.Run("TheLinkCarriesTheFilter", func(t *testing.T) {
			link := eval[string](t, b, `location.href`)
			b.do(t, chromedp.Navigate("about:blank"), chromedp.Navigate(link))
			settle(t, b)
			if !eval[bool](t, b, `document.getElementById('filter-status-under_construction').checked`) {
				t.Errorf("opening %s does not tick under construction", link)
			}
			drawn := eval[int](t, b, `document.querySelectorAll('path.pm-f:not(.pm-boundary):not(.pm-context)').length`)
			if drawn > total {
				t.Errorf("opening the filtered link draws %d shapes, want at most %d", drawn, total)
			}
		})

		_, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}
