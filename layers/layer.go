package layers

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Text is a string in Chinese and English.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// FieldType is the type of an attribute.
type FieldType string

// Attribute types, with the GeoPackage column type each is stored as.
const (
	String   FieldType = "string"   // TEXT
	Integer  FieldType = "integer"  // INTEGER
	Number   FieldType = "number"   // DOUBLE
	Boolean  FieldType = "boolean"  // BOOLEAN
	Date     FieldType = "date"     // DATE, "YYYY-MM-DD"
	DateTime FieldType = "datetime" // DATETIME, "YYYY-MM-DDTHH:MM:SS.SSSZ"
)

var SQLTypes = map[FieldType]string{
	String: "TEXT", Integer: "INTEGER", Number: "DOUBLE",
	Boolean: "BOOLEAN", Date: "DATE", DateTime: "DATETIME",
}

// Field is one declared attribute of a layer.
type Field struct {
	Name        string    `json:"name"`
	Type        FieldType `json:"type"`
	Required    bool      `json:"required,omitempty"`
	Values      []string  `json:"values,omitempty"` // allowed values of a string field
	Description Text      `json:"description"`
}

// Style is how the web map draws a layer, in Leaflet path options.
type Style struct {
	Color       string   `json:"color,omitempty"`
	FillColor   string   `json:"fillColor,omitempty"`
	Weight      *float64 `json:"weight,omitempty"`
	Opacity     *float64 `json:"opacity,omitempty"`
	FillOpacity *float64 `json:"fillOpacity,omitempty"`
	DashArray   string   `json:"dashArray,omitempty"`
	Radius      *float64 `json:"radius,omitempty"`
}

// Layer is a layer's declaration: everything but its features.
type Layer struct {
	ID           string  `json:"id"`
	Title        Text    `json:"title"`
	Description  Text    `json:"description"`
	GeometryType string  `json:"geometryType"`
	Order        int     `json:"order"`
	Schema       []Field `json:"schema"`
	Style        Style   `json:"style"`
	// Rules are the layer's planning rules, checked on every write.
	Rules []Rule `json:"rules,omitempty"`
}

// GeometryTypes are the geometry types a layer may declare.
var GeometryTypes = []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}

// SQLGeometryTypes are the GeoPackage geometry column types of the
// geometry types in GeometryTypes: what reaches DDL comes from here, never
// from the declaration's text.
var SQLGeometryTypes = map[string]string{
	"Point": "POINT", "MultiPoint": "MULTIPOINT", "LineString": "LINESTRING",
	"MultiLineString": "MULTILINESTRING", "Polygon": "POLYGON", "MultiPolygon": "MULTIPOLYGON",
}

var (
	identRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// reservedPrefixes keep layer tables apart from the GeoPackage's own tables
// and ours.
var reservedPrefixes = []string{"gpkg_", "rtree_", "sqlite_", "planmap_", "layer_styles"}

// reservedFields are the columns every feature table has, and the GeoJSON
// member that carries the feature id.
var reservedFields = map[string]bool{"fid": true, "geom": true, "id": true}

// QueryParams are the query parameters of a layer's items, those served
// and those OGC API parts may add, in their identifier form. Each field is
// also a ?field=value filter there, so a field of one of these names would
// be read as both, and page or filter wrongly.
var QueryParams = []string{"f", "bbox", "crs", "datetime", "limit", "offset", "after", "filter", "sortby", "properties", "q", "as-of"}

// ValidID reports whether id can name a layer: lower-case letters, digits
// and underscores, starting with a letter, at most 63 characters, and not
// one of the reserved table prefixes.
func ValidID(id string) bool {
	if len(id) > 63 || !identRE.MatchString(id) {
		return false
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(id, p) {
			return false
		}
	}
	return true
}

// Field returns the field named name, or nil.
func (l *Layer) Field(name string) *Field {
	for i := range l.Schema {
		if l.Schema[i].Name == name {
			return &l.Schema[i]
		}
	}
	return nil
}

// Validate reports every problem with the declaration, each as a sentence
// added to p with the given prefix.
func (l *Layer) Validate(p *Problems, prefix string) {
	bad := func(format string, args ...any) { p.Add("%s%s", prefix, fmt.Sprintf(format, args...)) }
	if !ValidID(l.ID) {
		bad("layer id %q is not valid: use lower-case letters, digits and _, start with a letter, at most 63 characters, not starting with %s", l.ID, strings.Join(reservedPrefixes, ", "))
	}
	if strings.TrimSpace(l.Title.Zh) == "" || strings.TrimSpace(l.Title.En) == "" {
		bad("title needs both zh and en")
	}
	if _, known := SQLGeometryTypes[l.GeometryType]; !known {
		bad("geometryType %q is not one of %s", l.GeometryType, strings.Join(GeometryTypes, ", "))
	}
	seen := map[string]bool{}
	for i, f := range l.Schema {
		where := fmt.Sprintf("schema field %d (%s)", i, f.Name)
		if why := fieldNameProblem(f.Name); why != "" {
			bad("%s: %s", where, why)
		} else if seen[f.Name] {
			bad("%s: declared twice", where)
		}
		seen[f.Name] = true
		if _, ok := SQLTypes[f.Type]; !ok {
			bad("%s: type %q is not one of string, integer, number, boolean, date, datetime", where, f.Type)
		}
		if len(f.Values) > 0 && f.Type != String {
			bad("%s: allowed values can only be listed for a string field", where)
		}
	}
	l.validateRules(bad)
	s := l.Style
	for _, c := range []struct{ name, v string }{{"color", s.Color}, {"fillColor", s.FillColor}} {
		if c.v != "" && !colorRE.MatchString(c.v) {
			bad("style %s %q is not a #rrggbb colour", c.name, c.v)
		}
	}
	for _, n := range []struct {
		name   string
		v      *float64
		lo, hi float64
	}{{"opacity", s.Opacity, 0, 1}, {"fillOpacity", s.FillOpacity, 0, 1}, {"weight", s.Weight, 0, 100}, {"radius", s.Radius, 0, 100}} {
		if n.v != nil && (*n.v < n.lo || *n.v > n.hi) {
			bad("style %s %g is outside %g..%g", n.name, *n.v, n.lo, n.hi)
		}
	}
}

// fieldNameProblem says why name cannot name a field, or "" if it can.
func fieldNameProblem(name string) string {
	switch {
	case !identRE.MatchString(name) || len(name) > 63:
		return "name must be lower-case letters, digits and _, starting with a letter"
	case reservedFields[name]:
		return fmt.Sprintf("name %q is reserved", name)
	case slices.Contains(QueryParams, name):
		return fmt.Sprintf("name %q is a query parameter of the layer's items (%s); name the field otherwise", name, strings.Join(QueryParams, ", "))
	case strings.HasPrefix(name, MeasurePrefix):
		return fmt.Sprintf("names starting %s are reserved for the measures planmap computes", MeasurePrefix)
	}
	return ""
}

// ValidIdent reports whether name may name a field or a table: lower-case
// ASCII letters, digits and underscores, starting with a letter.
func ValidIdent(name string) bool { return len(name) <= 63 && identRE.MatchString(name) }
