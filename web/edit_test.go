package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/web"
)

// editTokens are real tokens of a store (planmap token add), which the
// edit tests send by their short names: ann-token for ann, an editor of
// every layer; bob-token for bob, of parcels only; parks-token for pat,
// of parks only. Any other token is the store's to refuse.
type editTokens struct {
	store tokenStore
	real  map[string]string // short name → token
}

// tokenStore is a store that keeps tokens, as both stores do.
type tokenStore interface {
	AddToken(ctx context.Context, name string, role layers.Role, layerIDs []string) (string, error)
	Principal(ctx context.Context, token string) (*layers.Principal, error)
}

func newEditTokens(tb testing.TB, store tokenStore) editTokens {
	tb.Helper()
	et := editTokens{store: store, real: map[string]string{}}
	for _, tc := range []struct {
		short, name string
		layers      []string
	}{{"ann-token", "ann", nil}, {"bob-token", "bob", []string{"parcels"}}, {"parks-token", "pat", []string{"parks"}}} {
		tok, err := store.AddToken(context.Background(), tc.name, layers.RoleEditor, tc.layers)
		if err != nil {
			tb.Fatal(err)
		}
		et.real[tc.short] = tok
	}
	return et
}

func (et editTokens) Principal(ctx context.Context, token string) (*layers.Principal, error) {
	if real, ok := et.real[token]; ok {
		token = real
	}
	return et.store.Principal(ctx, token)
}

// newEditServer serves the store s with the edit tokens.
func newEditServer(t *testing.T, s cache.Store) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(web.NewRouter(s, web.Options{Tokens: newEditTokens(t, s.(tokenStore)), Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

// newCachedEditServer is newEditServer with the feature cache in front of
// the store, as planmap serve has it.
func newCachedEditServer(t *testing.T, s cache.Store) *httptest.Server {
	t.Helper()
	c := cache.New(s, cache.DefaultBudget)
	srv := httptest.NewServer(web.NewRouter(c, web.Options{Tokens: newEditTokens(t, s.(tokenStore)), Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

// onEachEditServer runs test, as a subtest named for the store, on a
// server newSrv makes of each of servedStores.
func onEachEditServer(t *testing.T, newSrv func(*testing.T, cache.Store) *httptest.Server, test func(t *testing.T, srv *httptest.Server)) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) { test(t, newSrv(t, st.open(t))) })
	}
}

// send makes a request with a body; header is name, value, … (a name
// given twice sends both values).
func send(t *testing.T, method, url, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	r, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return response{r, b}
}

const geoJSON = "application/geo+json"

// parcel is a parcels feature, a square of side d degrees at lon, lat.
func parcel(name, status string, lon, lat, d float64, more string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"name_zh":%q,"status":%q%s},"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}`,
		name, status, more, lon, lat, lon+d, lat, lon+d, lat+d, lon, lat+d, lon, lat)
}

// write sends a write as ann.
func write(t *testing.T, method, url, body string, header ...string) response {
	t.Helper()
	ct := geoJSON
	if method == "PATCH" {
		ct = "application/merge-patch+json"
	}
	return send(t, method, url, body, append([]string{"Authorization", "Bearer ann-token", "Content-Type", ct}, header...)...)
}

func matched(t *testing.T, srv *httptest.Server) float64 {
	t.Helper()
	r := get(t, srv.URL+"/collections/parcels/items?limit=1")
	return r.json(t)["numberMatched"].(float64)
}

func detail(t *testing.T, r response) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d with Content-Type %q, want application/problem+json:\n%s", r.StatusCode, ct, r.body)
	}
	return r.json(t)["detail"].(string)
}

func TestEditCreate(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		before := matched(t, srv)
		r := write(t, "POST", srv.URL+"/collections/parcels/items", parcel("新地块", "planned", 121.40, 32.15, 0.01, `,"berths":3`))
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("POST = %d, want 201:\n%s", r.StatusCode, r.body)
		}
		loc, tag := r.Header.Get("Location"), r.Header.Get("ETag")
		doc := r.json(t)
		id := int64(doc["id"].(float64))
		if loc != srv.URL+"/collections/parcels/items/"+strconv.FormatInt(id, 10) || !strings.HasPrefix(tag, `"`) {
			t.Fatalf("POST: Location %q, ETag %q, id %d", loc, tag, id)
		}
		props := doc["properties"].(map[string]any)
		if props["name_zh"] != "新地块" || props["berths"] != 3.0 || props["geodesic_area_m2"] == nil {
			t.Errorf("POST answered properties %v, want the stored feature with its measures", props)
		}
		got := get(t, loc)
		if got.StatusCode != 200 || got.Header.Get("ETag") != tag {
			t.Fatalf("GET %s = %d, ETag %q; want 200 and the ETag the POST gave, %s", loc, got.StatusCode, got.Header.Get("ETag"), tag)
		}
		if g := got.json(t)["geometry"].(map[string]any); g["type"] != "MultiPolygon" {
			t.Errorf("stored geometry %v, want a MultiPolygon (the layer's type)", g)
		}
		if nm := get(t, loc, "If-None-Match", tag); nm.StatusCode != http.StatusNotModified {
			t.Errorf("GET with If-None-Match %s = %d, want 304", tag, nm.StatusCode)
		}
		if n := matched(t, srv); n != before+1 {
			t.Errorf("%v features after the POST, want %v", n, before+1)
		}
		// An id in the body of a POST is the client's, not the service's.
		r2 := write(t, "POST", srv.URL+"/collections/parcels/items", `{"type":"Feature","id":1,`+parcel("再一块", "planned", 121.42, 32.15, 0.01, "")[len(`{"type":"Feature",`):])
		if r2.StatusCode != 201 || r2.json(t)["id"].(float64) <= float64(id) {
			t.Errorf("POST with id 1 = %d %s, want 201 and a new id", r2.StatusCode, r2.body)
		}
	})
}

