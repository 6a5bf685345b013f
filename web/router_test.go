package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/seeds"
	"planmap/web"
)

var ctx = context.Background()

// xssLayer is a layer whose text tries to be markup.
const xssLayer = `{"type": "FeatureCollection", "id": "xss", "title": {"zh": "<script>alert(1)</script>", "en": "XSS"}, "order": 99,
 "geometryType": "Point", "schema": [{"name": "name_zh", "type": "string", "description": {"zh": "名", "en": "name"}}], "style": {},
 "features": [{"type": "Feature", "id": 1, "properties": {"name_zh": "<img src=x onerror=alert(1)>"}, "geometry": {"type": "Point", "coordinates": [121.495, 32.09]}}]}`

// newStore is a real store in a temporary folder with the Haimen layers,
// the test parcels and the XSS layer.
func newStore(t testing.TB) *gpkg.Store {
	t.Helper()
	s := layerstest.MustOpen(t)
	if _, err := s.Import(ctx, testFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// testFiles are the layers newStore loads: the seeds, the parcels of
// layers/testdata and a layer of markup.
func testFiles(t testing.TB) []*layers.File {
	t.Helper()
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	parcels, err := os.ReadFile("../layers/testdata/parcels.geojson")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string][]byte{"parcels.geojson": parcels, "xss.geojson": []byte(xssLayer)} {
		f, err := layers.ParseFile(name, text)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func newServer(t testing.TB, opt web.Options) (*httptest.Server, *gpkg.Store) {
	t.Helper()
	s := newStore(t)
	return newServerOn(t, s, opt), s
}

// newServerOn is newServer on the store s.
func newServerOn(t testing.TB, s web.Store, opt web.Options) *httptest.Server {
	t.Helper()
	if opt.Downloads == nil {
		opt.Downloads = newCache(t, web.DefaultDownloadBudget)
	}
	stop := make(chan struct{})
	if opt.Stop == nil {
		opt.Stop = stop
	}
	srv := httptest.NewServer(web.NewRouter(s, opt, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	// First, as serve does on shutdown: a change stream still open (a
	// browser not yet gone) would keep Close waiting.
	t.Cleanup(func() { close(stop) })
	return srv
}

// importer is a store that imports layer files, as both stores do.
type importer interface {
	Import(context.Context, []*layers.File, layers.ImportOptions) ([]layers.ImportResult, error)
}

// onEachStore runs test, as a subtest named for the store, on a server
// with opt of each of servedStores.
func onEachStore(t *testing.T, opt web.Options, test func(t *testing.T, srv *httptest.Server, s cache.Store)) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			test(t, newServerOn(t, s, opt), s)
		})
	}
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return v
}

func get(t *testing.T, url string, header ...string) response {
	t.Helper()
	return getHost(t, url, "", header...) // "": the URL's own host
}

func links(t *testing.T, doc map[string]any) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	ls, _ := doc["links"].([]any)
	for _, l := range ls {
		m := l.(map[string]any)
		out[m["rel"].(string)] = append(out[m["rel"].(string)], m)
	}
	return out
}

type downStore struct{ *gpkg.Store }

func (downStore) Ping(context.Context) error { return errors.New("disk on fire") }

func TestHealthz(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv, _ := newServer(t, web.Options{})
		if r := get(t, srv.URL+"/healthz"); r.StatusCode != 200 || r.json(t)["status"] != "ok" {
			t.Errorf("GET /healthz = %d %s, want 200 ok", r.StatusCode, r.body)
		}
	})
	t.Run("Starting", func(t *testing.T) {
		var ready atomic.Bool
		srv, _ := newServer(t, web.Options{Ready: ready.Load})
		r := get(t, srv.URL+"/healthz")
		if r.StatusCode != 503 || r.json(t)["status"] != "starting" || r.Header.Get("Retry-After") == "" {
			t.Errorf("GET /healthz before ready = %d %s (Retry-After %q), want 503 starting with a Retry-After", r.StatusCode, r.body, r.Header.Get("Retry-After"))
		}
		ready.Store(true)
		if r := get(t, srv.URL+"/healthz"); r.StatusCode != 200 || r.json(t)["status"] != "ok" {
			t.Errorf("GET /healthz once ready = %d %s, want 200 ok", r.StatusCode, r.body)
		}
	})
	t.Run("ErrDatabaseDown", func(t *testing.T) {
		var logs bytes.Buffer
		srv := httptest.NewServer(web.NewRouter(downStore{layerstest.MustOpen(t)}, web.Options{}, slog.New(slog.NewTextHandler(&logs, nil))))
		defer srv.Close()
		r := get(t, srv.URL+"/healthz")
		if r.StatusCode != 503 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /healthz = %d %s, want a 503 problem", r.StatusCode, r.Header.Get("Content-Type"))
		}
		if strings.Contains(string(r.body), "fire") || !strings.Contains(logs.String(), "disk on fire") {
			t.Errorf("the cause is shown (%s) or not logged (%s)", r.body, logs.String())
		}
	})
}

