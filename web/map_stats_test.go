package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/layers/cache"
	"planmap/web"
)

// TestMapStatsPanel checks the 统计 panel against the statistics API: the
// panel's total for the view is what /stats answers for the same box and
// layers.
func TestMapStatsPanel(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		b := newBrowser(t, 1280, 860)
		b.do(t, chromedp.Navigate(srv.URL+"/"))
		settle(t, b)

		// The layers counted: the visible area layers with a land-use class,
		// not the background.
		cols := eval[[]string](t, b, `planmap.state.collections.filter(c => planmap.state.visible.has(c.id) &&
		c.geometryType.includes('Polygon') && !['boundary', 'context'].includes(c.id) &&
		c.schema.some(fd => fd.name === 'landuse_gb50137')).map(c => c.id)`)
		if len(cols) < 3 {
			t.Fatalf("only %v counted", cols)
		}
		apiTotal := func(t *testing.T, query string) (float64, int) {
			t.Helper()
			res := get(t, srv.URL+"/stats?collections="+strings.Join(cols, ",")+query)
			var doc struct {
				Total struct {
					Count int     `json:"count"`
					Mu    float64 `json:"geodesic_area_mu"`
				} `json:"total"`
			}
			if err := json.Unmarshal(res.body, &doc); err != nil || res.StatusCode != 200 {
				t.Fatalf("GET /stats%s: %d %s", query, res.StatusCode, res.body)
			}
			return doc.Total.Mu, doc.Total.Count
		}
		panel := func(t *testing.T) (float64, int) {
			t.Helper()
			settle(t, b)
			mu, err := strconv.ParseFloat(eval[string](t, b, `document.getElementById('stats').dataset.totalMu || ''`), 64)
			if err != nil {
				t.Fatalf("the panel shows no total: %v; it reads %q", err, eval[string](t, b, `document.getElementById('stats').textContent`))
			}
			n, _ := strconv.Atoi(eval[string](t, b, `document.getElementById('stats').dataset.count`))
			return mu, n
		}
		choose := func(t *testing.T, id, value string) {
			t.Helper()
			b.do(t, chromedp.Click(chromedp.ID(id)))
			js(t, b, fmt.Sprintf(`const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event('change'));`, id, value))
		}

		t.Run("District", func(t *testing.T) {
			mu, n := panel(t)
			want, wantN := apiTotal(t, "")
			if math.Abs(mu-want) > 0.06 || n != wantN {
				t.Errorf("panel: %.2f 亩 in %d features for the district; /stats: %.2f 亩 in %d", mu, n, want, wantN)
			}
			rows := eval[int](t, b, `document.querySelectorAll('#stats .stats-bar').length`)
			if rows < 3 {
				t.Errorf("%d bars for the district, want one per class", rows)
			}
		})

		t.Run("View", func(t *testing.T) {
			zoomTo(t, b, "resettlement", 1)
			js(t, b, `planmap.map.setZoom(planmap.map.getZoom() - 2, {animate: false});`)
			settle(t, b)
			choose(t, "stats-scope", "view")
			mu, n := panel(t)
			bbox := eval[string](t, b, `(() => { const v = planmap.map.getBounds();
			return [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()].map(x => x.toFixed(6)).join(','); })()`)
			want, wantN := apiTotal(t, "&bbox="+url.QueryEscape(bbox))
			all, _ := apiTotal(t, "")
			if math.Abs(mu-want) > 0.06 || n != wantN {
				t.Errorf("panel: %.2f 亩 in %d features in view %s; /stats?bbox: %.2f 亩 in %d", mu, n, bbox, want, wantN)
			}
			if !(want > 0 && want < all) {
				t.Errorf("the view holds %.2f 亩 of the district's %.2f: the test's view is not part of the district", want, all)
			}
			png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			os.WriteFile(filepath.Join(artifactDir(t), "stats-view.png"), png, 0o644)

			// By status, the same features add up to the same total.
			choose(t, "stats-group", "status")
			byStatus, nStatus := panel(t)
			if math.Abs(byStatus-mu) > 0.1 || nStatus != n {
				t.Errorf("by status: %.2f 亩 in %d features; by class: %.2f in %d", byStatus, nStatus, mu, n)
			}
			choose(t, "stats-group", "class")
		})

		t.Run("Selection", func(t *testing.T) {
			choose(t, "stats-scope", "selection")
			zoomTo(t, b, "resettlement", 1)
			b.do(t, chromedp.Click(chromedp.CSS(`path.pm-resettlement-1`)), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content h3`)))
			mu, n := panel(t)
			item := get(t, srv.URL+"/collections/resettlement/items/1").json(t)
			want := item["properties"].(map[string]any)["geodesic_area_mu"].(float64)
			if n != 1 || math.Abs(mu-want) > 0.06 {
				t.Errorf("selection of one block: %.2f 亩 in %d features, want %.2f in 1", mu, n, want)
			}
		})

		t.Run("Filter", func(t *testing.T) {
			js(t, b, `planmap.map.closePopup();`)
			choose(t, "stats-scope", "filter")
			mu, _ := panel(t)
			all, _ := apiTotal(t, "")
			// No filter: every feature whole, which is the district's total.
			if math.Abs(mu-all) > 0.1 {
				t.Errorf("filter scope without a filter: %.2f 亩, want the district's %.2f", mu, all)
			}
		})
		if _, problems := b.snapshot(); len(problems) > 0 {
			t.Errorf("problems: %v", problems)
		}
	})
}