// TestEditRefused: each way a write is refused answers its status with
// a problem that says why, and leaves nothing behind.
func TestEditRefused(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		items := srv.URL + "/collections/parcels/items"
		good := parcel("好", "planned", 121.40, 32.15, 0.01, "")
		before := matched(t, srv)
		item1 := get(t, items+"/1")
		for _, tc := range []struct {
			name, method, url, body string
			header                  []string
			status                  int
			says                    string
		}{
			{"NoToken", "POST", items, good, []string{"Content-Type", geoJSON}, 401, "token"},
			{"UnknownToken", "POST", items, good, []string{"Authorization", "Bearer nope", "Content-Type", geoJSON}, 401, "not valid"},
			{"OtherLayer", "POST", items, good, []string{"Authorization", "Bearer parks-token", "Content-Type", geoJSON}, 403, "parcels"},
			{"UnknownCollection", "POST", srv.URL + "/collections/nope/items", good, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 404, "nope"},
			{"TextPlain", "POST", items, good, []string{"Authorization", "Bearer ann-token", "Content-Type", "text/plain"}, 415, "application/geo+json"},
			{"NoContentType", "POST", items, good, []string{"Authorization", "Bearer ann-token"}, 415, "Content-Type"},
			{"MergePatchForPUT", "PUT", items + "/1", good, []string{"Authorization", "Bearer ann-token", "Content-Type", "application/merge-patch+json"}, 415, "application/geo+json"},
			{"GeoJSONForPATCH", "PATCH", items + "/1", `{}`, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 415, "merge-patch"},
			{"TooLarge", "POST", items, `{"type":"Feature","properties":{"name_zh":"` + strings.Repeat("长", 3<<20) + `"}}`, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 413, "MiB"},
			{"BadJSON", "POST", items, "{\"type\": \"Feature\",\n \"properties\": {\"name_zh\": \"x\",}\n}", []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "line 2, column"},
			{"NotAFeature", "POST", items, `{"type":"FeatureCollection","features":[]}`, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "Feature"},
			{"BadProperty", "POST", items, parcel("坏", "demolished", 121.4, 32.15, 0.01, ""), []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "status"},
			{"UnknownProperty", "POST", items, parcel("坏", "planned", 121.4, 32.15, 0.01, `,"colour":"red"`), []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "colour"},
			{"MissingRequired", "POST", items, `{"type":"Feature","properties":{"status":"planned"},"geometry":{"type":"Point","coordinates":[121.4,32.15]}}`, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, ""},
			{"WrongGeometryType", "POST", items, `{"type":"Feature","properties":{"name_zh":"点","status":"planned"},"geometry":{"type":"Point","coordinates":[121.4,32.15]}}`, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "Point"},
			{"UnknownCRS", "POST", items, good, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON, "Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/4549>"}, 400, "Content-Crs"},
			{"QueryParameter", "POST", items + "?f=json", good, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "f"},
			{"NoteTooLong", "POST", items, good, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON, "Planmap-Note", strings.Repeat("n", 1001)}, 400, "Planmap-Note"},
			{"PutOtherID", "PUT", items + "/1", `{"type":"Feature","id":7,` + good[len(`{"type":"Feature",`):], []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "id"},
			{"PutUnknown", "PUT", items + "/999999", good, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 404, "999999"},
			{"PutBadProperty", "PUT", items + "/1", parcel("坏", "planned", 121.4, 32.15, 0.01, `,"berths":"many"`), []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON}, 400, "berths"},
			{"PutStale", "PUT", items + "/1", good, []string{"Authorization", "Bearer ann-token", "Content-Type", geoJSON, "If-Match", `"0"`}, 412, "If-Match"},
			{"PatchID", "PATCH", items + "/1", `{"id":5}`, []string{"Authorization", "Bearer ann-token", "Content-Type", "application/merge-patch+json"}, 400, "id"},
			{"PatchRequiredNull", "PATCH", items + "/1", `{"properties":{"name_zh":null}}`, []string{"Authorization", "Bearer ann-token", "Content-Type", "application/merge-patch+json"}, 400, "name_zh"},
			{"PatchNotObject", "PATCH", items + "/1", `[1]`, []string{"Authorization", "Bearer ann-token", "Content-Type", "application/merge-patch+json"}, 400, "object"},
			{"PatchBadJSON", "PATCH", items + "/1", `{"properties":`, []string{"Authorization", "Bearer ann-token", "Content-Type", "application/merge-patch+json"}, 400, "line 1"},
			{"PatchUnknown", "PATCH", items + "/999999", `{}`, []string{"Authorization", "Bearer ann-token", "Content-Type", "application/merge-patch+json"}, 404, "999999"},
			{"DeleteNoToken", "DELETE", items + "/1", "", nil, 401, "token"},
			{"DeleteStale", "DELETE", items + "/1", "", []string{"Authorization", "Bearer ann-token", "If-Match", `"0"`}, 412, "If-Match"},
			{"DeleteUnknown", "DELETE", items + "/999999", "", []string{"Authorization", "Bearer ann-token"}, 404, "999999"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := send(t, tc.method, tc.url, tc.body, tc.header...)
				if r.StatusCode != tc.status {
					t.Fatalf("%s %s = %d, want %d:\n%.500s", tc.method, tc.url, r.StatusCode, tc.status, r.body)
				}
				if d := detail(t, r); !strings.Contains(d, tc.says) {
					t.Errorf("%s %s: %d %q, want it to say %q", tc.method, tc.url, r.StatusCode, d, tc.says)
				}
				if tc.status == 415 && tc.method == "PATCH" && r.Header.Get("Accept-Patch") != "application/merge-patch+json" {
					t.Errorf("415 to a PATCH with Accept-Patch %q", r.Header.Get("Accept-Patch"))
				}
				if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: Bearer (%q)", r.Header.Get("WWW-Authenticate"))
				}
				if tc.status == 412 && r.Header.Get("ETag") != item1.Header.Get("ETag") {
					t.Errorf("412 with ETag %q, want the current one, %q", r.Header.Get("ETag"), item1.Header.Get("ETag"))
				}
			})
		}
		// Nothing of it was stored.
		if n := matched(t, srv); n != before {
			t.Errorf("%v features after refused writes, want %v", n, before)
		}
		if now := get(t, items+"/1"); now.Header.Get("ETag") != item1.Header.Get("ETag") {
			t.Errorf("feature 1 changed (ETag %s, was %s) though every write was refused", now.Header.Get("ETag"), item1.Header.Get("ETag"))
		}
		if vs := get(t, items+"/1/versions").json(t)["features"].([]any); len(vs) != 1 {
			t.Errorf("feature 1 has %d versions after refused writes, want 1", len(vs))
		}
	})
}

