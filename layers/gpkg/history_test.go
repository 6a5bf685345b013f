package gpkg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// edited returns feature fid of layer id as stored, with name_zh set to
// name: a feature to write back.
func edited(t *testing.T, s *gpkg.Store, id string, fid int64, name string) layers.Feature {
	t.Helper()
	it, err := s.Item(ctx, id, fid)
	if err != nil {
		t.Fatalf("Item(%s, %d): %v", id, fid, err)
	}
	props := maps.Clone(it.Properties())
	props["name_zh"] = name
	return layers.Feature{Properties: props, Geometry: it.Geometry()}
}

// waitFor polls until ok or a second has gone.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a second", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The id of a deleted feature, the highest included, is never given out
// again, by an edit or an import of features without ids, after the
// database is closed and opened again too.
func TestIDsRetiredAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "planmap.gpkg")
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	it, err := s.Create(ctx, "parcels", edited(t, s, "parcels", 7, "八"), layers.Edit{Author: "alice"})
	if err != nil || it.ID != 8 {
		t.Fatalf("Create after parcels 1, 3 and 7 = %v, %v; want id 8", it, err)
	}
	if err := s.Delete(ctx, "parcels", 8, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = gpkg.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Item(ctx, "parcels", 8); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(parcels, 8) deleted, after reopening: %v, want %s", err, layers.EGONE)
	}
	it, err = s.Create(ctx, "parcels", edited(t, s, "parcels", 7, "九"), layers.Edit{Author: "alice"})
	if err != nil || it.ID != 9 {
		t.Fatalf("Create after the highest id 8 was deleted, after reopening = %v, %v; want id 9", it, err)
	}
	if err := s.Delete(ctx, "parcels", 9, "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	// A file without ids: its features go after the highest id ever used.
	noIDs := `{"type": "FeatureCollection", "id": "parcels", "features": [
		{"type": "Feature", "properties": {"name_zh": "无号", "status": "planned"},
		 "geometry": {"type": "Polygon", "coordinates": [[[121.5, 32.0], [121.501, 32.0], [121.501, 32.001], [121.5, 32.0]]]}}]}`
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "noids.geojson", noIDs))
	if it, err := s.Item(ctx, "parcels", 10); err != nil || it.Properties()["name_zh"] != "无号" {
		t.Errorf("Item(parcels, 10), imported without an id after 9 was deleted: %v, %v", it, err)
	}
}

