package gpkg_test

import (
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// gpkgState is what a GeoPackage reader sees of the file's header and
// registrations.
type gpkgState struct {
	userVersion uint32
	triggers    []string // of the parcels R-tree, sorted
	extensions  []string // table/extension rows of gpkg_extensions, sorted
	contents    []string // table_name/data_type rows of gpkg_contents, sorted
	styles      int      // planmap's rows in layer_styles for parcels
}

func readGPKGState(t *testing.T, path string) gpkgState {
	t.Helper()
	var st gpkgState
	header := make([]byte, 100)
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fh.Read(header)
	fh.Close()
	st.userVersion = binary.BigEndian.Uint32(header[60:])
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list := func(q string) []string {
		out := column(t, db, q)
		sort.Strings(out)
		return out
	}
	st.triggers = list(`SELECT substr(name, length('rtree_parcels_geom_') + 1) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_parcels_geom_%'`)
	st.extensions = list(`SELECT coalesce(table_name, '') || '/' || extension_name FROM gpkg_extensions`)
	st.contents = list(`SELECT table_name || '/' || data_type FROM gpkg_contents`)
	db.QueryRow(`SELECT count(*) FROM layer_styles WHERE f_table_name = 'parcels' AND owner = 'planmap' AND useAsDefault`).Scan(&st.styles)
	return st
}

// checkGPKG13 checks that path is the GeoPackage 1.3 planmap writes.
func checkGPKG13(t *testing.T, path string) {
	t.Helper()
	st := readGPKGState(t, path)
	if st.userVersion != 10300 {
		t.Errorf("user_version = %d, want 10300", st.userVersion)
	}
	if got, want := strings.Join(st.triggers, " "), "delete insert update1 update2 update3 update4"; got != want {
		t.Errorf("R-tree triggers of parcels = %s, want the GeoPackage 1.3 set %s", got, want)
	}
	if got, want := strings.Join(st.extensions, " "), "parcels/gpkg_rtree_index"; got != want {
		t.Errorf("gpkg_extensions = %s, want only %s", got, want)
	}
	if got, want := strings.Join(st.contents, " "), "layer_styles/attributes parcels/features"; got != want {
		t.Errorf("gpkg_contents = %s, want %s (planmap's own tables stay out)", got, want)
	}
	if st.styles != 1 {
		t.Errorf("layer_styles has %d default styles of parcels by planmap, want 1", st.styles)
	}
}

// checkRTree checks that the R-tree index of parcels holds the box of
// every feature and nothing else, and that a box query finds the feature
// at p.
func checkRTree(t *testing.T, s *gpkg.Store, p orb.Point) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var features, boxes, wrong int
	db.QueryRow(`SELECT count(*) FROM parcels`).Scan(&features)
	db.QueryRow(`SELECT count(*) FROM rtree_parcels_geom`).Scan(&boxes)
	// The R-tree stores single-precision boxes, rounded outward.
	if err := db.QueryRow(`SELECT count(*) FROM parcels f LEFT JOIN rtree_parcels_geom r ON r.id = f.fid
		WHERE r.id IS NULL OR abs(r.minx - ST_MinX(f.geom)) > 1e-4 OR abs(r.maxx - ST_MaxX(f.geom)) > 1e-4
		OR abs(r.miny - ST_MinY(f.geom)) > 1e-4 OR abs(r.maxy - ST_MaxY(f.geom)) > 1e-4`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if boxes != features || wrong != 0 {
		t.Errorf("R-tree: %d boxes for %d features, %d missing or wrong", boxes, features, wrong)
	}
	box := orb.Bound{Min: p, Max: p}
	if n, err := s.Count(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{box}}); err != nil || n != 1 {
		t.Errorf("Count at %v = %d, %v; want 1", p, n, err)
	}
}