func TestEditReplace(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		url := srv.URL + "/collections/parcels/items/7"
		old := get(t, url)
		tag := old.Header.Get("ETag")

		t.Run("RoundTrip", func(t *testing.T) {
			// What a client read, measures and links included, goes back as
			// it is (QGIS does this); the id as a string, as QGIS sends it.
			body := strings.Replace(string(old.body), `"id":7`, `"id":"7"`, 1)
			r := write(t, "PUT", url, body, "If-Match", tag)
			if r.StatusCode != 200 {
				t.Fatalf("PUT of what GET gave = %d:\n%s", r.StatusCode, r.body)
			}
			if r.Header.Get("ETag") != tag {
				t.Errorf("PUT of the same feature changed its ETag from %s to %s", tag, r.Header.Get("ETag"))
			}
		})
		t.Run("New", func(t *testing.T) {
			r := write(t, "PUT", url, parcel("二号", "signed", 121.43, 32.15, 0.01, `,"public":false`), "If-Match", "W/"+strings.TrimSuffix(tag, `"`)+`-gzip"`)
			if r.StatusCode != 200 || r.Header.Get("ETag") == tag || r.Header.Get("ETag") == "" {
				t.Fatalf("PUT = %d, ETag %s (was %s); want 200 and a new ETag:\n%s", r.StatusCode, r.Header.Get("ETag"), tag, r.body)
			}
			props := r.json(t)["properties"].(map[string]any)
			if props["status"] != "signed" || props["name_en"] != nil || props["public"] != false {
				t.Errorf("PUT answered %v: a PUT replaces the properties whole", props)
			}
			if got := get(t, url); got.Header.Get("ETag") != r.Header.Get("ETag") || !strings.Contains(string(got.body), `"signed"`) {
				t.Errorf("GET after PUT: ETag %s, %s", got.Header.Get("ETag"), got.body)
			}
			// The old ETag is stale now.
			if stale := write(t, "PUT", url, parcel("二号", "planned", 121.43, 32.15, 0.01, ""), "If-Match", tag); stale.StatusCode != 412 || stale.Header.Get("ETag") != r.Header.Get("ETag") {
				t.Errorf("PUT with the old ETag = %d, ETag %q; want 412 with %q", stale.StatusCode, stale.Header.Get("ETag"), r.Header.Get("ETag"))
			}
			if star := write(t, "PUT", url, parcel("二号", "planned", 121.43, 32.15, 0.01, ""), "If-Match", "*"); star.StatusCode != 200 {
				t.Errorf("PUT with If-Match * = %d", star.StatusCode)
			}
		})
	})
}

