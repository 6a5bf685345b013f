package web_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/layerstest"
	"planmap/web"
)

// storeLayers are the collections of store, which must hold as many
// features as the files loaded (fileCounts) give.
func storeLayers(t *testing.T, store cache.Store) []*layers.Collection {
	t.Helper()
	cat, err := store.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []layerCount
	for _, c := range cat.Collections {
		got = append(got, layerCount{c.ID, c.Count})
	}
	byID := func(a, b layerCount) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(got, byID)
	if want := slices.SortedFunc(slices.Values(fileCounts(t)), byID); !slices.Equal(got, want) {
		t.Fatalf("the store holds %v, the files %v", got, want)
	}
	return cat.Collections
}

// QGIS loads each collection as an OAPIF layer, the way a planner adds it.
func TestQGISLoadsEachCollection(t *testing.T) {
	layerstest.RequireQGIS(t)
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			srv := newServerOn(t, store, web.Options{})
			info := storeLayers(t, store)
			args := []string{"testdata/qgis_oapif.py", srv.URL}
			for _, l := range info {
				args = append(args, l.ID)
			}
			out, _ := layerstest.RunQGIS(t, args[0], args[1:]...)
			var res struct {
				Log    []string
				Layers map[string]struct {
					Valid        bool
					Error        string
					FeatureCount int
					Iterated     int
					Fields       map[string]string
					CRS          string
					FirstID      int
					First        map[string]any
				}
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
				t.Fatalf("QGIS printed %s: %v", out, err)
			}
			got := res.Layers
			for _, l := range res.Log {
				t.Logf("QGIS log: %s", l)
			}
			for _, l := range info {
				r := got[l.ID]
				if !r.Valid {
					t.Errorf("QGIS: %s is not a valid OAPIF layer: %s", l.ID, r.Error)
					continue
				}
				if r.FeatureCount != l.Count || r.Iterated != l.Count {
					t.Errorf("QGIS: %s has featureCount %d and %d features read, want %d", l.ID, r.FeatureCount, r.Iterated, l.Count)
				}
				for _, fd := range l.Schema {
					if _, ok := r.Fields[fd.Name]; !ok {
						t.Errorf("QGIS: %s lacks field %s: %v", l.ID, fd.Name, r.Fields)
					}
				}
				if r.CRS != "EPSG:4326" && r.CRS != "OGC:CRS84" {
					t.Errorf("QGIS: %s is in %s", l.ID, r.CRS)
				}
			}
			p := got["parcels"]
			for name, want := range map[string]string{"berths": "Integer", "area_mu": "Real", "public": "Boolean", "opened": "Date", "name_zh": "String"} {
				if typ := p.Fields[name]; !strings.EqualFold(typ, want) && !strings.HasPrefix(strings.ToLower(typ), strings.ToLower(want)) {
					t.Errorf("QGIS types parcels' %s as %q, want %s (fields %v)", name, typ, want, p.Fields)
				}
			}
			if p.FirstID != 1 || p.First["name_zh"] != "一号地块 <b>&" {
				t.Errorf("QGIS's first parcel = %d %v", p.FirstID, p.First)
			}
		})
	}
}