func TestLandingAndConformance(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, s cache.Store) {
		r := get(t, srv.URL+"/", "Accept", "application/json")
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET / = %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		ls := links(t, r.json(t))
		for rel, typ := range map[string]string{
			"service-desc": "application/vnd.oai.openapi+json;version=3.0",
			"service-doc":  "text/html",
			"conformance":  "application/json",
			"data":         "application/json",
			"self":         "application/json",
			"alternate":    "text/html",
		} {
			if len(ls[rel]) == 0 || ls[rel][0]["type"] != typ || !strings.HasPrefix(ls[rel][0]["href"].(string), srv.URL+"/") {
				t.Errorf("landing link %s = %v, want an absolute link of type %s", rel, ls[rel], typ)
			}
		}
		if ls["data"][0]["href"] != srv.URL+"/collections" {
			t.Errorf("data link = %v, want exactly %s/collections (QGIS builds URLs on it)", ls["data"][0]["href"], srv.URL)
		}
		conf := get(t, srv.URL+"/conformance").json(t)["conformsTo"].([]any)
		for _, c := range []string{"core", "geojson", "html", "oas30", "ogcapi-features-2/1.0/conf/crs", "conf/queryables", "queryables-query-parameters"} {
			found := false
			for _, x := range conf {
				found = found || strings.Contains(x.(string), c)
			}
			if !found {
				t.Errorf("conformsTo lacks %s: %v", c, conf)
			}
		}
		t.Run("BaseURL", func(t *testing.T) {
			srv := newServerOn(t, s, web.Options{BaseURL: "https://maps.example.cn/planmap/"})
			ls := links(t, get(t, srv.URL+"/").json(t))
			if ls["data"][0]["href"] != "https://maps.example.cn/planmap/collections" {
				t.Errorf("data link = %v, want it on the base URL", ls["data"][0]["href"])
			}
		})
	})
}

func TestCollections(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		doc := get(t, srv.URL+"/collections").json(t)
		cols := doc["collections"].([]any)
		if len(cols) < 12 {
			t.Fatalf("%d collections, want the 12 Haimen layers and more", len(cols))
		}
		for _, c := range cols {
			c := c.(map[string]any)
			id := c["id"].(string)
			one := get(t, srv.URL+"/collections/"+id).json(t)
			if one["id"] != id || one["itemType"] != "feature" || one["storageCrs"] == nil {
				t.Errorf("/collections/%s = %v", id, one)
			}
			ls := links(t, c)
			okItems := false
			for _, l := range ls["items"] {
				okItems = okItems || (l["type"] == "application/geo+json" && l["href"] == srv.URL+"/collections/"+id+"/items")
			}
			if !okItems {
				t.Errorf("%s has no items link of type application/geo+json: %v", id, ls["items"])
			}
			if len(ls["enclosure"]) != 3 {
				t.Errorf("%s has %d download links, want GeoJSON, GeoPackage and KML", id, len(ls["enclosure"]))
			}
			okKML := false
			for _, l := range ls["enclosure"] {
				okKML = okKML || (l["type"] == "application/vnd.google-earth.kml+xml" && l["href"] == srv.URL+"/collections/"+id+"/download.kml")
			}
			if !okKML {
				t.Errorf("%s has no download link of type application/vnd.google-earth.kml+xml: %v", id, ls["enclosure"])
			}
			crs := fmt.Sprint(c["crs"])
			for _, want := range []string{"OGC/1.3/CRS84", "EPSG/0/4326", "EPSG/0/4490", "EPSG/0/3857"} {
				if !strings.Contains(crs, want) {
					t.Errorf("%s crs list %s lacks %s", id, crs, want)
				}
			}
		}
		parcels := get(t, srv.URL+"/collections/parcels").json(t)
		bbox := parcels["extent"].(map[string]any)["spatial"].(map[string]any)["bbox"].([]any)[0]
		if fmt.Sprint(bbox) != "[121.4 32.05 121.53 32.12]" {
			t.Errorf("parcels extent = %v, want exactly [121.4 32.05 121.53 32.12]", bbox)
		}
		if r := get(t, srv.URL+"/collections/nope"); r.StatusCode != 404 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /collections/nope = %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
	})
}

type fc struct {
	NumberMatched  int `json:"numberMatched"`
	NumberReturned int `json:"numberReturned"`
	TimeStamp      string
	Links          []struct{ Href, Rel, Type string }
	Features       []struct {
		ID         any
		Properties map[string]any
		Geometry   struct {
			Type        string
			Coordinates json.RawMessage
		}
	}
}

