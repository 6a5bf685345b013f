package web

import (
	"net/http"
	"net/url"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// measureTitles describe the measures the service computes.
var measureTitles = map[string]string{
	layers.AreaM2:  "面积（平方米，WGS 84 椭球） geodesic area in m²",
	layers.AreaHa:  "面积（公顷） geodesic area in ha",
	layers.AreaMu:  "面积（亩） geodesic area in 亩 (1/15 ha)",
	layers.LengthM: "长度（米） geodesic length in m",
}

// emptyGeometries are a geometry of each type a layer may declare, to ask
// layers.Measures which measures its features have.
var emptyGeometries = map[string]orb.Geometry{
	"Point": orb.Point{}, "MultiPoint": orb.MultiPoint{},
	"LineString": orb.LineString{}, "MultiLineString": orb.MultiLineString{},
	"Polygon": orb.Polygon{}, "MultiPolygon": orb.MultiPolygon{},
}

// schema answers the JSON Schema of a layer's features (OGC API –
// Features Part 5): the id (x-ogc-role id) and the measures are
// read-only, the fields typed as the queryables give them, with their
// allowed values, and the required fields listed.
func (s *server) schema(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, col.Version)) {
		return nil
	}
	href := s.base(r) + "/collections/" + url.PathEscape(col.ID) + "/schema"
	return writeJSONType(w, http.StatusOK, mediaSchema, layerSchema(col.Layer, href))
}

// layerSchema is the Part 5 schema of the features of l, with $id id:
// the queryables' schema, with the id and the computed measures (both
// read-only) and the required fields.
func layerSchema(l *layers.Layer, id string) map[string]any {
	doc := fieldsSchema(l, id)
	props := doc["properties"].(map[string]any)
	props["id"] = map[string]any{"title": "要素编号 feature id, assigned by the service", "type": "integer", "x-ogc-role": "id", "readOnly": true}
	required := []string{}
	for _, fd := range l.Schema {
		if fd.Required {
			required = append(required, fd.Name)
		}
	}
	if g, ok := emptyGeometries[l.GeometryType]; ok {
		for _, m := range layers.Measures(g) {
			props[m.Name] = map[string]any{"title": measureTitles[m.Name], "type": "number", "readOnly": true}
		}
	}
	doc["required"] = required
	return doc
}

// fieldsSchema is the JSON Schema, with $id id, of what one may ask of
// the features of l (its queryables): the geometry and each field.
func fieldsSchema(l *layers.Layer, id string) map[string]any {
	props := map[string]any{
		"geometry": map[string]any{"format": "geometry-" + geometryFormat(l.GeometryType), "x-ogc-role": "primary-geometry"},
	}
	for _, fd := range l.Schema {
		props[fd.Name] = fieldSchema(fd)
	}
	return map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"$id":        id,
		"type":       "object",
		"title":      l.Title.Zh + " " + l.Title.En,
		"properties": props,
	}
}
