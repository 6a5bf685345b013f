package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// export --as-of writes the layer as it was: a layer file planmap reads
// back, with the features and values of then.
func TestExportAsOf(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "planmap.gpkg")
	if _, _, err := planmap(t, "import", "--db", db, "../../layers/testdata/parcels.geojson"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	t0 := time.Now()
	time.Sleep(5 * time.Millisecond)
	ctx := context.Background()
	s, err := gpkg.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.Item(ctx, "parcels", 7)
	if err != nil {
		t.Fatal(err)
	}
	props := maps.Clone(it.Properties())
	props["status"] = "under_construction"
	if _, err := s.Replace(ctx, "parcels", 7, layers.Feature{Properties: props, Geometry: it.Geometry()}, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// read parses an export as planmap import does, and returns the status
	// of each feature by id.
	read := func(path string) map[int64]any {
		t.Helper()
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := layers.ParseFile(filepath.Base(path), text); err != nil {
			t.Fatalf("the export %s does not read back: %v", path, err)
		}
		var fc struct {
			Features []struct {
				ID         int64
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(text, &fc); err != nil {
			t.Fatal(err)
		}
		out := map[int64]any{}
		for _, ft := range fc.Features {
			out[ft.ID] = ft.Properties["status"]
		}
		return out
	}
	then, now := filepath.Join(dir, "then.geojson"), filepath.Join(dir, "now.geojson")
	if _, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", t0.Format(time.RFC3339Nano), "-o", then); err != nil {
		t.Fatal(err)
	}
	if _, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "-o", now); err != nil {
		t.Fatal(err)
	}
	old, cur := read(then), read(now)
	if want := map[int64]any{1: "planned", 3: "signed", 7: "in_operation"}; !maps.Equal(old, want) {
		t.Errorf("export as of before the edits: %v, want %v", old, want)
	}
	if want := map[int64]any{1: "planned", 7: "under_construction"}; !maps.Equal(cur, want) {
		t.Errorf("export now: %v, want %v", cur, want)
	}
	if out, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", "2000-01-01"); err != nil || len(read(writeTemp(t, out))) != 0 {
		t.Errorf("export as of 2000: %v, want an empty layer", err)
	}
	if _, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", "yesterday"); err == nil {
		t.Errorf("export --as-of yesterday succeeded")
	}

	// A GeoPackage of then: planmap import takes it back with the same
	// ids and the values of then.
	thenGPKG := filepath.Join(dir, "then.gpkg")
	if _, _, err := planmap(t, "export", "--db", db, "--as-of", t0.Format(time.RFC3339Nano), "-o", thenGPKG); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "back.gpkg")
	if _, _, err := planmap(t, "import", "--db", back, thenGPKG); err != nil {
		t.Fatalf("the GeoPackage of then does not import: %v", err)
	}
	thenAgain := filepath.Join(dir, "then-again.geojson")
	if _, _, err := planmap(t, "export", "--db", back, "--layer", "parcels", "-o", thenAgain); err != nil {
		t.Fatal(err)
	}
	if got := read(thenAgain); !maps.Equal(got, old) {
		t.Errorf("the GeoPackage of then holds %v, want %v", got, old)
	}
	if _, _, err := planmap(t, "export", "--db", db, "--as-of", t0.Format(time.RFC3339Nano), "-o", db); err == nil {
		t.Errorf("export --as-of onto the database itself succeeded")
	}

	// KML of then: feature 3, deleted since, is there, with its status
	// of then.
	kml, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--format", "kml", "--as-of", t0.Format(time.RFC3339Nano))
	if err != nil {
		t.Fatal(err)
	}
	kmlNow, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--format", "kml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(kml, "<Placemark"), len(old); got != want {
		t.Errorf("KML as of then has %d placemarks, want %d", got, want)
	}
	if got, want := strings.Count(kmlNow, "<Placemark"), len(cur); got != want {
		t.Errorf("KML now has %d placemarks, want %d", got, want)
	}
	if !strings.Contains(kml, "in_operation") || strings.Contains(kml, "under_construction") {
		t.Errorf("KML as of then does not hold the statuses of then:\n%s", kml)
	}
}