func getFC(t *testing.T, url string) (fc, response) {
	t.Helper()
	r := get(t, url)
	var v fc
	if r.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, r.StatusCode, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if v.NumberReturned != len(v.Features) {
		t.Errorf("GET %s: numberReturned %d, %d features", url, v.NumberReturned, len(v.Features))
	}
	return v, r
}

func (v fc) link(rel string) string {
	for _, l := range v.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func TestItems(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		items := srv.URL + "/collections/resettlement/items"

		t.Run("PagingVisitsEveryFeatureOnce", func(t *testing.T) {
			seen := map[float64]bool{}
			next := items + "?limit=4"
			pages := 0
			for next != "" {
				v, r := getFC(t, next)
				if r.Header.Get("Content-Type") != "application/geo+json" || r.Header.Get("Content-Crs") != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
					t.Errorf("headers %v", r.Header)
				}
				if v.NumberMatched != 15 {
					t.Errorf("numberMatched = %d, want 15", v.NumberMatched)
				}
				for _, f := range v.Features {
					id := f.ID.(float64)
					if seen[id] {
						t.Errorf("feature %v twice", id)
					}
					seen[id] = true
				}
				if pages > 0 && v.link("prev") == "" {
					t.Errorf("page %d has no prev link", pages)
				}
				next = v.link("next")
				pages++
			}
			if len(seen) != 15 || pages != 4 {
				t.Errorf("saw %d features in %d pages, want 15 in 4", len(seen), pages)
			}
		})
		t.Run("PagingByKey", func(t *testing.T) {
			var ids []float64
			next := items + "?limit=4&after=0&status=planned"
			for pages := 0; next != ""; pages++ {
				if pages > 10 {
					t.Fatal("more than 10 pages of 4")
				}
				v, _ := getFC(t, next)
				for _, f := range v.Features {
					ids = append(ids, f.ID.(float64))
				}
				next = v.link("next")
				if next != "" && (!strings.Contains(next, "after=") || strings.Contains(next, "offset=")) {
					t.Errorf("next link %s does not page by key", next)
				}
			}
			all, _ := getFC(t, items+"?limit=100&status=planned")
			var want []float64
			for _, f := range all.Features {
				want = append(want, f.ID.(float64))
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) || len(want) == 0 {
				t.Errorf("paging by key saw %v, one page has %v", ids, want)
			}
			if v, _ := getFC(t, items+"?after="+fmt.Sprint(want[len(want)-1])+"&status=planned"); len(v.Features) != 0 || v.link("next") != "" {
				t.Errorf("after the last feature: %d features, next %q", len(v.Features), v.link("next"))
			}
		})
		t.Run("FeatureTypesAndMeasures", func(t *testing.T) {
			v, _ := getFC(t, srv.URL+"/collections/parcels/items")
			f := v.Features[0]
			if f.ID != 1.0 || f.Properties["berths"] != 8.0 || f.Properties["public"] != true || f.Properties["opened"] != "2021-09-26" {
				t.Errorf("feature 1 = %v %v", f.ID, f.Properties)
			}
			if ha, _ := f.Properties["geodesic_area_ha"].(float64); ha < 100 || ha > 120 {
				t.Errorf("geodesic_area_ha = %v, want about 110 (0.01° × 0.01° at 32°N)", f.Properties["geodesic_area_ha"])
			}
			if _, ok := f.Properties["geodesic_area_mu"]; !ok {
				t.Error("no area in mu")
			}
			v, _ = getFC(t, srv.URL+"/collections/roads/items?limit=1")
			if m, _ := v.Features[0].Properties["geodesic_length_m"].(float64); m <= 0 {
				t.Errorf("road has no length: %v", v.Features[0].Properties)
			}
		})
		t.Run("BBox", func(t *testing.T) {
			v, _ := getFC(t, srv.URL+"/collections/parcels/items?bbox=121.485,32.115,121.486,32.116")
			if v.NumberMatched != 1 || v.Features[0].ID != 1.0 {
				t.Errorf("bbox around parcel 1 matched %d", v.NumberMatched)
			}
			// Inside the hole of parcel 3.
			if v, _ := getFC(t, srv.URL+"/collections/parcels/items?bbox=121.412,32.062,121.418,32.068"); v.NumberMatched != 0 {
				t.Errorf("bbox in a hole matched %d", v.NumberMatched)
			}
			// Latitude first in EPSG:4326.
			v, _ = getFC(t, srv.URL+"/collections/parcels/items?bbox=32.115,121.485,32.116,121.486&bbox-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326"))
			if v.NumberMatched != 1 {
				t.Errorf("bbox-crs EPSG:4326 matched %d, want 1", v.NumberMatched)
			}
			v, _ = getFC(t, srv.URL+"/collections/parcels/items?bbox=13523600,3778500,13523700,3778600&bbox-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857"))
			if v.NumberMatched != 1 {
				t.Errorf("bbox-crs EPSG:3857 matched %d, want 1", v.NumberMatched)
			}
			if v, _ := getFC(t, srv.URL+"/collections/parcels/items?bbox=177,65,-177,70"); v.NumberMatched != 0 {
				t.Errorf("antimeridian bbox matched %d", v.NumberMatched)
			}
			v, _ = getFC(t, srv.URL+"/collections/parcels/items?bbox=121.485,32.115,-170,32.116")
			if v.NumberMatched != 1 {
				t.Errorf("an antimeridian-crossing box that reaches parcel 1 matched %d", v.NumberMatched)
			}
			if v, _ := getFC(t, srv.URL+"/collections/parcels/items?bbox=121.485,32.115,0,121.486,32.116,100"); v.NumberMatched != 1 {
				t.Errorf("6-number bbox matched %d", v.NumberMatched)
			}
		})
		t.Run("CRS", func(t *testing.T) {
			v, r := getFC(t, srv.URL+"/collections/parcels/items?limit=1&crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857"))
			if r.Header.Get("Content-Crs") != "<http://www.opengis.net/def/crs/EPSG/0/3857>" {
				t.Errorf("Content-Crs = %s", r.Header.Get("Content-Crs"))
			}
			if !strings.HasPrefix(string(v.Features[0].Geometry.Coordinates), "[[[[13523") {
				t.Errorf("EPSG:3857 coordinates = %s", v.Features[0].Geometry.Coordinates)
			}
			v, _ = getFC(t, srv.URL+"/collections/parcels/items?limit=1&crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4490"))
			if !strings.HasPrefix(string(v.Features[0].Geometry.Coordinates), "[[[[32.11,121.48]") {
				t.Errorf("EPSG:4490 coordinates (latitude first) = %s", v.Features[0].Geometry.Coordinates)
			}
		})
		t.Run("Filters", func(t *testing.T) {
			v, _ := getFC(t, srv.URL+"/collections/parcels/items?status=signed")
			if v.NumberMatched != 1 || v.Features[0].ID != 3.0 {
				t.Errorf("status=signed matched %d", v.NumberMatched)
			}
			if v, _ := getFC(t, srv.URL+"/collections/parcels/items?public=false&berths=8"); v.NumberMatched != 0 {
				t.Errorf("public=false&berths=8 matched %d", v.NumberMatched)
			}
			if v, _ := getFC(t, srv.URL+"/collections/resettlement/items?flanks_road="+url.QueryEscape("海世路")); v.NumberMatched != 5 {
				t.Errorf("flanks_road=海世路 matched %d, want 5", v.NumberMatched)
			}
		})
		t.Run("SelfLinksSetTheirOwnF", func(t *testing.T) {
			// The request's f is replaced, not repeated, and the rest kept.
			v, _ := getFC(t, items+"?f=json&limit=2")
			if self, alt := v.link("self"), v.link("alternate"); self != items+"?f=json&limit=2" || alt != items+"?f=html&limit=2" {
				t.Errorf("?f=json&limit=2: self %s, alternate %s", self, alt)
			}
			one := strings.TrimSuffix(items, "/items") + "/items/1"
			doc := get(t, one+"?f=json").json(t)
			if self, alt := links(t, doc)["self"][0]["href"], links(t, doc)["alternate"][0]["href"]; self != one+"?f=json" || alt != one+"?f=html" {
				t.Errorf("one feature ?f=json: self %v, alternate %v", self, alt)
			}
		})
		t.Run("LimitIsClamped", func(t *testing.T) {
			v, _ := getFC(t, items+"?limit=20000")
			if v.NumberReturned != 15 {
				t.Errorf("limit=20000 returned %d", v.NumberReturned)
			}
			if !strings.Contains(v.link("self"), "limit=20000") {
				t.Errorf("self = %s", v.link("self"))
			}
			// However large: 1.0.1 /req/core/fc-limit-response-1 C.
			if v, _ := getFC(t, items+"?limit=99999999999999999999"); v.NumberReturned != 15 {
				t.Errorf("limit of 20 digits returned %d, want all 15", v.NumberReturned)
			}
			if v, _ := getFC(t, items+"?offset=99999999999999999999"); v.NumberReturned != 0 || v.NumberMatched != 15 || v.link("next") != "" {
				t.Errorf("offset of 20 digits: %d of %d, next %q; want none of 15, no next", v.NumberReturned, v.NumberMatched, v.link("next"))
			}
		})
		t.Run("Datetime", func(t *testing.T) {
			// No layer has a time, and features without one match every
			// datetime (/req/core/fc-time-response).
			for _, dt := range []string{
				"2024-05-01T08:00:00Z", "2024-05-01T08:00:00.5+08:00", "2024-05-01",
				"2024-01-01T00:00:00Z/2024-02-01T00:00:00Z", "../2024-05-01T00:00:00Z", "2024-01-01T00:00:00Z/..",
				"2024-01-01/", "/2024-01-01", "../..",
			} {
				if v, _ := getFC(t, srv.URL+"/collections/parcels/items?datetime="+url.QueryEscape(dt)); v.NumberMatched != 3 {
					t.Errorf("datetime=%s matched %d, want all 3", dt, v.NumberMatched)
				}
			}
		})
		t.Run("BBoxCRSAlone", func(t *testing.T) {
			// The OpenAPI document gives bbox-crs a default; clients send it.
			if v, _ := getFC(t, srv.URL+"/collections/parcels/items?bbox-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326")); v.NumberMatched != 3 {
				t.Errorf("bbox-crs without bbox matched %d, want all 3", v.NumberMatched)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			for _, q := range []string{
				"bbox=1,2,3", "bbox=a,b,c,d", "bbox=121,95,122,96", "bbox=121,32,122", "bbox=121,33,122,32",
				"limit=unlimited", "limit=0", "limit=-1", "offset=-1", "offset=x",
				"unknownQueryParameter12345=1", "crs=EPSG:2385", "bbox-crs=EPSG:2385&bbox=1,2,3,4", "bbox-crs=EPSG:2385",
				"nosuchfield=1", "berths=eight", "f=xml",
				// Empty or repeated.
				"bbox=", "bbox", "limit=5&limit=6", "status=signed&status=planned",
				// Numbers strconv.ParseFloat takes and no one means.
				"bbox=0x1p-2,32,122,33", "bbox=NaN,32,122,33", "bbox=121,32,Inf,33", "bbox=121,32,Infinity,33", "bbox=1e400,32,122,33", "bbox=1_21,32,122,33",
				"area_mu=NaN", "area_mu=Inf", "area_mu=-Infinity", "area_mu=0x1p-2", "area_mu=1e999",
				"datetime=", "datetime=yesterday", "datetime=2024-13-01", "datetime=2024-05-01T08:00:00", "datetime=2024-02-01T00:00:00Z/2024-01-01T00:00:00Z",
				"datetime=2024-01-01/2024-02-01/2024-03-01", "datetime=2024-01-01/tomorrow",
				// Queries that do not parse: today they are dropped and return everything.
				"status=signed%zz", "bbox=%zz", "limit=1;offset=2",
			} {
				path := "/collections/parcels/items?" + q
				r := get(t, srv.URL+path)
				if r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("GET %s = %d %s %s, want a 400 problem", path, r.StatusCode, r.Header.Get("Content-Type"), r.body)
					continue
				}
				if d, _ := r.json(t)["detail"].(string); len(d) < 20 {
					t.Errorf("GET %s: detail %q says too little", path, d)
				}
			}
			if r := get(t, srv.URL+"/collections/nope/items"); r.StatusCode != 404 {
				t.Errorf("unknown collection items = %d", r.StatusCode)
			}
		})
		t.Run("ErrNotAnAllowedValue", func(t *testing.T) {
			r := get(t, srv.URL+"/collections/parcels/items?status=dreamt")
			if d, _ := r.json(t)["detail"].(string); r.StatusCode != 400 || !strings.Contains(d, "planned, signed, under_construction, in_operation") {
				t.Errorf("status=dreamt = %d %q, want a 400 naming the allowed values", r.StatusCode, d)
			}
		})
	})
}