// testdata/planmap-0004.gpkg was written by the release before history
// (commit d8c4b87, migrations 0001 to 0004; make_planmap_0004.sh says
// how): the seed layers terminals and roads, six features each, the
// highest terminal (6) then deleted by GDAL. Opened with today's store its
// feature tables get AUTOINCREMENT ids, R-tree, change-log and history
// triggers, and a first version of every feature; terminal 6 stays
// retired.
func TestMigratesHistoryInPlace(t *testing.T) {
	path := fixtureCopy(t, "planmap-0004.gpkg")
	query := readOnlyQuery(t, path, dumpRows)
	if got := query(`SELECT 'version ' || max(version) FROM planmap_migrations`); got != "[\"version 4\"]\n" {
		t.Fatalf("the fixture is not a database of migration 0004: %s", got)
	}
	before := query(`SELECT * FROM terminals ORDER BY fid`)
	indexesBefore := query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('terminals', 'roads') ORDER BY name`)

	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got := query(`SELECT name FROM planmap_migrations WHERE version = 5`); got != "[\"0005_history.sql\"]\n" {
		t.Errorf("migration 5 recorded as %s", got)
	}
	if got := query(`SELECT * FROM terminals ORDER BY fid`); got != before {
		t.Errorf("terminals after the upgrade:\n%s\nwant as before:\n%s", got, before)
	}
	if got := query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('terminals', 'roads') ORDER BY name`); got != indexesBefore {
		t.Errorf("indexes after the upgrade:\n%s\nwant\n%s", got, indexesBefore)
	}
	for _, id := range []string{"terminals", "roads"} {
		if got := query(`SELECT sql FROM sqlite_master WHERE name = ?`, id); !strings.Contains(got, "AUTOINCREMENT") {
			t.Errorf("%s after the upgrade: %s, want an AUTOINCREMENT id", id, got)
		}
		want := "[\"planmap_changes_" + id + "_delete\"]\n[\"planmap_changes_" + id + "_insert\"]\n[\"planmap_changes_" + id + "_update\"]\n" +
			"[\"planmap_history_" + id + "_delete\"]\n[\"planmap_history_" + id + "_insert\"]\n[\"planmap_history_" + id + "_rekey\"]\n[\"planmap_history_" + id + "_update\"]\n"
		if got := query(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE 'planmap%' ORDER BY name`, id); got != want {
			t.Errorf("planmap's triggers of %s:\n%s\nwant\n%s", id, got, want)
		}
	}
	if got, want := query(`SELECT substr(name, length('rtree_terminals_geom_') + 1) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_terminals_geom_%' ORDER BY name`),
		"[\"delete\"]\n[\"insert\"]\n[\"update1\"]\n[\"update2\"]\n[\"update3\"]\n[\"update4\"]\n"; got != want {
		t.Errorf("R-tree triggers of terminals after the upgrade:\n%s\nwant the GeoPackage 1.3 set\n%s", got, want)
	}
	if got, want := query(`SELECT layer || '/' || fid || '/' || op || '/' || coalesce(author, '') FROM planmap_history ORDER BY id`),
		"[\"roads/0/layer/\"]\n[\"terminals/6/delete/\"]\n[\"terminals/0/layer/\"]\n"; got != want {
		t.Errorf("history after the upgrade:\n%s\nwant\n%s", got, want)
	}

	// Terminal 6 stays retired: its URL is gone, and a new terminal is 7.
	if _, err := s.Item(ctx, "terminals", 6); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(terminals, 6), deleted before the upgrade: %v, want %s", err, layers.EGONE)
	}
	created, err := s.Create(ctx, "terminals", edited(t, s, "terminals", 1, "新码头"), layers.Edit{Author: "alice"})
	if err != nil || created.ID != 7 {
		t.Fatalf("Create(terminals) after the upgrade = %v, %v; want id 7", created, err)
	}
	// The R-tree follows the rebuilt table.
	page, _, err := s.Items(ctx, "terminals", layers.Filter{BBoxes: []orb.Bound{created.Bound}}, layers.Page{Limit: 20})
	var ids []int64
	for _, it := range page {
		ids = append(ids, it.ID)
	}
	if err != nil || !slices.Contains(ids, 1) || !slices.Contains(ids, 7) {
		t.Errorf("Items over terminal 7's box = %v, %v; want 1 (of the same shape) and 7 among them", ids, err)
	}

	// Every feature has its first version, the upgrade's; the next edit
	// keeps it.
	original, err := s.Item(ctx, "roads", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, "roads", 2, edited(t, s, "roads", 2, "改名"), original.Version(), layers.Edit{Author: "bob", Note: "renamed"}); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions(ctx, "roads", 2)
	if err != nil || len(vs) != 2 {
		t.Fatalf("Versions(roads, 2) = %+v, %v; want 2", vs, err)
	}
	if v := vs[1]; v.Op != layers.OpInsert || v.Author != "" || !strings.Contains(v.Note, "upgrade") || v.Item == nil || string(v.Item.JSON) != string(original.JSON) {
		t.Errorf("the first version of road 2 = %s by %q (%q), %v; want the feature as it was before the upgrade", v.Op, v.Author, v.Note, v.Item)
	}
	if v := vs[0]; v.Op != layers.OpUpdate || v.Author != "bob" || v.Note != "renamed" {
		t.Errorf("the second version of road 2 = %s by %q (%q)", v.Op, v.Author, v.Note)
	}
}