// export --as-of of a layer dropped since writes it as it was, from the
// history, on both stores: a layer file that planmap import takes back,
// which brings the layer back as it was then. After the drop, it is not
// found, and the error says when it was dropped.
func TestExportAsOfDropped(t *testing.T) { onEachDB(t, testExportAsOfDropped) }

// onEachDB runs test, as a subtest named for the store, on a new database
// of each store: a GeoPackage in a temporary folder, and PostGIS.
func onEachDB(t *testing.T, test func(t *testing.T, db string)) {
	for _, c := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"GeoPackage", func(t *testing.T) string { return filepath.Join(t.TempDir(), "planmap.gpkg") }},
		{"PostGIS", func(t *testing.T) string { return layerstest.PostgresDB(t) }},
	} {
		t.Run(c.name, func(t *testing.T) { test(t, c.db(t)) })
	}
}

// importedParcels imports the test parcels into db, and returns their
// export and a time after it.
func importedParcels(t *testing.T, db string) (string, time.Time) {
	t.Helper()
	if _, stderr, err := planmap(t, "import", "--db", db, "../../layers/testdata/parcels.geojson"); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	exported, _, err := planmap(t, "export", "--db", db, "--layer", "parcels")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	t0 := time.Now()
	time.Sleep(5 * time.Millisecond)
	return exported, t0
}

// openEditor opens db as the commands do, as a store that deletes
// features and drops layers; the caller closes it.
func openEditor(t *testing.T, db string) interface {
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
	DropLayer(ctx context.Context, id string, e layers.Edit) error
	Close() error
} {
	t.Helper()
	s, err := openAny(context.Background(), db, openExisting)
	if err != nil {
		t.Fatal(err)
	}
	ed, ok := s.(interface {
		Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
		DropLayer(ctx context.Context, id string, e layers.Edit) error
		Close() error
	})
	if !ok {
		t.Fatalf("%T neither deletes features nor drops layers", s)
	}
	return ed
}

func testExportAsOfDropped(t *testing.T, db string) {
	dir := t.TempDir()
	want, t0 := importedParcels(t, db)
	ctx := context.Background()
	ed := openEditor(t, db)
	if err := ed.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := ed.DropLayer(ctx, "parcels", layers.Edit{Author: "admin"}); err != nil {
		t.Fatalf("DropLayer(parcels): %v", err)
	}
	ed.Close()

	then := filepath.Join(dir, "then.geojson")
	if _, stderr, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", t0.Format(time.RFC3339Nano), "-o", then); err != nil {
		t.Fatalf("export --as-of before the drop: %v\n%s", err, stderr)
	}
	got, err := os.ReadFile(then)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("export --as-of before the drop =\n%s\nwant, as exported then,\n%s", got, want)
	}
	// Every layer as of then: the dropped one is among them.
	kml, stderr, err := planmap(t, "export", "--db", db, "--format", "kml", "--as-of", t0.Format(time.RFC3339Nano))
	if err != nil {
		t.Fatalf("export --format kml --as-of before the drop: %v\n%s", err, stderr)
	}
	if !strings.Contains(kml, "测试地块") || strings.Count(kml, "<Placemark") != 3 {
		t.Errorf("export of every layer as KML, as of before the drop: want the dropped layer 测试地块 and its 3 parcels, got\n%s", kml)
	}
	if kml, _, err := planmap(t, "export", "--db", db, "--format", "kml", "--as-of", time.Now().Format(time.RFC3339Nano)); err != nil || strings.Contains(kml, "测试地块") {
		t.Errorf("export of every layer as KML, as of after the drop = %v; want no layer 测试地块:\n%s", err, kml)
	}
	_, _, err = planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", time.Now().Format(time.RFC3339Nano))
	if err == nil || !strings.Contains(err.Error(), "was dropped at") {
		t.Errorf("export --as-of after the drop = %v, want an error saying when it was dropped", err)
	}
	// The past, imported, is the layer again: in a second life, under
	// another title.
	again := strings.Replace(want, "测试地块", "重建的地块", 1)
	if again == want {
		t.Fatalf("the export has no title 测试地块:\n%s", want)
	}
	if err := os.WriteFile(then, []byte(again), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := planmap(t, "import", "--db", db, then); err != nil {
		t.Fatalf("import the export of the past: %v\n%s", err, stderr)
	}
	if now, _, err := planmap(t, "export", "--db", db, "--layer", "parcels"); err != nil || now != again {
		t.Errorf("export of the layer imported back = %v\n%s\nwant\n%s", err, now, again)
	}
	if got, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", t0.Format(time.RFC3339Nano)); err != nil || got != want {
		t.Errorf("export --as-of in the first life, in the second = %v\n%s\nwant\n%s", err, got, want)
	}
	// A copy keeps the first life's declaration with its drop: as of
	// then, the copy is read in it too (to a GeoPackage, and from one to
	// PostgreSQL when the source is PostgreSQL).
	copies := []string{filepath.Join(dir, "copy.gpkg")}
	if postgis.IsURL(db) {
		copies = append(copies, layerstest.PostgresDB(t))
	}
	from := db
	for _, to := range copies {
		if _, stderr, err := planmap(t, "copy", "--from", from, "--to", to); err != nil {
			t.Fatalf("copy to %s: %v\n%s", dbName(to), err, stderr)
		}
		got, stderr, err := planmap(t, "export", "--db", to, "--layer", "parcels", "--as-of", t0.Format(time.RFC3339Nano))
		if err != nil || got != want {
			t.Errorf("export --as-of before the drop of the copy %s = %v %s\n%s\nwant\n%s", dbName(to), err, stderr, got, want)
		}
		from = to
	}
}