func TestMalformedQuery(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		for _, p := range []string{"/", "/conformance", "/api", "/api.html", "/collections", "/collections/parcels", "/collections/parcels/items",
			"/collections/parcels/items/1", "/collections/parcels/queryables", "/collections/parcels/download.geojson",
			"/download/planmap.gpkg", "/search", "/healthz", "/static/app.js", "/nothing/here"} {
			for _, q := range []string{"f=json%zz", "f=json;q=1"} {
				r := get(t, srv.URL+p+"?"+q)
				var problem struct{ Detail string }
				json.Unmarshal(r.body, &problem)
				if r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(problem.Detail, "does not parse") {
					t.Errorf("GET %s?%s = %d %s %.200s, want a 400 problem saying the query does not parse", p, q, r.StatusCode, r.Header.Get("Content-Type"), r.body)
				}
			}
		}
	})
}

func TestTrailingSlash(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, s cache.Store) {
		for path, want := range map[string]string{
			"/collections/":                       "/collections",
			"/collections/parcels/items/?limit=2": "/collections/parcels/items?limit=2",
			"/collections//":                      "/collections",
			"//evil.example/":                     "/evil.example",
		} {
			for _, method := range []string{"GET", "POST"} {
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				res, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 308 || res.Header.Get("Location") != want {
					t.Errorf("%s %s = %d Location %q, want 308 to %s", method, path, res.StatusCode, res.Header.Get("Location"), want)
				}
			}
		}
		if r := get(t, srv.URL+"/"); r.StatusCode != 200 {
			t.Errorf("GET / = %d", r.StatusCode)
		}
		t.Run("BaseURL", func(t *testing.T) {
			srv := newServerOn(t, s, web.Options{BaseURL: "https://maps.example.cn/planmap"})
			r := get(t, srv.URL+"/collections/parcels/?f=json")
			if r.StatusCode != 308 || r.Header.Get("Location") != "https://maps.example.cn/planmap/collections/parcels?f=json" {
				t.Errorf("behind a proxy: %d Location %q", r.StatusCode, r.Header.Get("Location"))
			}
		})
	})
}

