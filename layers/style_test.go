package layers

import "testing"

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
