package web_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"planmap/web"
)

func TestMapPrintLayout(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	dir := artifactDir(t)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)

	b.do(t, chromedp.Click(chromedp.ID("print-open")), chromedp.WaitVisible(chromedp.ID("print-sheet")))
	if panel := eval[bool](t, b, `document.getElementById('panel').getClientRects().length === 0`); !panel {
		t.Errorf("the layer panel still shows in the print layout")
	}
	title := "港西大道安置房 print test"
	js(t, b, `document.getElementById('print-title').value = ''`)
	b.do(t, chromedp.Click(chromedp.ID("print-title")), chromedp.SendKeys(chromedp.ID("print-title"), title))
	if h := eval[string](t, b, `document.getElementById('print-heading').textContent`); h != title {
		t.Fatalf("the sheet's title is %q after typing %q", h, title)
	}

	for _, tc := range []struct {
		paper, orientation string
		w, h               float64 // the page in mm
	}{
		{"A4", "landscape", 297, 210},
		{"A3", "portrait", 297, 420},
		{"A4", "portrait", 210, 297},
	} {
		name := tc.paper + "-" + tc.orientation
		t.Run(name, func(t *testing.T) {
			js(t, b, fmt.Sprintf(`for (const [id, v] of [['print-paper', %q], ['print-orientation', %q]]) {
				const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); }`, tc.paper, tc.orientation))
			settle(t, b)
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(80))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "print-"+name+".jpg"), png, 0o644)
			path := filepath.Join(dir, "print-"+name+".pdf")
			if err := os.WriteFile(path, printPDF(t, b), 0o644); err != nil {
				t.Fatal(err)
			}
			n, text := pdfPages(t, path)
			if n != 1 {
				t.Errorf("the map prints on %d pages, want 1 (%s)", n, path)
			}
			info, _ := exec.Command("pdfinfo", path).Output()
			var w, h float64
			if m := regexp.MustCompile(`Page size:\s+([\d.]+) x ([\d.]+) pts`).FindSubmatch(info); m != nil {
				w, _ = strconv.ParseFloat(string(m[1]), 64)
				h, _ = strconv.ParseFloat(string(m[2]), 64)
			}
			// Chromium rounds the page to its own units: a point or so.
			if pt := 72 / 25.4; math.Abs(w-tc.w*pt) > 1.5 || math.Abs(h-tc.h*pt) > 1.5 {
				t.Errorf("%s: page of %.1f x %.1f pt, want %.0f x %.0f mm (%.1f x %.1f pt)", path, w, h, tc.w, tc.h, tc.w*pt, tc.h*pt)
			}
			legend := eval[[]string](t, b, `[...document.querySelectorAll('#print-legend li:not(.legend-head)')].map(li => li.textContent)`)
			if len(legend) < 5 {
				t.Errorf("the sheet's legend lists %v, want the classes and symbols drawn", legend)
			}
			scale := eval[string](t, b, `document.querySelector('#print-map .leaflet-control-scale-line').textContent`)
			for _, want := range append([]string{title, scale, "并非测绘数据", "数据来源", "图例"}, legend...) {
				if !strings.Contains(text, strings.Join(strings.Fields(want), "")) {
					t.Errorf("the printed map lacks %q (%s); its text:\n%s", want, path, text)
				}
			}
		})
	}

	t.Run("English", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.ID("print-close")))
		b.do(t, chromedp.Click(chromedp.ID("lang")))
		settle(t, b)
		b.do(t, chromedp.Click(chromedp.ID("print-open")), chromedp.WaitVisible(chromedp.ID("print-sheet")))
		settle(t, b)
		path := filepath.Join(dir, "print-en.pdf")
		os.WriteFile(path, printPDF(t, b), 0o644)
		n, text := pdfPages(t, path)
		if n != 1 {
			t.Errorf("the English sheet prints on %d pages, want 1", n)
		}
		for _, want := range []string{"Legend", "hand-drawn", "Source"} {
			if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
				t.Errorf("the English sheet lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("BackToTheMap", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.ID("print-close")))
		if in := eval[string](t, b, `document.getElementById('map').parentNode.id`); in != "main" {
			t.Errorf("after the print layout the map is in #%s, want #main", in)
		}
		if eval[bool](t, b, `document.body.classList.contains('printing')`) {
			t.Errorf("the page is still in the print layout")
		}
	})
	if _, problems := b.snapshot(); len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
}
