package gpkg_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

var ctx = context.Background()

// parcelsWith returns testdata/parcels.geojson with old replaced by new,
// failing if old is not there.
func parcelsWith(t *testing.T, old, new string) string {
	t.Helper()
	text := readTestdata(t, "parcels.geojson")
	if !strings.Contains(text, old) {
		t.Fatalf("parcels.geojson has no %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

// readTestdata reads a file of the domain's test data, which the store's
// tests share.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseText(t *testing.T, name, text string) *layers.File {
	t.Helper()
	f, err := layers.ParseFile(name, []byte(text))
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return f
}

func mustImport(t *testing.T, s *gpkg.Store, opt layers.ImportOptions, files ...*layers.File) []layers.ImportResult {
	t.Helper()
	r, err := s.Import(ctx, files, opt)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return r
}

func exportText(t *testing.T, s *gpkg.Store, id string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteGeoJSON(ctx, &b, id, nil); err != nil {
		t.Fatalf("WriteGeoJSON(%s): %v", id, err)
	}
	return b.String()
}

// snapshot is everything a user can see in the store, to tell whether a
// failed operation changed anything.
func snapshot(t *testing.T, s *gpkg.Store) string {
	t.Helper()
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range info {
		b.WriteString(exportText(t, s, l.ID))
	}
	return b.String()
}

func TestOpenCreatesGeoPackage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "planmap.gpkg")
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Created() {
		t.Error("Created() = false for a new file")
	}
	s.Close()
	header := make([]byte, 100)
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fh.Read(header)
	fh.Close()
	if id := binary.BigEndian.Uint32(header[68:]); id != 0x47504B47 {
		t.Errorf("application_id in the file header = %#x, want GPKG", id)
	}
	if v := binary.BigEndian.Uint32(header[60:]); v != 10300 {
		t.Errorf("user_version in the file header = %d, want 10300", v)
	}
	s, err = gpkg.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if s.Created() {
		t.Error("Created() = true for an existing file")
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.gpkg")
	os.WriteFile(text, []byte("these are not the layers you are looking for\n"), 0o644)

	plain := filepath.Join(dir, "plain.sqlite")
	db, err := sql.Open("sqlite", plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	empty := filepath.Join(dir, "empty.gpkg")
	os.WriteFile(empty, nil, 0o644)

	cases := []struct{ name, path, want string }{
		{"ErrEmpty", empty, "is an empty file, not a planmap database; planmap will not touch it"},
		{"ErrText", text, "is not an SQLite database"},
		{"ErrPlainSQLite", plain, "is an SQLite database but not a GeoPackage"},
	}
	if ogr, err := exec.LookPath("ogr2ogr"); err == nil || os.Getenv("PLANMAP_REQUIRE_TOOLS") == "1" {
		ogr = layerstest.RequireTool(t, "ogr2ogr")
		gdal := filepath.Join(dir, "gdal.gpkg")
		if out, err := exec.Command(ogr, "-f", "GPKG", gdal, "../testdata/parcels.geojson").CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr: %v\n%s", err, out)
		}
		cases = append(cases, struct{ name, path, want string }{"ErrOtherGeoPackage", gdal, "is a GeoPackage but not a planmap database"})
		// The same in WAL mode, as QGIS leaves a file it has edited.
		wal := filepath.Join(t.TempDir(), "wal.gpkg")
		if out, err := exec.Command(ogr, "-f", "GPKG", wal, "../testdata/parcels.geojson").CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr: %v\n%s", err, out)
		}
		db, _ := sql.Open("sqlite", wal)
		if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		cases = append(cases, struct{ name, path, want string }{"ErrOtherGeoPackageInWAL", wal, "is a GeoPackage but not a planmap database"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := layerstest.FileState(t, c.path)
			s, err := gpkg.Open(ctx, c.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", c.path)
			}
			if layers.ErrorCode(err) != layers.EFOREIGN || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open(%s) = %v (code %s), want EFOREIGN with %q", c.path, err, layers.ErrorCode(err), c.want)
			}
			if after := layerstest.FileState(t, c.path); after != before {
				t.Errorf("Open modified the file or its folder:\nbefore %s\nafter  %s", before, after)
			}
			if s, err := gpkg.OpenReadOnly(ctx, c.path); err == nil || layers.ErrorCode(err) != layers.EFOREIGN {
				if err == nil {
					s.Close()
				}
				t.Errorf("OpenReadOnly(%s) = %v (code %s), want EFOREIGN", c.path, err, layers.ErrorCode(err))
			}
		})
	}
}