// TestEditRace: two editors read the same version and write it at once
// with If-Match; one wins, the other gets 412.
func TestEditRace(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		url := srv.URL + "/collections/parcels/items/3"
		for round := range 5 {
			tag := get(t, url).Header.Get("ETag")
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for i, who := range []string{"ann-token", "bob-token"} {
				wg.Go(func() {
					body := parcel(fmt.Sprintf("三号 %d %s", round, who), "planned", 121.45, 32.15, 0.01, "")
					codes[i] = send(t, "PUT", url, body, "Authorization", "Bearer "+who, "Content-Type", geoJSON, "If-Match", tag).StatusCode
				})
			}
			wg.Wait()
			slices.Sort(codes)
			if codes[0] != 200 || codes[1] != 412 {
				t.Fatalf("round %d: two PUTs with the same If-Match answered %v, want one 200 and one 412", round, codes)
			}
		}
	})
}

func TestEditPatch(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		url := srv.URL + "/collections/parcels/items/1"
		before := get(t, url).json(t)
		if before["properties"].(map[string]any)["name_en"] == nil {
			t.Fatal("feature 1 has no name_en to remove")
		}
		r := write(t, "PATCH", url, `{"properties":{"name_en":null,"berths":9}}`)
		if r.StatusCode != 200 || r.Header.Get("ETag") == "" {
			t.Fatalf("PATCH = %d, ETag %q:\n%s", r.StatusCode, r.Header.Get("ETag"), r.body)
		}
		after := get(t, url).json(t)
		props := after["properties"].(map[string]any)
		if _, ok := props["name_en"]; ok || props["berths"] != 9.0 || props["name_zh"] != before["properties"].(map[string]any)["name_zh"] || props["opened"] != "2021-09-26" {
			t.Errorf("after PATCH name_en null, berths 9: %v", props)
		}
		if fmt.Sprint(after["geometry"]) != fmt.Sprint(before["geometry"]) {
			t.Errorf("a PATCH of properties moved the geometry: %v, was %v", after["geometry"], before["geometry"])
		}

		// A byte order mark, which some Windows tools write, is no JSON error.
		if bom := write(t, "PATCH", url, "\ufeff"+`{"properties":{"area_mu":1.5}}`); bom.StatusCode != 200 {
			t.Errorf("PATCH with a byte order mark = %d:\n%s", bom.StatusCode, bom.body)
		}

		// A geometry replaces the geometry whole, in the Content-Crs.
		x, y := mercator(121.47, 32.13)
		x2, y2 := mercator(121.48, 32.14)
		g := fmt.Sprintf(`{"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`, x, y, x2, y, x2, y2, x, y2, x, y)
		r = write(t, "PATCH", url, g, "Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/3857>")
		if r.StatusCode != 200 {
			t.Fatalf("PATCH of the geometry = %d:\n%s", r.StatusCode, r.body)
		}
		ring := r.json(t)["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)
		if len(ring) != 5 || !nearLonLat(ring[0], 121.47, 32.13) {
			t.Errorf("patched geometry's ring %v, want a square from (121.47, 32.13)", ring)
		}
		if p := r.json(t)["properties"].(map[string]any); p["berths"] != 9.0 {
			t.Errorf("a PATCH of the geometry changed the properties: %v", p)
		}
	})
}

func mercator(lon, lat float64) (float64, float64) {
	const R = 6378137
	return lon * math.Pi / 180 * R, math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)) * R
}

func nearLonLat(pos any, lon, lat float64) bool {
	p := pos.([]any)
	return math.Abs(p[0].(float64)-lon) < 1e-6 && math.Abs(p[1].(float64)-lat) < 1e-6
}

