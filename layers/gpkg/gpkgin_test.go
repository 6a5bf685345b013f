package gpkg_test

import (
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// copyTestdata copies testdata/name into a temporary folder, so that a
// test may change it, and returns the copy's path.
func copyTestdata(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	layerstest.CopyFile(t, filepath.Join("..", "testdata", name), path, 0o644)
	return path
}

// readAndImport reads the inputs at paths and imports them into s, as
// planmap import does.
func readAndImport(s *gpkg.Store, paths ...string) ([]layers.ImportResult, error) {
	files, err := layers.ReadFiles(paths)
	if err != nil {
		return nil, err
	}
	return s.Import(ctx, files, layers.ImportOptions{})
}

// features returns the features of layer id by their id.
func features(t *testing.T, s *gpkg.Store, id string) map[int64]layers.Feature {
	t.Helper()
	out := map[int64]layers.Feature{}
	if err := s.Features(ctx, id, func(f layers.Feature) error {
		out[f.ID] = f
		return nil
	}); err != nil {
		t.Fatalf("Features(%s): %v", id, err)
	}
	return out
}

// positions lists every position of g.
func positions(g orb.Geometry) []orb.Point {
	var out []orb.Point
	geo.Transform(g, func(p orb.Point) orb.Point {
		out = append(out, p)
		return p
	})
	return out
}

// sameFeatures compares the features of layer id in got with want: the
// same ids, properties and geometry types, positions within tol degrees.
func sameFeatures(t *testing.T, got, want *gpkg.Store, id string, tol float64) {
	t.Helper()
	g, w := features(t, got, id), features(t, want, id)
	if len(g) != len(w) {
		t.Errorf("%s has %d features, want %d", id, len(g), len(w))
	}
	for fid, wf := range w {
		gf, ok := g[fid]
		if !ok {
			t.Errorf("%s has no feature %d", id, fid)
			continue
		}
		if !reflect.DeepEqual(numbersAsFloats(gf.Properties), numbersAsFloats(wf.Properties)) {
			t.Errorf("%s feature %d properties = %v, want %v", id, fid, gf.Properties, wf.Properties)
		}
		gp, wp := positions(gf.Geometry), positions(wf.Geometry)
		if gf.Geometry.GeoJSONType() != wf.Geometry.GeoJSONType() || len(gp) != len(wp) {
			t.Errorf("%s feature %d is a %s of %d positions, want a %s of %d", id, fid,
				gf.Geometry.GeoJSONType(), len(gp), wf.Geometry.GeoJSONType(), len(wp))
			continue
		}
		for i := range wp {
			// The stores round to 7 decimals; a reprojected position may
			// round to the neighbouring step.
			if math.Abs(gp[i][0]-wp[i][0]) > tol || math.Abs(gp[i][1]-wp[i][1]) > tol {
				t.Errorf("%s feature %d position %d = %v, want %v within %g°", id, fid, i, gp[i], wp[i], tol)
				break
			}
		}
	}
}

// numbersAsFloats returns props with integers as float64, to compare a
// layer whose field is an integer with one whose field is a number.
func numbersAsFloats(props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		if n, ok := v.(int64); ok {
			v = float64(n)
		}
		out[k] = v
	}
	return out
}

