package web_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
	"planmap/web"
)

// TestMapStatsCompare: the 统计 panel, by stage, compared with yesterday,
// shows the change of each stage and the transition of the one plot
// started since, with its area as the API gives it. The history is made
// two days old but for the edit (the clock cannot be set): the layers as
// imported the day before yesterday, the plot started today.
func TestMapStatsCompare(t *testing.T) {
	onEachLoaded(t, testFiles, func(t *testing.T, s loadedStore) {
		srv := newServerOn(t, s, web.Options{})
		it, err := s.Item(ctx, "resettlement", 1)
		if err != nil {
			t.Fatal(err)
		}
		if it.Properties()["status"] != "planned" {
			t.Fatalf("resettlement 1 is %v, want planned", it.Properties()["status"])
		}
		props := map[string]any{}
		for k, v := range it.Properties() {
			props[k] = v
		}
		props["status"] = "under_construction"
		if _, err := s.Replace(ctx, "resettlement", 1, layers.Feature{Properties: props, Geometry: it.Geometry()}, "", layers.Edit{Author: "alice"}); err != nil {
			t.Fatal(err)
		}
		execSQL(t, otherConnection(t, s), twoDaysOlder(t, s))
		m2 := get(t, srv.URL+"/collections/resettlement/items/1").json(t)["properties"].(map[string]any)[layers.AreaM2].(float64)
		wantMu := m2 * 15 / 1e4

		b := newBrowser(t, 1280, 860)
		b.do(t, chromedp.Navigate(srv.URL+"/"))
		settle(t, b)
		set := func(id, valueJS string) {
			t.Helper()
			b.do(t, chromedp.Click(chromedp.ID(id)))
			js(t, b, fmt.Sprintf(`{const s = document.getElementById(%q); s.value = %s; s.dispatchEvent(new Event('change'));}`, id, valueJS))
		}
		set("stats-group", `'status'`)
		set("stats-compare", `(() => { const d = new Date(Date.now() - 86400000); const p = (n) => String(n).padStart(2, '0'); return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()); })()`)
		settle(t, b)
		sel := `#stats .stats-transitions li[data-from="planned"][data-to="under_construction"]`
		waitFor(t, b, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
		got, err := strconv.ParseFloat(eval[string](t, b, `document.querySelector('`+sel+`').dataset.mu`), 64)
		if err != nil || math.Abs(got-wantMu) > 0.01 {
			t.Errorf("the panel's transition planned → under construction: %v 亩 (%v), want resettlement 1's %.2f", got, err, wantMu)
		}
		if n := eval[int](t, b, `document.querySelectorAll('#stats .stats-transitions li').length`); n != 1 {
			t.Errorf("%d transitions shown, want 1: %s", n, eval[string](t, b, `document.getElementById('stats').textContent`))
		}
		change, _ := strconv.ParseFloat(eval[string](t, b, `document.querySelector('#stats li[data-key="under_construction"]').dataset.changeMu`), 64)
		if math.Abs(change-wantMu) > 0.01 {
			t.Errorf("under construction changed by %v 亩, want +%.2f", change, wantMu)
		}
		b.do(t, chromedp.ScrollIntoView("#stats"))
		png, _ := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		os.WriteFile(filepath.Join(artifactDir(t), "stats-compare.png"), png, 0o644)
		// As of yesterday, compared with the day before: resettlement 1 is
		// planned on both, so no change. (A check of "no transitions" alone
		// would pass on an error too.)
		set("stats-compare", `(() => { const d = new Date(Date.now() - 2 * 86400000); const p = (n) => String(n).padStart(2, '0'); return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()); })()`)
		set("stats-asof", `(() => { const d = new Date(Date.now() - 86400000); const p = (n) => String(n).padStart(2, '0'); return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()); })()`)
		// Each change marks the panel busy at once, and settle waits until it
		// has drawn its answer.
		settle(t, b)
		if !eval[bool](t, b, `!!document.querySelector('#stats .stats-total')`) {
			t.Fatalf("as of yesterday, compared with the day before, the panel shows no total: %s", eval[string](t, b, `document.getElementById('stats').textContent`))
		}
		if n := eval[int](t, b, `document.querySelectorAll('#stats .stats-transitions li').length`); n != 0 {
			t.Errorf("as of yesterday, compared with the day before, %d transitions, want none: %s", n, eval[string](t, b, `document.getElementById('stats').textContent`))
		}
		// Compared with the very date it is as of, the panel shows the totals
		// and says why there is no comparison, rather than failing to load.
		set("stats-compare", `document.getElementById('stats-asof').value`)
		settle(t, b)
		if !eval[bool](t, b, `!!document.querySelector('#stats .stats-total') && !!document.getElementById('stats-compare-late')`) {
			t.Errorf("compared with the date it is as of, the panel shows: %s", eval[string](t, b, `document.getElementById('stats').textContent`))
		}
	})
}

// twoDaysOlder is the SQL that makes the history of store s two days
// older but for the edits (op update), in the store's own dialect: the
// time is text in the GeoPackage, a timestamptz in PostGIS.
func twoDaysOlder(t *testing.T, s cache.Store) string {
	t.Helper()
	switch s.(type) {
	case *gpkg.Store:
		return `UPDATE planmap_history SET at = strftime('%Y-%m-%dT%H:%M:%fZ', at, '-2 days') WHERE op != 'update'`
	case *postgis.Store:
		return `UPDATE planmap_history SET at = at - interval '2 days' WHERE op != 'update'`
	}
	t.Fatalf("no history to age in a %T", s)
	return ""
}