func TestImportAndRead(t *testing.T) {
	s := layerstest.MustOpen(t)
	res := mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	if len(res) != 1 || !res[0].Created || res[0].Written != 3 {
		t.Fatalf("Import = %+v, want parcels created with 3 features", res)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(info) != 1 || info[0].ID != "parcels" || info[0].Count != 3 || info[0].Title.Zh != "测试地块" {
		t.Fatalf("Info = %+v", info)
	}
	if want := [4]float64{121.4, 32.05, 121.53, 32.12}; info[0].Extent != want {
		t.Errorf("Extent = %v, want %v", info[0].Extent, want)
	}

	f, err := s.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name_zh": "一号地块 <b>&", "name_en": `Parcel "one"`, "status": "planned", "berths": int64(8),
		"area_mu": 575.5, "public": true, "opened": "2021-09-26", "surveyed": "2020-11-02T00:30:00.000Z",
	}
	for k, v := range want {
		if f.Properties()[k] != v {
			t.Errorf("feature 1 %s = %#v, want %#v", k, f.Properties()[k], v)
		}
	}
	mp, ok := f.Geometry().(orb.MultiPolygon)
	if !ok {
		t.Fatalf("feature 1 geometry is %T, want a MultiPolygon", f.Geometry())
	}
	if o := mp[0][0].Orientation(); o != orb.CCW {
		t.Errorf("exterior ring orientation = %v, want counter-clockwise (it was drawn clockwise)", o)
	}
	f3, _ := s.Item(ctx, "parcels", 3)
	if o := f3.Geometry().(orb.MultiPolygon)[0][1].Orientation(); o != orb.CW {
		t.Errorf("hole orientation = %v, want clockwise", o)
	}

	if _, err := s.Item(ctx, "parcels", 99); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("Item(parcels, 99) error = %v, want ENOTFOUND", err)
	}
	if _, err := s.Layer(ctx, "nope"); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("Layer(nope) error = %v, want ENOTFOUND", err)
	}

	t.Run("BBoxThroughRTree", func(t *testing.T) {
		box := orb.Bound{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}}
		items, _, err := s.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{box}}, layers.Page{Limit: 10})
		if err != nil || len(items) != 1 || items[0].ID != 1 {
			t.Errorf("Items(bbox %v) = %v, %v; want [1]", box, items, err)
		}
		wide := orb.Bound{Min: orb.Point{121.45, 32.0}, Max: orb.Point{121.6, 32.2}}
		n, err := s.Count(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{wide}})
		if err != nil || n != 2 {
			t.Errorf("Count(bbox %v) = %d, %v; want 2", wide, n, err)
		}
		db, _ := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
		defer db.Close()
		var rows string
		db.QueryRow(`SELECT count(*) FROM rtree_parcels_geom`).Scan(&rows)
		plan := queryPlan(t, db, `SELECT fid FROM parcels WHERE fid IN (SELECT id FROM rtree_parcels_geom WHERE maxx >= 0 AND minx <= 1 AND maxy >= 0 AND miny <= 1)`)
		if rows != "3" {
			t.Errorf("rtree_parcels_geom has %s rows, want 3", rows)
		}
		if !strings.Contains(plan, "VIRTUAL TABLE INDEX") {
			t.Errorf("bbox query plan %q does not use the R-tree", plan)
		}
	})
	t.Run("LimitOffset", func(t *testing.T) {
		var ids []int64
		items, _, _ := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 2, Offset: 1})
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if len(ids) != 2 || ids[0] != 3 || ids[1] != 7 {
			t.Errorf("Features(limit 2, offset 1) ids = %v, want [3 7]", ids)
		}
	})
}

