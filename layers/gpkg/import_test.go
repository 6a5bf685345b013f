package gpkg_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// openFile writes data to a file and opens it as planmap import does.
func openFile(t *testing.T, name string, data []byte) *layers.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := layers.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile(%s): %v", name, err)
	}
	return f
}

func rawDB(t *testing.T, s *gpkg.Store) *sql.DB {
	t.Helper()
	// Waiting for a lock, as GDAL and QGIS do: the store takes the write
	// lock by itself at times (putting triggers back, following columns).
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkLoadedRTree fails unless the R-tree of layer id passes SQLite's own
// rtreecheck and holds exactly the boxes the R-tree module makes of the
// layer's geometries when they are inserted one by one.
func checkLoadedRTree(t *testing.T, db *sql.DB, id string) {
	t.Helper()
	var res string
	if err := db.QueryRow(`SELECT rtreecheck(?)`, "rtree_"+id+"_geom").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("rtreecheck(rtree_%s_geom) = %q, %v; want ok", id, res, err)
	}
	for _, q := range []string{
		`DROP TABLE IF EXISTS temp.want`,
		`CREATE VIRTUAL TABLE temp.want USING rtree(id, minx, maxx, miny, maxy)`,
		`INSERT INTO temp.want SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM "` + id + `"`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var diff int
	err := db.QueryRow(`SELECT count(*) FROM (
		SELECT * FROM (SELECT * FROM temp.want EXCEPT SELECT * FROM "rtree_` + id + `_geom")
		UNION ALL SELECT * FROM (SELECT * FROM "rtree_` + id + `_geom" EXCEPT SELECT * FROM temp.want))`).Scan(&diff)
	if err != nil || diff != 0 {
		t.Fatalf("R-tree of %s differs from one built by inserts in %d rows (%v)", id, diff, err)
	}
}

// An update that sets geom to the bytes it had (an import or an edit of
// properties) leaves the feature's box in the R-tree alone; one that
// changes the geometry still moves it. The box of parcel 7 is first made
// wrong by hand, so that an update that rewrote it would show.
func TestRTreeKeepsBoxOfSameGeometry(t *testing.T) {
	s := layerstest.MustOpen(t)
	text := readTestdata(t, "parcels.geojson")
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", text))
	db := rawDB(t, s)
	if _, err := db.Exec(`UPDATE rtree_parcels_geom SET minx = minx - 1 WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	minx := func() float64 {
		t.Helper()
		var x float64
		if err := db.QueryRow(`SELECT minx FROM rtree_parcels_geom WHERE id = 7`).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	marked := minx()
	// The three ways a feature's properties change: an import of the file
	// with one name changed, an edit through the store, another program's
	// UPDATE that sets geom too.
	renamed := strings.Replace(text, `"name_zh": "`, `"name_zh": "改`, 1)
	if renamed == text {
		t.Fatal("the test file has no name_zh to change")
	}
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", renamed))
	if _, err := s.Replace(ctx, "parcels", 7, edited(t, s, "parcels", 7, "只改名"), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE parcels SET geom = geom, name_zh = '又改名' WHERE fid = 7`); err != nil {
		t.Fatal(err)
	}
	if x := minx(); x != marked {
		t.Errorf("an update of properties alone rewrote parcel 7's box: minx %v, the mark %v", x, marked)
	}
	moved := edited(t, s, "parcels", 7, "移动")
	moved.Geometry = project.Geometry(orb.Clone(moved.Geometry), func(p orb.Point) orb.Point { return orb.Point{p[0] + 0.001, p[1]} })
	if _, err := s.Replace(ctx, "parcels", 7, moved, "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if x := minx(); x == marked {
		t.Error("a moved parcel 7 kept its box")
	}
	checkLoadedRTree(t, db, "parcels")
}

// TestImportLoadsRTree checks the R-tree that an import of a new or
// replaced layer loads in one go, and that the R-tree module keeps it
// right through later imports into it.
func TestImportLoadsRTree(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", layerstest.Parcels(5000)))
	db := rawDB(t, s)
	checkLoadedRTree(t, db, "parcels")

	t.Run("AddAndUpdate", func(t *testing.T) {
		moved := `{"type": "FeatureCollection", "id": "parcels", "features": [
			{"type": "Feature", "id": 7, "properties": {"name_zh": "7号地块", "status": "planned"},
			 "geometry": {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.001, 31.0], [121.001, 31.001], [121.0, 31.0]]]}},
			{"type": "Feature", "id": 9001, "properties": {"name_zh": "新地块", "status": "planned"},
			 "geometry": {"type": "Polygon", "coordinates": [[[121.9, 32.5], [121.901, 32.5], [121.901, 32.501], [121.9, 32.5]]]}}]}`
		mustImport(t, s, layers.ImportOptions{}, openFile(t, "moved.geojson", []byte(moved)))
		checkLoadedRTree(t, db, "parcels")
	})
	t.Run("Replace", func(t *testing.T) {
		mustImport(t, s, layers.ImportOptions{Replace: true}, openFile(t, "parcels.geojson", layerstest.Parcels(700)))
		checkLoadedRTree(t, db, "parcels")
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM rtree_parcels_geom`).Scan(&n); err != nil || n != 700 {
			t.Errorf("R-tree holds %d boxes (%v), want 700", n, err)
		}
	})
}

// TestImportIntoBigLayerReadsOnlyItsFeatures imports 3 features into a
// layer whose other features cannot be read: their geometries are made
// garbage behind the triggers' back, except along the layer's edges. An
// import that scans the layer (for its extent, a recheck, a count) fails
// on them; one that costs O(k) does not notice.
func TestImportIntoBigLayerReadsOnlyItsFeatures(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", layerstest.Parcels(3000)))
	db := rawDB(t, s)
	var before [4]float64
	if err := db.QueryRow(`SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'parcels'`).Scan(&before[0], &before[1], &before[2], &before[3]); err != nil {
		t.Fatal(err)
	}
	// The update triggers would refuse the garbage: they are set aside
	// while it is written, and put back as they were.
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'parcels' AND name LIKE '%update%'`)
	if err != nil {
		t.Fatal(err)
	}
	triggers := map[string]string{}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		triggers[name] = q
	}
	rows.Close()
	if len(triggers) < 2 {
		t.Fatalf("parcels has update triggers %v", triggers)
	}
	for name := range triggers {
		if _, err := db.Exec(`DROP TRIGGER "` + name + `"`); err != nil {
			t.Fatal(err)
		}
	}
	cell := layerstest.ParcelsCell
	res, err := db.Exec(`UPDATE parcels SET geom = X'00' WHERE fid IN (SELECT id FROM rtree_parcels_geom
		WHERE minx > ? AND maxx < ? AND miny > ? AND maxy < ?)`, before[0]+cell, before[2]-cell, before[1]+cell, before[3]-cell)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n < 1500 {
		t.Fatalf("%d features made unreadable, want the 3 inner rows of 5", n)
	}
	for _, q := range triggers {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var seq0 int64
	if err := db.QueryRow(`SELECT coalesce(max(seq), 0) FROM planmap_changes`).Scan(&seq0); err != nil {
		t.Fatal(err)
	}

	// Features 1201 to 1203 are in the third row of the grid, inside.
	var feats []string
	for id := 1201; id <= 1203; id++ {
		x := layerstest.ParcelsWest + float64(id-1-1200)*cell + 0.0002
		y := layerstest.ParcelsSouth + 2*cell + 0.0002
		feats = append(feats, fmt.Sprintf(`{"type": "Feature", "id": %d, "properties": {"name_zh": "%d号地块", "status": "signed"},
			"geometry": {"type": "MultiPolygon", "coordinates": [[[[%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f]]]]}}`,
			id, id, x, y, x+0.0003, y, x+0.0003, y+0.0003, x, y))
	}
	file := `{"type": "FeatureCollection", "id": "parcels", "features": [` + strings.Join(feats, ",") + `]}`
	res3 := mustImport(t, s, layers.ImportOptions{}, openFile(t, "three.geojson", []byte(file)))
	if len(res3) != 1 || res3[0].Written != 3 {
		t.Fatalf("import of 3 features = %+v", res3)
	}
	var after [4]float64
	if err := db.QueryRow(`SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'parcels'`).Scan(&after[0], &after[1], &after[2], &after[3]); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("gpkg_contents extent after the import = %v, want %v as before", after, before)
	}
	// One change row per feature written.
	var ops []string
	rows, err = db.Query(`SELECT fid || ' ' || op FROM planmap_changes WHERE seq > ? ORDER BY seq`, seq0)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var op string
		rows.Scan(&op)
		ops = append(ops, op)
	}
	rows.Close()
	if got, want := strings.Join(ops, ", "), "1201 update, 1202 update, 1203 update"; got != want {
		t.Errorf("change log after the import: %s, want %s", got, want)
	}
}

