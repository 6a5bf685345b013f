package layers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// TestDecodeFastFeatureAsEncodingJSON checks that decodeFastFeature,
// whenever it takes a feature, decodes it exactly as a json.Decoder with
// UseNumber does, on hand-made edge cases and on every feature of the
// synthetic parcels and of the test parcels.
func TestDecodeFastFeatureAsEncodingJSON(t *testing.T) {
	cases := []string{
		`{"type": "Feature", "id": 1, "properties": {"a": "x", "b": 1.50, "c": -2e3, "d": true, "e": false, "f": null}, "geometry": {"type": "Point", "coordinates": [1, 2]}}`,
		`{"geometry": {"coordinates": [[1, 2], [3, 4]], "type": "LineString"}, "properties": null, "id": null, "type": "Feature"}`,
		`{"type":"Feature","properties":{},"geometry":null}`,
		`{"type": "Feature", "id": "7", "properties": {"a": "x"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}`,
		`{"type": "Feature", "id": 1.5, "properties": {"a": "中文"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}`,
		`{"type": "Feature", "properties": {"a": "x", "a": "y"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}`,
	}
	// Left to encoding/json: each is decoded some other way, or refused.
	left := []string{
		`{"type": "Feature", "TYPE": "Point", "properties": {}, "geometry": null}`,
		`{"type": "Feature", "type": "Other", "properties": {}, "geometry": null}`,
		`{"type": "Feature", "properties": {"a": "x\"y"}, "geometry": null}`,
		`{"type": "Feature", "properties": {"a": "\u00e9"}, "geometry": null}`,
		"{\"type\": \"Feature\", \"properties\": {\"a\": \"\xff\"}, \"geometry\": null}",
		`{"type": "Feature", "properties": {"a": [1]}, "geometry": null}`,
		`{"type": "Feature", "properties": {"a": {"b": 1}}, "geometry": null}`,
		`{"type": "Feature", "properties": "x", "geometry": null}`,
		`{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": null}}`,
		`{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2], "bbox": [1, 2, 1, 2]}}`,
		`{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": ["1", 2]}}`,
		`{"type": "Feature", "properties": {}, "geometry": "POINT (1 2)"}`,
		`{"type": 5, "properties": {}, "geometry": null}`,
		`{"type": "Feature", "id": {"a": 1}, "properties": {}, "geometry": null}`,
		`{"type": "Feature", "bbox": [1, 2, 3, 4], "properties": {}, "geometry": null}`,
		`[1, 2]`, `"Feature"`, `{"type": "Feature",}`, `{"type": "Feature"`,
	}
	cases = append(cases, left...)
	// Parcels as genparcels writes them (layerstest cannot be imported
	// here: it imports a store).
	for i := 1; i <= 2000; i++ {
		x, y := 121.2+float64(i%600)*0.0009, 31.9+float64(i/600)*0.0009
		berths := ""
		if i%4 != 0 {
			berths = fmt.Sprintf(`, "berths": %d`, i%7)
		}
		cases = append(cases, fmt.Sprintf(`{"type": "Feature", "id": %d, "properties": {"name_zh": "%d号地块", "status": "signed", "area_mu": %.2f%s},
     "geometry": {"type": "MultiPolygon", "coordinates": [[[[%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f]]]]}}`,
			i, i, float64(i)/7, berths, x, y, x+0.0005, y, x+0.0005, y+0.0005, x, y))
	}
	for _, text := range []string{readFileT(t, "testdata/parcels.geojson")} {
		var fc struct{ Features []json.RawMessage }
		if err := json.Unmarshal([]byte(text), &fc); err != nil {
			t.Fatal(err)
		}
		for _, f := range fc.Features {
			cases = append(cases, string(f))
		}
	}
	took := 0
	for _, c := range cases {
		var got, want fastFeature
		if !decodeFastFeature([]byte(c), &got) {
			continue
		}
		took++
		dec := json.NewDecoder(bytes.NewReader([]byte(c)))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Errorf("decodeFastFeature took %s, which encoding/json refuses: %v", c, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeFastFeature(%s) = %+v\nencoding/json: %+v", c, got, want)
		}
	}
	if took < 2000 {
		t.Errorf("decodeFastFeature took %d of %d features, want every parcel", took, len(cases))
	}
	for _, c := range left {
		if decodeFastFeature([]byte(c), &fastFeature{}) {
			t.Errorf("decodeFastFeature took %s, which it should leave to encoding/json", c)
		}
	}
}

func readFileT(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
