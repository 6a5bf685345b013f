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
	props := maps.Clone(it.Properties)
	props["status"] = "under_construction"
	if _, err := s.Replace(ctx, "parcels", 7, layers.Feature{Properties: props, Geometry: it.Geometry}, "", layers.Edit{Author: "alice"}); err != nil {
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

func writeTemp(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "out.geojson")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
