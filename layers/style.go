package layers

import (
	"strings"
)

// Class is a major land-use class of GB 50137, with the colour Chinese
// planners give it (after CJJ/T 97 CAD practice). This table is the one
// place the class colours live: the web map, the QGIS styles written into
// GeoPackages and the KML colours all read it.
type Class struct {
	Code  string `json:"code"`
	Name  Text   `json:"name"`
	Color string `json:"color"`
}

// Classes are the GB 50137 major classes, in the order a legend lists them.
var Classes = []Class{
	{"R", Text{"居住用地", "Residential"}, "#FFFF00"},
	{"A", Text{"公共管理与公共服务用地", "Public services"}, "#FF00FF"},
	{"B", Text{"商业服务业用地", "Commercial"}, "#FF0000"},
	{"M", Text{"工业用地", "Industrial"}, "#7F5F3F"},
	{"W", Text{"物流仓储用地", "Logistics and warehouses"}, "#5F3F7F"},
	{"S", Text{"道路与交通设施用地", "Roads and transport"}, "#808080"},
	{"H", Text{"区域交通设施用地", "Regional transport"}, "#666666"},
	{"U", Text{"公用设施用地", "Utilities"}, "#005F7F"},
	{"G", Text{"绿地与广场用地", "Green space"}, "#00C000"},
	{"E", Text{"水域", "Water"}, "#7FBFFF"},
}

// ClassField is the property that carries a feature's GB 50137 code.
const ClassField = "landuse_gb50137"

// ClassOf returns the major class of a GB 50137 code ("R2" → R): its
// first letter, upper-cased, if that names a class.
func ClassOf(code string) (Class, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return Class{}, false
	}
	for _, c := range Classes {
		if c.Code == code[:1] {
			return c, true
		}
	}
	return Class{}, false
}

// ConfidenceDash is the dash pattern (Leaflet's dashArray: dash and gap in
// pixels) that shows an area's position confidence in its outline: solid
// for high, dashed for medium, dotted for low.
var ConfidenceDash = map[string]string{"high": "", "medium": "8 4", "low": "2 4"}

// Symbol is how one feature is drawn: its layer's style with the class
// colour and the confidence outline resolved, every member filled in.
type Symbol struct {
	Color       string
	FillColor   string
	Weight      float64
	Opacity     float64
	FillOpacity float64
	DashArray   string
	Radius      float64
}

// IsLine reports whether the layer holds lines.
func (l *Layer) IsLine() bool { return strings.Contains(l.GeometryType, "Line") }

// IsPoint reports whether the layer holds points.
func (l *Layer) IsPoint() bool { return strings.Contains(l.GeometryType, "Point") }

// Symbol returns how a feature with these properties is drawn. A feature
// with a GB 50137 class takes its class colour (the stroke of a line, the
// fill of an area); areas show their position confidence in the outline,
// while a line keeps its own dash (a road solid, a railway as declared).
// The web map (web/static/app.js, styleOf) applies the same rules.
func (l *Layer) Symbol(class, confidence string) Symbol {
	s := l.Style
	line := l.IsLine()
	sym := Symbol{
		Color:       or(s.Color, "#333333"),
		Weight:      orNum(s.Weight, map[bool]float64{true: 3, false: 1}[line]),
		Opacity:     orNum(s.Opacity, 1),
		FillColor:   or(s.FillColor, or(s.Color, "#999999")),
		FillOpacity: orNum(s.FillOpacity, 0.6),
		DashArray:   s.DashArray,
		Radius:      orNum(s.Radius, 6),
	}
	if c, ok := ClassOf(class); ok {
		if line {
			sym.Color = c.Color
		} else {
			sym.FillColor = c.Color
		}
	}
	if sym.DashArray == "" && !line {
		sym.DashArray = ConfidenceDash[confidence]
	}
	return sym
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orNum(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

// ConfidenceField is the property that says how far to trust a feature's
// position; Symbol draws it in an area's outline.
const ConfidenceField = "position_confidence"