func writeTemp(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "out.geojson")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExportAsOfRedeclared exports a layer as of a time before its
// declaration changed: in the declaration it had then, in which its
// features then were valid, though a value one of them had is no longer
// allowed.
func TestExportAsOfRedeclared(t *testing.T) { onEachDB(t, testExportAsOfRedeclared) }

func testExportAsOfRedeclared(t *testing.T, db string) {
	dir := t.TempDir()
	want, t0 := importedParcels(t, db)
	// Parcel 3, the one signed, goes; then "signed" is no longer a status,
	// and the layer has another title.
	ed := openEditor(t, db)
	if err := ed.Delete(context.Background(), "parcels", 3, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	ed.Close()
	now, _, err := planmap(t, "export", "--db", db, "--layer", "parcels")
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(strings.Replace(now, `"signed",`, "", 1), "测试地块", "改过的地块", 1)
	if next == now || strings.Count(next, "signed") != 0 {
		t.Fatalf("the layer file was not changed as the test needs:\n%s", next)
	}
	redeclared := filepath.Join(dir, "redeclared.geojson")
	if err := os.WriteFile(redeclared, []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := planmap(t, "import", "--db", db, redeclared); err != nil {
		t.Fatalf("import of the new declaration: %v\n%s", err, stderr)
	}
	if got, _, err := planmap(t, "export", "--db", db, "--layer", "parcels"); err != nil || got != next {
		t.Fatalf("export after the new declaration = %v\n%s\nwant\n%s", err, got, next)
	}

	if got, stderr, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", t0.Format(time.RFC3339Nano)); err != nil || got != want {
		t.Errorf("export --as-of before the new declaration = %v %s\n%s\nwant, as exported then,\n%s", err, stderr, got, want)
	}
	then := filepath.Join(dir, "then.gpkg")
	if _, stderr, err := planmap(t, "export", "--db", db, "--layer", "parcels", "--format", "gpkg", "--as-of", t0.Format(time.RFC3339Nano), "-o", then); err != nil {
		t.Fatalf("export --format gpkg --as-of before the new declaration: %v\n%s", err, stderr)
	}
	// Imported into a database of its own, it is the layer as it was.
	fresh := filepath.Join(dir, "fresh.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", fresh, then); err != nil {
		t.Fatalf("import of the GeoPackage exported as of then: %v\n%s", err, stderr)
	}
	if got, stderr, err := planmap(t, "export", "--db", fresh, "--layer", "parcels"); err != nil || got != want {
		t.Errorf("the GeoPackage exported as of then, imported and exported = %v %s\n%s\nwant\n%s", err, stderr, got, want)
	}
}
