package web_test

import (
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"planmap/layers/layerstest"
	"planmap/web"
)

// runQGISEdit runs testdata/qgis_edit.py on the live file and returns the
// JSON object it printed.
func runQGISEdit(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, _ := layerstest.RunQGIS(t, "testdata/qgis_edit.py", args...)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("QGIS printed %s: %v", out, err)
	}
	if res["valid"] != true {
		t.Fatalf("QGIS could not open the layer: %v", res)
	}
	return res
}

// within polls until ok holds, for at most a second (the bound on
// a direct edit reaching the API), and fails with what it last saw. The
// race build is about ten times slower and shares two cores with the other
// packages' tests: there the bound is ten seconds, and the second is held
// in the plain run.
func within(t *testing.T, what string, ok func() (bool, string)) {
	t.Helper()
	bound := slack(time.Second)
	deadline := time.Now().Add(bound)
	for {
		good, seen := ok()
		if good {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last seen %s", what, bound, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slack is d, or ten times d in the race build: the bounds the issues
// set are held in the plain run.
func slack(d time.Duration) time.Duration {
	if raceEnabled {
		return 10 * d
	}
	return d
}

// newestVersion is the first (newest) entry of a feature's versions.
func newestVersion(t *testing.T, url string) (map[string]any, map[string]any, int) {
	t.Helper()
	r := get(t, url+"/versions")
	if r.StatusCode != 200 {
		t.Fatalf("GET %s/versions = %d:\n%s", url, r.StatusCode, r.body)
	}
	fs := r.json(t)["features"].([]any)
	f := fs[0].(map[string]any)
	return f, f["planmap:version"].(map[string]any), len(fs)
}

// A planner edits the live GeoPackage in QGIS, as a file layer (not
// through the API): the change is served and recorded in history (with no
// author: a direct edit) within a second. Adding a field through QGIS's
// data provider may make GDAL rebuild the table, dropping planmap's
// triggers; they are back afterwards and the next direct edit is recorded.
func TestQGISDirectEdit(t *testing.T) {
	layerstest.RequireQGIS(t)
	srv, store := newServer(t, web.Options{})
	const fid = "3"
	url := srv.URL + "/collections/parcels/items/" + fid
	before := get(t, url).json(t)
	_, _, n0 := newestVersion(t, url)
	x0 := firstX(t, before)

	res := runQGISEdit(t, store.Path(), "parcels", "edit", fid, "QGIS 改过", "0.001")
	if res["started"] != true || res["geometryChanged"] != true || res["attributeChanged"] != true || res["committed"] != true {
		t.Fatalf("QGIS edit: %v", res)
	}
	within(t, "QGIS's edit in GET item", func() (bool, string) {
		r := get(t, url)
		if r.StatusCode != 200 {
			return false, string(r.body)
		}
		f := r.json(t)
		return f["properties"].(map[string]any)["name_zh"] == "QGIS 改过" && math.Abs(firstX(t, f)-x0-0.001) < 1e-7, string(r.body)
	})
	within(t, "QGIS's edit in versions", func() (bool, string) {
		f, v, n := newestVersion(t, url)
		b, _ := json.Marshal(v)
		return n > n0 && v["author"] == nil && v["to"] == nil && f["properties"].(map[string]any)["name_zh"] == "QGIS 改过" && math.Abs(firstX(t, f)-x0-0.001) < 1e-7, string(b)
	})
	_, _, n1 := newestVersion(t, url)

	res = runQGISEdit(t, store.Path(), "parcels", "addfield", "qgis_note")
	if res["added"] != true {
		t.Fatalf("QGIS add field: %v", res)
	}
	db, err := sql.Open("sqlite", store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var triggers []string
	within(t, "the history and change-log triggers after the new field", func() (bool, string) {
		// The store looks when it is asked for something.
		get(t, srv.URL+"/collections/parcels")
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE 'planmap_history_parcels_%' OR name LIKE 'planmap_changes_parcels_%') ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		triggers = triggers[:0]
		for rows.Next() {
			var s string
			rows.Scan(&s)
			triggers = append(triggers, s)
		}
		rows.Close()
		h, c := 0, 0
		for _, s := range triggers {
			if strings.HasPrefix(s, "planmap_history_") {
				h++
			} else {
				c++
			}
		}
		// The history triggers must know the new column too.
		var sqlText string
		db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'planmap_history_parcels_update'`).Scan(&sqlText)
		return h >= 3 && c >= 3 && strings.Contains(sqlText, "qgis_note"), strings.Join(triggers, ", ")
	})
	t.Logf("triggers after QGIS added a field: %s", strings.Join(triggers, ", "))

	// A further direct edit, by SQL on the live file, is recorded.
	if _, err := db.Exec(`UPDATE parcels SET qgis_note = 'after', name_zh = 'SQL 改过' WHERE fid = ` + fid); err != nil {
		t.Fatal(err)
	}
	within(t, "the SQL edit after the new field, in GET item and versions", func() (bool, string) {
		r := get(t, url)
		if r.StatusCode != 200 {
			return false, string(r.body)
		}
		p := r.json(t)["properties"].(map[string]any)
		f, v, n := newestVersion(t, url)
		b, _ := json.Marshal(v)
		vp := f["properties"].(map[string]any)
		// qgis_note is served: the declaration followed the column QGIS
		// added (TestFieldAddedByAnotherProgram).
		return p["name_zh"] == "SQL 改过" && p["qgis_note"] == "after" && n > n1 && v["author"] == nil && v["op"] == "update" && vp["name_zh"] == "SQL 改过", string(r.body) + " " + string(b)
	})
	r := get(t, srv.URL+"/collections/parcels/schema")
	if prop, _ := r.json(t)["properties"].(map[string]any)["qgis_note"].(map[string]any); prop == nil {
		t.Errorf("GET /collections/parcels/schema after QGIS added qgis_note:\n%s\nwant the field", r.body)
	}
}

// A planner cannot delete a field of the live GeoPackage in QGIS: GDAL
// drops it with ALTER TABLE … DROP COLUMN, which SQLite refuses for a
// column a trigger names, and the history triggers name every column.
// QGIS shows SQLite's error; the layer is served as before. (A table
// rebuilt without the column is followed: TestColumnsOfOtherPrograms in
// layers/gpkg.)
func TestQGISCannotDropAField(t *testing.T) {
	layerstest.RequireQGIS(t)
	srv, store := newServer(t, web.Options{})
	get(t, srv.URL+"/collections/parcels")
	res := runQGISEdit(t, store.Path(), "parcels", "dropfield", "berths")
	errs, _ := json.Marshal(res["errors"])
	if res["dropped"] != false || !strings.Contains(string(errs), "planmap_history_parcels") {
		t.Fatalf("QGIS drop field: %v; want it refused, naming the history trigger", res)
	}
	r := get(t, srv.URL+"/collections/parcels/items/1")
	if p, _ := r.json(t)["properties"].(map[string]any); r.StatusCode != 200 || p["berths"] == nil {
		t.Errorf("GET /collections/parcels/items/1 after QGIS failed to drop berths = %d:\n%s", r.StatusCode, r.body)
	}
}

// A GIS user adds a field to the live GeoPackage with GDAL or QGIS (ALTER
// TABLE … ADD COLUMN, as GDAL adds one when it can) and fills it: within
// a second the field is in the collection's schema, its values in the
// items and a filter, with no admin redeclaring the layer.
func TestFieldAddedByAnotherProgram(t *testing.T) {
	srv, store := newServer(t, web.Options{})
	// The store follows the file from its first answer on.
	get(t, srv.URL+"/collections/parcels")
	// Waiting for a lock, as GDAL does: the store may take the write lock
	// to follow the new column between the two statements.
	db, err := sql.Open("sqlite", "file:"+store.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`ALTER TABLE parcels ADD COLUMN owner TEXT(40)`, `UPDATE parcels SET owner = 'port group' WHERE fid = 3`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	within(t, "owner in GET /collections/parcels/schema", func() (bool, string) {
		r := get(t, srv.URL+"/collections/parcels/schema")
		if r.StatusCode != 200 {
			return false, string(r.body)
		}
		prop, _ := r.json(t)["properties"].(map[string]any)["owner"].(map[string]any)
		return prop != nil && prop["type"] == "string", string(r.body)
	})
	r := get(t, srv.URL+"/collections/parcels/items/3")
	if p := r.json(t)["properties"].(map[string]any); p["owner"] != "port group" {
		t.Errorf("GET /collections/parcels/items/3 = %s, want owner \"port group\"", r.body)
	}
	r = get(t, srv.URL+"/collections/parcels/items?owner=port+group")
	if doc := r.json(t); r.StatusCode != 200 || doc["numberMatched"] != 1.0 {
		t.Errorf("GET /collections/parcels/items?owner=port+group = %d %s, want the one parcel", r.StatusCode, r.body)
	}
}

// firstX is the first longitude of a polygon or multipolygon feature.
func firstX(t *testing.T, f map[string]any) float64 {
	t.Helper()
	g, _ := f["geometry"].(map[string]any)
	c := g["coordinates"]
	for {
		switch v := c.(type) {
		case float64:
			return v
		case []any:
			if len(v) == 0 {
				t.Fatalf("feature without coordinates: %v", f)
			}
			c = v[0]
		default:
			t.Fatalf("feature without coordinates: %v", f)
		}
	}
}
