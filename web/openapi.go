package web

import (
	"encoding/json"
	"net/http"

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
	errs := obj{
		"400": ref("responses/BadRequest"),
		"404": ref("responses/NotFound"),
		"500": ref("responses/ServerError"),
	}
	responses := func(ok obj) obj {
		r := obj{"200": ok}
		for k, v := range errs {
			r[k] = v
		}
		return r
	}
	jsonOK := func(desc, schema string) obj {
		return obj{"description": desc, "content": obj{
			mediaJSON: obj{"schema": ref("schemas/" + schema)},
			mediaHTML: obj{"schema": obj{"type": "string"}},
		}}
	}
	get := func(id, summary string, params []obj, ok obj, tags ...string) obj {
		op := obj{"operationId": id, "summary": summary, "parameters": params, "responses": responses(ok)}
		if len(tags) > 0 {
			op["tags"] = tags
		}
		return obj{"get": op}
	}
	// features is a GET of GeoJSON features, with Content-Crs, ETag and 304.
	features := func(id, summary string, params []obj, desc, schema, tag string) obj {
		op := get(id, summary, params, obj{
			"description": desc,
			"headers":     obj{"Content-Crs": ref("headers/Content-Crs"), "ETag": ref("headers/ETag")},
			"content": obj{
				mediaGeoJSON: obj{"schema": ref("schemas/" + schema)},
				mediaHTML:    obj{"schema": obj{"type": "string"}},
			},
		}, tag)
		op["get"].(obj)["responses"].(obj)["304"] = ref("responses/NotModified")
		return op
	}
	f := ref("parameters/f")
	paths := obj{
		"/":            get("getLandingPage", "Landing page", []obj{f}, jsonOK("The landing page", "landingPage"), "Capabilities"),
		"/conformance": get("getConformance", "Conformance classes", []obj{f}, jsonOK("The conformance classes", "confClasses"), "Capabilities"),
		"/api": get("getAPI", "This API definition", []obj{f}, obj{"description": "The OpenAPI 3.0 document", "content": obj{
			mediaOpenAPI: obj{"schema": obj{"type": "object"}},
			mediaHTML:    obj{"schema": obj{"type": "string"}},
		}}, "Capabilities"),
		"/api.html": obj{"get": obj{"operationId": "getAPIDocs", "summary": "This API's documentation", "responses": obj{
			"200": obj{"description": "The documentation", "content": obj{mediaHTML: obj{"schema": obj{"type": "string"}}}},
			"500": ref("responses/ServerError"),
		}, "tags": []string{"Capabilities"}}},
		"/collections": get("getCollections", "The layers", []obj{f}, jsonOK("The layers", "collections"), "Capabilities"),
		"/download/planmap.gpkg": obj{"get": obj{"operationId": "downloadAll", "summary": "Every layer as one GeoPackage",
			"tags": []string{"Downloads"}, "responses": obj{
				"200": obj{"description": "A GeoPackage", "content": obj{mediaGPKG: obj{"schema": obj{"type": "string", "format": "binary"}}}},
				"500": ref("responses/ServerError"),
			}}},
		"/download/planmap.kml": obj{"get": obj{"operationId": "downloadAllKML", "summary": "Every layer as one KML document, a folder each",
			"tags": []string{"Downloads"}, "responses": obj{
				"200": obj{"description": "A KML document", "content": obj{mediaKML: obj{"schema": obj{"type": "string"}}}},
				"500": ref("responses/ServerError"),
			}}},
		"/search": get("search", "Features of any layer whose Chinese or English name contains q", []obj{
			{"name": "q", "in": "query", "required": true, "style": "form", "explode": false, "description": "A name, or part of one", "schema": obj{"type": "string", "minLength": 1}},
			{"name": "limit", "in": "query", "required": false, "style": "form", "explode": false, "description": "How many at most", "schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
		}, obj{"description": "The features found, each with the collection it belongs to", "content": obj{
			mediaGeoJSON: obj{"schema": ref("schemas/featureCollectionGeoJSON")},
		}}, "Capabilities"),
		"/healthz": obj{"get": obj{"operationId": "getHealth", "summary": "Whether the service and its database answer",
			"tags": []string{"Capabilities"}, "responses": obj{
				"200": obj{"description": "Healthy", "content": obj{mediaJSON: obj{"schema": obj{"type": "object"}}}},
				"503": obj{"description": "The database does not answer", "content": obj{mediaProblem: obj{"schema": ref("schemas/problem")}}},
			}}},
	}
	for _, col := range cat.Collections {
		p := "/collections/" + col.ID
		name := col.Title.Zh + " " + col.Title.En
		tag := col.ID
		paths[p] = get("describeCollection_"+col.ID, "The layer "+name, []obj{f}, jsonOK("The layer", "collection"), tag)
		params := []obj{ref("parameters/limit"), ref("parameters/offset"), ref("parameters/bbox"), ref("parameters/bbox-crs"), ref("parameters/crs"), f}
		for _, fd := range col.Schema {
			params = append(params, obj{
				"name": fd.Name, "in": "query", "required": false, "style": "form", "explode": false,
				"description": "Only features whose " + fd.Name + " equals this value. " + fd.Description.En,
				"schema":      fieldSchema(fd),
			})
		}
		paths[p+"/items"] = features("getFeatures_"+col.ID, "Features of "+name, params, "The features", "featureCollectionGeoJSON", tag)
		paths[p+"/items/{featureId}"] = features("getFeature_"+col.ID, "One feature of "+name,
			[]obj{ref("parameters/featureId"), ref("parameters/crs"), f}, "The feature", "featureGeoJSON", tag)
		paths[p+"/queryables"] = get("getQueryables_"+col.ID, "The fields of "+name+" one can filter on", []obj{f}, obj{
			"description": "A JSON Schema of the queryables", "content": obj{
				mediaSchema: obj{"schema": obj{"type": "object"}},
				mediaHTML:   obj{"schema": obj{"type": "string"}},
			}}, tag)
		paths[p+"/download.geojson"] = obj{"get": obj{"operationId": "downloadGeoJSON_" + col.ID, "summary": "The whole layer " + name + " as a GeoJSON layer file",
			"tags": []string{tag}, "responses": obj{
				"200": obj{"description": "A GeoJSON FeatureCollection", "content": obj{mediaGeoJSON: obj{"schema": ref("schemas/featureCollectionGeoJSON")}}},
				"404": ref("responses/NotFound"), "500": ref("responses/ServerError"),
			}}}
		paths[p+"/download.gpkg"] = obj{"get": obj{"operationId": "downloadGPKG_" + col.ID, "summary": "The whole layer " + name + " as a GeoPackage",
			"tags": []string{tag}, "responses": obj{
				"200": obj{"description": "A GeoPackage", "content": obj{mediaGPKG: obj{"schema": obj{"type": "string", "format": "binary"}}}},
				"404": ref("responses/NotFound"), "500": ref("responses/ServerError"),
			}}}
		paths[p+"/download.kml"] = obj{"get": obj{"operationId": "downloadKML_" + col.ID, "summary": "The whole layer " + name + " as a KML document",
			"tags": []string{tag}, "responses": obj{
				"200": obj{"description": "A KML document", "content": obj{mediaKML: obj{"schema": obj{"type": "string"}}}},
				"404": ref("responses/NotFound"), "500": ref("responses/ServerError"),
			}}}
	}
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
				"bbox": formParam("bbox", "Only features whose geometry intersects this box: minx,miny,maxx,maxy (or with heights, 6 numbers), in bbox-crs. A box whose west edge is east of its east edge crosses the antimeridian.",
					obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}),
				"bbox-crs": formParam("bbox-crs", "The CRS of bbox; CRS84 when absent.",
					obj{"type": "string", "format": "uri", "enum": crsEnum, "default": crs84}),
				"crs": formParam("crs", "The CRS of the geometries returned; CRS84 when absent. EPSG:4326 and EPSG:4490 put latitude first.",
					obj{"type": "string", "format": "uri", "enum": crsEnum, "default": crs84}),
				"f": formParam("f", "The format of the response; otherwise chosen by the Accept header.",
					obj{"type": "string", "enum": []string{"json", "html"}}),
				"featureId": obj{"name": "featureId", "in": "path", "required": true, "description": "The feature's id.",
					"schema": obj{"type": "integer"}},
			},
			"headers": obj{
				"Content-Crs": obj{"description": "The CRS of the geometries, as <URI>", "schema": obj{"type": "string"}},
				"ETag":        obj{"description": "A validator for If-None-Match", "schema": obj{"type": "string"}},
			},
			"responses": obj{
				"BadRequest":  problem("A query parameter is unknown or has a value that is not valid; the detail says which."),
				"NotFound":    problem("There is no such collection or feature."),
				"ServerError": problem("Something went wrong on the server."),
				"NotModified": obj{"description": "The resource has not changed since the ETag given in If-None-Match."},
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
	b, err := json.Marshal(openAPI(s.base(r), cat))
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
	return s.render(w, r, "api", "API", apiPage{Base: s.base(r), Catalog: cat, Limit: defaultLimit, MaxLimit: maxLimit, CRS: crsURIs()})
}

type apiPage struct {
	Base            string
	Catalog         *layers.Catalog
	Limit, MaxLimit int
	CRS             []string
}
