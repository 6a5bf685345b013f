package seeds_test

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
)

// TestPlot draws every seed layer in its declared style into
// $PLANMAP_ARTIFACTS/district.png, a quick look at the whole district that
// needs no browser. Without PLANMAP_ARTIFACTS it draws but writes nothing.
func TestPlot(t *testing.T) {
	all := loadSeeds(t)
	files := map[string]int{}
	var ids []string
	for id, fs := range all {
		ids = append(ids, id)
		files[id] = len(fs)
	}
	styles := loadStyles(t)
	sort.Slice(ids, func(i, j int) bool { return styles[ids[i]].order < styles[ids[j]].order })

	bound := all["boundary"][0].Geometry.Bound()
	for _, f := range all["water"] {
		bound = bound.Union(f.Geometry.Bound())
	}
	const w = 1400
	scaleX := float64(w) / (bound.Max[0] - bound.Min[0])
	scaleY := scaleX * my / mx // keep metres square
	h := int((bound.Max[1] - bound.Min[1]) * scaleY)
	px := func(p orb.Point) (float64, float64) {
		return (p[0] - bound.Min[0]) * scaleX, (bound.Max[1] - p[1]) * scaleY
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fillRect(img, img.Bounds(), color.RGBA{245, 243, 236, 255})
	for _, id := range ids {
		st := styles[id]
		for _, f := range all[id] {
			switch g := f.Geometry.(type) {
			case orb.MultiPolygon:
				if st.fillOpacity > 0 {
					fillPolygon(img, g, px, blend(st.fill, st.fillOpacity))
				}
				for _, p := range g {
					for _, r := range p {
						strokeLine(img, r, px, st.stroke, 1)
					}
				}
			case orb.MultiLineString:
				for _, l := range g {
					strokeLine(img, l, px, st.stroke, max(1, int(st.weight/2)))
				}
			case orb.Point:
				x, y := px(g)
				fillRect(img, image.Rect(int(x)-4, int(y)-4, int(x)+4, int(y)+4), st.stroke)
			}
		}
	}
	if len(img.Pix) == 0 {
		t.Fatal("empty plot")
	}
	dir := os.Getenv("PLANMAP_ARTIFACTS")
	if dir == "" {
		return
	}
	os.MkdirAll(dir, 0o755)
	out, err := os.Create(filepath.Join(dir, "district.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out.Name())
}

type style struct {
	stroke, fill color.RGBA
	fillOpacity  float64
	weight       float64
	order        int
}

func loadStyles(t *testing.T) map[string]style {
	t.Helper()
	files, err := readFiles()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]style{}
	for _, f := range files {
		s := f.Layer.Style
		st := style{stroke: hex(s.Color), fill: hex(s.FillColor), fillOpacity: 0.6, weight: 2, order: f.Layer.Order}
		if s.FillOpacity != nil {
			st.fillOpacity = *s.FillOpacity
		}
		if s.Weight != nil {
			st.weight = *s.Weight
		}
		out[f.LayerID] = st
	}
	return out
}

func hex(s string) color.RGBA {
	if len(s) != 7 {
		return color.RGBA{80, 80, 80, 255}
	}
	v, _ := strconv.ParseUint(s[1:], 16, 32)
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

func blend(c color.RGBA, a float64) color.RGBA {
	return color.RGBA{c.R, c.G, c.B, uint8(math.Round(a * 255))}
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// put blends c over the pixel at x, y.
func put(img *image.RGBA, x, y int, c color.RGBA) {
	if !(image.Point{x, y}.In(img.Bounds())) {
		return
	}
	o := img.RGBAAt(x, y)
	a := float64(c.A) / 255
	mix := func(f, b uint8) uint8 { return uint8(math.Round(float64(f)*a + float64(b)*(1-a))) }
	img.SetRGBA(x, y, color.RGBA{mix(c.R, o.R), mix(c.G, o.G), mix(c.B, o.B), 255})
}

// fillPolygon fills by scanlines with the even-odd rule, so holes stay
// empty.
func fillPolygon(img *image.RGBA, mp orb.MultiPolygon, px func(orb.Point) (float64, float64), c color.RGBA) {
	for _, p := range mp {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			fy := float64(y) + 0.5
			var xs []float64
			for _, r := range p {
				for i := 1; i < len(r); i++ {
					x1, y1 := px(r[i-1])
					x2, y2 := px(r[i])
					if (y1 > fy) != (y2 > fy) {
						xs = append(xs, x1+(fy-y1)*(x2-x1)/(y2-y1))
					}
				}
			}
			sort.Float64s(xs)
			for i := 0; i+1 < len(xs); i += 2 {
				for x := int(math.Round(xs[i])); x < int(math.Round(xs[i+1])); x++ {
					put(img, x, y, c)
				}
			}
		}
	}
}

func strokeLine(img *image.RGBA, ps []orb.Point, px func(orb.Point) (float64, float64), c color.RGBA, width int) {
	for i := 1; i < len(ps); i++ {
		x1, y1 := px(ps[i-1])
		x2, y2 := px(ps[i])
		n := int(math.Max(math.Abs(x2-x1), math.Abs(y2-y1))) + 1
		for k := 0; k <= n; k++ {
			x := x1 + (x2-x1)*float64(k)/float64(n)
			y := y1 + (y2-y1)*float64(k)/float64(n)
			for dx := -width / 2; dx <= width/2; dx++ {
				for dy := -width / 2; dy <= width/2; dy++ {
					put(img, int(x)+dx, int(y)+dy, c)
				}
			}
		}
	}
}
