package web

import (
	"slices"

	"planmap/layers"
)

// openAPIEdit adds to the API definition doc (openAPI's) each layer's
// schema and, when editable, the writes (Part 4), the versions of a
// feature, the bearer security scheme, the request bodies and every
// status the writes answer.
func openAPIEdit(doc obj, cat *layers.Catalog, editable bool) {
	paths := doc["paths"].(obj)
	comps := doc["components"].(obj)
	responses := comps["responses"].(obj)
	f := ref("parameters/f")
	op := func(id, summary, tag string, params []obj, ok map[string]obj, codes ...string) obj {
		rs := obj{}
		for c, r := range ok {
			rs[c] = r
		}
		for _, c := range codes {
			rs[c] = ref("responses/" + c)
		}
		o := obj{"operationId": id, "summary": summary, "tags": []string{tag}, "responses": rs}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return o
	}
	for _, col := range cat.Collections {
		p := "/collections/" + col.ID
		paths[p+"/schema"] = obj{"get": op("getSchema_"+col.ID, "The JSON Schema of the features of "+col.Title.En+" (Part 5)", col.ID, []obj{f},
			map[string]obj{"200": {"description": "A JSON Schema; id and the computed measures are readOnly", "headers": obj{"ETag": ref("headers/ETag")},
				"content": obj{mediaSchema: obj{"schema": obj{"type": "object"}}}}},
			"304", "400", "404", "405", "500")}
	}
	if !editable {
		return
	}

	comps["securitySchemes"] = obj{"bearer": obj{
		"type": "http", "scheme": "bearer",
		"description": "A token made by `planmap token add --name NAME --role editor|admin`; writes need one, reads do not.",
	}}
	headers := comps["headers"].(obj)
	headers["ETag"] = obj{"description": "A validator: for If-None-Match; for a feature, its version, for If-Match", "schema": obj{"type": "string"}}
	headers["Location"] = obj{"description": "The URL of the feature created", "schema": obj{"type": "string", "format": "uri"}}
	headers["Link"] = obj{"description": "Links (RFC 8288); for a deleted feature, rel=version-history to its versions", "schema": obj{"type": "string"}}
	headers["WWW-Authenticate"] = obj{"description": "Bearer", "schema": obj{"type": "string"}}

	params := comps["parameters"].(obj)
	params["If-Match"] = obj{"name": "If-Match", "in": "header", "required": false,
		"description": "The ETag of the version the write replaces; a mismatch answers 412 with the current ETag. Without it the write is accepted. W/ and a proxy's encoding suffix (-gzip) are ignored; * matches any current version.",
		"schema":      obj{"type": "string"}}
	params["Content-Crs"] = obj{"name": "Content-Crs", "in": "header", "required": false,
		"description": "The CRS of the body's geometry, as <URI>: one of the service's; CRS84 when absent. EPSG:4326 and EPSG:4490 put latitude first.",
		"schema":      obj{"type": "string"}}
	params["Planmap-Note"] = obj{"name": "Planmap-Note", "in": "header", "required": false,
		"description": "Why the change is made, kept in the feature's history: UTF-8, or percent-encoded UTF-8 (encodeURIComponent), at most 1000 bytes.",
		"schema":      obj{"type": "string", "maxLength": maxNote}}

	problem := func(desc string) obj {
		return obj{"description": desc, "content": obj{mediaProblem: obj{"schema": ref("schemas/problem")}}}
	}
	with := func(r obj, name string) obj {
		r["headers"] = obj{name: ref("headers/" + name)}
		return r
	}
	responses["401"] = with(problem("No valid bearer token: writes need one (Authorization: Bearer …)."), "WWW-Authenticate")
	responses["403"] = problem("The token does not cover this layer, or this operation.")
	responses["410"] = with(problem("The feature was deleted; the Link header and the links member point to its versions."), "Link")
	responses["412"] = with(problem("If-Match names another version than the current one, whose ETag the answer carries."), "ETag")
	responses["413"] = problem("The body is larger than 8 MiB.")
	responses["415"] = problem("The body is not of a media type the operation takes (or not UTF-8, or content-encoded).")
	responses["204"] = obj{"description": "Done; nothing to say."}
	responses["400"] = problem("The query string, a header or the body is not valid; for a body, the detail says where (line and column of bad JSON; the property, ring or rule a feature breaks).")

	schemas := comps["schemas"].(obj)
	schemas["featureInput"] = obj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": obj{
		"type":       obj{"type": "string", "enum": []string{"Feature"}},
		"id":         obj{"description": "Ignored when creating; otherwise, if given, the id in the URL (a number or a string)"},
		"geometry":   obj{"type": "object", "description": "A GeoJSON geometry of the layer's type, in the Content-Crs"},
		"properties": obj{"type": "object", "description": "The layer's fields (see /collections/{collectionId}/schema); the computed measures are ignored"},
	}}
	feature := obj{"description": "The feature as stored, in CRS84",
		"headers": obj{"ETag": ref("headers/ETag"), "Content-Crs": ref("headers/Content-Crs")},
		"content": obj{mediaGeoJSON: obj{"schema": ref("schemas/featureGeoJSON")}}}
	created := obj{"description": feature["description"],
		"headers": obj{"ETag": ref("headers/ETag"), "Content-Crs": ref("headers/Content-Crs"), "Location": ref("headers/Location")},
		"content": feature["content"]}
	body := func(desc string, types ...string) obj {
		c := obj{}
		for _, t := range types {
			c[t] = obj{"schema": ref("schemas/featureInput")}
		}
		return obj{"required": true, "description": desc, "content": c}
	}
	patchBody := obj{"required": true, "description": "A JSON merge patch (RFC 7396) of the feature: null removes a property, a geometry replaces the geometry whole, the id cannot change.",
		"content": obj{mediaMergePatch: obj{"schema": obj{"type": "object"}}}}
	secured := func(o obj, req obj) obj {
		o["security"] = []obj{{"bearer": []string{}}}
		if req != nil {
			o["requestBody"] = req
		}
		return o
	}
	fid := ref("parameters/featureId")
	ifm, crs, note := ref("parameters/If-Match"), ref("parameters/Content-Crs"), ref("parameters/Planmap-Note")
	writeCodes := []string{"400", "401", "403", "404", "500"}
	bodyCodes := append(slices.Clip(writeCodes), "413", "415")
	for _, col := range cat.Collections {
		p := "/collections/" + col.ID
		name, tag := col.Title.Zh+" "+col.Title.En, col.ID
		items := paths[p+"/items"].(obj)
		items["post"] = secured(op("createFeature_"+col.ID, "Add a feature to "+name+"; the service assigns its id", tag,
			[]obj{crs, note}, map[string]obj{"201": created}, bodyCodes...), body("The new feature", mediaGeoJSON, mediaJSON))
		item := paths[p+"/items/{featureId}"].(obj)
		item["get"].(obj)["responses"].(obj)["410"] = ref("responses/410")
		item["put"] = secured(op("replaceFeature_"+col.ID, "Replace a feature of "+name+"; a deleted one comes back under its id", tag,
			[]obj{fid, ifm, crs, note}, map[string]obj{"200": feature}, append(bodyCodes, "412")...), body("The feature", mediaGeoJSON, mediaJSON))
		item["patch"] = secured(op("updateFeature_"+col.ID, "Change part of a feature of "+name, tag,
			[]obj{fid, ifm, crs, note}, map[string]obj{"200": feature}, append(bodyCodes, "410", "412")...), patchBody)
		item["delete"] = secured(op("deleteFeature_"+col.ID, "Delete a feature of "+name+"; its id is never used again", tag,
			[]obj{fid, ifm, note}, map[string]obj{"204": responses["204"].(obj)}, append(slices.Clip(writeCodes), "410", "412")...), nil)
		paths[p+"/items/{featureId}/versions"] = obj{"get": op("getFeatureVersions_"+col.ID, "The versions of a feature of "+name+", newest first", tag,
			[]obj{fid, f}, map[string]obj{"200": {
				"description": "The versions: each the feature as it was (geometry and properties null while deleted) with planmap:version {number, op, from, to (null while current), author (null for a direct edit of the database), note}",
				"headers":     obj{"ETag": ref("headers/ETag")},
				"content":     obj{mediaGeoJSON: obj{"schema": ref("schemas/featureCollectionGeoJSON")}}}},
			"304", "400", "404", "405", "500")}
	}
}
