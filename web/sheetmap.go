package web

import (
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// A sheet's maps are SVG drawn on the server: in Web Mercator, like the
// web map, fitted into a box of W×H user units. Every value that reaches
// the SVG is a number or a colour the layer declaration has checked, and
// html/template escapes them again.

// drawn is a feature to draw, with its number on the map (0: none).
type drawn struct {
	col    *layers.Collection
	it     *layers.Item
	number int
}

// svgMap is one map of a sheet.
type svgMap struct {
	W, H   float64
	Shapes []svgShape
	Plot   []svgShape
	Frame  *svgRect
	Labels []svgLabel
	Scale  *svgScale
	// Mark rings the plot on a map too small to see it by itself.
	Mark *svgLabel
}

type svgShape struct {
	D           string // path data; empty for a point
	CX, CY      float64
	Fill        string
	FillOpacity float64
	Stroke      string
	Width       float64
	Dash        string
}

type svgRect struct{ X, Y, W, H float64 }

type svgLabel struct {
	X, Y float64
	Text string
}

// svgScale is a scale bar: Len user units stand for Metres.
type svgScale struct {
	X, Y, Len float64
	Text      string
}

// drawMap draws others, then plot on top, inside view; frame, when
// given, is outlined. detailed maps number their features and carry a
// scale bar.
func drawMap(view orb.Bound, w, h float64, others []drawn, plot drawn, frame *orb.Bound, detailed bool) svgMap {
	m := svgMap{W: w, H: h}
	lo := geo.ToWebMercator(view.Min).(orb.Point)
	hi := geo.ToWebMercator(view.Max).(orb.Point)
	k := math.Min(w/math.Max(hi[0]-lo[0], 1e-9), h/math.Max(hi[1]-lo[1], 1e-9))
	ox := (w - (hi[0]-lo[0])*k) / 2
	oy := (h - (hi[1]-lo[1])*k) / 2
	px := func(p orb.Point) orb.Point {
		q := geo.ToWebMercator(p).(orb.Point)
		return orb.Point{ox + (q[0]-lo[0])*k, h - oy - (q[1]-lo[1])*k}
	}
	for _, d := range others {
		st := d.col.Style
		fill, ok := layers.ShadeOf(propString(d.it, layers.ClassField))
		if !ok {
			fill = st.FillColor
		}
		stroke := st.Color
		if stroke == "" {
			stroke = "#555555"
		}
		op := 0.55
		if !detailed {
			op = 0.35
		}
		if d.col.ID == "boundary" {
			fill, op = "", 0
		}
		width := 0.8
		if st.Weight != nil && !isPolygons(d.col.Layer) {
			width = math.Max(width, *st.Weight*0.8)
		}
		m.Shapes = append(m.Shapes, shapesOf(d.it.Geometry(), px, fill, op, stroke, width, st.DashArray)...)
		if d.number > 0 {
			c := clipBound(d.it.Bound, view).Center()
			q := px(c)
			m.Labels = append(m.Labels, svgLabel{X: round1(q[0]), Y: round1(q[1]), Text: strconv.Itoa(d.number)})
		}
	}
	m.Plot = shapesOf(plot.it.Geometry(), px, "#e8112d", 0.45, "#b0001a", 3, "")
	if !detailed {
		c := px(plot.it.Bound.Center())
		m.Mark = &svgLabel{X: round1(c[0]), Y: round1(c[1])}
	}
	if frame != nil {
		a, b := px(frame.Min), px(frame.Max)
		m.Frame = &svgRect{X: round1(a[0]), Y: round1(b[1]), W: round1(math.Max(b[0]-a[0], 4)), H: round1(math.Max(a[1]-b[1], 4))}
	}
	// A scale bar of a round length near a quarter of the map's width:
	// one user unit is 1/k mercator metres, cos(lat) of them on the ground.
	ground := math.Cos(view.Center()[1]*math.Pi/180) / k
	want := w / 4 * ground
	nice := math.Pow(10, math.Floor(math.Log10(want)))
	for _, f := range []float64{5, 2, 1} {
		if f*nice <= want {
			nice *= f
			break
		}
	}
	text := strconv.FormatFloat(nice, 'f', -1, 64) + " m"
	if nice >= 1000 {
		text = strconv.FormatFloat(nice/1000, 'f', -1, 64) + " km"
	}
	m.Scale = &svgScale{X: 12, Y: h - 14, Len: round1(nice / ground), Text: text}
	return m
}

func clipBound(b, view orb.Bound) orb.Bound {
	out := orb.Bound{Min: orb.Point{math.Max(b.Min[0], view.Min[0]), math.Max(b.Min[1], view.Min[1])},
		Max: orb.Point{math.Min(b.Max[0], view.Max[0]), math.Min(b.Max[1], view.Max[1])}}
	if out.Min[0] > out.Max[0] || out.Min[1] > out.Max[1] {
		return b
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// shapesOf turns a geometry into SVG shapes: a path for lines and areas
// (areas filled), a circle for each point.
func shapesOf(g orb.Geometry, px func(orb.Point) orb.Point, fill string, fillOpacity float64, stroke string, width float64, dash string) []svgShape {
	var out []svgShape
	var d strings.Builder
	move := func(ps []orb.Point, closed bool) {
		for i, p := range ps {
			q := px(p)
			if i == 0 {
				d.WriteString("M")
			} else {
				d.WriteString("L")
			}
			d.WriteString(strconv.FormatFloat(round1(q[0]), 'f', -1, 64))
			d.WriteString(" ")
			d.WriteString(strconv.FormatFloat(round1(q[1]), 'f', -1, 64))
		}
		if closed {
			d.WriteString("Z")
		}
	}
	area := false
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			q := px(g)
			out = append(out, svgShape{CX: round1(q[0]), CY: round1(q[1]), Fill: orDefault(fill, stroke), FillOpacity: 0.9, Stroke: stroke, Width: 1})
		case orb.MultiPoint:
			for _, p := range g {
				walk(p)
			}
		case orb.LineString:
			move(g, false)
		case orb.MultiLineString:
			for _, l := range g {
				move(l, false)
			}
		case orb.Polygon:
			area = true
			for _, r := range g {
				move(r, true)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				walk(p)
			}
		}
	}
	walk(g)
	if d.Len() > 0 {
		s := svgShape{D: d.String(), Stroke: stroke, Width: width, Dash: dash}
		if area && fill != "" {
			s.Fill, s.FillOpacity = fill, fillOpacity
		}
		out = append(out, s)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
