package gpkg_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// What every store does (counts, extents, bbox, paging, versions, the
// change log, other clients' writes) is tested by the contract in
// contract_test.go. This is what the GeoPackage store adds: the catalog
// is not rebuilt when nothing changed, a layer that did not change keeps
// its collection, and a write that only the change log's triggers see
// (plain SQL, gpkg_contents untouched) shows too.
func TestCatalogFollowsTheFile(t *testing.T) {
	s := layerstest.MustOpen(t)
	roads := strings.NewReplacer(`"parcels"`, `"roads"`).Replace(readTestdata(t, "parcels.geojson"))
	mustImport(t, s, layers.ImportOptions{},
		parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")), parseText(t, "roads.geojson", roads))
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := cat.Collection("parcels")
	time.Sleep(150 * time.Millisecond) // a few polls of data_version
	if again, _ := s.Catalog(ctx); again != cat {
		t.Error("Catalog rebuilt with nothing changed")
	}
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE roads SET name_zh = '改过的' WHERE fid = 3`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		next, _ := s.Catalog(ctx)
		r, _ := next.Collection("roads")
		if r.Version != cat.Collections[1].Version {
			if p, _ := next.Collection("parcels"); p != col {
				t.Error("parcels, unchanged, was rebuilt")
			}
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("roads kept its version %v after a plain SQL edit", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	three, err := s.Item(ctx, "roads", 3)
	if err != nil {
		t.Fatal(err)
	}
	if three.Properties()["name_zh"] != "改过的" {
		t.Errorf("after a plain SQL edit road 3 is %v", three.Properties()["name_zh"])
	}
}
