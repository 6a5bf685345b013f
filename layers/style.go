package layers

import (
	"strings"
)

// Class is a major land-use class of GB 50137, with the colour Chinese
// planners give it (after CJJ/T 97 CAD practice), and the shades of those
// of its subclasses a planning map tells apart. This table is the one
// place the class colours live: the web map, the QGIS styles written into
// GeoPackages and the KML colours all read it.
type Class struct {
	Code       string     `json:"code"`
	Name       Text       `json:"name"`
	Color      string     `json:"color"`
	Subclasses []Subclass `json:"subclasses,omitempty"`
}

// Subclass is a GB 50137 subclass (R1, M3, …) drawn in a shade of its
// class's colour: lighter for the lighter use (R1 low-rise, M1 clean
// industry), darker for the heavier.
type Subclass struct {
	Code  string `json:"code"`
	Name  Text   `json:"name"`
	Color string `json:"color"`
}

// Classes are the GB 50137 major classes, in the order a legend lists them.
// S (urban roads, light grey) and H (regional transport, slate blue) are
// kept apart: a district map shows both side by side.
var Classes = []Class{
	{"R", Text{"居住用地", "Residential"}, "#FFFF00", []Subclass{
		{"R1", Text{"一类居住用地", "Residential, low-rise"}, "#FFFF9F"},
		{"R2", Text{"二类居住用地", "Residential, mid- and high-rise"}, "#FFFF00"},
		{"R3", Text{"三类居住用地", "Residential, mixed with other uses"}, "#D9C800"},
	}},
	{"A", Text{"公共管理与公共服务用地", "Public services"}, "#FF00FF", []Subclass{
		{"A2", Text{"文化设施用地", "Culture"}, "#E040E0"},
		{"A3", Text{"教育科研用地", "Education and research"}, "#FF8CFF"},
		{"A5", Text{"医疗卫生用地", "Health care"}, "#FF4FA7"},
	}},
	{"B", Text{"商业服务业用地", "Commercial"}, "#FF0000", []Subclass{
		{"B1", Text{"商业用地", "Retail, hotels, restaurants"}, "#FF0000"},
		{"B2", Text{"商务用地", "Offices"}, "#FF6F6F"},
	}},
	{"M", Text{"工业用地", "Industrial"}, "#7F5F3F", []Subclass{
		{"M1", Text{"一类工业用地", "Industry, no nuisance"}, "#C4A27E"},
		{"M2", Text{"二类工业用地", "Industry, some nuisance"}, "#7F5F3F"},
		{"M3", Text{"三类工业用地", "Heavy industry"}, "#4A3118"},
	}},
	{"W", Text{"物流仓储用地", "Logistics and warehouses"}, "#5F3F7F", []Subclass{
		{"W1", Text{"一类物流仓储用地", "Logistics, no nuisance"}, "#A58CC4"},
		{"W2", Text{"二类物流仓储用地", "Logistics, some nuisance"}, "#7F5F9F"},
		{"W3", Text{"三类物流仓储用地", "Logistics, hazardous goods"}, "#5F3F7F"},
	}},
	{"S", Text{"道路与交通设施用地", "Roads and transport"}, "#A6A6A6", []Subclass{
		{"S1", Text{"城市道路用地", "Urban roads"}, "#A6A6A6"},
		{"S3", Text{"交通枢纽用地", "Transport hubs"}, "#7D7D7D"},
		{"S4", Text{"交通场站用地", "Depots and car parks"}, "#8F8F8F"},
	}},
	{"H", Text{"区域交通设施用地", "Regional transport"}, "#4E6A9A", []Subclass{
		{"H2", Text{"区域交通设施用地", "Regional transport"}, "#4E6A9A"},
	}},
	{"U", Text{"公用设施用地", "Utilities"}, "#005F7F", nil},
	{"G", Text{"绿地与广场用地", "Green space"}, "#00C000", []Subclass{
		{"G1", Text{"公园绿地", "Parks"}, "#00C000"},
		{"G2", Text{"防护绿地", "Buffer green"}, "#6FA86F"},
		{"G3", Text{"广场用地", "Squares"}, "#B5E6B5"},
	}},
	{"E", Text{"水域", "Water"}, "#7FBFFF", nil},
}

// ClassField is the property that carries a feature's GB 50137 code.
const ClassField = "landuse_gb50137"

// StatusField is the property that carries a project's stage.
const StatusField = "status"

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

// ShadeOf returns the colour a GB 50137 code is drawn in: its subclass's
// shade when Classes lists the subclass (its first two characters: "R21"
// → R2), else its major class's colour ("R", "R9" → R), and whether the
// code names a class at all.
func ShadeOf(code string) (string, bool) {
	c, ok := ClassOf(code)
	if !ok {
		return "", false
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, sc := range c.Subclasses {
		if strings.HasPrefix(code, sc.Code) {
			return sc.Color, true
		}
	}
	return c.Color, true
}

// ClassExpression is the QGIS expression that gives a feature's category:
// its subclass when Classes lists one, else its major class; QML's
// categories are the values it takes.
var ClassExpression = classExpression()

func classExpression() string {
	var subs []string
	for _, c := range Classes {
		for _, sc := range c.Subclasses {
			subs = append(subs, "'"+sc.Code+"'")
		}
	}
	f := `"` + ClassField + `"`
	return `CASE WHEN upper(left(` + f + `, 2)) IN (` + strings.Join(subs, ", ") + `) THEN upper(left(` + f + `, 2)) ELSE upper(left(` + f + `, 1)) END`
}

// Status is a project's stage and how a shape shows it: a plan pale, a
// signed project with a heavier outline, one under construction hatched,
// one in operation in full colour. The position confidence keeps the
// outline's dash, so the two never compete.
type Status struct {
	Code string `json:"code"`
	Name Text   `json:"name"`
	// FillOpacity multiplies the layer's fill opacity.
	FillOpacity float64 `json:"fillOpacity"`
	// Weight is added to the outline's width.
	Weight float64 `json:"weight,omitempty"`
	// Hatch draws the fill as diagonal stripes of the fill colour.
	Hatch bool `json:"hatch,omitempty"`
}

// Statuses are the stages of a project, in the order a legend lists them.
var Statuses = []Status{
	{Code: "planned", Name: Text{"规划", "Planned"}, FillOpacity: 0.45},
	{Code: "signed", Name: Text{"已签约", "Signed"}, FillOpacity: 0.6, Weight: 1.5},
	{Code: "under_construction", Name: Text{"在建", "Under construction"}, FillOpacity: 1, Weight: 0.5, Hatch: true},
	{Code: "in_operation", Name: Text{"已建成", "In operation"}, FillOpacity: 1},
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
	// Hatch draws an area's fill as stripes (a project under
	// construction); KML and QGIS fill it plainly.
	Hatch bool
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
	if colour, ok := ShadeOf(class); ok {
		if line {
			sym.Color = colour
		} else {
			sym.FillColor = colour
		}
	}
	if sym.DashArray == "" && !line {
		sym.DashArray = ConfidenceDash[confidence]
	}
	return sym
}

// WithStatus returns the symbol as a project at this stage is drawn
// (Statuses): areas and points only, a line keeps its look. An unknown
// stage changes nothing.
func (l *Layer) WithStatus(sym Symbol, status string) Symbol {
	if l.IsLine() {
		return sym
	}
	for _, st := range Statuses {
		if st.Code == status {
			sym.FillOpacity *= st.FillOpacity
			sym.Weight += st.Weight
			sym.Hatch = st.Hatch
		}
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
