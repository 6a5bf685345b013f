package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"planmap/layers/layerstest"
)

// getJSON GETs url and decodes its JSON body into v, failing on a status
// other than 200.
func getJSON(t *testing.T, url string, v any) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, res.StatusCode, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, body)
		}
	}
	return body
}

// TestServePostGIS: --db postgres://… serves a new database seeded with
// the built-in layers, as a GeoPackage is served; planmap import (from
// PLANMAP_DB) writes into it while it runs, and the change is served; the
// password never reaches the log.
func TestServePostGIS(t *testing.T) {
	url := layerstest.PostgresDB(t)
	// A password the server does not ask for (trust), to see that the
	// log leaves it out.
	withPassword := strings.Replace(url, "postgres://postgres@", "postgres://postgres:s3cret-pw@", 1)
	base, stop := startServe(t, withPassword)

	var cols struct {
		Collections []struct{ ID string }
	}
	getJSON(t, base+"/collections", &cols)
	if len(cols.Collections) != seedCount(t) {
		t.Errorf("GET /collections lists %d collections, want %d (the seeds)", len(cols.Collections), seedCount(t))
	}
	var parks struct {
		Features []struct {
			ID         int64
			Properties map[string]any
		}
		NumberMatched int
	}
	getJSON(t, base+"/collections/parks/items?limit=100", &parks)
	if len(parks.Features) == 0 || parks.NumberMatched != len(parks.Features) {
		t.Fatalf("GET parks items: %d features, numberMatched %d", len(parks.Features), parks.NumberMatched)
	}
	for _, path := range []string{"/collections/parks/download.gpkg", "/collections/parks/download.kml", "/download/planmap.kml", "/search?q=Park", "/changes?since=0"} {
		getJSON(t, base+path, nil)
	}

	// planmap import through the environment, as another process.
	dir := t.TempDir()
	edited := filepath.Join(dir, "parks.geojson")
	res, err := http.Get(base + "/collections/parks/download.geojson")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	changed := strings.Replace(string(text), `"name_en":"Harbour Eco-Park"`, `"name_en":"Harbour Eco-Park (edited)"`, 1)
	if changed == string(text) {
		t.Fatalf("the parks download has no Harbour Eco-Park:\n%.500s", text)
	}
	os.WriteFile(edited, []byte(changed), 0o644)
	var o, e strings.Builder
	env := func(k string) string {
		if k == "PLANMAP_DB" {
			return url
		}
		return ""
	}
	if err := run(context.Background(), []string{"import", edited}, env, &o, &e); err != nil {
		t.Fatalf("planmap import with PLANMAP_DB=%s: %v\n%s", url, err, e.String())
	}
	start := time.Now()
	for {
		body := getJSON(t, base+"/search?q=edited", nil)
		if strings.Contains(string(body), "Harbour Eco-Park (edited)") {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the import is not served %v after it: %s", time.Since(start), body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs := stop()
	if strings.Contains(logs, "s3cret-pw") || !strings.Contains(logs, "created database with the built-in Haimen layers") {
		t.Errorf("the log shows the password, or does not say the database was seeded:\n%s", logs)
	}

	// Started again, it keeps what is there.
	_, stop = startServe(t, url)
	if logs := stop(); strings.Contains(logs, "created database") {
		t.Errorf("serve seeded an existing database again:\n%s", logs)
	}

}

// TestEditPostGIS: an editor's token added with planmap token on a
// PostgreSQL database is taken by serve, whose PUT with If-Match edits the
// feature in PostGIS, and the history names the token as the author; a
// PUT from the version before is refused.
func TestEditPostGIS(t *testing.T) {
	url := layerstest.PostgresDB(t)
	base, stop := startServe(t, url)
	defer stop()
	token, stderr, err := planmap(t, "token", "add", "--db", url, "--name", "alice", "--role", "editor", "--layers", "parks")
	if err != nil {
		t.Fatalf("token add on %s: %v\n%s", url, err, stderr)
	}
	token = strings.TrimSpace(token)

	var parks struct {
		Features []struct{ ID int64 }
	}
	getJSON(t, base+"/collections/parks/items?limit=1", &parks)
	if len(parks.Features) == 0 {
		t.Fatal("no parks")
	}
	item := fmt.Sprintf("%s/collections/parks/items/%d", base, parks.Features[0].ID)
	res, err := http.Get(item)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	etag := res.Header.Get("ETag")
	var f map[string]any
	if err := json.Unmarshal(body, &f); err != nil || etag == "" {
		t.Fatalf("GET %s: ETag %q, %v\n%s", item, etag, err, body)
	}
	f["properties"].(map[string]any)["name_en"] = "Renamed over HTTP"
	delete(f, "links")
	put := func(ifMatch string) (int, string) {
		b, _ := json.Marshal(f)
		req, _ := http.NewRequest(http.MethodPut, item, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/geo+json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("If-Match", ifMatch)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(out)
	}
	if code, out := put(etag); code != http.StatusOK || !strings.Contains(out, "Renamed over HTTP") {
		t.Fatalf("PUT %s with If-Match %s = %d %s; want 200 and the new name", item, etag, code, out)
	}
	if code, out := put(etag); code != http.StatusPreconditionFailed {
		t.Errorf("PUT %s again from the version before = %d %s; want 412", item, code, out)
	}
	versions := string(getJSON(t, item+"/versions", nil))
	if !strings.Contains(versions, `"alice"`) || !strings.Contains(versions, "Renamed over HTTP") || !strings.Contains(versions, "planmap import") {
		t.Errorf("GET %s/versions does not show alice's version and the imported one:\n%s", item, versions)
	}
}

// TestAdminPostGIS: serve on PostgreSQL takes an admin's changes of the
// layers over HTTP (web.LayerEditor, through the cache): a layer
// declared with POST /collections is served, empty; redeclared with PUT;
// dropped with DELETE, it is gone.
func TestAdminPostGIS(t *testing.T) {
	url := layerstest.PostgresDB(t)
	base, stop := startServe(t, url)
	defer stop()
	token, stderr, err := planmap(t, "token", "add", "--db", url, "--name", "root", "--role", "admin")
	if err != nil {
		t.Fatalf("token add on %s: %v\n%s", url, err, stderr)
	}
	token = strings.TrimSpace(token)
	send := func(method, url, body string) (int, string) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(out)
	}
	decl := func(titleEn string) string {
		return `{"id": "wells", "title": {"zh": "井", "en": "` + titleEn + `"}, "geometryType": "Point",
		  "schema": [{"name": "name", "type": "string", "description": {"zh": "", "en": ""}}], "style": {"color": "#000000"}}`
	}
	if code, out := send(http.MethodPost, base+"/collections", decl("Wells")); code != http.StatusCreated {
		t.Fatalf("POST /collections = %d %s; want 201", code, out)
	}
	var items struct{ Features []any }
	getJSON(t, base+"/collections/wells/items", &items)
	if items.Features == nil || len(items.Features) != 0 {
		t.Errorf("the new layer's items: %+v; want none", items)
	}
	if code, out := send(http.MethodPost, base+"/collections", decl("Wells")); code != http.StatusConflict {
		t.Errorf("POST /collections of wells again = %d %s; want 409", code, out)
	}
	if code, out := send(http.MethodPut, base+"/collections/wells", decl("Wells and springs")); code != http.StatusOK {
		t.Fatalf("PUT /collections/wells = %d %s; want 200", code, out)
	}
	if col := string(getJSON(t, base+"/collections/wells", nil)); !strings.Contains(col, "Wells and springs") {
		t.Errorf("GET /collections/wells after the PUT:\n%s", col)
	}
	if code, out := send(http.MethodDelete, base+"/collections/wells", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE /collections/wells = %d %s; want 204", code, out)
	}
	res, err := http.Get(base + "/collections/wells")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /collections/wells after the DELETE = %d; want 404", res.StatusCode)
	}
}