// upsertMoved updates parcel 1 in place by id (an UPSERT, as import does)
// to a triangle around (121.05, 32.03).
func upsertMoved(t *testing.T, s *gpkg.Store) orb.Point {
	t.Helper()
	update := `{"type": "FeatureCollection", "name": "parcels", "features": [
	  {"type": "Feature", "id": 1, "properties": {"name_zh": "一号地块（改）", "status": "signed"},
	   "geometry": {"type": "Polygon", "coordinates": [[[121.0, 32.0], [121.1, 32.0], [121.1, 32.1], [121.0, 32.0]]]}}]}`
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "update.geojson", update))
	return orb.Point{121.08, 32.01}
}

func TestNewStoreIsGeoPackage13(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	checkRTree(t, s, upsertMoved(t, s))
	checkGPKG13(t, s.Path())
	validateWithGDAL(t, s.Path(), map[string]int{"parcels": 3})
}

// testdata/planmap-1.4.gpkg was written by planmap before GeoPackage 1.3
// (commit e69e593: planmap import of parcels.geojson, then planmap export
// -o): user_version 10400, the 1.4 R-tree triggers and the 1.3 names
// update1 and update3, and planmap_layers registered as an extension.
func TestMigratesGeoPackage14InPlace(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "planmap-1.4.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "planmap.gpkg")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	before := readGPKGState(t, path)
	if before.userVersion != 10400 || len(before.triggers) != 9 {
		t.Fatalf("the fixture is not a planmap GeoPackage 1.4: %+v", before)
	}
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.Created() {
		t.Error("Open created the database instead of migrating it")
	}
	checkGPKG13(t, path)
	if n, _ := s.Count(ctx, "parcels", layers.Filter{}); n != 3 {
		t.Errorf("Count after the migration = %d, want the 3 features", n)
	}
	checkRTree(t, s, upsertMoved(t, s))
	validateWithGDAL(t, path, map[string]int{"parcels": 3})
}

// styleRows returns the QML of every style row of layer id.
func styleRows(t *testing.T, s *gpkg.Store, id string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT styleQML FROM layer_styles WHERE f_table_name = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var q string
		rows.Scan(&q)
		out = append(out, q)
	}
	return out
}

// The QGIS style is rewritten, in the same transaction, whenever a
// layer's declaration changes.
func TestStyleFollowsDeclaration(t *testing.T) {
	s := layerstest.MustOpen(t)
	text := readTestdata(t, "parcels.geojson")
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", text))
	qml := styleRows(t, s, "parcels")
	if len(qml) != 1 || !strings.Contains(qml[0], `type="singleSymbol"`) || !strings.Contains(qml[0], `v="127,95,63,153"`) {
		t.Fatalf("style of parcels = %q, want one single symbol filled #7f5f3f at 0.6", qml)
	}
	// A new fill colour and a land-use field.
	changed := strings.Replace(text, `"fillColor": "#7f5f3f"`, `"fillColor": "#112233"`, 1)
	changed = strings.Replace(changed, `"schema": [`, `"schema": [{"name": "landuse_gb50137", "type": "string", "description": {"zh": "用地", "en": "Land use"}},`, 1)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", changed))
	qml = styleRows(t, s, "parcels")
	if len(qml) != 1 || !strings.Contains(qml[0], `type="categorizedSymbol"`) || !strings.Contains(qml[0], `v="17,34,51,153"`) {
		t.Errorf("style of parcels after the import = %q, want one categorized style with the new fill for the unclassed", qml)
	}
	mustImport(t, s, layers.ImportOptions{Replace: true}, parseText(t, "parcels.geojson", text))
	if qml = styleRows(t, s, "parcels"); len(qml) != 1 || !strings.Contains(qml[0], `type="singleSymbol"`) {
		t.Errorf("style of parcels after --replace = %q, want one single symbol again", qml)
	}
}