func TestItem(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		r := get(t, srv.URL+"/collections/parcels/items/7")
		doc := r.json(t)
		if r.StatusCode != 200 || doc["id"] != 7.0 || doc["type"] != "Feature" || r.Header.Get("Content-Type") != "application/geo+json" {
			t.Fatalf("GET items/7 = %d %v", r.StatusCode, doc)
		}
		ls := links(t, doc)
		if len(ls["self"]) == 0 || len(ls["alternate"]) == 0 || len(ls["collection"]) == 0 {
			t.Errorf("links = %v", ls)
		}
		for _, p := range []string{"/collections/parcels/items/99", "/collections/parcels/items/x", "/collections/parcels/items/07", "/collections/nope/items/1"} {
			if r := get(t, srv.URL+p); r.StatusCode != 404 {
				t.Errorf("GET %s = %d, want 404", p, r.StatusCode)
			}
		}
	})
}

func TestCaching(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, store cache.Store) {
		tags := map[string]string{}
		for _, p := range []string{"/", "/conformance", "/api", "/collections", "/collections/parcels", "/collections/parcels/queryables",
			"/collections/parcels/items?limit=2", "/collections/parcels/items/1", "/search?q=" + url.QueryEscape("地块")} {
			r := get(t, srv.URL+p, "Accept", "application/json")
			tag := r.Header.Get("ETag")
			if r.StatusCode != 200 || tag == "" {
				t.Errorf("GET %s = %d with ETag %q, want 200 with one", p, r.StatusCode, tag)
				continue
			}
			tags[p] = tag
			if r2 := get(t, srv.URL+p, "Accept", "application/json", "If-None-Match", tag); r2.StatusCode != 304 || len(r2.body) != 0 {
				t.Errorf("GET %s with If-None-Match = %d", p, r2.StatusCode)
			}
			if r3 := get(t, srv.URL+p, "Accept", "application/json", "If-None-Match", `W/"other"`); r3.StatusCode != 200 {
				t.Errorf("GET %s with another tag = %d", p, r3.StatusCode)
			}
			// The same URL as HTML is another representation.
			if html := get(t, srv.URL+p, "Accept", "text/html").Header.Get("ETag"); html == tag {
				t.Errorf("GET %s: the HTML and the JSON have the same ETag %s", p, tag)
			}
		}
		// A changed layer has new ETags.
		before := get(t, srv.URL+"/collections/parcels/items/1").Header.Get("ETag")
		parcels, _ := os.ReadFile("../layers/testdata/parcels.geojson")
		f, err := layers.ParseFile("parcels.geojson", bytes.Replace(parcels, []byte("一号地块"), []byte("壹号地块"), 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.(importer).Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		after := get(t, srv.URL+"/collections/parcels/items/1", "If-None-Match", before)
		if after.StatusCode != 200 || after.Header.Get("ETag") == before || !bytes.Contains(after.body, []byte("壹号地块")) {
			t.Errorf("after an import: %d, ETag %s (was %s)", after.StatusCode, after.Header.Get("ETag"), before)
		}
		// What is made from the catalog changes with it; what is not, does not.
		for p, changes := range map[string]bool{"/collections": true, "/api": true, "/collections/parcels": true, "/conformance": false, "/": false} {
			if r := get(t, srv.URL+p, "Accept", "application/json", "If-None-Match", tags[p]); (r.StatusCode == 200) != changes {
				t.Errorf("GET %s after an import with the old ETag = %d; want a new document: %v", p, r.StatusCode, changes)
			}
		}
		if v := get(t, srv.URL+"/collections").Header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept") {
			t.Errorf("Vary = %v, want Accept among them", v)
		}

		r := get(t, srv.URL+"/collections/resettlement/items", "Accept-Encoding", "gzip")
		if r.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("no gzip: %v", r.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(zr); !bytes.Contains(b, []byte(`"numberMatched":15`)) {
			t.Errorf("gzipped body = %.100s", b)
		}
	})
}