func queryPlan(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN " + q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

func TestImportUpdatesByID(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	update := `{"type": "FeatureCollection", "name": "parcels", "features": [
	  {"type": "Feature", "id": 1, "properties": {"name_zh": "一号地块（改）", "status": "signed"},
	   "geometry": {"type": "Polygon", "coordinates": [[[121.0, 32.0], [121.1, 32.0], [121.1, 32.1], [121.0, 32.0]]]}},
	  {"type": "Feature", "id": 9, "properties": {"name_zh": "九号地块", "status": "planned"},
	   "geometry": {"type": "Polygon", "coordinates": [[[121.2, 32.0], [121.3, 32.0], [121.3, 32.1], [121.2, 32.0]]]}}]}`
	res := mustImport(t, s, layers.ImportOptions{}, parseText(t, "update.geojson", update))
	if res[0].Created || res[0].Written != 2 {
		t.Errorf("Import = %+v, want 2 written into the existing layer", res[0])
	}
	n, _ := s.Count(ctx, "parcels", layers.Filter{})
	if n != 4 {
		t.Errorf("Count = %d, want 4 (3 + 1 new)", n)
	}
	f, _ := s.Item(ctx, "parcels", 1)
	if f.Properties()["name_zh"] != "一号地块（改）" || f.Properties()["berths"] != nil {
		t.Errorf("feature 1 properties = %v, want the new ones only", f.Properties())
	}
	box := orb.Bound{Min: orb.Point{121.05, 32.01}, Max: orb.Point{121.06, 32.02}}
	c, _ := s.Count(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{box}})
	if c != 1 {
		t.Errorf("Count at the moved feature = %d, want 1: the R-tree did not follow the update", c)
	}

	t.Run("Replace", func(t *testing.T) {
		res := mustImport(t, s, layers.ImportOptions{Replace: true}, parseText(t, "update.geojson", update))
		if res[0].Removed != 4 || res[0].Written != 2 {
			t.Errorf("Import(replace) = %+v, want 4 removed and 2 written", res[0])
		}
		if n, _ := s.Count(ctx, "parcels", layers.Filter{}); n != 2 {
			t.Errorf("Count after replace = %d, want 2", n)
		}
	})
}

func TestImportSchemaChanges(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))

	t.Run("AddField", func(t *testing.T) {
		text := parcelsWith(t, `{"name": "surveyed"`, `{"name": "note", "type": "string", "description": {"zh": "备注", "en": "Note"}},
    {"name": "surveyed"`)
		text = strings.Replace(text, `"status": "signed",`, `"status": "signed", "note": "三号",`, 1)
		mustImport(t, s, layers.ImportOptions{}, parseText(t, "p.geojson", text))
		f, _ := s.Item(ctx, "parcels", 3)
		if f.Properties()["note"] != "三号" {
			t.Errorf("feature 3 note = %v, want 三号", f.Properties()["note"])
		}
	})
	t.Run("ErrRetypeWithoutReplace", func(t *testing.T) {
		text := parcelsWith(t, `{"name": "area_mu", "type": "number"`, `{"name": "area_mu", "type": "integer"`)
		text = strings.Replace(text, "575.5", "575", 1)
		before := snapshot(t, s)
		_, err := s.Import(ctx, []*layers.File{parseText(t, "p.geojson", text)}, layers.ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), "field area_mu number → integer") || !strings.Contains(err.Error(), "--replace") {
			t.Fatalf("Import = %v, want a schema change refused", err)
		}
		if snapshot(t, s) != before {
			t.Error("a refused import changed the store")
		}
		mustImport(t, s, layers.ImportOptions{Replace: true}, parseText(t, "p.geojson", text))
		l, _ := s.Layer(ctx, "parcels")
		if l.Field("area_mu").Type != layers.Integer || l.Field("note") != nil {
			t.Errorf("after replace schema = %+v", l.Schema)
		}
	})
}