// TestEditContentCRS: a feature sent in EPSG:3857 lands where it is.
func TestEditContentCRS(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		x, y := mercator(121.41, 32.16)
		x2, y2 := mercator(121.42, 32.17)
		body := fmt.Sprintf(`{"type":"Feature","properties":{"name_zh":"墨卡托","status":"planned"},"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`, x, y, x2, y, x2, y2, x, y2, x, y)
		r := write(t, "POST", srv.URL+"/collections/parcels/items", body, "Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/3857>")
		if r.StatusCode != 201 {
			t.Fatalf("POST in EPSG:3857 = %d:\n%s", r.StatusCode, r.body)
		}
		got := get(t, r.Header.Get("Location")).json(t)
		ring := got["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)
		var corners int
		for _, want := range [][2]float64{{121.41, 32.16}, {121.42, 32.16}, {121.42, 32.17}, {121.41, 32.17}} {
			for _, p := range ring {
				if nearLonLat(p, want[0], want[1]) {
					corners++
					break
				}
			}
		}
		if corners != 4 {
			t.Errorf("stored ring %v, want the corners (121.41, 32.16)–(121.42, 32.17)", ring)
		}
		// Found by a bbox query around where it should be.
		found := get(t, srv.URL+"/collections/parcels/items?bbox=121.409,32.159,121.421,32.171").json(t)
		if found["numberMatched"].(float64) != 1 {
			t.Errorf("bbox around the new feature matched %v features, want 1", found["numberMatched"])
		}
	})
}

// TestEditDeleteAndRestore: a deleted feature answers 410 with a link to
// its versions, its id is never given again, and a PUT brings it back.
func TestEditDeleteAndRestore(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		items := srv.URL + "/collections/parcels/items"
		// The highest id, which AUTOINCREMENT must not give again.
		r := write(t, "POST", items, parcel("最高", "planned", 121.40, 32.15, 0.01, ""))
		if r.StatusCode != 201 {
			t.Fatalf("POST = %d:\n%s", r.StatusCode, r.body)
		}
		url := r.Header.Get("Location")
		id := r.json(t)["id"].(float64)
		if d := write(t, "DELETE", url, "", "Planmap-Note", "%E5%88%A0%E9%99%A4 removed", "If-Match", r.Header.Get("ETag")); d.StatusCode != 204 || len(d.body) != 0 {
			t.Fatalf("DELETE = %d %s, want 204 and nothing", d.StatusCode, d.body)
		}
		gone := get(t, url)
		if gone.StatusCode != 410 {
			t.Fatalf("GET of a deleted feature = %d, want 410:\n%s", gone.StatusCode, gone.body)
		}
		versions := url + "/versions"
		if l := gone.Header.Get("Link"); !strings.Contains(l, "<"+versions+">") || !strings.Contains(l, `rel="version-history"`) {
			t.Errorf("410 with Link %q, want <%s>; rel=\"version-history\"", l, versions)
		}
		if ls := links(t, gone.json(t))["version-history"]; len(ls) != 1 || ls[0]["href"] != versions {
			t.Errorf("410's links %v, want version-history %s", ls, versions)
		}
		if again := write(t, "DELETE", url, ""); again.StatusCode != 410 {
			t.Errorf("DELETE of a deleted feature = %d, want 410", again.StatusCode)
		}
		if p := write(t, "PATCH", url, `{}`); p.StatusCode != 410 {
			t.Errorf("PATCH of a deleted feature = %d, want 410", p.StatusCode)
		}
		if p := write(t, "PUT", url, parcel("回来", "planned", 121.40, 32.15, 0.01, ""), "If-Match", "*"); p.StatusCode != 412 {
			t.Errorf("PUT with If-Match * of a deleted feature = %d, want 412 (there is no current version)", p.StatusCode)
		}
		next := write(t, "POST", items, parcel("下一个", "planned", 121.42, 32.15, 0.01, ""))
		if next.StatusCode != 201 || next.json(t)["id"].(float64) <= id {
			t.Fatalf("POST after deleting the highest id %v = %d, id %v; want a higher id", id, next.StatusCode, next.json(t)["id"])
		}
		back := write(t, "PUT", url, parcel("回来", "signed", 121.40, 32.15, 0.01, ""), "Planmap-Note", "restored")
		if back.StatusCode != 200 || back.json(t)["id"].(float64) != id {
			t.Fatalf("PUT to the retired id = %d:\n%s", back.StatusCode, back.body)
		}
		if g := get(t, url); g.StatusCode != 200 || !strings.Contains(string(g.body), "回来") {
			t.Fatalf("GET after the PUT = %d:\n%s", g.StatusCode, g.body)
		}

		// Its history, newest first.
		h := get(t, versions)
		if h.StatusCode != 200 || h.Header.Get("Content-Type") != geoJSON {
			t.Fatalf("GET %s = %d %s", versions, h.StatusCode, h.Header.Get("Content-Type"))
		}
		fs := h.json(t)["features"].([]any)
		if len(fs) != 3 {
			t.Fatalf("%d versions, want 3 (create, delete, restore):\n%s", len(fs), h.body)
		}
		type want struct {
			number   float64
			op       string
			note     any
			current  bool
			geometry bool
		}
		for i, w := range []want{
			{3, "insert", "restored", true, true}, // a PUT to a retired id
			{2, "delete", "删除 removed", false, false},
			{1, "insert", nil, false, true},
		} {
			f := fs[i].(map[string]any)
			v := f["planmap:version"].(map[string]any)
			if v["number"] != w.number || v["author"] != "ann" || v["note"] != w.note || (v["to"] == nil) != w.current || (f["geometry"] != nil) != w.geometry || v["from"] == nil {
				t.Errorf("version %d: %v (geometry %v)", i, v, f["geometry"])
			}
			// Bringing a deleted feature back is a restore to the store, or
			// an insert or an update; the others are what they are.
			if v["op"] != w.op && !(i == 0 && (v["op"] == "restore" || v["op"] == "update")) {
				t.Errorf("version %d is a %v, want %s", i, v["op"], w.op)
			}
			if i > 0 && fs[i].(map[string]any)["planmap:version"].(map[string]any)["to"] != fs[i-1].(map[string]any)["planmap:version"].(map[string]any)["from"] {
				t.Errorf("version %d ends at %v, but the next began at %v", i, v["to"], fs[i-1].(map[string]any)["planmap:version"].(map[string]any)["from"])
			}
		}
		if nm := get(t, versions, "If-None-Match", h.Header.Get("ETag")); nm.StatusCode != 304 {
			t.Errorf("versions with If-None-Match = %d, want 304", nm.StatusCode)
		}
		if v := get(t, items+"/999999/versions"); v.StatusCode != 404 {
			t.Errorf("versions of a feature that never was = %d, want 404", v.StatusCode)
		}
		// A version sent back restores it.
		first, _ := json.Marshal(fs[2])
		if r := write(t, "PUT", url, string(first)); r.StatusCode != 200 || !strings.Contains(string(r.body), "最高") {
			t.Errorf("PUT of version 1 = %d:\n%s", r.StatusCode, r.body)
		}
	})
}

