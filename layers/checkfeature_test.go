package layers_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// CheckFeature is the import's check of a feature, for an edit: the same
// conversions and the same refusals, as an EINVALID error naming the
// property or ring.
func TestCheckFeature(t *testing.T) {
	f, err := layers.ParseFile("parcels.geojson", []byte(readTestdata(t, "parcels.geojson")))
	if err != nil {
		t.Fatal(err)
	}
	l := f.Layer
	square := orb.Polygon{{{121.5, 32.0}, {121.5, 32.001}, {121.501, 32.001}, {121.501, 32.0}, {121.5, 32.0}}} // clockwise
	props := func() map[string]any {
		return map[string]any{"name_zh": "地块", "status": "signed", "berths": json.Number("4"), "area_mu": 10, "public": false,
			"opened": "2026/01/02", "surveyed": "2026-01-02T08:00:00+08:00", "name_en": nil}
	}
	t.Run("OK", func(t *testing.T) {
		got, err := l.CheckFeature(layers.Feature{ID: 9, Properties: props(), Geometry: square})
		if err != nil {
			t.Fatalf("CheckFeature: %v", err)
		}
		want := map[string]any{"name_zh": "地块", "status": "signed", "berths": int64(4), "area_mu": 10.0, "public": false,
			"opened": "2026-01-02", "surveyed": "2026-01-02T00:00:00.000Z"}
		if len(got.Properties) != len(want) {
			t.Errorf("properties = %v, want %v", got.Properties, want)
		}
		for k, v := range want {
			if got.Properties[k] != v {
				t.Errorf("property %s = %#v, want %#v", k, got.Properties[k], v)
			}
		}
		mp, ok := got.Geometry.(orb.MultiPolygon)
		if !ok || got.ID != 9 {
			t.Fatalf("geometry %T, id %d; want a MultiPolygon, id 9", got.Geometry, got.ID)
		}
		if orb.Ring(mp[0][0]).Orientation() != orb.CCW {
			t.Error("the exterior ring was not wound counter-clockwise, as an import winds it")
		}
	})
	for _, tt := range []struct {
		name  string
		edit  func(*layers.Feature)
		names string
	}{
		{"ErrUnknown", func(f *layers.Feature) { f.Properties["colour"] = "red" }, `property "colour" is not in the schema`},
		{"ErrRequired", func(f *layers.Feature) { delete(f.Properties, "name_zh") }, `required property "name_zh"`},
		{"ErrValue", func(f *layers.Feature) { f.Properties["status"] = "dreamt" }, `property "status": "dreamt" is not one of`},
		{"ErrInteger", func(f *layers.Feature) { f.Properties["berths"] = 2.5 }, `property "berths"`},
		{"ErrDate", func(f *layers.Feature) { f.Properties["opened"] = "soon" }, `property "opened"`},
		{"ErrGeometryType", func(f *layers.Feature) { f.Geometry = orb.LineString{{121.5, 32}, {121.6, 32}} }, "geometry is a LineString"},
		{"ErrRing", func(f *layers.Feature) {
			f.Geometry = orb.Polygon{{{121.5, 32.0}, {121.501, 32.001}, {121.501, 32.0}, {121.5, 32.001}, {121.5, 32.0}}}
		}, "ring 0"},
		{"ErrNoGeometry", func(f *layers.Feature) { f.Geometry = nil }, "no geometry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := layers.Feature{ID: 9, Properties: props(), Geometry: square}
			tt.edit(&f)
			got, err := l.CheckFeature(f)
			if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), tt.names) || !strings.Contains(err.Error(), "feature 9") {
				t.Errorf("CheckFeature = %v, %v; want an %s error naming feature 9 and saying %s", got, err, layers.EINVALID, tt.names)
			}
		})
	}
}
