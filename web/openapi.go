package web

import (
	"encoding/json"
	"net/http"
	"slices"

	"planmap/layers"
)

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/" + name} }

// openAPI builds the API definition from the catalog: one path per layer
// for its items, with a query parameter per field, because that is where
// QGIS and GDAL look for the filters they may send to the server
// (INTEROP.md §4.1, TESTING.md §1), and because the OGC test suite takes
// every test URL from here.
func openAPI(base string, cat *layers.Catalog) obj {
	problem := func(desc string) obj {
		return obj{"description": desc, "content": obj{
			mediaProblem: obj{"schema": ref("schemas/problem")},
			mediaHTML:    obj{"schema": obj{"type": "string"}},
		}}
	}
	html := obj{mediaHTML: obj{"schema": obj{"type": "string"}}}
	// get is a GET that answers ok, or one of the statuses codes names,
	// besides those every route answers: 400 (a query that does not parse
	// or a parameter not listed here), 405 (the service is read-only) and
	// 500.
	get := func(id, summary, tag string, params []obj, ok obj, codes ...string) obj {
		rs := obj{"200": ok}
		for _, c := range append(codes, "400", "405", "500") {
			rs[c] = ref("responses/" + c)
		}
		op := obj{"operationId": id, "summary": summary, "tags": []string{tag}, "responses": rs}
		if len(params) > 0 {
			op["parameters"] = params
		}
		return obj{"get": op}
	}
	// content is a 200 in media type mt with schema, and as HTML unless
	// the resource has no page; tagged ones carry an ETag.
	content := func(desc, mt string, schema obj, tagged, withHTML bool) obj {
		c := obj{mt: obj{"schema": schema}}
		if withHTML {
			c[mediaHTML] = html[mediaHTML]
		}
		ok := obj{"description": desc, "content": c}
		if tagged {
			ok["headers"] = obj{"ETag": ref("headers/ETag")}
		}
		return ok
	}
	jsonOK := func(desc, schema string) obj { return content(desc, mediaJSON, ref("schemas/"+schema), true, true) }
	// features is a 200 of GeoJSON features, with Content-Crs and ETag.
	features := func(desc, schema string) obj {
		ok := content(desc, mediaGeoJSON, ref("schemas/"+schema), true, true)
		ok["headers"].(obj)["Content-Crs"] = ref("headers/Content-Crs")
		return ok
	}
	gpkg := content("A GeoPackage", mediaGPKG, obj{"type": "string", "format": "binary"}, true, false)
	kml := content("A KML document", mediaKML, obj{"type": "string"}, true, false)
	// Downloads are files of the cache: revalidated, and read in byte ranges.
	dl := []string{"206", "304", "416", "503"}
	f := ref("parameters/f")
	statsOK := obj{"description": "The statistics, as JSON or CSV (UTF-8 with a byte order mark, CRLF line ends, a header row with units, a last row of totals)",
		"headers": obj{"ETag": ref("headers/ETag")},
		"content": obj{mediaJSON: obj{"schema": ref("schemas/statistics")}, "text/csv": obj{"schema": obj{"type": "string"}}}}
	changesCollections := obj{"name": "collections", "in": "query", "required": false, "style": "form", "explode": false,
		"description": "Only changes of these layers, comma separated; every layer when absent",
		"schema":      obj{"type": "array", "items": idSchema(cat)}}
	paths := obj{
		"/":            get("getLandingPage", "Landing page", "Capabilities", []obj{f}, jsonOK("The landing page", "landingPage"), "304"),
		"/conformance": get("getConformance", "Conformance classes", "Capabilities", []obj{f}, jsonOK("The conformance classes", "confClasses"), "304"),
		"/api": get("getAPI", "This API definition", "Capabilities", []obj{f},
			content("The OpenAPI 3.0 document", mediaOpenAPI, obj{"type": "object"}, true, true), "304"),
		"/api.html": get("getAPIDocs", "This API's documentation", "Capabilities", nil,
			obj{"description": "The documentation", "headers": obj{"ETag": ref("headers/ETag")}, "content": html}, "304"),
		"/collections":           get("getCollections", "The layers", "Capabilities", []obj{f}, jsonOK("The layers", "collections"), "304"),
		"/download/planmap.gpkg": get("downloadAll", "Every layer as one GeoPackage", "Downloads", nil, gpkg, dl...),
		"/download/planmap.kml":  get("downloadAllKML", "Every layer as one KML document, a folder each", "Downloads", nil, kml, dl...),
		"/search": get("search", "Features of any layer whose Chinese or English name contains q", "Capabilities", []obj{
			{"name": "q", "in": "query", "required": true, "style": "form", "explode": false, "description": "A name, or part of one", "schema": obj{"type": "string", "minLength": 1}},
			{"name": "limit", "in": "query", "required": false, "style": "form", "explode": false, "description": "How many at most; larger values are clamped", "schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
		}, content("The features found, each with the collection it belongs to", mediaGeoJSON, ref("schemas/featureCollectionGeoJSON"), true, false), "304"),
		"/stats": get("getStatistics", "Count and geodesic area (m², ha, 亩) per GB 50137 land-use class over several layers, by default every polygon layer", "Statistics", []obj{
			ref("parameters/bbox"), ref("parameters/bbox-crs"),
			{"name": "collections", "in": "query", "required": false, "style": "form", "explode": false,
				"description": "The layers to add up, comma separated; every polygon layer when absent. Layers without " + layers.ClassField + ", and point layers, are listed as skipped.",
				"schema":      obj{"type": "array", "items": idSchema(cat)}},
			ref("parameters/statsF"),
		}, statsOK, "304"),
		"/changes": get("getChanges", "The change log of every layer after a change number, oldest first: what to read again", "Changes", []obj{
			{"name": "since", "in": "query", "required": false, "style": "form", "explode": false, "description": "Only changes after this change number (seq of a change, or latest of an earlier answer); 0 when absent",
				"schema": obj{"type": "integer", "format": "int64", "minimum": 0, "default": 0}},
			changesCollections,
			{"name": "limit", "in": "query", "required": false, "style": "form", "explode": false, "description": "How many changes at most; larger values are clamped. A page that ends before latest has a next link.",
				"schema": obj{"type": "integer", "minimum": 1, "maximum": maxChangesLimit, "default": defaultChangesLimit}},
		}, content("The changes", mediaJSON, ref("schemas/changes"), false, false)),
		"/changes/stream": get("streamChanges", "The changes of every layer as they happen, as server-sent events: an event \"change\" per change (data: a change as JSON, id: its seq), \"ready\" once caught up (id: the latest change), \"reset\" when the client should read everything again; a comment line as heartbeat. Reconnecting with Last-Event-ID resumes without loss.", "Changes", []obj{
			{"name": "since", "in": "query", "required": false, "style": "form", "explode": false, "description": "Begin with the changes after this change number; the Last-Event-ID header, sent by a reconnecting browser, wins over it. Absent: from now on.",
				"schema": obj{"type": "integer", "format": "int64", "minimum": 0}},
			{"name": "Last-Event-ID", "in": "header", "required": false, "description": "The id of the last event received: the stream resumes after it.",
				"schema": obj{"type": "integer", "format": "int64", "minimum": 0}},
			changesCollections,
		}, obj{"description": "An endless stream of server-sent events", "content": obj{mediaEventStream: obj{"schema": obj{"type": "string"}}}}),
		"/healthz": get("getHealth", "Whether the service and its database answer", "Capabilities", nil,
			content("Healthy", mediaJSON, obj{"type": "object"}, false, false), "503"),
	}
	for _, col := range cat.Collections {
		p := "/collections/" + col.ID
		name := col.Title.Zh + " " + col.Title.En
		tag := col.ID
		paths[p] = get("describeCollection_"+col.ID, "The layer "+name, tag, []obj{f}, jsonOK("The layer", "collection"), "304", "404")
		params := []obj{ref("parameters/limit"), ref("parameters/offset"), ref("parameters/after"), ref("parameters/bbox"), ref("parameters/bbox-crs"), ref("parameters/datetime"), ref("parameters/crs"), f}
		for _, fd := range col.Schema {
			params = append(params, obj{
				"name": fd.Name, "in": "query", "required": false, "style": "form", "explode": false,
				"description": "Only features whose " + fd.Name + " equals this value. " + fd.Description.En,
				"schema":      fieldSchema(fd),
			})
		}
		// The statistics select features as the items do: bbox and the
		// fields' values.
		statsParams := append([]obj{{
			"name": "groupby", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "The field whose values group the features (a string, integer or boolean field), or two, comma separated (groupby=status," + layers.ClassField + "): then each group is a pair of values, its key an array of the two in that order, and the CSV has a column for each. One group of all when absent. Features without a value are grouped under null. The features are read once whatever the grouping.",
			"schema":      obj{"type": "array", "items": groupBySchema(col.Layer), "minItems": 1, "maxItems": layers.MaxGroupBy, "uniqueItems": true},
		}, ref("parameters/bbox"), ref("parameters/bbox-crs"), ref("parameters/statsF")}, params[len(params)-len(col.Schema):]...)
		paths[p+"/items"] = get("getFeatures_"+col.ID, "Features of "+name, tag, params, features("The features", "featureCollectionGeoJSON"), "304", "404")
		paths[p+"/items/{featureId}"] = get("getFeature_"+col.ID, "One feature of "+name, tag,
			[]obj{ref("parameters/featureId"), ref("parameters/crs"), f}, features("The feature", "featureGeoJSON"), "304", "404")
		paths[p+"/stats"] = get("getStatistics_"+col.ID, "Count and geodesic area or length of the features of "+name+", per value of a field", tag, statsParams, statsOK, "304", "404")
		paths[p+"/queryables"] = get("getQueryables_"+col.ID, "The fields of "+name+" one can filter on", tag, []obj{f},
			content("A JSON Schema of the queryables", mediaSchema, obj{"type": "object"}, true, true), "304", "404")
		paths[p+"/download.geojson"] = get("downloadGeoJSON_"+col.ID, "The whole layer "+name+" as a GeoJSON layer file", tag, nil,
			content("A GeoJSON FeatureCollection", mediaGeoJSON, ref("schemas/featureCollectionGeoJSON"), true, false), append(dl, "404")...)
		paths[p+"/download.gpkg"] = get("downloadGPKG_"+col.ID, "The whole layer "+name+" as a GeoPackage", tag, nil, gpkg, append(dl, "404")...)
		paths[p+"/download.kml"] = get("downloadKML_"+col.ID, "The whole layer "+name+" as a KML document", tag, nil, kml, append(dl, "404")...)
	}
	addTilePaths(paths, cat, get) // tiles.go
	crsEnum := crsURIs()
	formParam := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "required": false, "style": "form", "explode": false, "description": desc, "schema": schema}
	}
	link := obj{"type": "object", "required": []string{"href", "rel"}, "properties": obj{
		"href": obj{"type": "string"}, "rel": obj{"type": "string"}, "type": obj{"type": "string"}, "title": obj{"type": "string"},
	}}
	links := obj{"type": "array", "items": ref("schemas/link")}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "planmap: " + serviceTitle,
			"description": serviceDescription,
			"version":     "1.0.0",
			"contact":     obj{"name": "planmap"},
			"license":     obj{"name": "Data: hand-drawn approximations from public descriptions"},
		},
		"servers": []obj{{"url": base, "description": "this service"}},
		"paths":   paths,
		"components": obj{
			"parameters": obj{
				"limit": formParam("limit", "How many features a page holds at most. Larger values are clamped to the maximum.",
					obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit}),
				"offset": formParam("offset", "How many matching features to skip, in id order.",
					obj{"type": "integer", "minimum": 0, "default": 0}),
				"after": formParam("after", "Only features with an id greater than this one: paging by key, as the next links do, which costs the same on every page.",
					obj{"type": "integer", "minimum": 0, "default": 0}),
				"bbox": formParam("bbox", "Only features whose geometry intersects this box: minx,miny,maxx,maxy (or with heights, 6 numbers), in bbox-crs. A box whose west edge is east of its east edge crosses the antimeridian.",
					obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}),
				"bbox-crs": formParam("bbox-crs", "The CRS of bbox; CRS84 when absent.",
					obj{"type": "string", "format": "uri", "enum": crsEnum, "default": crs84}),
				"datetime": formParam("datetime", "Only features whose time is in this instant or interval (RFC 3339; start/end, with .. for an open end). No layer has a time yet, so every feature matches a valid value.",
					obj{"type": "string"}),
				"crs": formParam("crs", "The CRS of the geometries returned; CRS84 when absent. EPSG:4326 and EPSG:4490 put latitude first.",
					obj{"type": "string", "format": "uri", "enum": crsEnum, "default": crs84}),
				"f": formParam("f", "The format of the response; otherwise chosen by the Accept header.",
					obj{"type": "string", "enum": []string{"json", "html"}}),
				"statsF": formParam("f", "The format of the statistics: JSON, or CSV for spreadsheets.",
					obj{"type": "string", "enum": []string{"json", "csv"}, "default": "json"}),
				"featureId": obj{"name": "featureId", "in": "path", "required": true, "description": "The feature's id.",
					"schema": obj{"type": "integer"}},
			},
			"headers": obj{
				"Content-Crs": obj{"description": "The CRS of the geometries, as <URI>", "schema": obj{"type": "string"}},
				"ETag":        obj{"description": "A validator for If-None-Match", "schema": obj{"type": "string"}},
				"Allow":       obj{"description": "The methods the resource allows", "schema": obj{"type": "string"}},
			},
			// By status, so that an operation lists its statuses by number.
			"responses": obj{
				"206": obj{"description": "The byte ranges asked for with Range (If-Range against the file's ETag), as GDAL's /vsicurl/ reads a GeoPackage."},
				"304": obj{"description": "The resource has not changed since the ETag given in If-None-Match."},
				"416": obj{"description": "The byte range asked for lies outside the file."},
				"400": problem("The query string does not parse, or a query parameter is unknown, given twice or has a value that is not valid; the detail says which."),
				"404": problem("There is no such collection or feature."),
				"405": func() obj {
					r := problem("The method is not allowed: the service is read-only.")
					r["headers"] = obj{"Allow": ref("headers/Allow")}
					return r
				}(),
				"500": problem("Something went wrong on the server."),
				"503": problem("The database does not answer, or a download is larger than the download cache may hold (--download-cache-mb)."),
			},
			"schemas": obj{
				"link": link,
				"problem": obj{"type": "object", "properties": obj{
					"type": obj{"type": "string"}, "title": obj{"type": "string"},
					"status": obj{"type": "integer"}, "detail": obj{"type": "string"},
				}},
				"landingPage": obj{"type": "object", "required": []string{"links"}, "properties": obj{
					"title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links,
				}},
				"confClasses": obj{"type": "object", "required": []string{"conformsTo"}, "properties": obj{
					"conformsTo": obj{"type": "array", "items": obj{"type": "string"}},
				}},
				"collection": obj{"type": "object", "required": []string{"id", "links"}, "properties": obj{
					"id": obj{"type": "string"}, "title": obj{"type": "string"}, "description": obj{"type": "string"},
					"links": links, "itemType": obj{"type": "string"},
					"crs":        obj{"type": "array", "items": obj{"type": "string"}},
					"storageCrs": obj{"type": "string"},
					"extent": obj{"type": "object", "properties": obj{"spatial": obj{"type": "object", "properties": obj{
						"bbox": obj{"type": "array", "items": obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}},
						"crs":  obj{"type": "string"},
					}}}},
				}},
				"collections": obj{"type": "object", "required": []string{"links", "collections"}, "properties": obj{
					"links": links, "collections": obj{"type": "array", "items": ref("schemas/collection")},
					"crs": obj{"type": "array", "items": obj{"type": "string"}},
				}},
				"featureGeoJSON": obj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": obj{
					"type": obj{"type": "string", "enum": []string{"Feature"}}, "id": obj{"type": "integer"},
					"geometry": obj{"type": "object", "nullable": true}, "properties": obj{"type": "object", "nullable": true},
					"links": links,
				}},
				"statistics": func() obj {
					row := obj{
						"count":             obj{"type": "integer", "minimum": 0},
						"geodesic_area_m2":  obj{"type": "number", "description": "Polygons: area in m² on the WGS 84 ellipsoid"},
						"geodesic_area_ha":  obj{"type": "number"},
						"geodesic_area_mu":  obj{"type": "number", "description": "亩, 1/15 ha"},
						"geodesic_length_m": obj{"type": "number", "description": "Lines: length in metres along geodesics"},
					}
					group := obj{}
					for k, v := range row {
						group[k] = v
					}
					group["key"] = obj{"nullable": true, "description": "The group's value (a land-use class on /stats); null for features without one. Grouped by two fields: an array of the two values (each null when missing), in the order of groupby"}
					group["name"] = obj{"type": "object", "description": "The land-use class's name (/stats)"}
					group["collections"] = obj{"type": "array", "items": obj{"type": "string"}, "description": "The layers with features in the group (/stats)"}
					return obj{"type": "object", "required": []string{"groups", "total", "clippedToBBox", "note"}, "properties": obj{
						"collection":    obj{"type": "string"},
						"collections":   obj{"type": "array", "items": obj{"type": "string"}},
						"groupBy":       obj{"type": "string", "nullable": true, "description": "The field grouped by, or the two, comma separated, as groupby named them; null when all is one group"},
						"bbox":          obj{"type": "array", "items": obj{"type": "array", "minItems": 4, "maxItems": 4, "items": obj{"type": "number"}}},
						"filter":        obj{"type": "object"},
						"clippedToBBox": obj{"type": "boolean", "description": "Whether a bbox was given: then only the part of each feature inside it is measured"},
						"featuresCut":   obj{"type": "integer", "minimum": 0, "description": "How many features the bbox cut"},
						"note":          obj{"type": "string"},
						"groups":        obj{"type": "array", "items": obj{"type": "object", "required": []string{"key", "count"}, "properties": group}},
						"total":         obj{"type": "object", "required": []string{"count"}, "properties": row},
						"skipped": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
							"collection": obj{"type": "string"}, "reason": obj{"type": "string"},
						}}},
						"links": links,
					}}
				}(),
				"change": obj{"type": "object", "required": []string{"seq", "collection", "op"}, "properties": obj{
					"seq":        obj{"type": "integer", "format": "int64", "description": "The change number: grows with every change"},
					"collection": obj{"type": "string"},
					"id":         obj{"type": "integer", "description": "The feature changed; absent for op layer"},
					"op":         obj{"type": "string", "enum": []string{string(layers.OpInsert), string(layers.OpUpdate), string(layers.OpDelete), string(layers.OpLayer)}, "description": "layer: the layer as a whole was created, redeclared, replaced or dropped"},
					"time":       obj{"type": "string", "format": "date-time"},
				}},
				"changes": obj{"type": "object", "required": []string{"changes", "latest", "links"}, "properties": obj{
					"changes":        obj{"type": "array", "items": ref("schemas/change")},
					"latest":         obj{"type": "integer", "format": "int64", "description": "The latest change as of this answer: the since of the next request when there is no next link; smaller than since when the log started again (read everything again)"},
					"numberReturned": obj{"type": "integer", "minimum": 0},
					"links":          links,
				}},
				"featureCollectionGeoJSON": obj{"type": "object", "required": []string{"type", "features"}, "properties": obj{
					"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
					"features":       obj{"type": "array", "items": ref("schemas/featureGeoJSON")},
					"links":          links,
					"timeStamp":      obj{"type": "string", "format": "date-time"},
					"numberMatched":  obj{"type": "integer", "minimum": 0},
					"numberReturned": obj{"type": "integer", "minimum": 0},
				}},
			},
		},
	}
}