func TestEditDiscovery(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		classes := get(t, srv.URL+"/conformance").json(t)["conformsTo"].([]any)
		for _, c := range []string{
			"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
			"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
			"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
			"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
			"http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
		} {
			if !slices.Contains(classes, any(c)) {
				t.Errorf("conformance lacks %s", c)
			}
		}
		col := get(t, srv.URL+"/collections/parcels").json(t)
		sl := links(t, col)["http://www.opengis.net/def/rel/ogc/1.0/schema"]
		if len(sl) != 1 || sl[0]["type"] != "application/schema+json" {
			t.Fatalf("collection's schema links %v", sl)
		}
		r := get(t, sl[0]["href"].(string))
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/schema+json" {
			t.Fatalf("GET schema = %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		sc := r.json(t)
		props := sc["properties"].(map[string]any)
		prop := func(name string) map[string]any { p, _ := props[name].(map[string]any); return p }
		if p := prop("id"); p["x-ogc-role"] != "id" || p["readOnly"] != true {
			t.Errorf("schema id = %v", p)
		}
		if p := prop("geometry"); p["x-ogc-role"] != "primary-geometry" || p["format"] != "geometry-multipolygon" {
			t.Errorf("schema geometry = %v", p)
		}
		for _, m := range []string{"geodesic_area_m2", "geodesic_area_ha", "geodesic_area_mu"} {
			if p := prop(m); p["readOnly"] != true || p["type"] != "number" {
				t.Errorf("schema %s = %v, want a readOnly number", m, p)
			}
		}
		if prop("geodesic_length_m") != nil {
			t.Error("a polygon layer's schema has a length")
		}
		if p := prop("status"); p["type"] != "string" || len(p["enum"].([]any)) != 4 {
			t.Errorf("schema status = %v", p)
		}
		if p := prop("berths"); p["type"] != "integer" || p["readOnly"] != nil {
			t.Errorf("schema berths = %v", p)
		}
		if req := fmt.Sprint(sc["required"]); req != "[name_zh status]" {
			t.Errorf("schema required = %s, want [name_zh status]", req)
		}
		item := get(t, srv.URL+"/collections/parcels/items/1").json(t)
		if vl := links(t, item)["version-history"]; len(vl) != 1 {
			t.Errorf("a feature's links %v lack its versions", item["links"])
		}

		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(get(t, srv.URL+"/api").body)
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(loader.Context); err != nil {
			t.Fatalf("the OpenAPI document is not valid OpenAPI 3.0: %v", err)
		}
		if b := doc.Components.SecuritySchemes["bearer"]; b == nil || b.Value.Type != "http" || b.Value.Scheme != "bearer" {
			t.Errorf("securitySchemes.bearer = %+v", b)
		}
		items := doc.Paths.Find("/collections/parcels/items")
		one := doc.Paths.Find("/collections/parcels/items/{featureId}")
		for _, tc := range []struct {
			method string
			op     *openapi3.Operation
			body   []string
			codes  []int
		}{
			{"POST", items.Post, []string{"application/geo+json", "application/json"}, []int{201, 400, 401, 403, 404, 413, 415}},
			{"PUT", one.Put, []string{"application/geo+json", "application/json"}, []int{200, 400, 401, 403, 404, 412, 413, 415}},
			{"PATCH", one.Patch, []string{"application/merge-patch+json"}, []int{200, 400, 401, 403, 404, 410, 412, 413, 415}},
			{"DELETE", one.Delete, nil, []int{204, 401, 403, 404, 410, 412}},
			{"GET", one.Get, nil, []int{200, 304, 404, 410}},
		} {
			if tc.op == nil {
				t.Errorf("no %s operation", tc.method)
				continue
			}
			for _, c := range tc.codes {
				if tc.op.Responses.Status(c) == nil {
					t.Errorf("%s does not declare %d", tc.method, c)
				}
			}
			for _, mt := range tc.body {
				if tc.op.RequestBody == nil || tc.op.RequestBody.Value.Content.Get(mt) == nil {
					t.Errorf("%s does not take %s", tc.method, mt)
				}
			}
		}
		if created := items.Post.Responses.Status(201); created != nil && created.Value.Headers["Location"] == nil {
			t.Error("the 201 of POST has no Location header")
		}
		if v := doc.Paths.Find("/collections/parcels/items/{featureId}/versions"); v == nil || v.Get == nil {
			t.Error("no versions path")
		}
	})
}