// TestImportCanceledLandsNothing cancels an import while it writes (once
// 2,000 features are written): it ends with the context's error, writes
// no further feature, leaves no trace of the layer, and the next import
// of the same file lands whole.
func TestImportCanceledLandsNothing(t *testing.T) {
	s := layerstest.MustOpen(t)
	data := layerstest.Parcels(30_000)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	last := 0
	opt := layers.ImportOptions{Progress: func(_ string, done, _ int) {
		last = done
		if done >= 2000 {
			cancel()
		}
	}}
	_, err := s.Import(cctx, []*layers.File{openFile(t, "parcels.geojson", data)}, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Import: %v, want %v", err, context.Canceled)
	}
	if last != 2000 {
		t.Errorf("progress went on to %d features after the cancel at 2000", last)
	}
	var n int
	if err := rawDB(t, s).QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE '%parcels%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the canceled import left %d tables, indexes or triggers of parcels", n)
	}
	res := mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", data))
	if !res[0].Created || res[0].Written != 30_000 {
		t.Fatalf("import after the canceled one: %+v, want parcels created with 30000 features", res[0])
	}
}

// TestImportIntoLayerBatched updates 300 features of a stored layer, in
// statements of many rows and a shorter last one: every feature gets its
// new values, and the change log one update row for each.
func TestImportIntoLayerBatched(t *testing.T) {
	s := layerstest.MustOpen(t)
	data := layerstest.Parcels(300)
	mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", data))
	db := rawDB(t, s)
	var seq int64
	if err := db.QueryRow(`SELECT max(seq) FROM planmap_changes`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	changed := bytes.ReplaceAll(data, []byte(`"name_zh": "`), []byte(`"name_zh": "改`))
	res := mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", changed))
	if res[0].Created || res[0].Written != 300 {
		t.Fatalf("second import: %+v, want parcels updated with 300 features", res[0])
	}
	var n, renamed int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE name_zh = '改' || fid || '号地块') FROM parcels`).Scan(&n, &renamed); err != nil {
		t.Fatal(err)
	}
	if n != 300 || renamed != 300 {
		t.Errorf("%d features, %d of them with the new name; want 300 and 300", n, renamed)
	}
	var rows, fids, updates int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT fid), count(*) FILTER (WHERE op = 'update')
		FROM planmap_changes WHERE seq > ? AND layer = 'parcels'`, seq).Scan(&rows, &fids, &updates); err != nil {
		t.Fatal(err)
	}
	if rows != 300 || fids != 300 || updates != 300 {
		t.Errorf("change log after the second import: %d rows, %d features, %d updates; want 300 each", rows, fids, updates)
	}
}

