package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"planmap/layers/cache"
	"planmap/web"
)

func TestOpenAPI(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		r := get(t, srv.URL+"/api", "Accept", "application/vnd.oai.openapi+json;version=3.0")
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" {
			t.Fatalf("GET /api = %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(r.body)
		if err != nil {
			t.Fatalf("the OpenAPI document does not load: %v", err)
		}
		if err := doc.Validate(loader.Context); err != nil {
			t.Fatalf("the OpenAPI document is not valid OpenAPI 3.0: %v", err)
		}
		if len(doc.Servers) != 1 || doc.Servers[0].URL != srv.URL {
			t.Errorf("servers = %v, want %s", doc.Servers, srv.URL)
		}

		// QGIS and GDAL read the page size from here, and the OGC test suite
		// checks the parameter's form (INTEROP.md §0.4, §3.3).
		limit := doc.Components.Parameters["limit"].Value
		if limit == nil || limit.In != "query" || limit.Required || limit.Style != "form" || limit.Explode == nil || *limit.Explode ||
			limit.Schema.Value.Default != 100.0 || *limit.Schema.Value.Max != 10000 || limit.Schema.Value.Min == nil {
			t.Errorf("components.parameters.limit = %+v", limit)
		}
		bbox := doc.Components.Parameters["bbox"].Value
		if bbox.Schema.Value.MinItems != 4 || bbox.Schema.Value.MaxItems == nil || *bbox.Schema.Value.MaxItems != 6 {
			t.Errorf("bbox schema = %+v", bbox.Schema.Value)
		}

		items := doc.Paths.Find("/collections/parcels/items")
		if items == nil || items.Get == nil {
			t.Fatal("no /collections/parcels/items path")
		}
		params := map[string]*openapi3.Parameter{}
		hasLimitRef := false
		for _, p := range items.Get.Parameters {
			hasLimitRef = hasLimitRef || strings.Contains(p.Ref, "limit")
			params[p.Value.Name] = p.Value
		}
		if !hasLimitRef {
			t.Error("the items path does not $ref the limit parameter (GDAL finds the page size only that way)")
		}
		for _, name := range []string{"bbox", "bbox-crs", "datetime", "crs", "offset", "f", "name_zh", "status", "berths", "public", "opened"} {
			if params[name] == nil {
				t.Errorf("items path lacks parameter %s", name)
			}
		}
		if p := params["berths"]; p != nil && (p.Style != "form" || *p.Explode || !p.Schema.Value.Type.Is("integer")) {
			t.Errorf("berths parameter = %+v: QGIS takes only form, unexploded, simply typed parameters as filters", p)
		}
		for _, code := range []string{"200", "304", "400", "404", "500"} {
			if items.Get.Responses.Value(code) == nil {
				t.Errorf("items responses lack %s", code)
			}
		}
		// Every collection, and nothing that is not one.
		for _, id := range []string{"terminals", "resettlement", "parks", "stations", "railways", "roads", "xss"} {
			if doc.Paths.Find("/collections/"+id+"/items/{featureId}") == nil {
				t.Errorf("no item path for %s", id)
			}
		}
		if r := get(t, srv.URL+"/api?f=html"); !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("/api?f=html = %s", r.Header.Get("Content-Type"))
		}
	})
}

// TestOpenAPIStatuses asks every path of the document for each status it
// can answer, and checks the document declares it (/req/oas30/completeness,
// /req/oas30/exceptions-codes), with problem details for the errors.
func TestOpenAPIStatuses(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(get(t, srv.URL+"/api").body)
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(loader.Context); err != nil {
			t.Fatalf("the OpenAPI document is not valid OpenAPI 3.0: %v", err)
		}
		send := func(method, url string, header ...string) *http.Response {
			req, _ := http.NewRequest(method, url, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		for path, item := range doc.Paths.Map() {
			op := item.Get
			if op == nil {
				t.Errorf("%s has no GET", path)
				continue
			}
			concrete := strings.Replace(path, "{featureId}", "1", 1)
			if path == "/search" {
				concrete += "?q=x"
			}
			declaredBy := func(method string, op *openapi3.Operation, code int, why string) {
				t.Helper()
				resp := op.Responses.Status(code)
				if resp == nil {
					t.Errorf("%s %s answers %d (%s); the document does not declare it", method, path, code, why)
					return
				}
				if code >= 400 && resp.Value.Content.Get("application/problem+json") == nil {
					t.Errorf("%s %s: the %d response has no application/problem+json", method, path, code)
				}
			}
			declared := func(code int, why string) { t.Helper(); declaredBy("GET", op, code, why) }
			ok := send("GET", srv.URL+concrete)
			declared(ok.StatusCode, "plain")
			if tag := ok.Header.Get("ETag"); tag != "" {
				declared(send("GET", srv.URL+concrete, "If-None-Match", tag).StatusCode, "If-None-Match")
			}
			sep := "?"
			if strings.Contains(concrete, "?") {
				sep = "&"
			}
			declared(send("GET", srv.URL+concrete+sep+"unknownQueryParameter1=1").StatusCode, "an unknown parameter")
			declared(send("GET", srv.URL+concrete+sep+"a=%zz").StatusCode, "a query that does not parse")
			// A write the path has is declared by its own operation (without
			// a token: 401), one it has not by the GET (405).
			for method, wop := range map[string]*openapi3.Operation{"POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
				if wop == nil {
					declared(send(method, srv.URL+concrete).StatusCode, method)
					continue
				}
				declaredBy(method, wop, send(method, srv.URL+concrete).StatusCode, "without a token")
				if wop.Security == nil || len(*wop.Security) == 0 {
					t.Errorf("%s %s has no security requirement", method, path)
				}
			}
			if rest, ok := strings.CutPrefix(path, "/collections/"); ok {
				id, _, _ := strings.Cut(rest, "/")
				declared(send("GET", srv.URL+strings.Replace(concrete, "/collections/"+id, "/collections/nope", 1)).StatusCode, "an unknown collection")
			}
			if strings.HasSuffix(path, "{featureId}") {
				declared(send("GET", srv.URL+strings.Replace(concrete, "/items/1", "/items/999999", 1)).StatusCode, "an unknown feature")
			}
		}
	})
}
