package gpkg_test

import (
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// A program that rebuilds a feature table (QGIS adding a field) drops the
// change log's triggers; the store puts them back and reads the layer
// again, so that the edit made meanwhile is served too.
func TestTriggersPutBack(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	var reported []string
	var mu sync.Mutex
	s.OnError(func(err error) {
		mu.Lock()
		reported = append(reported, err.Error())
		mu.Unlock()
	})
	before, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DROP TRIGGER planmap_changes_parcels_update`,
		`UPDATE parcels SET name_zh = '重建后' WHERE fid = 7`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		cat, _ := s.Catalog(ctx)
		p, _ := cat.Collection("parcels")
		it, err := s.Item(ctx, "parcels", 7)
		if err != nil {
			t.Fatal(err)
		}
		old, _ := before.Collection("parcels")
		if p.Version != old.Version && it.Properties()["name_zh"] == "重建后" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the trigger was dropped and parcel 7 edited, parcels is at version %s (was %s)", p.Version, old.Version)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'planmap_changes_parcels_update'`).Scan(&n)
	if n != 1 {
		t.Error("the dropped trigger was not put back")
	}
	if _, err := db.Exec(`UPDATE parcels SET name_zh = '再改' WHERE fid = 7`); err != nil {
		t.Fatal(err)
	}
	var logged int
	db.QueryRow(`SELECT count(*) FROM planmap_changes WHERE layer = 'parcels' AND fid = 7 AND op = 'update'`).Scan(&logged)
	if logged != 1 {
		t.Errorf("an edit after the repair left %d update rows in the change log, want 1", logged)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0], "parcels") {
		t.Errorf("reported %q, want one report naming parcels", reported)
	}
}
