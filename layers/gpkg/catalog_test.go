package gpkg_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

func TestCatalog(t *testing.T) {
	s := layerstest.MustOpen(t)
	roads := strings.NewReplacer(`"parcels"`, `"roads"`).Replace(readTestdata(t, "parcels.geojson"))
	mustImport(t, s, layers.ImportOptions{},
		parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")), parseText(t, "roads.geojson", roads))
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col, ok := cat.Collection("parcels")
	if !ok || col.Count != 3 {
		t.Fatalf("Collection(parcels) = %v, %v", col, ok)
	}
	if want := (orb.Bound{Min: orb.Point{121.4, 32.05}, Max: orb.Point{121.53, 32.12}}); col.Extent != want {
		t.Errorf("Extent = %v, want %v", col.Extent, want)
	}
	one, err := s.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	first := string(one.JSON)
	for _, want := range []string{`{"type":"Feature","id":1,"properties":{"name_zh":"一号地块 <b>&"`, `"area_mu":575.5`, `"geodesic_area_m2":`, `"geodesic_area_mu":`, `"geometry":{"type":"MultiPolygon"`} {
		if !strings.Contains(first, want) {
			t.Errorf("item 1 JSON lacks %s:\n%s", want, first)
		}
	}

	ids := func(items []*layers.Item) (out []int64) {
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		f       layers.Filter
		off, n  int
		want    []int64
		matched int
	}{
		{"All", layers.Filter{}, 0, 10, []int64{1, 3, 7}, 3},
		{"Page", layers.Filter{}, 1, 1, []int64{3}, 3},
		{"PastTheEnd", layers.Filter{}, 5, 10, nil, 3},
		{"BBox", layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}}}}, 0, 10, []int64{1}, 1},
		// Inside the hole of parcel 3: its box matches, its geometry not.
		{"BBoxInHole", layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{121.412, 32.062}, Max: orb.Point{121.418, 32.068}}}}, 0, 10, nil, 0},
		{"TwoBoxes", layers.Filter{BBoxes: []orb.Bound{
			{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}},
			{Min: orb.Point{121.505, 32.101}, Max: orb.Point{121.506, 32.102}}}}, 0, 10, []int64{1, 7}, 2},
		{"Equals", layers.Filter{Equals: map[string]any{"status": "signed"}}, 0, 10, []int64{3}, 1},
		{"EqualsBool", layers.Filter{Equals: map[string]any{"public": false}}, 0, 10, []int64{7}, 1},
		{"EqualsAndBBox", layers.Filter{Equals: map[string]any{"status": "signed"},
			BBoxes: []orb.Bound{{Min: orb.Point{121.485, 32.115}, Max: orb.Point{121.486, 32.116}}}}, 0, 10, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, matched, err := s.Items(ctx, "parcels", tt.f, layers.Page{Offset: tt.off, Limit: tt.n})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); matched != tt.matched || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Select = %v, %d; want %v, %d", got, matched, tt.want, tt.matched)
			}
		})
	}

	t.Run("Refresh", func(t *testing.T) {
		again, _ := s.Catalog(ctx)
		if again != cat {
			t.Error("Catalog rebuilt with nothing changed")
		}
		// Another process (another Store on the same file) adds to roads.
		other, err := gpkg.Open(ctx, s.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		more := strings.NewReplacer(`"id": 1,`, `"id": 11,`).Replace(roads)
		mustImport(t, other, layers.ImportOptions{}, parseText(t, "roads.geojson", more))
		// Another process's writes show within a fifth of a second.
		time.Sleep(250 * time.Millisecond)
		next, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := next.Collection("roads")
		p, _ := next.Collection("parcels")
		if r.Count != 4 {
			t.Errorf("roads has %d items after another process added one, want 4", r.Count)
		}
		if p != col {
			t.Error("parcels, unchanged, was rebuilt")
		}
		if r.Version == cat.Collections[1].Version {
			t.Error("roads kept its version")
		}
		// A write that announces nothing (plain SQL, gpkg_contents untouched)
		// shows too, once the catalog looks again.
		db, err := sql.Open("sqlite", s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE parcels SET name_zh = '改过的' WHERE fid = 3`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		time.Sleep(250 * time.Millisecond)
		edited, _ := s.Catalog(ctx)
		p2, _ := edited.Collection("parcels")
		three, err := s.Item(ctx, "parcels", 3)
		if err != nil {
			t.Fatal(err)
		}
		if three.Properties["name_zh"] != "改过的" || p2.Version == p.Version {
			t.Errorf("after a plain SQL edit parcel 3 is %v (version %s, was %s)", three.Properties["name_zh"], p2.Version, p.Version)
		}
		// This process's own writes show at once.
		mine := strings.NewReplacer(`"id": 1,`, `"id": 21,`).Replace(roads)
		mustImport(t, s, layers.ImportOptions{}, parseText(t, "roads.geojson", mine))
		now, _ := s.Catalog(ctx)
		if r, _ := now.Collection("roads"); r.Count != 5 {
			t.Errorf("roads has %d items right after this store imported one, want 5", r.Count)
		}
	})
}

func TestSearch(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	name := func(h []layers.Hit) (out []any) {
		for _, x := range h {
			out = append(out, x.Item.Properties["name_zh"])
		}
		return out
	}
	for q, want := range map[string]string{
		"七号":      "[七号地块]",
		"地块":      "[一号地块 <b>& 三号地块 七号地块]",
		"PARCEL":  "[一号地块 <b>&]",
		"  ":      "[]",
		"nothing": "[]",
	} {
		hits, err := s.Search(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(name(hits)); got != want {
			t.Errorf("Search(%q) = %s, want %s", q, got, want)
		}
	}
	if got, _ := s.Search(ctx, "地块", 2); len(got) != 2 {
		t.Errorf("Search with limit 2 gave %d", len(got))
	}
}