// A declaration that tightens the schema must not strand stored features
// that the layer's own export could not import again.
func TestImportTightenedSchema(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	before := snapshot(t, s)

	// name_en becomes required; only feature 1 has one, and the file
	// brings feature 1 alone.
	required := parcelsWith(t, `{"name": "name_en", "type": "string",`, `{"name": "name_en", "type": "string", "required": true,`)
	only1 := firstFeature(required)
	_, err := s.Import(ctx, []*layers.File{parseText(t, "p.geojson", only1)}, layers.ImportOptions{})
	for _, want := range []string{
		`p.geojson: layer parcels, stored feature 3: required property "name_en" is missing`,
		`p.geojson: layer parcels, stored feature 7: required property "name_en" is missing`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Import = %v\nwant %q", err, want)
		}
	}
	// Feature 3 is signed; "signed" leaves the allowed values.
	narrow := parcelsWith(t, `"values": ["planned", "signed", `, `"values": ["planned", `)
	narrow = firstFeature(narrow)
	_, err = s.Import(ctx, []*layers.File{parseText(t, "p.geojson", narrow)}, layers.ImportOptions{})
	if want := `stored feature 3: property "status" is "signed", no longer one of the allowed values (planned, under_construction, in_operation)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Import = %v\nwant %q", err, want)
	}
	if snapshot(t, s) != before {
		t.Error("a refused import changed the store")
	}
	// With --replace the layer becomes what the file says.
	mustImport(t, s, layers.ImportOptions{Replace: true}, parseText(t, "p.geojson", narrow))
	if n, _ := s.Count(ctx, "parcels", layers.Filter{}); n != 1 {
		t.Errorf("Count after replace = %d, want 1", n)
	}
}

// firstFeature cuts a copy of testdata/parcels.geojson down to its
// declaration and feature 1, which end on line 22.
func firstFeature(text string) string {
	lines := strings.Split(text, "\n")[:22]
	return strings.Join(lines, "\n")[:len(strings.Join(lines, "\n"))-1] + "\n]}"
}

func TestReadOnly(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	more := parseText(t, "more.geojson", strings.NewReplacer(`"id": 1,`, `"id": 11,`, `"id": 7,`, `"id": 17,`, `"id": 3,`, `"id": 13,`).Replace(readTestdata(t, "parcels.geojson")))
	var info []gpkg.LayerInfo
	var roErr error
	mustImport(t, s, layers.ImportOptions{Progress: func(string, int, int) {
		// While this import holds the write lock, a read-only open and
		// read go through at once.
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ro, err := gpkg.OpenReadOnly(rctx, s.Path())
		if err != nil {
			roErr = err
			return
		}
		defer ro.Close()
		info, roErr = ro.Info(rctx)
	}}, more)
	if roErr != nil || len(info) != 1 || info[0].Count != 3 {
		t.Errorf("OpenReadOnly + Info during an import = %+v, %v; want the 3 committed features", info, roErr)
	}
	ro, err := gpkg.OpenReadOnly(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Import(ctx, []*layers.File{more}, layers.ImportOptions{}); layers.ErrorCode(err) != layers.ECONFLICT {
		t.Errorf("Import on a read-only store = %v, want ECONFLICT", err)
	}
	if err := ro.ExportGPKG(ctx, filepath.Join(t.TempDir(), "copy.gpkg")); err != nil {
		t.Errorf("ExportGPKG from a read-only store: %v", err)
	}
	if _, err := gpkg.OpenReadOnly(ctx, filepath.Join(t.TempDir(), "none.gpkg")); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("OpenReadOnly(missing) = %v, want ENOTFOUND", err)
	}
	for _, target := range []string{s.Path(), s.Path() + "-wal"} {
		if err := s.ExportGPKG(ctx, target); err == nil || !strings.Contains(err.Error(), "is the database itself") {
			t.Errorf("ExportGPKG(%s) = %v, want refused", filepath.Base(target), err)
		}
	}
	if n, _ := s.Count(ctx, "parcels", layers.Filter{}); n != 6 {
		t.Errorf("the database lost features: %d, want 6", n)
	}
}

// TestImportValidatesDeclarations: a File built by code rather than by
// ParseFile is checked by the store too, and nothing of its declaration
// reaches SQL unchecked.
func TestImportValidatesDeclarations(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	before := snapshot(t, s)
	layer := func(change func(l *layers.Layer)) *layers.Layer {
		l := &layers.Layer{ID: "hand", Title: layers.Text{Zh: "手工", En: "By hand"}, GeometryType: "Point",
			Schema: []layers.Field{{Name: "name_zh", Type: layers.String}}}
		change(l)
		return l
	}
	tests := []struct {
		name  string
		layer *layers.Layer
		want  string
	}{
		{"ErrGeometryTypeSQL", layer(func(l *layers.Layer) { l.GeometryType = "POINT NOT NULL); DROP TABLE planmap_layers; --" }),
			`hand.geojson: geometryType "POINT NOT NULL); DROP TABLE planmap_layers; --" is not one of Point, MultiPoint`},
		{"ErrGeometryTypeCase", layer(func(l *layers.Layer) { l.GeometryType = "point" }),
			`hand.geojson: geometryType "point" is not one of`},
		{"ErrFieldName", layer(func(l *layers.Layer) { l.Schema[0].Name = `x" TEXT); --` }),
			`hand.geojson: schema field 0 (x" TEXT); --): name must be lower-case letters`},
		{"ErrFieldType", layer(func(l *layers.Layer) { l.Schema[0].Type = "TEXT); --" }),
			`hand.geojson: schema field 0 (name_zh): type "TEXT); --" is not one of string`},
		{"ErrLayerID", layer(func(l *layers.Layer) { l.ID = "gpkg_contents" }),
			`hand.geojson: layer id "gpkg_contents" is not valid`},
		{"ErrOtherLayer", layer(func(l *layers.Layer) { l.ID = "parcels" }),
			`hand.geojson: declares layer "parcels" but is a file of layer "hand"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &layers.File{Name: "hand.geojson", LayerID: "hand", Layer: tt.layer}
			_, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{})
			if err == nil || layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Import = %v (code %s), want EINVALID with %q", err, layers.ErrorCode(err), tt.want)
			}
			if got := snapshot(t, s); got != before {
				t.Errorf("the store changed")
			}
			if _, err := s.Layer(ctx, "hand"); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Layer(hand) = %v, want ENOTFOUND", err)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		f := &layers.File{Name: "hand.geojson", LayerID: "hand", Layer: layer(func(*layers.Layer) {})}
		mustImport(t, s, layers.ImportOptions{}, f)
		if l, err := s.Layer(ctx, "hand"); err != nil || l.GeometryType != "Point" {
			t.Errorf("Layer(hand) = %+v, %v; want the declared Point layer", l, err)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	before := snapshot(t, s)

	garbage := make([]byte, 50<<20)
	rand.New(rand.NewSource(1)).Read(garbage)
	cases := map[string][]byte{
		"not_json":         []byte("this is not json"),
		"feature":          []byte(`{"type": "Feature", "id": 1, "properties": {}, "geometry": null}`),
		"garbage_50mb":     garbage,
		"nan":              []byte(strings.Replace(readTestdata(t, "parcels.geojson"), "[121.48, 32.11], [121.48, 32.12]", "[NaN, 32.11], [121.48, 32.12]", 1)),
		"bowtie":           []byte(`{"type": "FeatureCollection", "name": "parcels", "features": [{"type": "Feature", "id": 1, "properties": {"name_zh": "x", "status": "planned"}, "geometry": {"type": "Polygon", "coordinates": [[[121, 32], [121.1, 32.1], [121.1, 32], [121, 32.1], [121, 32]]]}}]}`),
		"unknown_layer":    []byte(`{"type": "FeatureCollection", "name": "nowhere", "features": []}`),
		"wrong_type":       []byte(strings.Replace(readTestdata(t, "parcels.geojson"), `"berths": 8`, `"berths": "eight"`, 1)),
		"other_crs":        []byte(readTestdata(t, "epsg32651.geojson")),
		"good_then_broken": nil,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var files []*layers.File
			var err error
			if data == nil {
				// A good file for a new layer beside a bad one: neither lands.
				good := parseText(t, "roads.geojson", strings.NewReplacer(`"parcels"`, `"roads"`).Replace(readTestdata(t, "parcels.geojson")))
				bad := parseText(t, "parcels.geojson", strings.Replace(readTestdata(t, "parcels.geojson"), `"public": true`, `"public": "yes"`, 1))
				files = []*layers.File{good, bad}
			} else {
				var f *layers.File
				f, err = layers.ParseFile(name+".geojson", data)
				if err == nil {
					files = []*layers.File{f}
				}
			}
			if err == nil {
				_, err = s.Import(ctx, files, layers.ImportOptions{})
			}
			if err == nil {
				t.Fatal("no error")
			}
			if layers.ErrorCode(err) != layers.EINVALID {
				t.Errorf("error code %s, want invalid: %v", layers.ErrorCode(err), err)
			}
			if len(err.Error()) > 20000 {
				t.Errorf("error message is %d bytes long", len(err.Error()))
			}
			if got := snapshot(t, s); got != before {
				t.Errorf("the store changed")
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	a := layerstest.MustOpen(t)
	mustImport(t, a, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	first := exportText(t, a, "parcels")

	b := layerstest.MustOpen(t)
	mustImport(t, b, layers.ImportOptions{}, parseText(t, "exported.geojson", first))
	second := exportText(t, b, "parcels")
	if first != second {
		t.Errorf("export → import → export changed the file:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	for _, bad := range []string{`"crs"`, `"id": "1"`} {
		if strings.Contains(first, bad) {
			t.Errorf("export contains %s", bad)
		}
	}
	if !strings.Contains(first, `"name": "parcels"`) || !strings.Contains(first, `{"type":"Feature","id":1,"properties":{"name_zh":"一号地块 <b>&"`) {
		t.Errorf("export is missing the layer name or typed feature 1:\n%s", first)
	}
}

func TestFilesMadeByGDAL(t *testing.T) {
	t.Run("WebMercatorIsReprojected", func(t *testing.T) {
		a := layerstest.MustOpen(t)
		mustImport(t, a, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
		b := layerstest.MustOpen(t)
		mustImport(t, b, layers.ImportOptions{}, parseText(t, "epsg3857.geojson", readTestdata(t, "epsg3857.geojson")))
		if x, y := exportText(t, a, "parcels"), exportText(t, b, "parcels"); x != y {
			t.Errorf("the EPSG:3857 file imports differently:\n%s\nwant\n%s", y, x)
		}
	})
	for _, c := range []struct {
		file    string
		warning string
		count   int
	}{
		{"qgis_crs84.geojson", "no feature has an id; all 3 get new ids", 6},
		{"cgcs2000.geojson", "", 3},
		{"with_z.geojson", "3 features have Z coordinates; heights were dropped", 3},
	} {
		t.Run(c.file, func(t *testing.T) {
			s := layerstest.MustOpen(t)
			mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
			res := mustImport(t, s, layers.ImportOptions{}, parseText(t, c.file, readTestdata(t, c.file)))
			if w := strings.Join(res[0].Warnings, "\n"); !strings.Contains(w, c.warning) || (c.warning == "") != (w == "") {
				t.Errorf("warnings = %q, want %q", w, c.warning)
			}
			if n, _ := s.Count(ctx, "parcels", layers.Filter{}); n != c.count {
				t.Errorf("Count = %d, want %d", n, c.count)
			}
		})
	}
}

func TestReadersDoNotWaitForWriter(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	more := parseText(t, "more.geojson", strings.NewReplacer(`"id": 1,`, `"id": 11,`, `"id": 7,`, `"id": 17,`, `"id": 3,`, `"id": 13,`).Replace(readTestdata(t, "parcels.geojson")))
	var seen int = -1
	var readErr error
	opt := layers.ImportOptions{Progress: func(layer string, done, total int) {
		// Inside the write transaction, with its rows written.
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		seen, readErr = s.Count(rctx, "parcels", layers.Filter{})
	}}
	mustImport(t, s, opt, more)
	if readErr != nil || seen != 3 {
		t.Errorf("a read during the import = %d, %v; want the 3 committed features at once", seen, readErr)
	}
	if n, _ := s.Count(ctx, "parcels", layers.Filter{}); n != 6 {
		t.Errorf("Count after the import = %d, want 6", n)
	}
}

// dumpRows returns every row of a query as text, one line per row.
func dumpRows(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%q\n", vals)
	}
	return b.String()
}

func TestExportGPKG(t *testing.T) {
	s := layerstest.MustOpen(t)
	roads := strings.NewReplacer(`"parcels"`, `"roads"`).Replace(readTestdata(t, "parcels.geojson"))
	mustImport(t, s, layers.ImportOptions{},
		parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")), parseText(t, "roads.geojson", roads))
	src, err := sql.Open("sqlite", "file:"+s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// Internal tables (the tokens, and those that later versions will
	// have: history) must never leave the database, whatever their names.
	if _, err := s.AddToken(ctx, "alice", layers.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE feature_history (layer TEXT, fid INTEGER, geom BLOB)`, `INSERT INTO feature_history VALUES ('parcels', 1, x'00')`,
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		ids    []string
		want   []string
		counts map[string]int
	}{
		{"all.gpkg", nil, []string{"parcels", "roads"}, map[string]int{"parcels": 3, "roads": 3}},
		{"roads.gpkg", []string{"roads"}, []string{"roads"}, map[string]int{"roads": 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := s.ExportGPKG(ctx, path, c.ids...); err != nil {
				t.Fatal(err)
			}
			for _, sfx := range []string{"-wal", "-shm"} {
				if _, err := os.Stat(path + sfx); err == nil {
					t.Errorf("export left %s%s behind", c.name, sfx)
				}
			}
			e, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			// sqlite_sequence: SQLite's own, made with the first
			// AUTOINCREMENT table (ids are never reused).
			wantTables := []string{"gpkg_contents", "gpkg_extensions", "gpkg_geometry_columns", "gpkg_spatial_ref_sys", "layer_styles", "planmap_layers", "sqlite_sequence"}
			for _, id := range c.want {
				wantTables = append(wantTables, id, "rtree_"+id+"_geom")
			}
			sort.Strings(wantTables)
			if ours := dumpRows(t, e, `SELECT name FROM sqlite_master WHERE name LIKE 'planmap_changes%' OR name LIKE 'planmap_history%' OR name LIKE 'planmap_context%'`); ours != "" {
				t.Errorf("%s carries the change log or the history: %s", c.name, ours)
			}
			tables := dumpRows(t, e, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'rtree_%_geom_%' ORDER BY name`)
			if want := fmt.Sprintf("%q\n", wantTables); strings.ReplaceAll(tables, "]\n[", " ") != want {
				t.Errorf("tables of %s:\n%s\nwant %s", c.name, tables, want)
			}
			for _, q := range []string{
				`SELECT ` + "id, title_zh, title_en, description_zh, description_en, geometry_type, sort_order, schema, style" + ` FROM planmap_layers WHERE id = '%s'`,
				`SELECT * FROM "%s" ORDER BY fid`,
				`SELECT * FROM "rtree_%s_geom" ORDER BY id`,
				`SELECT f_table_name, styleName, styleQML, useAsDefault FROM layer_styles WHERE f_table_name = '%s'`,
				`SELECT * FROM gpkg_contents WHERE table_name = '%s'`,
				// The change log's and history's triggers stay behind
				// with their tables.
				`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '%s' AND name NOT LIKE 'planmap\_%%' ESCAPE '\' ORDER BY name`,
			} {
				for _, id := range c.want {
					q := fmt.Sprintf(q, id)
					got, want := dumpRows(t, e, q), dumpRows(t, src, q)
					if got != want || got == "" {
						t.Errorf("%s in %s:\n%s\nin the database:\n%s", q, c.name, got, want)
					}
				}
			}
			if _, err := gpkg.Open(ctx, path); layers.ErrorCode(err) != layers.EFOREIGN {
				t.Errorf("Open(%s) = %v, want EFOREIGN: an export is a GeoPackage to import, not a database to serve", c.name, err)
			}
			validateWithGDAL(t, path, c.counts)
		})
	}
	if err := s.ExportGPKG(ctx, filepath.Join(dir, "x.gpkg"), "nope"); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("ExportGPKG(nope) = %v, want ENOTFOUND", err)
	}
}