// seedStore is a store with the layers of the given seed files and
// testdata/parcels.geojson, imported as layer files.
func seedStore(t *testing.T, seeds ...string) *gpkg.Store {
	t.Helper()
	s := layerstest.MustOpen(t)
	paths := []string{"../testdata/parcels.geojson"}
	for _, name := range seeds {
		paths = append(paths, filepath.Join("..", "..", "seeds", name+".geojson"))
	}
	if _, err := readAndImport(s, paths...); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImportGPKGMadeByGDAL(t *testing.T) {
	seeds := seedStore(t, "industry", "monitoring", "railways")
	// ogr2ogr makes a GeoJSON number field whose values are all integral
	// an Integer column: so are these.
	gdalIntegers := map[string]bool{"industry.area_mu": true, "industry.reported_area_km2": true, "railways.route_length_km": true}
	wantType := func(l *layers.Layer, gdal bool) map[string]string {
		m := map[string]string{"geometryType": l.GeometryType}
		for _, f := range l.Schema {
			m[f.Name] = string(f.Type)
			if gdal && gdalIntegers[l.ID+"."+f.Name] {
				m[f.Name] = string(layers.Integer)
			}
		}
		return m
	}
	t.Run("OK", func(t *testing.T) {
		s := layerstest.MustOpen(t)
		res, err := readAndImport(s, "../testdata/gdal_layers.gpkg")
		if err != nil {
			t.Fatalf("import gdal_layers.gpkg: %v", err)
		}
		counts := map[string]int{}
		for _, r := range res {
			counts[r.Layer] = r.Written
			if !r.Created {
				t.Errorf("%s: not created", r.Layer)
			}
		}
		if want := map[string]int{"parcels": 3, "industry": 10, "monitoring": 3, "railways": 1}; !reflect.DeepEqual(counts, want) {
			t.Errorf("features written = %v, want %v", counts, want)
		}
		for id := range counts {
			got, err := s.Layer(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := seeds.Layer(ctx, id)
			// GDAL declares parcels, Polygons and MultiPolygons, with the
			// generic GEOMETRY; the layer takes the type they share.
			if g, w := wantType(got, false), wantType(want, true); !reflect.DeepEqual(g, w) {
				t.Errorf("%s: geometry and field types = %v, want %v", id, g, w)
			}
			if got.Title.En != id || got.Title.Zh != id {
				t.Errorf("%s: title %v, want the table's identifier", id, got.Title)
			}
			sameFeatures(t, s, seeds, id, 1e-7)
		}
	})
	t.Run("WebMercator", func(t *testing.T) {
		s := layerstest.MustOpen(t)
		if _, err := readAndImport(s, "../testdata/epsg3857.gpkg"); err != nil {
			t.Fatalf("import epsg3857.gpkg: %v", err)
		}
		for _, id := range []string{"industry", "monitoring"} {
			sameFeatures(t, s, seeds, id, 1e-7+1e-12)
		}
	})
	t.Run("CRS84", func(t *testing.T) {
		path := copyTestdata(t, "gdal_layers.gpkg")
		execSQL(t, path,
			`INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 (CRS84)', 100084, 'OGC', 84, 'undefined', NULL)`,
			`UPDATE gpkg_contents SET srs_id = 100084 WHERE table_name = 'monitoring'`,
			`UPDATE gpkg_geometry_columns SET srs_id = 100084 WHERE table_name = 'monitoring'`)
		s := layerstest.MustOpen(t)
		if _, err := readAndImport(s, path); err != nil {
			t.Fatalf("import with monitoring in OGC:CRS84: %v", err)
		}
		sameFeatures(t, s, seeds, "monitoring", 1e-7)
	})
	t.Run("ZDropped", func(t *testing.T) {
		s := layerstest.MustOpen(t)
		res, err := readAndImport(s, "../testdata/with_z.gpkg")
		if err != nil {
			t.Fatalf("import with_z.gpkg: %v", err)
		}
		if w := strings.Join(res[0].Warnings, "\n"); !strings.HasSuffix(w, "with_z.gpkg:parcels: 3 features have Z or M coordinates; they were dropped") {
			t.Errorf("warnings = %q, want the Z coordinates of 3 features dropped", w)
		}
		sameFeatures(t, s, seeds, "parcels", 1e-7)
	})
	t.Run("IntoExistingLayers", func(t *testing.T) {
		// A table without a declaration adds to the layer of its name and
		// leaves its declaration alone, as a layer file without one does.
		s := seedStore(t, "industry", "monitoring", "railways")
		before, _ := s.Layers(ctx)
		res, err := readAndImport(s, "../testdata/gdal_layers.gpkg")
		if err != nil {
			t.Fatalf("import gdal_layers.gpkg into the seeded store: %v", err)
		}
		for _, r := range res {
			if r.Created {
				t.Errorf("%s: created, want updated", r.Layer)
			}
		}
		if after, _ := s.Layers(ctx); !reflect.DeepEqual(after, before) {
			t.Errorf("the declarations changed:\n%v\nwant\n%v", after, before)
		}
		for _, id := range []string{"parcels", "industry", "monitoring", "railways"} {
			sameFeatures(t, s, seeds, id, 1e-7)
		}
	})
}

func TestImportGPKGEditedByQGIS(t *testing.T) {
	layerstest.RequireQGIS(t)
	path := copyTestdata(t, "gdal_layers.gpkg")
	out, _ := layerstest.RunQGIS(t, "../testdata/qgis_edit_gpkg.py", path)
	var res struct {
		Committed bool
		Errors    []string
		New       []int64
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || !res.Committed || len(res.New) != 1 {
		t.Fatalf("QGIS: %v\n%s", err, out)
	}

	s := seedStore(t, "industry", "monitoring", "railways")
	before, _ := s.Layers(ctx)
	files, err := layers.ReadFiles([]string{path})
	if err != nil {
		t.Fatalf("read the file QGIS saved: %v", err)
	}
	mustImport(t, s, layers.ImportOptions{Replace: true}, files...)
	if after, _ := s.Layers(ctx); !reflect.DeepEqual(after, before) {
		t.Errorf("the declarations changed:\n%v\nwant\n%v", after, before)
	}
	got := features(t, s, "parcels")
	if len(got) != 3 {
		t.Errorf("parcels has %d features, want 3 (QGIS deleted one and added one)", len(got))
	}
	if name := got[3].Properties["name_en"]; name != "Parcel three, edited in QGIS" {
		t.Errorf("feature 3 name_en = %v, want QGIS's edit", name)
	}
	added := got[res.New[0]]
	if want := map[string]any{"name_zh": "九号地块", "status": "planned", "berths": int64(2)}; !reflect.DeepEqual(added.Properties, want) {
		t.Errorf("feature %d = %v, want %v", res.New[0], added.Properties, want)
	}
	if _, ok := got[7]; ok {
		t.Error("feature 7, deleted in QGIS, is still there")
	}
}

func TestImportGPKGMadeByPlanmap(t *testing.T) {
	a := seedStore(t, "industry", "monitoring", "railways", "terminals")
	path := filepath.Join(t.TempDir(), "planmap.gpkg")
	if err := a.ExportGPKG(ctx, path); err != nil {
		t.Fatal(err)
	}
	b := layerstest.MustOpen(t)
	if _, err := readAndImport(b, path); err != nil {
		t.Fatalf("import the export: %v", err)
	}
	want, _ := a.Layers(ctx)
	got, _ := b.Layers(ctx)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("declarations after export → import:\n%+v\nwant\n%+v", got, want)
	}
	for _, l := range want {
		if x, y := exportText(t, b, l.ID), exportText(t, a, l.ID); x != y {
			t.Errorf("%s exports differently after export → import:\n%s\nwant\n%s", l.ID, x, y)
		}
	}
}

func TestImportGPKGDeclare(t *testing.T) {
	seed, err := os.ReadFile("../../seeds/industry.geojson")
	if err != nil {
		t.Fatal(err)
	}
	// A seed file is a declaration with features, which are ignored.
	decl, err := layers.ParseDeclaration("industry.geojson", seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ByID", func(t *testing.T) {
		files, err := layers.ReadFiles([]string{"../testdata/gdal_layers.gpkg"})
		if err != nil {
			t.Fatal(err)
		}
		if err := layers.Declare(files, decl); err != nil {
			t.Fatal(err)
		}
		s := layerstest.MustOpen(t)
		mustImport(t, s, layers.ImportOptions{}, files...)
		if got, _ := s.Layer(ctx, "industry"); !reflect.DeepEqual(got, decl) {
			t.Errorf("industry = %+v, want the declaration %+v", got, decl)
		}
		if got, _ := s.Layer(ctx, "monitoring"); got.Title.En != "monitoring" {
			t.Errorf("monitoring took another declaration: %+v", got)
		}
	})
	t.Run("OneTableTakesItsID", func(t *testing.T) {
		files, err := layers.ReadFiles([]string{"../testdata/epsg3857.gpkg"})
		if err != nil {
			t.Fatal(err)
		}
		renamed := *decl
		renamed.ID = "steelworks"
		if err := layers.Declare(files[:1], &renamed); err != nil {
			t.Fatal(err)
		}
		s := layerstest.MustOpen(t)
		mustImport(t, s, layers.ImportOptions{}, files[0])
		if n, err := s.Count(ctx, "steelworks", layers.Filter{}); err != nil || n != 10 {
			t.Errorf("Count(steelworks) = %d, %v; want the 10 features of table industry", n, err)
		}
	})
	t.Run("ErrNoSuchLayer", func(t *testing.T) {
		files, err := layers.ReadFiles([]string{"../testdata/gdal_layers.gpkg"})
		if err != nil {
			t.Fatal(err)
		}
		other := *decl
		other.ID = "terminals"
		err = layers.Declare(files, &other)
		if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "layer terminals, which is none of the input's layers (industry, monitoring, parcels, railways)") {
			t.Errorf("Declare(terminals) = %v, want an EINVALID error listing the tables", err)
		}
	})
	t.Run("ErrNotADeclaration", func(t *testing.T) {
		_, err := layers.ParseDeclaration("plain.json", []byte(`{"type": "FeatureCollection", "features": []}`))
		if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "plain.json: declares no layer") {
			t.Errorf("ParseDeclaration(no declaration) = %v, want EINVALID declares no layer", err)
		}
	})
}