// testdata/planmap-0003.gpkg was written by the release before the change
// log (commit e4e3471, migrations 0001 to 0003; make_planmap_0003.sh says
// how): the seed layers terminals and roads, six features each. Opened
// with today's store it gets the change log in place: one 'layer' row and
// three triggers per layer, and every edit after that is logged, whoever
// makes it.
func TestMigratesChangeLogInPlace(t *testing.T) {
	path := fixtureCopy(t, "planmap-0003.gpkg")
	query := readOnlyQuery(t, path, column)
	const changeTriggers = `SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'planmap_changes_%' ORDER BY name`
	if got := strings.Join(query(`SELECT name FROM planmap_migrations ORDER BY version`), " "); got != "0001_geopackage.sql 0002_layers.sql 0003_geopackage_1_3.sql" {
		t.Fatalf("the fixture is not a database of migration 0003: its migrations are %s", got)
	}
	if got := query(`SELECT name FROM sqlite_master WHERE name = 'planmap_changes'`); len(got) != 0 {
		t.Fatalf("the fixture already has a change log")
	}

	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.Created() {
		t.Error("Open created the database instead of migrating it")
	}
	if got := query(`SELECT name FROM planmap_migrations WHERE version = 4`); len(got) != 1 || got[0] != "0004_change_log.sql" {
		t.Errorf("migration 4 recorded as %v, want 0004_change_log.sql", got)
	}
	if got, want := strings.Join(query(`SELECT layer || '/' || fid || '/' || op FROM planmap_changes ORDER BY layer`), " "), "roads/0/layer terminals/0/layer"; got != want {
		t.Errorf("change log after the migration = %s, want %s", got, want)
	}
	if got, want := strings.Join(query(changeTriggers), " "),
		"planmap_changes_roads_delete planmap_changes_roads_insert planmap_changes_roads_update "+
			"planmap_changes_terminals_delete planmap_changes_terminals_insert planmap_changes_terminals_update"; got != want {
		t.Errorf("change log triggers = %s, want %s", got, want)
	}

	// Reads work, from the catalog to the features.
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	for _, id := range []string{"terminals", "roads"} {
		col, ok := cat.Collection(id)
		if !ok || col.Count != 6 || col.Extent.IsZero() {
			t.Errorf("Collection(%s) = %+v, %v; want 6 features and an extent", id, col, ok)
			continue
		}
		page, matched, err := s.Items(ctx, id, layers.Filter{BBoxes: []orb.Bound{col.Extent}}, layers.Page{Limit: 10})
		if err != nil || matched != 6 || len(page) != 6 {
			t.Errorf("Items(%s, its extent) = %d features, matched %d, %v; want 6", id, len(page), matched, err)
		}
	}
	it, err := s.Item(ctx, "terminals", 1)
	if err != nil || it.Properties()["name_zh"] != "2万吨级通用码头（东灶港码头）" {
		t.Fatalf("Item(terminals, 1) = %v, %v", it, err)
	}
	if cs, err := s.Changes(ctx, 0, 10); err != nil || len(cs) != 2 || cs[len(cs)-1].Seq != cat.Seq {
		t.Errorf("Changes(0) = %+v, %v; want the two layer rows, the last at the catalog's seq %d", cs, err, cat.Seq)
	}

	// An edit by another client is logged and followed.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE terminals SET name_zh = '改名的码头' WHERE fid = 1`); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(query(`SELECT layer || '/' || fid || '/' || op FROM planmap_changes WHERE seq > ?`, cat.Seq), " "); got != "terminals/1/update" {
		t.Errorf("change log after an UPDATE of terminal 1 = %q, want terminals/1/update", got)
	}
	start := time.Now()
	for {
		next, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if next.Seq > cat.Seq {
			was, _ := cat.Collection("terminals")
			now, _ := next.Collection("terminals")
			if now.Version == was.Version {
				t.Errorf("terminals kept its version %s after an edit", now.Version)
			}
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the catalog is still at seq %d %v after an edit", next.Seq, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if it, err := s.Item(ctx, "terminals", 1); err != nil || it.Properties()["name_zh"] != "改名的码头" {
		t.Errorf("Item(terminals, 1) after the edit = %v, %v", it, err)
	}
	validateWithGDAL(t, path, map[string]int{"terminals": 6, "roads": 6})
}

