package web_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"planmap/layers/layerstest"
	"planmap/web"
)

// printPDF prints the page as Chromium does for a user (its own @page
// size), and returns the PDF.
func printPDF(t *testing.T, b *browser) []byte {
	t.Helper()
	res, err := chromedp.Call(b.ctx, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: new(true), PrintBackground: new(true)})
	if err != nil {
		t.Fatalf("Page.printToPDF: %v", err)
	}
	return res.Data
}

// pdfPages returns the number of pages of the PDF and its text, with all
// white space removed (pdftotext breaks lines where the page did).
func pdfPages(t *testing.T, path string) (int, string) {
	t.Helper()
	layerstest.RequireTool(t, "pdfinfo")
	layerstest.RequireTool(t, "pdftotext")
	info, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v\n%s", path, err, info)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(info)
	if m == nil {
		t.Fatalf("pdfinfo %s says no page count:\n%s", path, info)
	}
	n, _ := strconv.Atoi(string(m[1]))
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return n, strings.Join(strings.Fields(string(text)), "")
}

func TestPlotSheet(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 900, 1200)
	dir := artifactDir(t)

	t.Run("LinkedFromThePopup", func(t *testing.T) {
		b.do(t, chromedp.Navigate(srv.URL+"/"))
		settle(t, b)
		zoomTo(t, b, "resettlement", 1)
		b.do(t, chromedp.Click(chromedp.CSS(`path.pm-resettlement-1`)), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup-content .sheet-link a`)))
		if href := eval[string](t, b, `document.querySelector('.leaflet-popup-content .sheet-link a').href`); href != srv.URL+"/collections/resettlement/items/1/sheet" {
			t.Errorf("the popup links to the plot sheet at %q, want %q", href, srv.URL+"/collections/resettlement/items/1/sheet")
		}
	})

	t.Run("ResettlementBlockOnOnePage", func(t *testing.T) {
		item := get(t, srv.URL+"/collections/resettlement/items/1").json(t)
		props := item["properties"].(map[string]any)
		mu := strconv.FormatFloat(props["geodesic_area_mu"].(float64), 'f', 1, 64)
		b.do(t, chromedp.Navigate(srv.URL+"/collections/resettlement/items/1/sheet"), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "sheet-resettlement-1.jpg"), png, 0o644)
		path := filepath.Join(dir, "sheet-resettlement-1.pdf")
		if err := os.WriteFile(path, printPDF(t, b), 0o644); err != nil {
			t.Fatal(err)
		}
		n, text := pdfPages(t, path)
		if n != 1 {
			t.Errorf("the plot sheet prints on %d pages, want 1 (%s)", n, path)
		}
		for _, want := range []string{
			props["name_zh"].(string), strings.ReplaceAll(props["name_en"].(string), " ", ""),
			mu + "亩", props["source"].(string), "070102", "R2", "港产城融合新高地", "相接", "手绘",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the printed sheet lacks %q (%s); its text:\n%s", want, path, text)
			}
		}
		// The neighbours are those within 200 m, the nearest first, and
		// the district that holds the block is not one of them.
		dists := eval[[]string](t, b, `[...document.querySelectorAll('.neighbours li .dist')].map(e => e.textContent)`)
		if len(dists) == 0 {
			t.Fatalf("no neighbours listed")
		}
		last := -1.0
		for _, d := range dists {
			v := 0.0
			if !strings.Contains(d, "相接") {
				v, _ = strconv.ParseFloat(strings.TrimSuffix(d, " m"), 64)
			}
			if v < last || v > 200 {
				t.Errorf("neighbour distances %v: not in order or beyond 200 m", dists)
				break
			}
			last = v
		}
		// Block 2 across Gangxi Avenue: the seeds' rectangles are 0.00053°
		// of longitude apart at 32.093–32.099°N, 0.00053 × 111,195 m ×
		// cos 32.096° = 49.9 m. Block 3, 0.010° north, is 1.1 km away.
		rows := eval[map[string]string](t, b, `Object.fromEntries([...document.querySelectorAll('.neighbours li')]
			.map(li => [li.querySelector('a').textContent.split(' ')[0], li.querySelector('.dist').textContent]))`)
		if d := rows["港西大道东侧连片安置房小区（1）"]; d != "50 m" {
			t.Errorf("block 2 is listed %q away, want 50 m; neighbours: %v", d, rows)
		}
		if d, ok := rows["港西大道西侧连片安置房小区（2）"]; ok {
			t.Errorf("block 3, 1.1 km north, is listed as a neighbour %q away", d)
		}
		if names := eval[string](t, b, `document.querySelector('.neighbours').textContent`); strings.Contains(names, "新区范围") {
			t.Errorf("the district boundary is listed as a neighbour: %s", names)
		}
		if within := eval[string](t, b, `(document.querySelector('.facts') || {}).textContent || ''`); !strings.Contains(within, "位于") {
			t.Errorf("the sheet does not say what holds the block: %s", within)
		}
		_, problems := b.snapshot()
		if len(problems) > 0 {
			t.Errorf("the sheet had problems: %v", problems)
		}
	})

	t.Run("UserTextIsText", func(t *testing.T) {
		b.do(t, chromedp.Navigate(srv.URL+"/collections/xss/items/1/sheet"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		h1, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`h1`)))
		if h1 != "<img src=x onerror=alert(1)>" {
			t.Errorf("sheet title = %q, want the name as text", h1)
		}
		if n := eval[int](t, b, `document.querySelectorAll('article img, article script').length`); n != 0 {
			t.Errorf("the name became markup: %d elements", n)
		}
	})

	t.Run("EveryLayer", func(t *testing.T) {
		cols := get(t, srv.URL+"/collections").json(t)["collections"].([]any)
		for _, c := range cols {
			id := c.(map[string]any)["id"].(string)
			items := get(t, srv.URL+"/collections/"+id+"/items?limit=1").json(t)["features"].([]any)
			if len(items) == 0 {
				continue
			}
			fid := fmt.Sprint(items[0].(map[string]any)["id"])
			res := get(t, srv.URL+"/collections/"+id+"/items/"+fid+"/sheet")
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(res.body), `<svg class="map"`) {
				t.Errorf("GET the sheet of %s/%s: %d %s", id, fid, res.StatusCode, res.Header.Get("Content-Type"))
			}
			// A point and a line print on one page too.
			if id == "terminals" || id == "roads" {
				b.do(t, chromedp.Navigate(srv.URL+"/collections/"+id+"/items/"+fid+"/sheet"), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
				path := filepath.Join(dir, "sheet-"+id+"-"+fid+".pdf")
				os.WriteFile(path, printPDF(t, b), 0o644)
				if n, _ := pdfPages(t, path); n != 1 {
					t.Errorf("the sheet of %s/%s prints on %d pages, want 1", id, fid, n)
				}
			}
		}
	})

	// Every seed feature's sheet fits its one A4 page: 277 mm of height
	// inside the margins, 1047 CSS pixels, measured as printed.
	t.Run("EverySeedFitsOnePage", func(t *testing.T) {
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		for _, c := range get(t, srv.URL+"/collections").json(t)["collections"].([]any) {
			id := c.(map[string]any)["id"].(string)
			for _, f := range get(t, srv.URL+"/collections/"+id+"/items?limit=1000").json(t)["features"].([]any) {
				u := fmt.Sprintf("%s/collections/%s/items/%v/sheet", srv.URL, id, f.(map[string]any)["id"])
				b.do(t, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
				if h := eval[float64](t, b, `document.querySelector('.sheet').getBoundingClientRect().height`); h > 1047 {
					t.Errorf("%s is %.0f px high printed, more than the 1047 px (277 mm) of an A4 page", u, h)
				}
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, u := range []string{"/collections/resettlement/items/9999/sheet", "/collections/resettlement/items/01/sheet", "/collections/nope/items/1/sheet"} {
			if res := get(t, srv.URL+u); res.StatusCode != 404 {
				t.Errorf("GET %s = %d, want 404", u, res.StatusCode)
			}
		}
	})
}