// TestReadOnlyStore: a store that cannot be changed is served as before
// Part 4: writes are 405, and no Part 4 class is claimed; so is a cache in
// front of one, though the cache itself has the Editor's methods.
func TestReadOnlyStore(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			tokens := newEditTokens(t, s.(tokenStore))
			t.Run("Store", func(t *testing.T) { testReadOnly(t, struct{ web.Store }{s}, tokens) })
			t.Run("Cache", func(t *testing.T) { testReadOnly(t, cache.New(struct{ cache.Store }{s}, cache.DefaultBudget), tokens) })
		})
	}
}

func testReadOnly(t *testing.T, served web.Store, tokens web.Tokens) {
	srv := httptest.NewServer(web.NewRouter(served, web.Options{Tokens: tokens, Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		url := srv.URL + "/collections/parcels/items/1"
		if m == "POST" {
			url = srv.URL + "/collections/parcels/items"
		}
		if r := send(t, m, url, parcel("x", "planned", 121.4, 32.15, 0.01, ""), "Authorization", "Bearer ann-token", "Content-Type", geoJSON); r.StatusCode != 405 {
			t.Errorf("%s %s on a read-only store = %d, want 405", m, url, r.StatusCode)
		}
	}
	if r := send(t, "DELETE", srv.URL+"/collections/parcels", "", "Authorization", "Bearer ann-token"); r.StatusCode != 405 {
		t.Errorf("DELETE of a collection on a read-only store = %d, want 405", r.StatusCode)
	}
	if r := get(t, srv.URL+"/collections/parcels/items/1/versions"); r.StatusCode != 404 {
		t.Errorf("versions on a read-only store = %d, want 404", r.StatusCode)
	}
	if strings.Contains(string(get(t, srv.URL+"/conformance").body), "features-4") {
		t.Error("a read-only store claims Part 4")
	}
	if r := get(t, srv.URL+"/collections/parcels/schema"); r.StatusCode != 200 {
		t.Errorf("schema on a read-only store = %d, want 200", r.StatusCode)
	}
}

// TestEditLogsNoToken: writes, accepted or refused, log the request, and
// never the token.
func TestEditLogsNoToken(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			et := newEditTokens(t, s.(tokenStore))
			srv, logs := newLoggedServer(t, s, web.Options{Tokens: et, Downloads: newCache(t, web.DefaultDownloadBudget)})
			items := srv.URL + "/collections/parcels/items"
			for _, tc := range []struct {
				token, body string
				status      int
			}{
				{"ann-token", parcel("日志", "planned", 121.40, 32.15, 0.01, ""), 201},
				{"ann-token", parcel("日志", "nope", 121.40, 32.15, 0.01, ""), 400},
				{"secret-but-wrong", parcel("日志", "planned", 121.40, 32.15, 0.01, ""), 401},
				{"parks-token", parcel("日志", "planned", 121.40, 32.15, 0.01, ""), 403},
			} {
				if r := send(t, "POST", items, tc.body, "Authorization", "Bearer "+tc.token, "Content-Type", geoJSON); r.StatusCode != tc.status {
					t.Fatalf("POST with %s = %d, want %d:\n%s", tc.token, r.StatusCode, tc.status, r.body)
				}
			}
			text := logs.String()
			if strings.Count(text, "method=POST") != 4 {
				t.Errorf("the log has %d POSTs, want 4:\n%s", strings.Count(text, "method=POST"), text)
			}
			for _, token := range []string{"ann-token", "secret-but-wrong", "parks-token", et.real["ann-token"], et.real["parks-token"]} {
				if strings.Contains(text, token) {
					t.Errorf("the log holds token %s:\n%s", token, text)
				}
			}
		})
	}
}