// TestImportNamesTheFailingFeature: a write of features that breaks a
// constraint only the database knows, which another program added, names
// the feature whose row breaks it, though the rows go 64 to a statement;
// and nothing of the import lands. A trigger that ends the transaction
// (RAISE(ROLLBACK)) leaves nothing to look in: the batch is named.
func TestImportNamesTheFailingFeature(t *testing.T) {
	const trigger = `CREATE TRIGGER refuse BEFORE UPDATE ON parcels WHEN NEW.name_zh = '改7号地块' AND NEW.fid <> 7
		BEGIN SELECT RAISE(%s, 'a name taken'); END`
	tests := []struct {
		name, sql, want string
	}{
		{"UniqueIndex", `CREATE UNIQUE INDEX parcels_name_zh ON parcels (name_zh)`, "feature 140: constraint failed: UNIQUE constraint failed: parcels.name_zh"},
		{"Trigger", fmt.Sprintf(trigger, "ABORT"), "feature 140: constraint failed: a name taken"},
		{"TriggerEndsTheTransaction", fmt.Sprintf(trigger, "ROLLBACK"), "the 64 features up to feature 192: constraint failed: a name taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := layerstest.MustOpen(t)
			data := layerstest.Parcels(300)
			mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", data))
			db := rawDB(t, s)
			if _, err := db.Exec(tt.sql); err != nil {
				t.Fatal(err)
			}
			var seq int64
			if err := db.QueryRow(`SELECT max(seq) FROM planmap_changes`).Scan(&seq); err != nil {
				t.Fatal(err)
			}
			// Every name changed, and feature 140 given feature 7's new
			// one: the statement of rows 129-192 fails.
			changed := bytes.ReplaceAll(data, []byte(`"name_zh": "`), []byte(`"name_zh": "改`))
			changed = bytes.Replace(changed, []byte(`"改140号地块"`), []byte(`"改7号地块"`), 1)
			_, err := s.Import(ctx, []*layers.File{openFile(t, "parcels.geojson", changed)}, layers.ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), "parcels.geojson: "+tt.want) {
				t.Fatalf("import with feature 140's name taken: %v; want parcels.geojson: %s", err, tt.want)
			}
			var renamed int
			var last int64
			if err := db.QueryRow(`SELECT count(*) FILTER (WHERE name_zh LIKE '改%'), (SELECT max(seq) FROM planmap_changes) FROM parcels`).Scan(&renamed, &last); err != nil {
				t.Fatal(err)
			}
			if renamed != 0 || last != seq {
				t.Errorf("after the failed import: %d features renamed, the log at change %d; want 0 and %d", renamed, last, seq)
			}
			// Mended, the file imports whole.
			mended := bytes.Replace(changed, []byte(`"id": 140, "properties": {"name_zh": "改7号地块"`), []byte(`"id": 140, "properties": {"name_zh": "改140号地块"`), 1)
			if bytes.Equal(mended, changed) {
				t.Fatal("the test's mend changed nothing: the layer file's layout moved")
			}
			mustImport(t, s, layers.ImportOptions{}, openFile(t, "parcels.geojson", mended))
		})
	}
}