// execSQL runs statements on the GeoPackage at path, as another program
// editing it would.
func execSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestImportGPKGBadFeatures(t *testing.T) {
	bowtie, err := geo.EncodeGPKG(orb.Polygon{{{121, 32}, {121.1, 32.1}, {121.1, 32}, {121, 32.1}, {121, 32}}}, 4326)
	if err != nil {
		t.Fatal(err)
	}
	// An empty polygon: the empty flag, no envelope, WKB with no rings.
	empty := []byte{'G', 'P', 0, 0x11, 0xe6, 0x10, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0}
	cases := []struct {
		name  string
		stmts []string
		want  string
	}{
		{"SelfIntersecting", []string{`UPDATE parcels SET geom = x'` + hexOf(bowtie) + `' WHERE fid = 7`},
			"gdal_layers.gpkg:parcels: feature 3 (id 7): Polygon: ring 0: ring intersects itself"},
		{"NullGeometry", []string{`UPDATE industry SET geom = NULL WHERE fid = 2`},
			"gdal_layers.gpkg:industry: feature 2 (id 2): has no geometry"},
		{"EmptyGeometry", []string{`UPDATE railways SET geom = x'` + hexOf(empty) + `' WHERE fid = 1`},
			"gdal_layers.gpkg:railways: feature 1 (id 1): geometry: geometry is empty"},
		{"NotAllowedValue", []string{`UPDATE parcels SET status = 'demolished' WHERE fid = 3`},
			`gdal_layers.gpkg:parcels: feature 2 (id 3): property "status": "demolished" is not one of the allowed values`},
		{"TextInAnIntegerColumn", []string{`UPDATE parcels SET berths = 'eight' WHERE fid = 1`},
			`gdal_layers.gpkg:parcels: feature 1 (id 1): property "berths": is the string "eight", want an integer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Into the seeded layers, so that the declarations (allowed
			// values) apply; the seeds' own features are at stake.
			s := seedStore(t, "industry", "monitoring", "railways")
			before := snapshot(t, s)
			path := copyTestdata(t, "gdal_layers.gpkg")
			execSQL(t, path, c.stmts...)
			_, err := readAndImport(s, path)
			if err == nil {
				t.Fatal("import succeeded, want an error")
			}
			if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("import = %v (code %s), want EINVALID with\n%s", err, layers.ErrorCode(err), c.want)
			}
			if snapshot(t, s) != before {
				t.Error("the store changed")
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

func TestImportGPKGRefused(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.gpkg")
	os.WriteFile(text, []byte("not a GeoPackage\n"), 0o644)
	plain := filepath.Join(dir, "plain.sqlite")
	execSQL(t, plain, `CREATE TABLE t (x)`)
	generic := copyTestdata(t, "gdal_layers.gpkg")
	execSQL(t, generic, `UPDATE parcels SET geom = (SELECT geom FROM monitoring WHERE fid = 1) WHERE fid = 3`)

	cases := []struct{ name, path, want string }{
		{"ErrText", text, "notes.gpkg: is not a GeoPackage: it is not an SQLite database"},
		{"ErrPlainSQLite", plain, "plain.sqlite: is an SQLite database but not a GeoPackage (application_id 0x00000000)"},
		{"ErrUnsupportedCRS", "../testdata/epsg32651.gpkg", "epsg32651.gpkg:parcels: EPSG:32651 is not supported"},
		{"ErrMixedGeometries", generic, "gdal_layers.gpkg:parcels: layer parcels does not exist, and table parcels declares the generic geometry type GEOMETRY and holds MultiPolygon, Point, Polygon: give its declaration with --declare"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := layerstest.MustOpen(t)
			before := layerstest.FileState(t, c.path)
			_, err := readAndImport(s, c.path)
			if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("import %s = %v (code %s), want EINVALID with %q", c.path, err, layers.ErrorCode(err), c.want)
			}
			if after := layerstest.FileState(t, c.path); after != before {
				t.Errorf("reading changed the file or its folder:\nbefore %s\nafter  %s", before, after)
			}
			if info, _ := s.Info(ctx); len(info) != 0 {
				t.Errorf("the store has %d layers, want none", len(info))
			}
		})
	}
}

func TestReadGPKGInWAL(t *testing.T) {
	t.Run("Closed", func(t *testing.T) {
		// As QGIS leaves a file it has edited: in WAL mode, without -wal.
		path := copyTestdata(t, "gdal_layers.gpkg")
		execSQL(t, path, `PRAGMA journal_mode = WAL`)
		before := layerstest.FileState(t, path)
		files, err := layers.ReadFiles([]string{path})
		if err != nil || len(files) != 4 {
			t.Fatalf("ReadFiles = %d files, %v; want 4", len(files), err)
		}
		if after := layerstest.FileState(t, path); after != before {
			t.Errorf("reading changed the file or its folder:\nbefore %s\nafter  %s", before, after)
		}
	})
	t.Run("OpenByAWriter", func(t *testing.T) {
		// Another program has the file open and has committed a change
		// that is still only in the -wal file: the import must see it.
		path := copyTestdata(t, "gdal_layers.gpkg")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.Exec(`DELETE FROM monitoring WHERE fid = 1`); err != nil {
			t.Fatal(err)
		}
		main, _ := os.ReadFile(path)
		files, err := layers.ReadFiles([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		s := layerstest.MustOpen(t)
		mustImport(t, s, layers.ImportOptions{}, files...)
		if n, _ := s.Count(ctx, "monitoring", layers.Filter{}); n != 2 {
			t.Errorf("monitoring has %d features, want the 2 the writer left", n)
		}
		if now, _ := os.ReadFile(path); string(now) != string(main) {
			t.Error("reading changed the file")
		}
	})
}

func TestImportGPKGNames(t *testing.T) {
	square, err := geo.EncodeGPKG(orb.Polygon{{{121.4, 32}, {121.5, 32}, {121.5, 32.1}, {121.4, 32}}}, 4326)
	if err != nil {
		t.Fatal(err)
	}
	// addTable adds a feature table named table with the given columns
	// after fid and geom, and one feature whose values are given.
	addTable := func(t *testing.T, path, table, columns, values string) {
		q := `"` + table + `"`
		execSQL(t, path,
			`CREATE TABLE `+q+` (fid INTEGER PRIMARY KEY, geom POLYGON`+columns+`)`,
			`INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('`+table+`', 'features', 'Land use 2020', 4326)`,
			`INSERT INTO gpkg_geometry_columns VALUES ('`+table+`', 'geom', 'POLYGON', 4326, 0, 0)`,
			`INSERT INTO `+q+` VALUES (5, x'`+hexOf(square)+`'`+values+`)`)
	}
	t.Run("OK", func(t *testing.T) {
		path := copyTestdata(t, "epsg3857.gpkg")
		addTable(t, path, "Land-Use 2020", `, "Name" TEXT(20), "Area ha" FLOAT, photo BLOB`, `, '一号', 1.5, x'00ff'`)
		s := layerstest.MustOpen(t)
		res, err := readAndImport(s, path)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if w := strings.Join(res[0].Warnings, "\n"); !strings.Contains(w, `epsg3857.gpkg:Land-Use 2020: column "photo" holds binary data (BLOB), which a layer cannot; it was left out`) {
			t.Errorf("warnings = %q, want the BLOB column left out", w)
		}
		l, err := s.Layer(ctx, "land_use_2020")
		if err != nil {
			t.Fatal(err)
		}
		want := &layers.Layer{ID: "land_use_2020", Title: layers.Text{Zh: "Land use 2020", En: "Land use 2020"}, GeometryType: "Polygon",
			Schema: []layers.Field{{Name: "name", Type: layers.String}, {Name: "area_ha", Type: layers.Number}}}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("layer = %+v, want %+v", l, want)
		}
		f := features(t, s, "land_use_2020")[5]
		if want := map[string]any{"name": "一号", "area_ha": 1.5}; !reflect.DeepEqual(f.Properties, want) {
			t.Errorf("feature 5 = %v, want %v", f.Properties, want)
		}
	})
	for _, c := range []struct{ name, table, columns, values, want string }{
		{"ErrColumnType", "zoning", `, code VARCHAR(10)`, `, 'R2'`, `epsg3857.gpkg:zoning: column "code" has type "VARCHAR(10)", which is not a GeoPackage attribute type`},
		{"ErrTableName", "用地", ``, ``, `epsg3857.gpkg:用地: layer id "用地" is not valid`},
		{"ErrColumnNames", "zoning", `, "Land use" TEXT, "land-use" TEXT`, `, 'a', 'b'`, `epsg3857.gpkg:zoning: columns "Land use" and "land-use" both become property "land_use"`},
		{"ErrReservedColumn", "zoning", `, id INTEGER`, `, 12`, `epsg3857.gpkg:zoning: schema field 0 (id): name "id" is reserved`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := copyTestdata(t, "epsg3857.gpkg")
			addTable(t, path, c.table, c.columns, c.values)
			s := layerstest.MustOpen(t)
			_, err := readAndImport(s, path)
			if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("import = %v, want EINVALID with %q", err, c.want)
			}
			if info, _ := s.Info(ctx); len(info) != 0 {
				t.Errorf("the store has %d layers, want none", len(info))
			}
		})
	}
}