func TestCORSAndMethods(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		// Answers of every kind: a page, a feature, features, an error, a
		// feature not modified.
		tag := get(t, srv.URL+"/collections/parcels/items/1").Header.Get("ETag")
		for _, c := range []struct {
			path   string
			status int
			more   []string
		}{
			{"/collections", 200, nil},
			{"/collections/parcels/items/1", 200, nil},
			{"/collections/parcels/items?limit=2", 200, nil},
			{"/collections/nope", 404, nil},
			{"/collections/parcels/items/1", 304, []string{"If-None-Match", tag}},
		} {
			r := get(t, srv.URL+c.path, append([]string{"Origin", "https://elsewhere.example"}, c.more...)...)
			if r.StatusCode != c.status || r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "ETag") {
				t.Errorf("GET %s from another origin = %d %v, want %d with CORS headers", c.path, r.StatusCode, r.Header, c.status)
			}
			// Without an Origin (QGIS, GDAL, the map's own page) the list
			// of exposed headers is left out, and the answer says it
			// varies by it.
			r = get(t, srv.URL+c.path, c.more...)
			_, exposed := r.Header["Access-Control-Expose-Headers"]
			if r.StatusCode != c.status || r.Header.Get("Access-Control-Allow-Origin") != "*" || exposed || !listHas(strings.Join(r.Header.Values("Vary"), ", "), "Origin") {
				t.Errorf("GET %s without an Origin = %d %v, want %d, Allow-Origin *, no Expose-Headers, Vary: Origin", c.path, r.StatusCode, r.Header, c.status)
			}
		}
		req, _ := http.NewRequest("OPTIONS", srv.URL+"/collections/parcels/items", nil)
		req.Header.Set("Origin", "https://elsewhere.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("OPTIONS = %d %v", res.StatusCode, res.Header)
		}
		res, err = http.Head(srv.URL + "/collections/parcels/items")
		if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/geo+json" {
			t.Errorf("HEAD items = %v %v", res, err)
		}
		// The store is an Editor: a write without a token is 401; a method
		// the resource has not is still 405.
		res, err = http.Post(srv.URL+"/collections/parcels/items", "application/geo+json", strings.NewReader("{}"))
		if err != nil || res.StatusCode != 401 {
			t.Errorf("POST items without a token = %v %v, want 401", res, err)
		}
		res, err = http.Post(srv.URL+"/collections/parcels", "application/geo+json", strings.NewReader("{}"))
		if err != nil || res.StatusCode != 405 {
			t.Errorf("POST a collection = %v %v, want 405", res, err)
		}
	})
}