// fixtureCopy copies layers/testdata/name, a database written by an
// earlier release, to a temporary file, so a test can migrate it in place.
func fixtureCopy(t *testing.T, name string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "planmap.gpkg")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readOnlyQuery returns a query of the database at path through read,
// each on its own read-only connection, so that it sees what the store
// committed and cannot change it.
func readOnlyQuery[T any](t *testing.T, path string, read func(*testing.T, *sql.DB, string, ...any) T) func(string, ...any) T {
	return func(q string, args ...any) T {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return read(t, db, q, args...)
	}
}

// column returns the first column of what q selects, as text.
func column(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// testdata/planmap-0007.gpkg was written by the release before the flags
// of direct edits were kept (commit 3c3326b, migrations 0001 to 0007;
// make_planmap_0007.sh says how): the seed boundary and terminals. Opened
// with today's store it gets planmap_problems in place, and a feature that
// another program breaks stays flagged when the store is opened again.
func TestMigratesDirectProblemsInPlace(t *testing.T) {
	path := fixtureCopy(t, "planmap-0007.gpkg")
	query := readOnlyQuery(t, path, column)
	if got := query(`SELECT max(version) FROM planmap_migrations`); len(got) != 1 || got[0] != "7" {
		t.Fatalf("the fixture is not a database of migration 0007: its last migration is %v", got)
	}
	if got := query(`SELECT name FROM sqlite_master WHERE name = 'planmap_problems'`); len(got) != 0 {
		t.Fatalf("the fixture already has planmap_problems")
	}

	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if s.Created() {
		t.Error("Open created the database instead of migrating it")
	}
	if got := query(`SELECT name FROM planmap_migrations WHERE version = 8`); len(got) != 1 || got[0] != "0008_direct_problems.sql" {
		t.Errorf("migration 8 recorded as %v, want 0008_direct_problems.sql", got)
	}
	// Migration 9 rewrote each layer's R-tree triggers: update1 leaves the
	// box of a geometry set to the same bytes alone.
	for _, id := range []string{"boundary", "terminals"} {
		got := query(`SELECT sql FROM sqlite_master WHERE name = 'rtree_` + id + `_geom_update1'`)
		if len(got) != 1 || !strings.Contains(got[0], "NEW.geom IS NOT OLD.geom") {
			t.Errorf("the R-tree trigger update1 of %s after migration 9 = %q", id, got)
		}
	}
	// Migration 10 made planmap_writes, empty: the writes before it are
	// told by the history. Planmap's writes from now on record their
	// changes there; a direct edit does not.
	if got := query(`SELECT count(*) FROM planmap_writes`); len(got) != 1 || got[0] != "0" {
		t.Errorf("planmap_writes after migration 10 holds %v rows, want none", got)
	}
	if _, err := s.Catalog(ctx); err != nil {
		t.Fatal(err)
	}
	other := layerstest.OpenOtherClient(t, path)
	if err := other.Exec(ctx, `UPDATE terminals SET status = 'bogus' WHERE fid = 2`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "terminal 2 flagged", func() bool { return s.Problem("terminals", 2) != "" })
	if _, err := other.Replace(ctx, "terminals", 3, edited(t, other.Store, "terminals", 3, "三"), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if got := query(`SELECT last - first FROM planmap_writes`); len(got) != 1 || got[0] != "1" {
		t.Errorf("planmap_writes after an edit of one feature = %v, want one range of one change", got)
	}
	want := s.Problem("terminals", 2)
	s.Close()

	s, err = gpkg.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s.Close()
	if p := s.Problem("terminals", 2); p != want || !strings.Contains(p, "status") {
		t.Errorf("Problem(terminals, 2) opened again = %q, want %q, naming status", p, want)
	}
	if got := query(`SELECT layer || ' ' || fid FROM planmap_problems`); len(got) != 1 || got[0] != "terminals 2" {
		t.Errorf("planmap_problems = %q, want terminals 2", got)
	}
	validateWithGDAL(t, path, map[string]int{"boundary": 1, "terminals": 6})
}