// TestEditThroughCache: through the feature cache, as planmap serve has
// it, every write is read back at once, a stale If-Match is refused, and
// a deleted feature is gone until a PUT brings it back.
func TestEditThroughCache(t *testing.T) {
	onEachEditServer(t, newCachedEditServer, func(t *testing.T, srv *httptest.Server) {
		items := srv.URL + "/collections/parcels/items"
		// Read first, so that the cache holds what the writes change.
		one := get(t, items+"/1")
		get(t, items+"?limit=10")
		r := write(t, "PATCH", items+"/1", `{"properties":{"status":"signed"}}`, "If-Match", one.Header.Get("ETag"))
		if r.StatusCode != 200 {
			t.Fatalf("PATCH = %d:\n%s", r.StatusCode, r.body)
		}
		if got := get(t, items+"/1"); got.Header.Get("ETag") != r.Header.Get("ETag") || !strings.Contains(string(got.body), `"signed"`) {
			t.Errorf("GET after PATCH: ETag %s (PATCH gave %s):\n%s", got.Header.Get("ETag"), r.Header.Get("ETag"), got.body)
		}
		if page := get(t, items+"?limit=10"); !strings.Contains(string(page.body), `"signed"`) {
			t.Errorf("the page of items does not show the PATCH:\n%s", page.body)
		}
		if stale := write(t, "PATCH", items+"/1", `{"properties":{"status":"planned"}}`, "If-Match", one.Header.Get("ETag")); stale.StatusCode != 412 {
			t.Errorf("PATCH with the old ETag = %d, want 412", stale.StatusCode)
		}
		if d := write(t, "DELETE", items+"/1", ""); d.StatusCode != 204 {
			t.Fatalf("DELETE = %d:\n%s", d.StatusCode, d.body)
		}
		if g := get(t, items+"/1"); g.StatusCode != 410 {
			t.Errorf("GET after DELETE = %d, want 410", g.StatusCode)
		}
		back := write(t, "PUT", items+"/1", parcel("一号", "planned", 121.48, 32.11, 0.01, ""))
		if back.StatusCode != 200 {
			t.Fatalf("PUT to the deleted id = %d:\n%s", back.StatusCode, back.body)
		}
		if g := get(t, items+"/1"); g.StatusCode != 200 || g.Header.Get("ETag") != back.Header.Get("ETag") {
			t.Errorf("GET after the PUT = %d, ETag %s; want 200, %s", g.StatusCode, g.Header.Get("ETag"), back.Header.Get("ETag"))
		}
		if vs := get(t, items+"/1/versions").json(t)["features"].([]any); len(vs) != 4 {
			t.Errorf("%d versions, want 4 (import, patch, delete, restore)", len(vs))
		}
	})
}

// TestEditRules: a write that breaks a planning rule of the layer is
// refused, naming the other feature, and stores nothing.
func TestEditRules(t *testing.T) {
	onEachEditServer(t, newEditServer, func(t *testing.T, srv *httptest.Server) {
		items := srv.URL + "/collections/parks/items"
		before := get(t, items+"?limit=1").json(t)["numberMatched"]
		props := `{"name_zh":"新公园","name_en":"New park","landuse_code":"1401","landuse_gb50137":"G1","status":"planned","position_confidence":"low","position_note":"test"}`
		overlapping := `{"type":"Feature","properties":` + props + `,"geometry":{"type":"Polygon","coordinates":[[[121.472,32.119],[121.474,32.119],[121.474,32.121],[121.472,32.121],[121.472,32.119]]]}}`
		r := write(t, "POST", items, overlapping)
		if r.StatusCode != 400 {
			t.Fatalf("POST of a park over the Harbour Eco-Park = %d, want 400:\n%s", r.StatusCode, r.body)
		}
		if d := detail(t, r); !strings.Contains(d, "parks") || !strings.Contains(d, "海港生态公园") && !strings.Contains(d, "Harbour Eco-Park") {
			t.Errorf("the refusal %q does not name the other park", d)
		}
		if after := get(t, items+"?limit=1").json(t)["numberMatched"]; after != before {
			t.Errorf("%v parks after the refused POST, want %v", after, before)
		}
	})
}