// An edit made with GDAL on the live file, as QGIS makes one, is served
// and kept in the history as a direct edit (no author); so is a delete.
func TestGDALEditInHistory(t *testing.T) {
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	if _, err := s.Catalog(ctx); err != nil { // starts following other writers
		t.Fatal(err)
	}
	original, err := s.Item(ctx, "parcels", 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE parcels SET name_zh = 'GDAL 改过', berths = 3 WHERE fid = 7`,
		`DELETE FROM parcels WHERE fid = 3`,
	} {
		if out, err := exec.Command(ogrinfo, "-q", s.Path(), "-sql", q).CombinedOutput(); err != nil {
			t.Fatalf("ogrinfo -sql %q: %v\n%s", q, err, out)
		}
	}
	waitFor(t, "the GDAL edit served", func() bool {
		it, err := s.Item(ctx, "parcels", 7)
		return err == nil && it.Properties()["name_zh"] == "GDAL 改过"
	})
	vs, err := s.Versions(ctx, "parcels", 7)
	if err != nil || len(vs) != 2 {
		t.Fatalf("Versions(parcels, 7) = %+v, %v; want 2", vs, err)
	}
	if v := vs[0]; v.Op != layers.OpUpdate || v.Author != "" || v.Item == nil || v.Item.Properties()["berths"] != int64(3) {
		t.Errorf("GDAL's version of parcel 7 = %s by %q, %v", v.Op, v.Author, v.Item)
	}
	if v := vs[1]; v.Item == nil || string(v.Item.JSON) != string(original.JSON) {
		t.Errorf("the version before GDAL's edit = %v, want %s", v.Item, original.JSON)
	}
	if _, err := s.Item(ctx, "parcels", 3); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(parcels, 3) deleted by GDAL: %v, want %s", err, layers.EGONE)
	}
	vs, err = s.Versions(ctx, "parcels", 3)
	if err != nil || len(vs) != 2 || vs[0].Op != layers.OpDelete || vs[0].Item != nil || vs[1].Item == nil {
		t.Errorf("Versions(parcels, 3) after GDAL deleted it = %+v, %v", vs, err)
	}
}

// A column added to a feature table by another program (GDAL and QGIS add
// one with ALTER TABLE, or rebuild the table, which drops our triggers):
// the store makes the history triggers again from the table's columns, so
// that the versions keep the new column too, and says so.
func TestHistoryTriggersFollowColumns(t *testing.T) {
	for _, tt := range []struct {
		name    string
		stmts   []string
		message string
	}{
		{"AddColumn", []string{`ALTER TABLE parcels ADD COLUMN owner TEXT`}, "columns of parcels changed"},
		// One transaction, as GDAL rebuilds a table: a store that
		// looked between the statements would find the triggers gone
		// twice, and say so twice.
		{"Rebuilt", []string{`BEGIN;
			DROP TRIGGER planmap_history_parcels_update;
			DROP TRIGGER planmap_changes_parcels_update;
			ALTER TABLE parcels ADD COLUMN owner TEXT;
			COMMIT`,
		}, "triggers of parcels were gone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := layerstest.MustOpen(t)
			mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
			var mu sync.Mutex
			var reported []string
			s.OnError(func(err error) {
				mu.Lock()
				reported = append(reported, err.Error())
				mu.Unlock()
			})
			if _, err := s.Catalog(ctx); err != nil {
				t.Fatal(err)
			}
			other := layerstest.OpenOtherClient(t, s.Path())
			for _, q := range tt.stmts {
				if err := other.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db := rawDB(t, s)
			waitFor(t, "the history triggers made again", func() bool {
				var sql string
				db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'planmap_history_parcels_update'`).Scan(&sql)
				return strings.Contains(sql, `'owner'`)
			})
			if err := other.Exec(ctx, `UPDATE parcels SET owner = 'port group' WHERE fid = 1`); err != nil {
				t.Fatal(err)
			}
			if err := other.Exec(ctx, `UPDATE parcels SET owner = 'city' WHERE fid = 1`); err != nil {
				t.Fatal(err)
			}
			var kept string
			db.QueryRow(`SELECT json_extract(properties, '$.owner') FROM planmap_history WHERE layer = 'parcels' AND fid = 1 AND properties IS NOT NULL ORDER BY id DESC LIMIT 1`).Scan(&kept)
			if kept != "port group" {
				t.Errorf("the version of parcel 1 before the last edit keeps owner %q, want \"port group\"", kept)
			}
			// And the declaration follows the new column
			// (TestColumnsOfOtherPrograms): a second report. The store
			// reports after it commits what it made again.
			waitFor(t, "the reports", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(reported) >= 2
			})
			mu.Lock()
			defer mu.Unlock()
			if len(reported) != 2 || !strings.Contains(reported[0], tt.message) || !strings.Contains(reported[1], "owner (string) added") {
				t.Errorf("reported %q, want a report saying %q and one that owner was added", reported, tt.message)
			}
		})
	}
}

