package layers

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// QML returns the layer's style as a QGIS style document (QML), so that a
// layer opened from a GeoPackage looks as it does on the web map. It is
// drawn from the same rules (Layer.Symbol, Classes, ConfidenceDash):
//
//   - a layer with a landuse_gb50137 field gets a categorized renderer on
//     ClassExpression (the subclass when Classes shades it, else the major
//     class), one category per major class and per shaded subclass. QGIS
//     matches categories on exact values; categorizing on these rather
//     than listing the codes present (R2, R21, …) keeps the style right for
//     features added later without rewriting it. A last category with an empty value draws features
//     without a class in the layer's own colours.
//   - any other layer gets a single symbol.
//   - areas and points whose layer declares no dash show their position
//     confidence in the outline, as a data-defined stroke style (Qt has
//     solid, dash and dot, the nearest to ConfidenceDash's patterns).
//   - features are labelled by name_zh when the layer has that field.
//
// Sizes are in pixels, as Leaflet's are.
func (l *Layer) QML() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
	b.WriteString(`<qgis version="3.22.0" styleCategories="Symbology|Labels">` + "\n")
	confidence := l.Field(ConfidenceField) != nil && !l.IsLine() && l.Style.DashArray == ""
	if l.Field(ClassField) != nil {
		fmt.Fprintf(&b, ` <renderer-v2 type="categorizedSymbol" attr="%s" symbollevels="0" enableorderby="0" forceraster="0">`+"\n",
			xmlAttr(ClassExpression))
		// The major classes first, then the subclasses with a shade of
		// their own, then the rest.
		var cats []Subclass
		for _, c := range Classes {
			cats = append(cats, Subclass{c.Code, c.Name, c.Color})
		}
		for _, c := range Classes {
			cats = append(cats, c.Subclasses...)
		}
		b.WriteString("  <categories>\n")
		for i, c := range cats {
			fmt.Fprintf(&b, `   <category render="true" symbol="%d" value="%s" type="string" label="%s"/>`+"\n",
				i, xmlAttr(c.Code), xmlAttr(c.Code+" "+c.Name.Zh+" "+c.Name.En))
		}
		fmt.Fprintf(&b, `   <category render="true" symbol="%d" value="" type="string" label="%s"/>`+"\n",
			len(cats), xmlAttr("其他 Other"))
		b.WriteString("  </categories>\n  <symbols>\n")
		for i, c := range cats {
			l.writeSymbol(&b, strconv.Itoa(i), l.Symbol(c.Code, ""), confidence)
		}
		l.writeSymbol(&b, strconv.Itoa(len(cats)), l.Symbol("", ""), confidence)
		b.WriteString("  </symbols>\n </renderer-v2>\n")
	} else {
		b.WriteString(` <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">` + "\n  <symbols>\n")
		l.writeSymbol(&b, "0", l.Symbol("", ""), confidence)
		b.WriteString("  </symbols>\n </renderer-v2>\n")
	}
	if l.Field("name_zh") != nil {
		b.WriteString(` <labeling type="simple">
  <settings calloutType="simple">
   <text-style fieldName="name_zh" isExpression="0" fontSize="9" fontSizeUnit="Point" textColor="40,40,40,255" textOpacity="1"/>
   <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="0.8"/>
   <rendering obstacle="1" scaleVisibility="0" drawLabels="1"/>
  </settings>
 </labeling>
`)
	}
	b.WriteString("</qgis>\n")
	return b.String()
}

// writeSymbol writes one symbol of the layer's geometry kind.
func (l *Layer) writeSymbol(b *strings.Builder, name string, s Symbol, confidence bool) {
	kind, class := "fill", "SimpleFill"
	props := [][2]string{
		{"color", qgisColor(s.FillColor, s.FillOpacity)}, {"style", "solid"},
		{"outline_color", qgisColor(s.Color, s.Opacity)}, {"outline_style", penStyle(s.DashArray)},
		{"outline_width", num(s.Weight)}, {"outline_width_unit", "Pixel"}, {"joinstyle", "round"},
	}
	switch {
	case l.IsLine():
		kind, class = "line", "SimpleLine"
		props = [][2]string{
			{"line_color", qgisColor(s.Color, s.Opacity)}, {"line_width", num(s.Weight)}, {"line_width_unit", "Pixel"},
			{"line_style", "solid"}, {"capstyle", "round"}, {"joinstyle", "round"},
		}
		if dash := qgisDash(s.DashArray); dash != "" {
			props = append(props, [2]string{"use_custom_dash", "1"}, [2]string{"customdash", dash}, [2]string{"customdash_unit", "Pixel"})
		}
	case l.IsPoint():
		kind, class = "marker", "SimpleMarker"
		props = [][2]string{
			{"name", "circle"}, {"color", qgisColor(s.FillColor, s.FillOpacity)},
			{"outline_color", qgisColor(s.Color, s.Opacity)}, {"outline_style", penStyle(s.DashArray)},
			{"outline_width", num(s.Weight)}, {"outline_width_unit", "Pixel"},
			{"size", num(2 * s.Radius)}, {"size_unit", "Pixel"},
		}
	}
	fmt.Fprintf(b, `   <symbol type="%s" name="%s" alpha="1" clip_to_extent="1" force_rhr="0">`+"\n", kind, name)
	fmt.Fprintf(b, `    <layer class="%s" enabled="1" locked="0" pass="0">`+"\n", class)
	for _, p := range props {
		fmt.Fprintf(b, `     <prop k="%s" v="%s"/>`+"\n", p[0], xmlAttr(p[1]))
	}
	if confidence {
		expr := "CASE"
		for _, level := range []string{"high", "medium", "low"} {
			expr += fmt.Sprintf(` WHEN "%s" = '%s' THEN '%s'`, ConfidenceField, level, penStyle(ConfidenceDash[level]))
		}
		expr += " ELSE 'solid' END"
		fmt.Fprintf(b, `     <data_defined_properties><Option type="Map"><Option type="QString" name="name" value=""/><Option type="Map" name="properties"><Option type="Map" name="outlineStyle"><Option type="bool" name="active" value="true"/><Option type="QString" name="expression" value="%s"/><Option type="int" name="type" value="3"/></Option></Option><Option type="QString" name="type" value="collection"/></Option></data_defined_properties>`+"\n", xmlAttr(expr))
	}
	b.WriteString("    </layer>\n   </symbol>\n")
}

// qgisColor turns #rrggbb and an opacity into QGIS's "r,g,b,a".
func qgisColor(hex string, opacity float64) string {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		v = 0x333333
	}
	return fmt.Sprintf("%d,%d,%d,%d", v>>16, v>>8&0xff, v&0xff, int(opacity*255+0.5))
}

// qgisDash turns a Leaflet dashArray ("8 4" or "8,4") into QGIS's custom
// dash ("8;4"); empty for a solid line.
func qgisDash(dash string) string {
	return strings.Join(strings.FieldsFunc(dash, func(r rune) bool { return r == ' ' || r == ',' }), ";")
}

// penStyle is the Qt pen style nearest to a Leaflet dashArray: solid, dash
// when the first dash is longer than the gap after it, dot otherwise.
func penStyle(dash string) string {
	parts := strings.Split(qgisDash(dash), ";")
	if len(parts) < 2 {
		return "solid"
	}
	on, err1 := strconv.ParseFloat(parts[0], 64)
	off, err2 := strconv.ParseFloat(parts[1], 64)
	switch {
	case err1 != nil || err2 != nil:
		return "solid"
	case on > off:
		return "dash"
	default:
		return "dot"
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func xmlAttr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
