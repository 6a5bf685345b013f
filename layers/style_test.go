package layers

import (
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
		if s.FillColor != "#FFFF00" || s.Color != "#111111" || s.DashArray != "2 4" || s.Weight != 2 || s.FillOpacity != 0.6 {
			t.Errorf("Symbol(R1, low) = %+v", s)
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
		if s.Color != "#808080" || s.DashArray != "6 3" || s.Weight != 3 {
			t.Errorf("Symbol(S1, low) on a line = %+v", s)
		}
	})
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
	}
	if !strings.Contains(qml, "outlineStyle") || strings.Contains(qml, "<labeling") {
		t.Errorf("QML of an area layer with confidence and no name_zh: %s", qml)
	}
}