func (s *server) api(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	if wantsHTML(r) {
		return s.apiHTML(w, r)
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, catalogVersion(cat))) {
		return nil
	}
	doc := withAsOf(openAPI(s.base(r), cat), cat)
	_, editable := s.editor()
	openAPIEdit(doc, cat, editable)
	if _, ok := s.layerEditor(); ok && editable {
		openAPIAdmin(doc, cat)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaOpenAPI)
	_, err = w.Write(append(b, '\n'))
	return err
}

func (s *server) apiHTML(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, catalogVersion(cat))) {
		return nil
	}
	return s.render(w, r, "api", "API", apiPage{Base: s.base(r), Catalog: cat, Limit: defaultLimit, MaxLimit: maxLimit, CRS: crsURIs()})
}

type apiPage struct {
	Base            string
	Catalog         *layers.Catalog
	Limit, MaxLimit int
	CRS             []string
}

// groupBySchema is the schema of a layer's groupby parameter: the names of
// the fields one may group by.
func groupBySchema(l *layers.Layer) obj {
	var names []string
	for _, fd := range l.Schema {
		if slices.Contains(layers.GroupableTypes, fd.Type) {
			names = append(names, fd.Name)
		}
	}
	if len(names) == 0 {
		return obj{"type": "string"}
	}
	return obj{"type": "string", "enum": names}
}

// idSchema is the schema of a collection id: one of the catalog's (an
// enum may not be empty).
func idSchema(cat *layers.Catalog) obj {
	if len(cat.Collections) == 0 {
		return obj{"type": "string"}
	}
	ids := make([]string, len(cat.Collections))
	for i, col := range cat.Collections {
		ids[i] = col.ID
	}
	return obj{"type": "string", "enum": ids}
}
