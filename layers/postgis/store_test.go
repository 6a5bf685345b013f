package postgis_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
	"planmap/seeds"
)

// seedFiles parses the seed layers and the suite's parcels, which has a
// field of every type (date-times included, which the seeds have not).
func seedFiles(t *testing.T) []*layers.File {
	t.Helper()
	names, err := fs.Glob(seeds.FS, "*.geojson")
	if err != nil || len(names) == 0 {
		t.Fatalf("seed files: %v, %v", names, err)
	}
	var files []*layers.File
	for _, name := range names {
		data, err := fs.ReadFile(seeds.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, parse(t, name, data))
	}
	data, err := os.ReadFile("../storetest/testdata/parcels.geojson")
	if err != nil {
		t.Fatal(err)
	}
	return append(files, parse(t, "parcels.geojson", data))
}

func parse(t *testing.T, name string, data []byte) *layers.File {
	t.Helper()
	f, err := layers.ParseFile(name, data)
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return f
}

// TestWriteGeoJSONAsGeoPackage: the same layers imported into both
// stores export as the same bytes, every layer of the seeds.
func TestWriteGeoJSONAsGeoPackage(t *testing.T) {
	t.Parallel()
	pg, _ := mustOpen(t)
	gp := layerstest.MustOpen(t)
	files := seedFiles(t)
	if _, err := gp.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatalf("GeoPackage Import: %v", err)
	}
	if _, err := pg.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatalf("PostGIS Import: %v", err)
	}
	for _, f := range files {
		id := f.Layer.ID
		t.Run(id, func(t *testing.T) {
			var want, got bytes.Buffer
			if err := gp.WriteGeoJSON(ctx, &want, id, nil); err != nil {
				t.Fatalf("GeoPackage WriteGeoJSON(%s): %v", id, err)
			}
			var calls, last int
			if err := pg.WriteGeoJSON(ctx, &got, id, func(done, total int) { calls, last = calls+1, done }); err != nil {
				t.Fatalf("PostGIS WriteGeoJSON(%s): %v", id, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("PostGIS WriteGeoJSON(%s) differs from the GeoPackage store's at byte %d:\n got  %s\n want %s",
					id, firstDiff(got.Bytes(), want.Bytes()), around(got.Bytes(), want.Bytes()), around(want.Bytes(), got.Bytes()))
			}
			if n := strings.Count(want.String(), `{"type":"Feature"`); calls == 0 || last != n {
				t.Errorf("progress called %d times, last with %d; want at least once, last with %d", calls, last, n)
			}
		})
	}
	// And what PostGIS exported imports again as it is.
	var buf bytes.Buffer
	if err := pg.WriteGeoJSON(ctx, &buf, "parcels", nil); err != nil {
		t.Fatal(err)
	}
	again, _ := mustOpen(t)
	if _, err := again.Import(ctx, []*layers.File{parse(t, "parcels.geojson", buf.Bytes())}, layers.ImportOptions{}); err != nil {
		t.Fatalf("Import of the PostGIS export: %v", err)
	}
	var round bytes.Buffer
	if err := again.WriteGeoJSON(ctx, &round, "parcels", nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(round.Bytes(), buf.Bytes()) {
		t.Errorf("parcels exported, imported and exported again changed at byte %d", firstDiff(round.Bytes(), buf.Bytes()))
	}
	t.Run("ErrNoLayer", func(t *testing.T) {
		err := pg.WriteGeoJSON(ctx, &bytes.Buffer{}, "nowhere", nil)
		if code := layers.ErrorCode(err); code != layers.ENOTFOUND {
			t.Errorf("WriteGeoJSON(nowhere) = %v (code %q); want %s", err, code, layers.ENOTFOUND)
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// around is a of the first difference from b, with some context.
func around(a, b []byte) string {
	i := firstDiff(a, b)
	return string(a[max(0, i-60):min(len(a), i+60)])
}

// TestCatalogAsGeoPackage: the catalogs of both stores over the same
// data agree in everything but the versions, which name each store's own
// change log.
func TestCatalogAsGeoPackage(t *testing.T) {
	t.Parallel()
	pg, _ := mustOpen(t)
	gp := layerstest.MustOpen(t)
	if _, err := gp.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	want, err := gp.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pg.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Collections) != len(want.Collections) {
		t.Fatalf("PostGIS has %d collections, the GeoPackage %d", len(got.Collections), len(want.Collections))
	}
	for i, w := range want.Collections {
		g := got.Collections[i]
		a, _ := layers.Marshal(g.Layer)
		b, _ := layers.Marshal(w.Layer)
		if g.ID != w.ID || g.Count != w.Count || g.Extent != w.Extent || !bytes.Equal(a, b) {
			t.Errorf("collection %d: PostGIS %s, %d features, extent %v; GeoPackage %s, %d, %v (declarations equal: %v)",
				i, g.ID, g.Count, g.Extent, w.ID, w.Count, w.Extent, bytes.Equal(a, b))
		}
	}
}

// TestFilterOnEveryType filters the parcels on a value of each field
// type, the date and date-time included, which PostgreSQL stores typed.
func TestFilterOnEveryType(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	if _, err := s.Import(ctx, seedFiles(t)[len(seedFiles(t))-1:], layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	all, _, err := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 10})
	if err != nil || len(all) == 0 {
		t.Fatalf("Items(parcels) = %d, %v", len(all), err)
	}
	first := all[0]
	for _, name := range []string{"name_zh", "status", "berths", "area_mu", "public", "opened", "surveyed"} {
		v, ok := first.Properties()[name]
		if !ok {
			t.Fatalf("feature %d has no %s: %v", first.ID, name, first.Properties())
		}
		t.Run(name, func(t *testing.T) {
			items, matched, err := s.Items(ctx, "parcels", layers.Filter{Equals: map[string]any{name: v}}, layers.Page{Limit: 10})
			if err != nil {
				t.Fatalf("Items(%s = %v): %v", name, v, err)
			}
			var want int
			for _, it := range all {
				if it.Properties()[name] == v {
					want++
				}
			}
			if matched != want || len(items) != want || items[0].ID != first.ID {
				t.Errorf("Items(%s = %v (%T)) matched %d, gave %d; want %d, feature %d first", name, v, v, matched, len(items), want, first.ID)
			}
		})
	}
}

// TestIdentifiers: a layer and fields whose names are SQL keywords are
// stored and read back, and a layer id that is not one is refused before
// any SQL is built from it.
func TestIdentifiers(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	file := `{"type": "FeatureCollection", "id": "select", "title": {"zh": "选", "en": "Select"},
	  "geometryType": "Point", "schema": [
	    {"name": "order", "type": "integer", "description": {"zh": "", "en": ""}},
	    {"name": "user", "type": "string", "description": {"zh": "", "en": ""}}],
	  "style": {"color": "#000000"},
	  "features": [{"type": "Feature", "id": 1, "properties": {"order": 2, "user": "x'); DROP TABLE planmap_layers; --"},
	    "geometry": {"type": "Point", "coordinates": [121.5, 32.1]}}]}`
	if _, err := s.Import(ctx, []*layers.File{parse(t, "select.geojson", []byte(file))}, layers.ImportOptions{}); err != nil {
		t.Fatalf("Import of layer select: %v", err)
	}
	it, err := s.Item(ctx, "select", 1)
	if err != nil {
		t.Fatalf("Item(select, 1): %v", err)
	}
	if it.Properties()["order"] != int64(2) || it.Properties()["user"] != "x'); DROP TABLE planmap_layers; --" {
		t.Errorf("Item(select, 1).Properties() = %v", it.Properties())
	}
	for _, id := range []string{`select"; DROP TABLE planmap_layers; --`, "Select", "planmap_layers"} {
		if _, _, err := s.Items(ctx, id, layers.Filter{}, layers.Page{Limit: 1}); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("Items(%q) = %v; want %s", id, err, layers.ENOTFOUND)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after all that: %v", err)
	}
}

// TestOpenTwice: a second Open of a migrated database applies nothing and
// sees the same layers.
func TestOpenTwice(t *testing.T) {
	t.Parallel()
	s, url := mustOpen(t)
	if _, err := s.Import(ctx, seedFiles(t)[:1], layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	again, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	ls, err := again.Layers(ctx)
	if err != nil || len(ls) != 1 {
		t.Errorf("Layers after a second Open = %d, %v; want 1", len(ls), err)
	}
}

func TestIsURL(t *testing.T) {
	for db, want := range map[string]bool{
		"postgres://u@host/db":        true,
		"postgresql://u@host:5432/db": true,
		"data/planmap.gpkg":           false,
		"/srv/postgres://x.gpkg":      false,
		"postgres.gpkg":               false,
		"":                            false,
	} {
		if got := postgis.IsURL(db); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", db, got, want)
		}
	}
}

// The extent read by ST_XMin and the others is the exact one, not the
// float4 box of the index: a coordinate float32 cannot hold survives.
func TestExactExtent(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	file := `{"type": "FeatureCollection", "id": "wells", "title": {"zh": "井", "en": "Wells"},
	  "geometryType": "Point", "schema": [], "style": {"color": "#000000"},
	  "features": [{"type": "Feature", "id": 1, "properties": {}, "geometry": {"type": "Point", "coordinates": [121.1234567, 32.7654321]}}]}`
	if _, err := s.Import(ctx, []*layers.File{parse(t, "wells.geojson", []byte(file))}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := cat.Collection("wells")
	p := orb.Point{121.1234567, 32.7654321}
	if want := (orb.Bound{Min: p, Max: p}); col == nil || col.Extent != want {
		t.Errorf("wells extent = %v, want %v", col, want)
	}
}

// TestDownloadsAsGeoPackage: the KML downloads are the GeoPackage
// store's bytes, and the GeoPackage download holds the layers as they
// are, read back by planmap's own GeoPackage reader.
func TestDownloadsAsGeoPackage(t *testing.T) {
	t.Parallel()
	pg, _ := mustOpen(t)
	gp := layerstest.MustOpen(t)
	if _, err := gp.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("KML", func(t *testing.T) {
		var want, got bytes.Buffer
		if err := gp.WriteKML(ctx, &want, "parcels"); err != nil {
			t.Fatal(err)
		}
		if err := pg.WriteKML(ctx, &got, "parcels"); err != nil {
			t.Fatalf("PostGIS WriteKML(parcels): %v", err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("PostGIS WriteKML(parcels) differs at byte %d:\n got  %s\n want %s", firstDiff(got.Bytes(), want.Bytes()), around(got.Bytes(), want.Bytes()), around(want.Bytes(), got.Bytes()))
		}
		want.Reset()
		got.Reset()
		if err := gp.WriteAllKML(ctx, &want); err != nil {
			t.Fatal(err)
		}
		if err := pg.WriteAllKML(ctx, &got); err != nil {
			t.Fatalf("PostGIS WriteAllKML: %v", err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("PostGIS WriteAllKML differs at byte %d", firstDiff(got.Bytes(), want.Bytes()))
		}
	})
	t.Run("GeoPackage", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "export.gpkg")
		if err := pg.ExportGPKG(ctx, path, "parcels", "roads"); err != nil {
			t.Fatalf("PostGIS ExportGPKG: %v", err)
		}
		files, err := gpkg.ReadGPKG(ctx, path)
		if err != nil {
			t.Fatalf("ReadGPKG of the export: %v", err)
		}
		var ids []string
		for _, f := range files {
			ids = append(ids, f.Layer.ID)
		}
		if strings.Join(ids, ",") != "parcels,roads" && strings.Join(ids, ",") != "roads,parcels" {
			t.Fatalf("the export holds layers %v, want parcels and roads", ids)
		}
		// Imported into a GeoPackage store, the export gives back what
		// the PostGIS store exports as GeoJSON.
		back := layerstest.MustOpen(t)
		if _, err := back.Import(ctx, files, layers.ImportOptions{}); err != nil {
			t.Fatalf("Import of the export: %v", err)
		}
		for _, id := range ids {
			var want, got bytes.Buffer
			if err := pg.WriteGeoJSON(ctx, &want, id, nil); err != nil {
				t.Fatal(err)
			}
			if err := back.WriteGeoJSON(ctx, &got, id, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("%s through the GeoPackage download differs at byte %d:\n got  %s\n want %s", id, firstDiff(got.Bytes(), want.Bytes()), around(got.Bytes(), want.Bytes()), around(want.Bytes(), got.Bytes()))
			}
		}
	})
	t.Run("ErrNoLayer", func(t *testing.T) {
		if err := pg.WriteKML(ctx, &bytes.Buffer{}, "nowhere"); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("WriteKML(nowhere) = %v; want %s", err, layers.ENOTFOUND)
		}
	})
}
