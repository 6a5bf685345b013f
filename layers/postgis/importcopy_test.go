package postgis_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"planmap/layers"
)

// layerFile writes a layer file of n square parcels of layer id, from
// disk as planmap import reads it; feature bad (1-based; 0: none) lacks
// its required name.
func layerFile(t *testing.T, id string, n, bad int) *layers.File {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `{"type": "FeatureCollection", "name": %q, "title": {"zh": "地块", "en": "Parcels"},
	  "geometryType": "Polygon", "schema": [{"name": "name", "type": "string", "required": true},
	  {"name": "opened", "type": "date"}, {"name": "surveyed", "type": "datetime"}], "features": [`, id)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(",\n")
		}
		x, y := 121.5+float64(i%100)*0.001, 32.0+float64(i/100)*0.001
		props := fmt.Sprintf(`{"name": "p%d", "opened": "2026-01-%02d", "surveyed": "2026-01-02T03:04:%02d.5+08:00"}`, i, 1+i%28, i%60)
		if i == bad {
			props = `{"opened": "2026-01-01"}`
		}
		fmt.Fprintf(&b, `{"type": "Feature", "id": %d, "properties": %s, "geometry": {"type": "Polygon",
		  "coordinates": [[[%g, %g], [%g, %g], [%g, %g], [%g, %g], [%g, %g]]]}}`,
			i, props, x, y, x+0.0005, y, x+0.0005, y+0.0005, x, y+0.0005, x, y)
	}
	b.WriteString("]}")
	path := filepath.Join(t.TempDir(), id+".geojson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := layers.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestImportStopsMidFile: a problem in the middle of a file, after
// hundreds of its features were handed to the COPY, stops the writing but
// not the checking: the next file is checked too (its declaration read
// in the transaction the COPY held), the error lists the problem, nothing
// is written, and the store imports again afterwards.
func TestImportStopsMidFile(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	_, err := s.Import(ctx, []*layers.File{layerFile(t, "first", 1500, 1200), layerFile(t, "second", 10, 7)}, layers.ImportOptions{})
	if err == nil {
		t.Fatal("Import of files with problems succeeded")
	}
	for _, want := range []string{"first", "1200", "second", "7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Import error does not name %q:\n%v", want, err)
		}
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Collections) != 0 {
		t.Fatalf("after a failed import the store has %d layers", len(cat.Collections))
	}
	res, err := s.Import(ctx, []*layers.File{layerFile(t, "first", 1500, 0)}, layers.ImportOptions{})
	if err != nil || res[0].Written != 1500 {
		t.Fatalf("Import after the failed one = %v, %v", res, err)
	}
	// Written by the COPY into the new table: the dates as the checks
	// spell them, and the index and triggers made after it.
	it, err := s.Item(ctx, "first", 1234)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(it.Properties()["opened"], " ", it.Properties()["surveyed"]); got != "2026-01-03 2026-01-01T19:04:34.500Z" {
		t.Errorf("feature 1234: opened, surveyed = %s", got)
	}
	items, matched, err := s.Items(ctx, "first", layers.Filter{BBoxes: nil}, layers.Page{Limit: 1})
	if err != nil || matched != 1500 || len(items) != 1 {
		t.Errorf("Items(first) = %d of %d, %v", len(items), matched, err)
	}
}
