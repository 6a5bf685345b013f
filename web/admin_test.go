package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/web"
)

// zoneDecl is the declaration of a new layer, zones, with the fields
// given (JSON objects) after name_zh.
func zoneDecl(title string, fields ...string) string {
	schema := `{"name": "name_zh", "type": "string", "required": true, "description": {"zh": "名称", "en": "Name"}}`
	for _, f := range fields {
		schema += ", " + f
	}
	return `{"id": "zones", "title": {"zh": "分区", "en": "` + title + `"}, "description": {"zh": "", "en": ""},
		"geometryType": "MultiPolygon", "order": 90, "schema": [` + schema + `], "style": {"color": "#336699"}}`
}

func zone(name string, lon float64) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"name_zh":%q},"geometry":{"type":"Polygon","coordinates":[[[%g,32.1],[%g,32.1],[%g,32.11],[%g,32.11],[%g,32.1]]]}}`,
		name, lon, lon+0.01, lon+0.01, lon, lon)
}

// TestAdminLayers: an admin creates a layer from a declaration, it is a
// collection that takes features; a declaration that stored features
// break is refused naming them, and changes nothing; a compatible one is
// taken; the layer is deleted, and its history outlives it. Through the
// cache, as planmap serve has it, with real tokens of the store.
func TestAdminLayers(t *testing.T) {
	ctx := context.Background()
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			admin, err := s.(tokenStore).AddToken(ctx, "root", layers.RoleAdmin, nil)
			if err != nil {
				t.Fatal(err)
			}
			editor, err := s.(tokenStore).AddToken(ctx, "ed", layers.RoleEditor, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := cache.New(s, cache.DefaultBudget)
			srv := httptest.NewServer(web.NewRouter(c, web.Options{Tokens: s.(web.Tokens), Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
			t.Cleanup(srv.Close)
			as := func(tok, method, path, ct, body string, header ...string) response {
				t.Helper()
				h := append([]string{"Content-Type", ct}, header...)
				if tok != "" {
					h = append(h, "Authorization", "Bearer "+tok)
				}
				return send(t, method, srv.URL+path, body, h...)
			}
			const js = "application/json"

			// Who may.
			if r := as("", "POST", "/collections", js, zoneDecl("Zones")); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("POST /collections without a token = %d, WWW-Authenticate %q; want 401 with it", r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
			if r := as(editor, "POST", "/collections", js, zoneDecl("Zones")); r.StatusCode != http.StatusForbidden {
				t.Errorf("POST /collections with an editor token = %d, want 403:\n%s", r.StatusCode, r.body)
			}
			if r := get(t, srv.URL+"/collections/zones"); r.StatusCode != 404 {
				t.Fatalf("after refused POSTs, GET /collections/zones = %d, want 404", r.StatusCode)
			}

			// Bad declarations.
			for name, body := range map[string]string{
				"NoID":         strings.Replace(zoneDecl("Zones"), `"id": "zones",`, "", 1),
				"GeometryType": strings.Replace(zoneDecl("Zones"), "MultiPolygon", "Blob", 1),
				"BadJSON":      `{"id": "zones", "title": `,
			} {
				r := as(admin, "POST", "/collections", js, body)
				if r.StatusCode != http.StatusBadRequest {
					t.Errorf("%s: POST /collections = %d, want 400:\n%s", name, r.StatusCode, r.body)
				} else if name == "GeometryType" && !strings.Contains(detail(t, r), "geometryType") {
					t.Errorf("%s: the problem %q does not name geometryType", name, detail(t, r))
				}
			}
			if r := as(admin, "POST", "/collections", "text/plain", zoneDecl("Zones")); r.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("POST /collections as text/plain = %d, want 415", r.StatusCode)
			}

			// Create.
			r := as(admin, "POST", "/collections", js, zoneDecl("Zones"), "Planmap-Note", "new zoning layer")
			if r.StatusCode != http.StatusCreated || r.Header.Get("Location") != srv.URL+"/collections/zones" {
				t.Fatalf("POST /collections = %d, Location %q; want 201 and /collections/zones:\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
			}
			if r.json(t)["id"] != "zones" {
				t.Errorf("POST answered %s, want the collection zones", r.body)
			}
			if !strings.Contains(string(get(t, srv.URL+"/collections").body), `"id":"zones"`) {
				t.Errorf("/collections does not list zones after it was created")
			}
			if r := as(admin, "POST", "/collections", js, zoneDecl("Zones again")); r.StatusCode != http.StatusConflict {
				t.Errorf("POST /collections of an existing id = %d, want 409:\n%s", r.StatusCode, r.body)
			}
			if r := send(t, "OPTIONS", srv.URL+"/collections/zones", "", "Authorization", "Bearer "+admin); r.Header.Get("Allow") != "GET, HEAD, OPTIONS, PUT, DELETE" {
				t.Errorf("OPTIONS /collections/zones as admin: Allow %q", r.Header.Get("Allow"))
			}
			var fids []string
			for i, name := range []string{"甲区", "乙区"} {
				r := as(editor, "POST", "/collections/zones/items", geoJSON, zone(name, 121.4+0.02*float64(i)))
				if r.StatusCode != http.StatusCreated {
					t.Fatalf("POST a feature to the new layer = %d:\n%s", r.StatusCode, r.body)
				}
				fids = append(fids, fmt.Sprint(r.json(t)["id"]))
			}

			// A declaration the stored features break: refused, naming them.
			before := get(t, srv.URL+"/collections/zones/schema").body
			kind := `{"name": "kind", "type": "string", "required": true, "description": {"zh": "类", "en": "Kind"}}`
			r = as(admin, "PUT", "/collections/zones", js, zoneDecl("Zones", kind))
			if r.StatusCode != http.StatusBadRequest {
				t.Fatalf("PUT a declaration the features break = %d, want 400:\n%s", r.StatusCode, r.body)
			}
			d := detail(t, r)
			for _, fid := range fids {
				if !strings.Contains(d, "stored feature "+fid+":") || !strings.Contains(d, `"kind"`) {
					t.Errorf("the refusal does not name feature %s and kind:\n%s", fid, d)
				}
			}
			if after := get(t, srv.URL+"/collections/zones/schema").body; string(after) != string(before) {
				t.Errorf("a refused declaration changed the schema:\n%s\nwas\n%s", after, before)
			}
			if r := as(admin, "PUT", "/collections/zones", js, strings.Replace(zoneDecl("Zones"), `"zones"`, `"parks"`, 1)); r.StatusCode != http.StatusBadRequest {
				t.Errorf("PUT a declaration of another id = %d, want 400", r.StatusCode)
			}
			if r := as(editor, "PUT", "/collections/zones", js, zoneDecl("Zoning")); r.StatusCode != http.StatusForbidden {
				t.Errorf("PUT /collections/zones with an editor token = %d, want 403", r.StatusCode)
			}

			// A compatible one: a new optional field and a new title.
			optKind := strings.Replace(kind, `"required": true, `, "", 1)
			beforePut := tick()
			r = as(admin, "PUT", "/collections/zones", js, zoneDecl("Zoning", optKind))
			if r.StatusCode != http.StatusOK || r.json(t)["titles"].(map[string]any)["en"] != "Zoning" {
				t.Fatalf("PUT a compatible declaration = %d, want 200 and the new title:\n%s", r.StatusCode, r.body)
			}
			if !strings.Contains(string(get(t, srv.URL+"/collections/zones/schema").body), `"kind"`) {
				t.Errorf("the schema has no kind after the PUT")
			}
			r = as(editor, "PUT", "/collections/zones/items/"+fids[0], geoJSON, strings.Replace(zone("甲区", 121.4), `"name_zh"`, `"kind":"港区","name_zh"`, 1))
			if r.StatusCode != 200 {
				t.Errorf("PUT a feature with the new field = %d:\n%s", r.StatusCode, r.body)
			}
			// The history keeps the declaration the PUT replaced: as of
			// before it, the layer had no kind to ask for.
			if r := get(t, srv.URL+"/collections/zones/items?kind=港区"); r.StatusCode != 200 || len(ids(t, r.json(t))) != 1 {
				t.Errorf("kind=港区 now = %d %s, want feature %s", r.StatusCode, r.body, fids[0])
			}
			if r := get(t, srv.URL+"/collections/zones/items?kind=港区&as-of="+rfc(beforePut)); r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.body), "kind") {
				t.Errorf("kind=港区 as of before the PUT of the declaration = %d %s, want 400 naming kind", r.StatusCode, r.body)
			}

			// Delete.
			if r := as(editor, "DELETE", "/collections/zones", "", ""); r.StatusCode != http.StatusForbidden {
				t.Errorf("DELETE /collections/zones with an editor token = %d, want 403", r.StatusCode)
			}
			if r := as("", "DELETE", "/collections/zones", "", ""); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("DELETE /collections/zones without a token = %d, want 401", r.StatusCode)
			}
			if r := as(admin, "DELETE", "/collections/zones", "", "", "Planmap-Note", "zoning withdrawn"); r.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE /collections/zones = %d, want 204:\n%s", r.StatusCode, r.body)
			}
			for _, p := range []string{"/collections/zones", "/collections/zones/items", "/collections/zones/items/" + fids[0]} {
				if r := get(t, srv.URL+p); r.StatusCode != 404 {
					t.Errorf("after the DELETE, GET %s = %d, want 404", p, r.StatusCode)
				}
			}
			if strings.Contains(string(get(t, srv.URL+"/collections").body), `"id":"zones"`) {
				t.Errorf("/collections still lists zones after it was deleted")
			}

			// Its history outlives it: created again, the old features are gone
			// (410), not never-were, their versions end with the delete by root,
			// and a new feature gets a new id. (A version is read through the
			// layer's declaration as it now is: kind, which this one lacks, is
			// not shown.)
			if r := as(admin, "POST", "/collections", js, zoneDecl("Zones")); r.StatusCode != http.StatusCreated {
				t.Fatalf("POST /collections again = %d:\n%s", r.StatusCode, r.body)
			}
			vs, err := s.(web.Editor).Versions(ctx, "zones", mustInt(t, fids[0]))
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) < 3 || vs[0].Op != layers.OpDelete || vs[0].Author != "root" || vs[0].Note != "zoning withdrawn" ||
				vs[1].Item == nil || vs[1].Item.Properties()["name_zh"] != "甲区" || vs[1].Author != "ed" {
				t.Errorf("versions of feature %s after the layer was deleted: %+v", fids[0], vs)
			}
			if r := get(t, srv.URL+"/collections/zones/items/"+fids[1]); r.StatusCode != http.StatusGone {
				t.Errorf("GET a feature of the deleted layer, created again = %d, want 410", r.StatusCode)
			}
			r = as(editor, "POST", "/collections/zones/items", geoJSON, zone("丙区", 121.5))
			if r.StatusCode != 201 || fmt.Sprint(r.json(t)["id"]) <= fids[1] {
				t.Errorf("POST to the layer created again = %d %s, want 201 and an id after %s", r.StatusCode, r.body, fids[1])
			}
		})
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
