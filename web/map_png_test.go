package web_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"planmap/web"
)

// pngDPI is the resolution of a saved sheet (png.js).
const pngDPI = 180

// paperPixels is a paper of w×h millimetres at pngDPI.
func paperPixels(w, h float64) (int, int) {
	return int(math.Round(w / 25.4 * pngDPI)), int(math.Round(h / 25.4 * pngDPI))
}

// savePNG clicks the button with the mouse, where it is on screen just
// before the click, and returns the name and bytes of the file the
// browser downloads.
func savePNG(t *testing.T, b *browser, button string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.Call(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatalf("Browser.setDownloadBehavior: %v", err)
	}
	r := eval[[]float64](t, b, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.scrollIntoView({block: 'nearest'});
		const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()`, button))
	if r[2]-r[0] < 1 || r[3]-r[1] < 1 {
		t.Fatalf("the button #%s is not on screen: %v", button, r)
	}
	b.do(t, chromedp.MouseClickXY((r[0]+r[2])/2, (r[1]+r[3])/2))
	start := time.Now()
	// Chromium may show the file under its name before it has written
	// all of it: a PNG is whole when it ends with its IEND chunk. Drawing
	// an A3 sheet at pngDPI is slow on a loaded machine: TestMapSaveAsPNG
	// took 171 s for its four sheets beside other helpers' tests under
	// -race, so the wait is long.
	iend := []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".crdownload") || strings.HasPrefix(f.Name(), ".") {
				continue
			}
			body, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f.Name(), ".png") && !bytes.HasSuffix(body, iend) {
				continue
			}
			t.Logf("#%s: %s downloaded after %v", button, f.Name(), time.Since(start).Round(time.Millisecond))
			return f.Name(), body
		}
	}
	_, problems := b.snapshot()
	status := eval[string](t, b, `[...document.querySelectorAll('[role=status]')].map(e => e.textContent).join(' | ')`)
	t.Fatalf("clicking #%s downloaded nothing in 3 min; status %q; problems: %v", button, status, problems)
	return "", nil
}

// decodePNG decodes a saved sheet and writes it to the artifacts.
func decodePNG(t *testing.T, body []byte, path string) image.Image {
	t.Helper()
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	// The PNG says its resolution (a pHYs chunk, in pixels a metre), so
	// that it prints at its paper's size. png.Decode checked the CRCs.
	i := bytes.Index(body, []byte("pHYs"))
	if i < 0 || len(body) < i+13 {
		t.Errorf("%s has no pHYs chunk: it does not say it is %d dpi", path, pngDPI)
	} else if x, y, unit := binary.BigEndian.Uint32(body[i+4:]), binary.BigEndian.Uint32(body[i+8:]), body[i+12]; unit != 1 || x != y || math.Abs(float64(x)*0.0254-pngDPI) > 0.5 {
		t.Errorf("%s: pHYs says %d×%d pixels per unit %d, want %d dpi (%d per metre)", path, x, y, unit, pngDPI, int(math.Round(pngDPI/0.0254)))
	}
	return img
}

// region is a box of a PNG, in its pixels.
type region struct{ x0, y0, x1, y1 int }

// count counts the pixels of the region for which keep holds.
func count(img image.Image, r region, keep func(r, g, b uint8) bool) int {
	n := 0
	for y := max(r.y0, img.Bounds().Min.Y); y < min(r.y1, img.Bounds().Max.Y); y++ {
		for x := max(r.x0, img.Bounds().Min.X); x < min(r.x1, img.Bounds().Max.X); x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if keep(c.R, c.G, c.B) {
				n++
			}
		}
	}
	return n
}

func dark(r, g, b uint8) bool { return int(r)+int(g)+int(b) < 3*90 }

// near matches a colour within a few levels of c on every channel.
func near(c color.NRGBA, tol int) func(r, g, b uint8) bool {
	d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
	return func(r, g, b uint8) bool { return d(r, c.R) <= tol && d(g, c.G) <= tol && d(b, c.B) <= tol }
}

// coloured matches a saturated colour: a fill, not paper, grey or text.
func coloured(r, g, b uint8) bool {
	return max(r, g, b)-min(r, g, b) > 40
}

func hexColour(t *testing.T, s string) color.NRGBA {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil || len(s) != 7 {
		t.Fatalf("%q is not a #rrggbb colour", s)
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// overWhite is colour c at opacity a on white paper.
func overWhite(c color.NRGBA, a float64) color.NRGBA {
	f := func(v uint8) uint8 { return uint8(math.Round(float64(v)*a + 255*(1-a))) }
	return color.NRGBA{f(c.R), f(c.G), f(c.B), 255}
}

// TestMapSaveAsPNG saves the print layout's sheet as a PNG for each paper
// and orientation, and finds in it what the sheet shows where it shows
// it: the title, the map's fills, the legend's swatches, white margins.
func TestMapSaveAsPNG(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 1280, 860)
	dir := artifactDir(t)
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)
	b.do(t, chromedp.Click(chromedp.ID("print-open")), chromedp.WaitVisible(chromedp.ID("print-sheet")))
	js(t, b, `document.getElementById('print-title').value = ''`)
	b.do(t, chromedp.Click(chromedp.ID("print-title")), chromedp.SendKeys(chromedp.ID("print-title"), "港西安置房 PNG 测试"))
	// Hatched fills (a project under construction) show on the sheet: the
	// patterns they are painted with are not hidden with the page.
	if n := eval[int](t, b, `[...document.querySelectorAll('#print-map path')].filter(p => (p.getAttribute('fill') || '').startsWith('url(#pm-hatch')).length`); n == 0 {
		t.Errorf("no hatched shape on the sheet: the seeds have projects under construction")
	}
	if d := eval[string](t, b, `getComputedStyle(document.querySelector('.pm-defs')).display`); d == "none" {
		t.Errorf("the hatch patterns are hidden in the print layout (display: %s): hatched shapes print empty", d)
	}
	today := eval[string](t, b, `(() => { const d = new Date(); return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); })()`)

	for _, tc := range []struct {
		lang, paper, orientation string
		w, h                     float64 // the paper in mm, as it lies
	}{
		{"zh", "A4", "landscape", 297, 210},
		{"zh", "A4", "portrait", 210, 297},
		{"zh", "A3", "landscape", 420, 297},
		{"en", "A3", "portrait", 297, 420},
	} {
		name := tc.lang + "-" + tc.paper + "-" + tc.orientation
		t.Run(name, func(t *testing.T) {
			if eval[string](t, b, `document.documentElement.lang`) != map[string]string{"zh": "zh-Hans", "en": "en"}[tc.lang] {
				b.do(t, chromedp.Click(chromedp.ID("print-close")), chromedp.Click(chromedp.ID("lang")))
				settle(t, b)
				b.do(t, chromedp.Click(chromedp.ID("print-open")), chromedp.WaitVisible(chromedp.ID("print-sheet")))
			}
			js(t, b, fmt.Sprintf(`for (const [id, v] of [['print-paper', %q], ['print-orientation', %q]]) {
				const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); }`, tc.paper, tc.orientation))
			settle(t, b)
			file, body := savePNG(t, b, "print-png")
			if want := "haimen-plan-" + today + ".png"; file != want {
				t.Errorf("the PNG is saved as %q, want %q", file, want)
			}
			path := filepath.Join(dir, "png-"+name+".png")
			img := decodePNG(t, body, path)
			// The sheet on screen, to hold the PNG against.
			if shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
				os.WriteFile(filepath.Join(dir, "png-"+name+"-screen.png"), shot, 0o644)
			}
			w, h := paperPixels(tc.w, tc.h)
			if got := img.Bounds().Size(); got.X != w || got.Y != h {
				t.Fatalf("%s is %d×%d pixels, want %d×%d (%s %s at %d dpi)", path, got.X, got.Y, w, h, tc.paper, tc.orientation, pngDPI)
			}

			// Where the sheet's parts are, in the PNG's pixels: the sheet
			// lies inside the page's 8 mm margins, at pngDPI.
			k := float64(pngDPI) / 96
			m := int(math.Round(8 / 25.4 * pngDPI))
			box := func(sel string) region {
				r := eval[[]float64](t, b, fmt.Sprintf(`(() => { const s = document.getElementById('print-sheet').getBoundingClientRect();
					const r = document.querySelector(%q).getBoundingClientRect(); return [r.left - s.left, r.top - s.top, r.right - s.left, r.bottom - s.top]; })()`, sel))
				return region{m + int(r[0]*k), m + int(r[1]*k), m + int(r[2]*k), m + int(r[3]*k)}
			}
			title, mapBox, legend := box("#print-heading"), box("#print-map"), box("#print-legend")
			if n := count(img, title, dark); n < 500 {
				t.Errorf("%s: the title's box %v has %d dark pixels, want the title written there", path, title, n)
			}
			if n, all := count(img, mapBox, coloured), (mapBox.x1-mapBox.x0)*(mapBox.y1-mapBox.y0); n < all/10 {
				t.Errorf("%s: %d of the map's %d pixels are coloured, want the district's fills (a tenth at least)", path, n, all)
			}
			// Each land-use class in the legend has its swatch: its colour at
			// 0.8 opacity on white (legend.js).
			for _, c := range eval[[]string](t, b, `[...document.querySelectorAll('#print-legend li[data-class]')].map(li => li.dataset.class)`) {
				fill := eval[string](t, b, fmt.Sprintf(`(JSON.parse(document.getElementById('config').textContent).classes.find(c => c.code === %q) || {}).color || ''`, c))
				if fill == "" {
					continue
				}
				want := overWhite(hexColour(t, fill), 0.8)
				if n := count(img, legend, near(want, 6)); n < 40 {
					t.Errorf("%s: the legend's swatch of class %s (%v) has %d pixels in %v, want about 18×18", path, c, want, n, legend)
				}
			}
			margins := []region{{0, 0, w, m - 2}, {0, h - m + 2, w, h}, {0, 0, m - 2, h}, {w - m + 2, 0, w, h}}
			for _, r := range margins {
				if n := count(img, r, func(r, g, b uint8) bool { return r != 255 || g != 255 || b != 255 }); n > 0 {
					t.Errorf("%s: %d pixels in the margin %v are not white paper", path, n, r)
				}
			}
		})
	}
	if _, problems := b.snapshot(); len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
}

// TestPlotSheetSaveAsPNG saves a plot sheet as a PNG: an A4 page with the
// plot in its red on both maps and the sheet's words.
func TestPlotSheetSaveAsPNG(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	b := newBrowser(t, 900, 1200)
	dir := artifactDir(t)
	for _, tc := range []struct{ layer, id string }{{"resettlement", "1"}, {"roads", "1"}} {
		t.Run(tc.layer+"-"+tc.id, func(t *testing.T) {
			b.do(t, chromedp.Navigate(srv.URL+"/collections/"+tc.layer+"/items/"+tc.id+"/sheet"), chromedp.WaitVisible(chromedp.ID("save-png")))
			file, body := savePNG(t, b, "save-png")
			if want := "plot-" + tc.layer + "-" + tc.id + ".png"; file != want {
				t.Errorf("the PNG is saved as %q, want %q", file, want)
			}
			path := filepath.Join(dir, "png-plot-"+tc.layer+"-"+tc.id+".png")
			img := decodePNG(t, body, path)
			w, h := paperPixels(210, 297)
			if got := img.Bounds().Size(); got.X != w || got.Y != h {
				t.Fatalf("%s is %d×%d pixels, want %d×%d (A4 portrait at %d dpi)", path, got.X, got.Y, w, h, pngDPI)
			}
			k := float64(pngDPI) / 96
			box := func(sel string) region {
				r := eval[[]float64](t, b, fmt.Sprintf(`(() => { const s = document.querySelector('article.sheet').getBoundingClientRect();
					const r = document.querySelector(%q).getBoundingClientRect(); return [r.left - s.left, r.top - s.top, r.right - s.left, r.bottom - s.top]; })()`, sel))
				return region{int(r[0] * k), int(r[1] * k), int(r[2] * k), int(r[3] * k)}
			}
			for _, sel := range []string{"h1", "footer", ".facts"} {
				if r := box(sel); count(img, r, dark) < 300 {
					t.Errorf("%s: the box of %s %v has %d dark pixels, want its words", path, sel, r, count(img, r, dark))
				}
			}
			// The plot's outline (#b0001a, 3 units wide) on both maps.
			plot := near(color.NRGBA{0xb0, 0x00, 0x1a, 255}, 24)
			for i, sel := range []string{"figure:nth-child(1) svg", "figure:nth-child(2) svg"} {
				if r := box(sel); count(img, r, plot) < 20 {
					t.Errorf("%s: map %d %v has %d pixels of the plot's red outline", path, i+1, r, count(img, r, plot))
				}
			}
			// The page's margins are white paper.
			m := int(math.Round(10/25.4*pngDPI)) - 2
			for _, r := range []region{{0, 0, w, m}, {0, 0, m, h}, {w - m, 0, w, h}} {
				if n := count(img, r, func(r, g, b uint8) bool { return r != 255 || g != 255 || b != 255 }); n > 0 {
					t.Errorf("%s: %d pixels in the margin %v are not white paper", path, n, r)
				}
			}
		})
	}
	if _, problems := b.snapshot(); len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
}

// With a tile base map, Save as PNG still makes the sheet, without the
// tiles: they come from another origin, which the page may not fetch
// from, and a canvas they were drawn on could not be read back.
func TestMapSaveAsPNGWithTiles(t *testing.T) {
	ts := &tileServer{hosts: map[string]bool{}, referers: map[string]bool{}}
	tiles := httptest.NewServer(ts)
	t.Cleanup(tiles.Close)
	_, port, _ := net.SplitHostPort(tiles.Listener.Addr().String())
	srv, _ := newServer(t, web.Options{Tiles: "http://{s}.tiles.test:" + port + "/{z}/{x}/{y}.png", Attribution: "test tiles"})
	b := newBrowser(t, 1024, 768, chromedp.Flag("host-resolver-rules", "MAP *.tiles.test 127.0.0.1"))
	b.do(t, chromedp.Navigate(srv.URL+"/"))
	settle(t, b)
	b.do(t, chromedp.Click(chromedp.ID("print-open")), chromedp.WaitVisible(chromedp.ID("print-sheet")))
	settle(t, b)
	waitJS(t, b, "tiles loaded on the sheet", `document.querySelectorAll('#print-map img.leaflet-tile-loaded').length >= 4`)
	_, body := savePNG(t, b, "print-png")
	img := decodePNG(t, body, filepath.Join(artifactDir(t), "png-tiles.png"))
	if w, h := paperPixels(297, 210); img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("the PNG is %v, want %d×%d (A4 landscape)", img.Bounds().Size(), w, h)
	}
	if n := count(img, region{0, 0, img.Bounds().Dx(), img.Bounds().Dy()}, coloured); n == 0 {
		t.Errorf("the PNG has no coloured pixel: no map")
	}
	if _, problems := b.snapshot(); len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
}
