package gpkg_test

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// featureCoords returns every coordinate of every feature of a GeoJSON
// FeatureCollection, by feature id, in file order.
func featureCoords(t *testing.T, text string) map[int64][]float64 {
	t.Helper()
	var fc struct {
		Features []struct {
			ID       int64 `json:"id"`
			Geometry struct {
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(text), &fc); err != nil {
		t.Fatal(err)
	}
	out := map[int64][]float64{}
	for _, f := range fc.Features {
		var nested any
		if err := json.Unmarshal(f.Geometry.Coordinates, &nested); err != nil {
			t.Fatal(err)
		}
		var flat []float64
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case float64:
				flat = append(flat, v)
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(nested)
		out[f.ID] = flat
	}
	return out
}

// sameCoords fails unless got and want have the same features with the
// same number of coordinates, each within tol degrees.
func sameCoords(t *testing.T, got, want map[int64][]float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d features, want %d", len(got), len(want))
	}
	worst := 0.0
	for id, w := range want {
		g, ok := got[id]
		if !ok || len(g) != len(w) {
			t.Errorf("feature %d: %d coordinates, want %d", id, len(g), len(w))
			continue
		}
		for i := range w {
			if d := math.Abs(g[i] - w[i]); d > tol {
				t.Errorf("feature %d: coordinate %d is %.9f, want %.9f", id, i, g[i], w[i])
			} else {
				worst = math.Max(worst, d)
			}
		}
	}
	t.Logf("worst difference %.2g°", worst)
}

// TestGaussKrugerInput imports layer files that GDAL reprojected to CGCS2000
// 3-degree Gauss–Krüger zones (make_gdal_files.sh) and compares them with
// the files they were made from.
func TestGaussKrugerInput(t *testing.T) {
	seed, err := os.ReadFile("../../seeds/resettlement.geojson")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, source, layer string }{
		{"epsg4528.geojson", readTestdata(t, "parcels.geojson"), "parcels"},
		{"resettlement_epsg4549.geojson", string(seed), "resettlement"},
	} {
		t.Run(c.file, func(t *testing.T) {
			a := layerstest.MustOpen(t)
			mustImport(t, a, layers.ImportOptions{}, parseText(t, "source.geojson", c.source))
			b := layerstest.MustOpen(t)
			mustImport(t, b, layers.ImportOptions{}, parseText(t, c.file, readTestdata(t, c.file)))
			sameCoords(t, featureCoords(t, exportText(t, b, c.layer)), featureCoords(t, exportText(t, a, c.layer)), 1e-7+1e-12) // a rounding flip at the 7th decimal is 1e-7
		})
	}
}

func TestSourceCRS(t *testing.T) {
	for _, code := range []int{4326, 4490, 3857, 4513, 4528, 4533, 4534, 4549, 4554} {
		if _, err := layers.SourceCRS(code); err != nil {
			t.Errorf("SourceCRS(%d) = %v, want it taken", code, err)
		}
	}
	for _, code := range []int{4512, 4555, 32651, 2385, 0} {
		_, err := layers.SourceCRS(code)
		if err == nil || layers.ErrorCode(err) != layers.EINVALID {
			t.Errorf("SourceCRS(%d) = %v, want an invalid-input error", code, err)
			continue
		}
		if want := "EPSG:"; !strings.Contains(err.Error(), want) {
			t.Errorf("SourceCRS(%d) = %q, want it to name the CRS", code, err)
		}
	}
}

func TestGeoJSONCRSNames(t *testing.T) {
	file := func(name string) string {
		return `{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "` + name + `"}}, "features": [
			{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [641592.7555, 3553926.2590]}}]}`
	}
	for _, name := range []string{"urn:ogc:def:crs:EPSG::4549", "EPSG:4549", "http://www.opengis.net/def/crs/EPSG/0/4549", "urn:ogc:def:crs:EPSG:9.8.6:4549"} {
		t.Run("OK "+name, func(t *testing.T) {
			if _, err := layers.ParseFile("x.geojson", []byte(file(name))); err != nil {
				t.Errorf("ParseFile with crs %s: %v", name, err)
			}
		})
	}
	for _, name := range []string{"EPSG:32651", "urn:ogc:def:crs:EPSG::2385", "EPSG:4549x"} {
		t.Run("Err "+name, func(t *testing.T) {
			_, err := layers.ParseFile("x.geojson", []byte(file(name)))
			if err == nil || !strings.Contains(err.Error(), `crs "`+name+`" is not supported`) {
				t.Errorf("ParseFile with crs %s = %v, want it refused by name", name, err)
			}
		})
	}
}

func TestGaussKrugerWrongZone(t *testing.T) {
	file := func(crs, x, y string) string {
		return `{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "` + crs + `"}}, "features": [
			{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [` + x + `, ` + y + `]}}]}`
	}
	tests := []struct {
		name, text, want string
	}{
		{"NoZoneNumber", file("EPSG:4528", "641592.7555", "3553926.2590"),
			"x.geojson: feature 1: geometry: easting 641592.8 has no zone number, but EPSG:4528 puts zone 40 in front (40…): the data may be in EPSG:4549"},
		{"ZoneNumber", file("EPSG:4549", "40641592.7555", "3553926.2590"),
			"easting 40641592.8 starts with a zone number, 40, which EPSG:4549 has not: the data may be in EPSG:4528"},
		{"OtherZone", file("EPSG:4528", "39641592.7555", "3553926.2590"),
			"position (39641592.8, 3553926.3) is outside EPSG:4528 (eastings 40000000–41000000 m"},
		{"LonLat", file("EPSG:4549", "121.5", "32.1"),
			"position (121.5, 32.1) looks like longitude/latitude, not an easting and northing in metres of EPSG:4549"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := layers.ParseFile("x.geojson", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFile = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