func TestHTML(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, s cache.Store) {
		browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
		for _, p := range []string{"/", "/conformance", "/collections", "/collections/parcels", "/collections/parcels/items",
			"/collections/parcels/items/1", "/collections/parcels/queryables", "/api.html", "/collections/xss/items", "/collections/xss"} {
			for _, r := range []response{get(t, srv.URL+p, "Accept", browser), get(t, srv.URL+p+"?f=html")} {
				if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
					t.Errorf("GET %s as HTML = %d %s", p, r.StatusCode, r.Header.Get("Content-Type"))
				}
				if bytes.Contains(r.body, []byte("<img src=x")) || bytes.Contains(r.body, []byte("<script>alert")) {
					t.Errorf("GET %s: user text reached the page as markup", p)
				}
			}
		}
		// f=html honours crs: the coordinates shown are in it, and say so.
		mercator := url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857")
		for _, p := range []string{"/collections/parcels/items/1?f=html&crs=" + mercator, "/collections/parcels/items?f=html&crs=" + mercator} {
			r := get(t, srv.URL+p)
			if r.StatusCode != 200 || !bytes.Contains(r.body, []byte("[1.3523")) || !bytes.Contains(r.body, []byte("<code>http://www.opengis.net/def/crs/EPSG/0/3857</code>")) ||
				bytes.Contains(r.body, []byte("[121.48 32.11]")) {
				t.Errorf("GET %s = %d, want bounds in EPSG:3857 and its name:\n%s", p, r.StatusCode, r.body)
			}
		}
		// And through a feature cache, three times: the third answer's
		// items are the cache's (held at the second read), which read
		// their properties back from JSON.
		cached := newServerOn(t, cache.New(s, cache.DefaultBudget), web.Options{})
		for _, base := range []string{srv.URL, cached.URL, cached.URL, cached.URL} {
			for _, p := range []string{"/collections/xss/items?f=html", "/collections/xss/items/1?f=html"} {
				if r := get(t, base+p); !bytes.Contains(r.body, []byte("<td>&lt;img src=x onerror=alert(1)&gt;</td>")) {
					t.Errorf("GET %s: the XSS name is not shown as text in its field:\n%s", p, r.body)
				}
			}
		}
		if r := get(t, srv.URL+"/collections/nope", "Accept", browser); r.StatusCode != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
			!bytes.Contains(r.body, []byte(`href="/collections?f=html"`)) {
			t.Errorf("404 for a browser = %d %s, with links from the root:\n%s", r.StatusCode, r.Header.Get("Content-Type"), r.body)
		}
	})
}

