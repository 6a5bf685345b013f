package layers

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		code, want string
		ok         bool
	}{
		{"R2", "R", true}, {" m1 ", "M", true}, {"E11", "E", true},
		{"", "", false}, {"—", "", false}, {"X1", "", false},
	} {
		c, ok := ClassOf(tc.code)
		if ok != tc.ok || c.Code != tc.want {
			t.Errorf("ClassOf(%q) = %q, %v; want %q, %v", tc.code, c.Code, ok, tc.want, tc.ok)
		}
	}
}

func TestSymbol(t *testing.T) {
	w := 2.0
	area := &Layer{GeometryType: "MultiPolygon", Style: Style{Color: "#111111", Weight: &w}}
	t.Run("AreaTakesClassFill", func(t *testing.T) {
		s := area.Symbol("R1", "low")
		if s.FillColor != "#FFFF9F" || s.Color != "#111111" || s.DashArray != "2 4" || s.Weight != 2 || s.FillOpacity != 0.6 {
			t.Errorf("Symbol(R1, low) = %+v; want R1's shade, the layer outline, dotted", s)
		}
	})
	t.Run("AreaWithoutClass", func(t *testing.T) {
		s := area.Symbol("", "high")
		if s.FillColor != "#111111" || s.DashArray != "" {
			t.Errorf("Symbol(\"\", high) = %+v; want the layer colour as fill, solid", s)
		}
	})
	t.Run("LineTakesClassStrokeKeepsDash", func(t *testing.T) {
		line := &Layer{GeometryType: "MultiLineString", Style: Style{DashArray: "6 3"}}
		s := line.Symbol("S1", "low")
		if s.Color != "#A6A6A6" || s.DashArray != "6 3" || s.Weight != 3 {
			t.Errorf("Symbol(S1, low) on a line = %+v", s)
		}
	})
}

func TestShadeOf(t *testing.T) {
	for _, tc := range []struct {
		code, want string
		ok         bool
	}{
		{"R1", "#FFFF9F", true}, {"R2", "#FFFF00", true}, {"r21", "#FFFF00", true}, {"R", "#FFFF00", true}, {"R9", "#FFFF00", true},
		{"M1", "#C4A27E", true}, {"M2", "#7F5F3F", true}, {"M3", "#4A3118", true},
		{"S1", "#A6A6A6", true}, {"H22", "#4E6A9A", true}, {"", "", false}, {"X1", "", false},
	} {
		got, ok := ShadeOf(tc.code)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ShadeOf(%q) = %q, %v; want %q, %v", tc.code, got, ok, tc.want, tc.ok)
		}
	}
}

// The shades a planning map must tell apart are far apart in colour.
func TestStyleShadesApart(t *testing.T) {
	rgb := func(hex string) [3]float64 {
		v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
		return [3]float64{float64(v >> 16), float64(v >> 8 & 0xff), float64(v & 0xff)}
	}
	dist := func(a, b string) float64 {
		x, y := rgb(a), rgb(b)
		return math.Sqrt((x[0]-y[0])*(x[0]-y[0]) + (x[1]-y[1])*(x[1]-y[1]) + (x[2]-y[2])*(x[2]-y[2]))
	}
	for _, pair := range [][2]string{{"R1", "R2"}, {"M1", "M2"}, {"M2", "M3"}, {"M1", "M3"}, {"S", "H"}, {"S1", "H2"}} {
		a, _ := ShadeOf(pair[0])
		b, _ := ShadeOf(pair[1])
		if d := dist(a, b); d < 60 {
			t.Errorf("%s (%s) and %s (%s) are %.0f apart in RGB, want at least 60", pair[0], a, pair[1], b, d)
		}
	}
	seen := map[string]bool{}
	for _, c := range Classes {
		for _, sc := range c.Subclasses {
			if !strings.HasPrefix(sc.Code, c.Code) || len(sc.Code) != 2 || seen[sc.Code] {
				t.Errorf("subclass %q of %s: want a unique two-character code of its class", sc.Code, c.Code)
			}
			seen[sc.Code] = true
		}
	}
}

func TestWithStatus(t *testing.T) {
	area := &Layer{GeometryType: "MultiPolygon"}
	line := &Layer{GeometryType: "MultiLineString"}
	base := area.Symbol("M2", "high")
	for _, tc := range []struct {
		status  string
		opacity float64
		weight  float64
		hatch   bool
	}{
		{"planned", 0.6 * 0.45, 1, false}, {"signed", 0.6 * 0.6, 2.5, false},
		{"under_construction", 0.6, 1.5, true}, {"in_operation", 0.6, 1, false}, {"", 0.6, 1, false}, {"unknown", 0.6, 1, false},
	} {
		s := area.WithStatus(base, tc.status)
		if math.Abs(s.FillOpacity-tc.opacity) > 1e-9 || s.Weight != tc.weight || s.Hatch != tc.hatch || s.FillColor != base.FillColor {
			t.Errorf("WithStatus(%q) = %+v; want fill opacity %v, weight %v, hatch %v", tc.status, s, tc.opacity, tc.weight, tc.hatch)
		}
	}
	if s := line.WithStatus(line.Symbol("S1", ""), "under_construction"); s != line.Symbol("S1", "") {
		t.Errorf("a line under construction = %+v; want its own look", s)
	}
}

func TestQGISConversions(t *testing.T) {
	for _, tc := range []struct{ dash, custom, pen string }{
		{"", "", "solid"}, {"8 4", "8;4", "dash"}, {"2 4", "2;4", "dot"}, {"6,3", "6;3", "dash"}, {"x y", "x;y", "solid"},
	} {
		if got := qgisDash(tc.dash); got != tc.custom {
			t.Errorf("qgisDash(%q) = %q, want %q", tc.dash, got, tc.custom)
		}
		if got := penStyle(tc.dash); got != tc.pen {
			t.Errorf("penStyle(%q) = %q, want %q", tc.dash, got, tc.pen)
		}
	}
	if got := qgisColor("#FF8000", 0.5); got != "255,128,0,128" {
		t.Errorf("qgisColor(#FF8000, 0.5) = %s", got)
	}
	// Every class appears as a category, in its colour.
	l := &Layer{GeometryType: "MultiPolygon", Schema: []Field{{Name: ClassField, Type: String}, {Name: ConfidenceField, Type: String}}}
	qml := l.QML()
	for _, c := range Classes {
		if !strings.Contains(qml, `value="`+c.Code+`"`) || !strings.Contains(qml, qgisColor(c.Color, 0.6)) {
			t.Errorf("QML lacks class %s in %s", c.Code, c.Color)
		}
		for _, sc := range c.Subclasses {
			if !strings.Contains(qml, `value="`+sc.Code+`"`) || !strings.Contains(qml, qgisColor(sc.Color, 0.6)) {
				t.Errorf("QML lacks subclass %s in %s", sc.Code, sc.Color)
			}
		}
	}
	if !strings.Contains(qml, xmlAttr(ClassExpression)) {
		t.Errorf("QML does not categorize on ClassExpression")
	}
	if !strings.Contains(qml, "outlineStyle") || strings.Contains(qml, "<labeling") {
		t.Errorf("QML of an area layer with confidence and no name_zh: %s", qml)
	}
}
