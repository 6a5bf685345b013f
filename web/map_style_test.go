package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/layers"
	"planmap/web"
)

// rgb turns #rrggbb into the rgb(r, g, b) a computed style reports.
func rgb(hex string) string {
	v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	return fmt.Sprintf("rgb(%d, %d, %d)", v>>16, v>>8&0xff, v&0xff)
}

// The map draws each area in the shade layers.ShadeOf gives its class,
// shows its stage as layers.Statuses says, and the legend and the layer
// list show what is drawn.
func TestWebMapColours(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)

	type path struct{ Fill, FillOpacity, Stroke, StrokeWidth string }
	var cols struct {
		Collections []struct {
			ID           string
			GeometryType string
			Style        struct{ FillOpacity *float64 }
		}
	}
	if err := json.Unmarshal(get(t, srv.URL+"/collections").body, &cols); err != nil {
		t.Fatal(err)
	}
	shades := map[string]bool{}
	stages := map[string]bool{}
	for _, l := range cols.Collections {
		if strings.Contains(l.GeometryType, "Line") || strings.Contains(l.GeometryType, "Point") || l.ID == "context" {
			continue // the regional context lies mostly outside the view
		}
		fc, _ := getFC(t, fmt.Sprintf("%s/collections/%s/items?limit=1000", srv.URL, l.ID))
		for _, f := range fc.Features {
			p := f.Properties
			code, _ := p[layers.ClassField].(string)
			status, _ := p[layers.StatusField].(string)
			shade, ok := layers.ShadeOf(code)
			if !ok {
				continue
			}
			shades[strings.ToUpper(code[:2])] = true
			stages[status] = true
			got := eval[path](t, b, fmt.Sprintf(`(() => { const e = document.querySelector('path.pm-%s-%v');
				return {Fill: e.getAttribute('fill'), FillOpacity: e.getAttribute('fill-opacity'), Stroke: e.getAttribute('stroke'), StrokeWidth: e.getAttribute('stroke-width')}; })()`, l.ID, f.ID))
			var st layers.Status
			for _, s := range layers.Statuses {
				if s.Code == status {
					st = s
				}
			}
			fillOpacity := 0.6
			if l.Style.FillOpacity != nil {
				fillOpacity = *l.Style.FillOpacity
			}
			if st.Hatch {
				if want := "url(#pm-hatch-" + strings.ToLower(strings.TrimPrefix(shade, "#")) + ")"; got.Fill != want {
					t.Errorf("%s %v (%s, %s) is filled with %s, want hatching %s", l.ID, f.ID, code, status, got.Fill, want)
				}
				continue
			}
			if !strings.EqualFold(got.Fill, shade) {
				t.Errorf("%s %v (%s) is filled with %s, want %s", l.ID, f.ID, code, got.Fill, shade)
			}
			if o, _ := strconv.ParseFloat(got.FillOpacity, 64); st.Code != "" && math.Abs(o-fillOpacity*st.FillOpacity) > 1e-6 {
				t.Errorf("%s %v (%s) has fill opacity %s, want %v", l.ID, f.ID, status, got.FillOpacity, fillOpacity*st.FillOpacity)
			}
		}
	}
	if !shades["R1"] || !shades["R2"] || !shades["M2"] || !shades["M3"] || !stages["under_construction"] || !stages["planned"] {
		t.Fatalf("test premise: the seeds hold R1, R2, M2, M3, planned and under construction; got %v %v", shades, stages)
	}
	// A hatched fill's pattern exists.
	if n := eval[int](t, b, `document.querySelectorAll('pattern[id^="pm-hatch-"]').length`); n == 0 {
		t.Error("no hatch patterns in the page")
	}

	t.Run("LegendListsWhatIsDrawn", func(t *testing.T) {
		got := eval[[]string](t, b, `[...document.querySelectorAll('#legend li[data-shade]')].map(e => e.dataset.shade)`)
		for _, want := range []string{"R1", "R2", "M2", "M3", "S3", "W1"} {
			if !strings.Contains(strings.Join(got, " "), want) {
				t.Errorf("legend shades %v lack %s", got, want)
			}
		}
		st := eval[string](t, b, `[...document.querySelectorAll('#legend li[data-status]')].map(e => e.dataset.status).join(',')`)
		if st != "planned,signed,under_construction,in_operation" {
			t.Errorf("legend statuses = %s", st)
		}
		if c := eval[string](t, b, `[...document.querySelectorAll('#legend li[data-confidence]')].map(e => e.dataset.confidence).join(',')`); !strings.Contains(c, "low") || !strings.Contains(c, "medium") {
			t.Errorf("legend confidences = %s", c)
		}
		// Switch industry off: M3 (only there) leaves the legend.
		b.do(t, chromedp.Click(chromedp.CSS(`#layer-industry`)))
		settle(t, b)
		if got := eval[string](t, b, `[...document.querySelectorAll('#legend li[data-shade]')].map(e => e.dataset.shade).join(' ')`); strings.Contains(got, "M3") {
			t.Errorf("industry off, the legend still lists M3: %s", got)
		}
		b.do(t, chromedp.Click(chromedp.CSS(`#layer-industry`)))
		settle(t, b)
	})

	t.Run("LayerSwatchesMatchTheMap", func(t *testing.T) {
		// Resettlement housing is all R2; its swatch is R2's shade.
		r2, _ := layers.ShadeOf("R2")
		got := eval[string](t, b, `getComputedStyle(document.querySelector('label[for="layer-resettlement"] .swatch')).backgroundColor`)
		if !strings.HasPrefix(strings.Replace(got, "rgba", "rgb", 1), strings.TrimSuffix(rgb(r2), ")")) {
			t.Errorf("resettlement swatch %s, want %s", got, rgb(r2))
		}
		// A line layer's swatch is a line in its colour.
		s1, _ := layers.ShadeOf("S1")
		if got := eval[string](t, b, `getComputedStyle(document.querySelector('label[for="layer-roads"] .swatch')).borderTopColor`); got != rgb(s1) {
			t.Errorf("roads swatch %s, want %s", got, rgb(s1))
		}
	})

	_, problems := b.snapshot()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