func TestMapPage(t *testing.T) {
	t.Run("NoTilesByDefault", func(t *testing.T) {
		srv, _ := newServer(t, web.Options{})
		r := get(t, srv.URL+"/", "Accept", "text/html")
		if !bytes.Contains(r.body, []byte(`<script type="application/json" id="config">{"base":"","classes":[{"code":"R","name":{"zh":"居住用地","en":"Residential"},"color":"#FFFF00"`)) {
			t.Errorf("map page config, with the class colours of layers.Classes:\n%s", r.body)
		}
		// The landing page's links are there for people and the OGC html class.
		for _, rel := range []string{`rel="service-desc"`, `rel="conformance"`, `rel="data"`} {
			if !bytes.Contains(r.body, []byte(rel)) {
				t.Errorf("the map page lacks the %s link", rel)
			}
		}
	})
	t.Run("Tiles", func(t *testing.T) {
		srv, _ := newServer(t, web.Options{Tiles: "https://tile.example/{z}/{x}/{y}.png", Attribution: "© <b>OSM</b>"})
		r := get(t, srv.URL+"/", "Accept", "text/html")
		var cfg struct{ Tiles, Attribution string }
		i := bytes.Index(r.body, []byte(`id="config">`))
		j := bytes.Index(r.body[i:], []byte(`</script>`))
		if i < 0 || j < 0 || json.Unmarshal(r.body[i+len(`id="config">`):i+j], &cfg) != nil {
			t.Fatalf("no config in the map page:\n%s", r.body)
		}
		if cfg.Tiles != "https://tile.example/{z}/{x}/{y}.png" || cfg.Attribution != "© <b>OSM</b>" {
			t.Errorf("config = %+v", cfg)
		}
	})
	t.Run("Assets", func(t *testing.T) {
		if err := web.CheckAssets(); err != nil {
			t.Fatal(err)
		}
		srv, _ := newServer(t, web.Options{})
		for _, p := range []string{"/static/app.js", "/static/vendor/leaflet/leaflet.js", "/static/style.css"} {
			if r := get(t, srv.URL+p); r.StatusCode != 200 || r.Header.Get("Cache-Control") == "" {
				t.Errorf("GET %s = %d", p, r.StatusCode)
			}
		}
	})
}

func TestQueryables(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		r := get(t, srv.URL+"/collections/parcels/queryables")
		doc := r.json(t)
		if r.Header.Get("Content-Type") != "application/schema+json" || doc["$id"] != srv.URL+"/collections/parcels/queryables" || doc["additionalProperties"] != false {
			t.Fatalf("queryables = %s %v", r.Header.Get("Content-Type"), doc)
		}
		props := doc["properties"].(map[string]any)
		if props["berths"].(map[string]any)["type"] != "integer" || props["geometry"].(map[string]any)["format"] != "geometry-multipolygon" {
			t.Errorf("queryables properties = %v", props)
		}
	})
}

func TestDownloads(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		r := get(t, srv.URL+"/collections/parcels/download.geojson")
		if r.Header.Get("Content-Disposition") != `attachment; filename="haimen-parcels.geojson"` || !bytes.Contains(r.body, []byte(`"geometryType": "MultiPolygon"`)) {
			t.Errorf("GeoJSON download = %v %.200s", r.Header, r.body)
		}
		if _, err := layers.ParseFile("download.geojson", r.body); err != nil {
			t.Errorf("the download is not a layer file: %v", err)
		}
		for path, want := range map[string]int{"/collections/parcels/download.gpkg": 1, "/download/planmap.gpkg": 15} {
			r := get(t, srv.URL+path)
			if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/geopackage+sqlite3" || !strings.Contains(r.Header.Get("Content-Disposition"), ".gpkg") {
				t.Fatalf("GET %s = %d %v", path, r.StatusCode, r.Header)
			}
			f := filepath.Join(t.TempDir(), "d.gpkg")
			os.WriteFile(f, r.body, 0o644)
			if got := len(fileLayers(t, f)); got != want {
				t.Errorf("GET %s has %d layers, want %d", path, got, want)
			}
		}
	})
}