func TestGDALReadsTheStore(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	validateWithGDAL(t, s.Path(), map[string]int{"parcels": 3})
	// An empty, freshly created database too.
	validateWithGDAL(t, layerstest.MustOpen(t).Path(), nil)
}

// validateWithGDAL runs GDAL's GeoPackage validator and ogrinfo on path,
// failing on any problem they report (any Warning at all: GDAL 3.6, which
// QGIS 3.22 uses, warns of GeoPackage 1.4 files and of extensions it does
// not know), and checks the feature counts.
func validateWithGDAL(t *testing.T, path string, counts map[string]int) {
	t.Helper()
	validator := layerstest.RequireGPKGValidator(t)
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	out, err := exec.Command(validator[0], append(validator[1:], "-k", path)...).CombinedOutput()
	if err != nil {
		t.Errorf("validate_gpkg -k %s: %v\n%s", filepath.Base(path), err, out)
	}
	cmd := exec.Command(ogrinfo, "-al", "-so", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stdout.String()+stderr.String(), "\n") {
		if strings.Contains(line, "Warning") || strings.Contains(line, "ERROR") {
			t.Errorf("ogrinfo -al -so %s: %s", filepath.Base(path), line)
		}
	}
	for layer, n := range counts {
		want := "Layer name: " + layer + "\n"
		i := strings.Index(stdout.String(), want)
		if i < 0 {
			t.Errorf("ogrinfo does not list layer %s", layer)
			continue
		}
		rest := stdout.String()[i:]
		if !strings.Contains(rest, "Feature Count: "+strconv.Itoa(n)+"\n") {
			t.Errorf("ogrinfo: layer %s does not have Feature Count %d", layer, n)
		}
	}
}
