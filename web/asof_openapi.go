package web

import (
	"strings"

	"planmap/layers"
)

// withAsOf declares "as of" in the OpenAPI document doc (openAPI's): the
// as-of parameter and the Accept-Datetime header on items, a feature and
// the statistics, compare on a layer's statistics, Memento-Datetime on
// their answers, and 410 for a feature deleted by the time asked about.
func withAsOf(doc obj, cat *layers.Catalog) obj {
	comps := doc["components"].(obj)
	params := comps["parameters"].(obj)
	params["asOf"] = obj{"name": asOfParam, "in": "query", "required": false, "style": "form", "explode": false,
		"description": "The features as they were at this time, from the history of every edit: features deleted since are there, features created after are not, and bbox and field values select from the features as they were. An RFC 3339 date-time (2026-11-30T12:00:00Z) or a date (its start in UTC). Not datetime, which filters on the features' own time. A time before the layer existed: no features. A collection dropped since is read at its own path as it was then, in the declaration it had; a time after its drop is 404, saying when it was dropped. A collection declared otherwise since (a field added or dropped, other allowed values) is read in the declaration it had then: its fields, and the properties a query may name, are those of then.",
		"schema":      obj{"type": "string", "format": "date-time"}}
	params["acceptDatetime"] = obj{"name": "Accept-Datetime", "in": "header", "required": false,
		"description": "As as-of, as Memento (RFC 7089) clients ask: an HTTP date (Thu, 30 Nov 2026 12:00:00 GMT). as-of wins when both are given.",
		"schema":      obj{"type": "string"}}
	params["compare"] = obj{"name": compareParam, "in": "query", "required": false, "style": "form", "explode": false,
		"description": "Compare with this earlier time (before as-of, or now): the answer's comparison has, per group, the count and measures then, at as-of (or now) and the change, and the transitions, the features whose group changed between the two times (from which to which, with their count and measures at the later time). RFC 3339 date-time or date.",
		"schema":      obj{"type": "string", "format": "date-time"}}
	comps["headers"].(obj)["Memento-Datetime"] = obj{"description": "The time an as-of answer is about (RFC 7089)", "schema": obj{"type": "string"}}
	if _, ok := comps["responses"].(obj)["410"]; !ok {
		comps["responses"].(obj)["410"] = obj{"description": "The feature had been deleted by the time asked about.", "content": obj{
			mediaProblem: obj{"schema": ref("schemas/problem")},
		}}
	}
	measures := obj{"type": "object", "properties": obj{
		"count":             obj{"type": "integer"},
		"geodesic_area_m2":  obj{"type": "number"},
		"geodesic_area_ha":  obj{"type": "number"},
		"geodesic_area_mu":  obj{"type": "number"},
		"geodesic_length_m": obj{"type": "number"},
	}}
	compared := obj{"type": "object", "properties": obj{"earlier": measures, "later": measures, "change": measures}}
	transition := obj{"type": "object", "properties": obj{
		"from": obj{"nullable": true, "description": "The group at the earlier time"}, "to": obj{"nullable": true, "description": "The group at the later time"},
	}}
	for k, v := range measures["properties"].(obj) {
		transition["properties"].(obj)[k] = v
	}
	comparedGroup := obj{"type": "object", "properties": obj{"key": obj{"nullable": true}, "earlier": measures, "later": measures, "change": measures}}
	stats := comps["schemas"].(obj)["statistics"].(obj)["properties"].(obj)
	stats["asOf"] = obj{"type": "string", "format": "date-time", "description": "The time the statistics are about (as-of or Accept-Datetime); absent: now"}
	stats["comparison"] = obj{"type": "object", "description": "With compare: the comparison with the earlier time", "properties": obj{
		"earlier":     obj{"type": "string", "format": "date-time"},
		"groups":      obj{"type": "array", "items": comparedGroup},
		"total":       compared,
		"transitions": obj{"type": "array", "items": transition},
		"note":        obj{"type": "string"},
	}}

	// Not "as of", but of the feature too: the flag of a direct edit that
	// fails the checks (problems.go).
	if f, ok := comps["schemas"].(obj)["featureGeoJSON"].(obj); ok {
		if props, ok := f["properties"].(obj); ok {
			props["invalid"] = obj{"type": "string", "description": "Present when another program (QGIS, GDAL) wrote the feature and it fails the layer's checks (schema, geometry, planning rules): why. One feature only."}
		}
	}

	paths := doc["paths"].(obj)
	add := func(path string, names ...string) {
		p, ok := paths[path].(obj)
		if !ok {
			return
		}
		op := p["get"].(obj)
		ps, _ := op["parameters"].([]obj)
		ps = append([]obj(nil), ps...)
		for _, n := range names {
			ps = append(ps, ref("parameters/"+n))
		}
		op["parameters"] = ps
		rs := op["responses"].(obj)
		if ok, isObj := rs["200"].(obj); isObj {
			h, _ := ok["headers"].(obj)
			nh := obj{}
			for k, v := range h {
				nh[k] = v
			}
			nh["Memento-Datetime"] = ref("headers/Memento-Datetime")
			c := obj{}
			for k, v := range ok {
				c[k] = v
			}
			c["headers"] = nh
			rs["200"] = c
		}
		if strings.HasSuffix(path, "{featureId}") {
			rs["410"] = ref("responses/410")
		}
	}
	add("/stats", "asOf", "acceptDatetime")
	for _, col := range cat.Collections {
		p := "/collections/" + col.ID
		add(p+"/items", "asOf", "acceptDatetime")
		add(p+"/items/{featureId}", "asOf", "acceptDatetime")
		add(p+"/stats", "asOf", "acceptDatetime", "compare")
	}
	return doc
}