// An import that replaces a layer whole writes no history row per
// feature, but ends every version current before it with its state:
// features it drops are deleted, those it keeps begin a new version.
func TestReplaceKeepsHistory(t *testing.T) {
	s := layerstest.MustOpen(t)
	parcels := readTestdata(t, "parcels.geojson")
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", parcels))
	original1, err := s.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	edited7, err := s.Replace(ctx, "parcels", 7, edited(t, s, "parcels", 7, "编辑过"), "", layers.Edit{Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	// The same file less parcel 3.
	var f map[string]any
	if err := json.Unmarshal([]byte(parcels), &f); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, ft := range f["features"].([]any) {
		if ft.(map[string]any)["id"] != 3.0 {
			kept = append(kept, ft)
		}
	}
	f["features"] = kept
	without3, _ := json.Marshal(f)
	mustImport(t, s, layers.ImportOptions{Replace: true}, parseText(t, "parcels.geojson", string(without3)))

	ops := func(vs []layers.Version) string {
		var b []string
		for _, v := range vs {
			b = append(b, fmt.Sprintf("%s/%s/%v", v.Op, v.Author, v.Item != nil))
		}
		return strings.Join(b, " ")
	}
	vs, err := s.Versions(ctx, "parcels", 7)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ops(vs), "update//true update/alice/true insert//true"; got != want {
		t.Errorf("Versions(parcels, 7) after the replace = %s, want %s", got, want)
	} else if string(vs[1].Item.JSON) != string(edited7.JSON) {
		t.Errorf("alice's version of parcel 7 = %s, want %s", vs[1].Item.JSON, edited7.JSON)
	}
	vs, err = s.Versions(ctx, "parcels", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ops(vs), "delete//false insert//true"; got != want {
		t.Errorf("Versions(parcels, 3) after the replace dropped it = %s, want %s", got, want)
	}
	if _, err := s.Item(ctx, "parcels", 3); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(parcels, 3) after the replace dropped it: %v, want %s", err, layers.EGONE)
	}
	vs, err = s.Versions(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ops(vs), "update//true insert//true"; got != want || string(vs[1].Item.JSON) != string(original1.JSON) {
		t.Errorf("Versions(parcels, 1) after the replace = %s, want %s with the first as imported", got, want)
	}
	for _, v := range vs {
		if v.Note != "planmap import" {
			t.Errorf("version %d of parcel 1 has note %q, want \"planmap import\"", v.Number, v.Note)
		}
	}
}

// CheckRules is asked inside the write's transaction, with the feature
// already written, and its error refuses the write whole.
func TestCheckRulesHook(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	var asked []int64
	s.CheckRules = func(ctx context.Context, lk gpkg.Lookup, l *layers.Layer, f layers.Feature, _ orb.Geometry) error {
		asked = append(asked, f.ID)
		near, err := lk.Near(ctx, l.ID, f.Geometry.Bound())
		if err != nil {
			return err
		}
		for _, o := range near {
			if o.ID != f.ID {
				return layers.Errorf(layers.EINVALID, "boxes meet: layer %s, feature %d", l.ID, o.ID)
			}
		}
		return nil
	}
	before, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "parcels", edited(t, s, "parcels", 7, "叠在七上"), layers.Edit{Author: "alice"}); layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "feature 7") {
		t.Fatalf("Create over parcel 7 = %v, want the rule's error naming feature 7", err)
	}
	if after, _ := s.Catalog(ctx); after.Seq != before.Seq {
		t.Errorf("a write the rules refused moved the catalog from %d to %d", before.Seq, after.Seq)
	}
	if len(asked) != 1 || asked[0] != 8 {
		t.Errorf("CheckRules asked about %v, want the new feature 8 as written", asked)
	}
	far := edited(t, s, "parcels", 7, "远处")
	far.Geometry = orb.Polygon{{{122.0, 33.0}, {122.001, 33.0}, {122.001, 33.001}, {122.0, 33.0}}}
	it, err := s.Create(ctx, "parcels", far, layers.Edit{Author: "alice"})
	if err != nil || it.ID != 8 {
		// The refused write left nothing behind, not even a used id.
		t.Fatalf("Create far from every parcel = %v, %v; want id 8", it, err)
	}
	// gpkg_contents' extent, which QGIS shows, takes it in.
	var maxX, maxY float64
	rawDB(t, s).QueryRow(`SELECT max_x, max_y FROM gpkg_contents WHERE table_name = 'parcels'`).Scan(&maxX, &maxY)
	if maxX != 122.001 || maxY != 33.001 {
		t.Errorf("gpkg_contents extent of parcels reaches %v, %v; want 122.001, 33.001 after the far parcel", maxX, maxY)
	}
}

// A layer of more columns than one json_object takes keeps every one of
// them in its history.
func TestHistoryKeepsEveryColumn(t *testing.T) {
	const n = 130
	var schema, props []string
	for i := range n {
		schema = append(schema, fmt.Sprintf(`{"name": "f%03d", "type": "string"}`, i))
		props = append(props, fmt.Sprintf(`"f%03d": "v%d"`, i, i))
	}
	text := `{"type": "FeatureCollection", "id": "wide", "title": {"zh": "宽", "en": "Wide"},
	  "geometryType": "Point", "schema": [` + strings.Join(schema, ", ") + `],
	  "features": [{"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": [121.4, 32.1]},
	    "properties": {` + strings.Join(props, ", ") + `}}]}`
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "wide.geojson", text))
	it, err := s.Item(ctx, "wide", 1)
	if err != nil {
		t.Fatal(err)
	}
	f := layers.Feature{Properties: maps.Clone(it.Properties()), Geometry: it.Geometry()}
	for i := range n {
		f.Properties[fmt.Sprintf("f%03d", i)] = "new"
	}
	if _, err := s.Replace(ctx, "wide", 1, f, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions(ctx, "wide", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[1].Item == nil {
		t.Fatalf("versions %+v: want the first one kept", vs)
	}
	for i := range n {
		name := fmt.Sprintf("f%03d", i)
		if got, want := vs[1].Item.Properties()[name], fmt.Sprintf("v%d", i); got != want {
			t.Errorf("first version's %s = %v, want %s", name, got, want)
		}
	}
}
