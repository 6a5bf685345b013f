package layers_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"planmap/geo"
	"planmap/layers"
)

// FuzzParseAndCheck: a file ParseFile and Check refuse gets a layers error
// whose every line names the file (or counts the rest), no more lines than
// the cap allows; a file they accept has only features that pass the
// checks they claim: ids, geometry type, valid normalised geometry, and
// properties of the declared types and values.
func FuzzParseAndCheck(f *testing.F) {
	var names []string
	for _, pattern := range []string{"testdata/*.geojson", "../seeds/*.geojson"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		names = append(names, m...)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Values that once made a problem span lines.
	f.Add([]byte("{\"type\": \"FeatureCollection\", \"crs\": {\"type\":\n\"link\"}, \"features\": []}"))
	f.Add([]byte("{\"type\": \"FeatureCollection\", \"name\": \"parcels\", \"features\": [{\"type\": \"Feature\", \"id\": [\n1], \"geometry\": null}]}"))
	f.Fuzz(checkLayerFile)
}

// FuzzParseAndCheckFeature fuzzes one feature of the parcels layer, whose
// schema has a field of every type: mutations of a whole file seldom make
// new JSON, mutations of a feature's parts often do.
func FuzzParseAndCheckFeature(f *testing.F) {
	text, err := os.ReadFile("testdata/parcels.geojson")
	if err != nil {
		f.Fatal(err)
	}
	declaration, _, ok := strings.Cut(string(text), `"features": [`)
	if !ok {
		f.Fatal("parcels.geojson has no features member")
	}
	var fc struct {
		Features []struct {
			ID         json.RawMessage `json:"id"`
			Properties json.RawMessage `json:"properties"`
			Geometry   json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(text, &fc); err != nil {
		f.Fatal(err)
	}
	for _, ft := range fc.Features {
		f.Add(string(ft.ID), string(ft.Properties), string(ft.Geometry))
	}
	f.Fuzz(func(t *testing.T, id, properties, geometry string) {
		feature := `{"type": "Feature", "id": ` + id + `, "properties": ` + properties + `, "geometry": ` + geometry + `}`
		checkLayerFile(t, []byte(declaration+`"features": [`+feature+"]}"))
	})
}

// checkLayerFile parses and checks data as the file fuzz.geojson, and
// checks what ParseFile and Check say about it.
func checkLayerFile(t *testing.T, data []byte) {
	t.Helper()
	const name = "fuzz.geojson"
	file, err := layers.ParseFile(name, data)
	if err != nil {
		checkProblems(t, data, err)
		return
	}
	if err := layers.CheckFiles(context.Background(), nil, []*layers.File{file}, false); err != nil {
		checkProblems(t, data, err)
		return
	}
	l := file.Layer
	if l == nil {
		t.Fatalf("CheckFiles accepted %q without a declaration and without a store", data)
	}
	seen := map[int64]bool{}
	for _, ft := range file.Features {
		switch {
		case file.NewIDs && ft.ID != 0:
			t.Fatalf("feature id %d in a file taken as having no ids: %q", ft.ID, data)
		case !file.NewIDs && (ft.ID <= 0 || seen[ft.ID]):
			t.Fatalf("feature id %d is not positive or is used twice: %q", ft.ID, data)
		}
		seen[ft.ID] = true
		if gt := ft.Geometry.GeoJSONType(); gt != l.GeometryType {
			t.Fatalf("feature %d is a %s in a %s layer: %q", ft.ID, gt, l.GeometryType, data)
		}
		if err := geo.Validate(ft.Geometry); err != nil {
			t.Fatalf("feature %d has an invalid geometry (%v): %q", ft.ID, err, data)
		}
		multi := geo.IsMulti(l.GeometryType)
		if n := geo.Normalize(ft.Geometry, multi); string(geo.AppendGeoJSON(nil, n)) != string(geo.AppendGeoJSON(nil, ft.Geometry)) {
			t.Fatalf("feature %d is not normalised: %q", ft.ID, data)
		}
		checkProperties(t, l, ft, data)
	}
}

var problemLine = regexp.MustCompile(`^fuzz\.geojson: |^… and `)

func checkProblems(t *testing.T, data []byte, err error) {
	t.Helper()
	if layers.ErrorCode(err) != layers.EINVALID {
		t.Fatalf("error %v has code %s, want %s; input %q", err, layers.ErrorCode(err), layers.EINVALID, data)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) > layers.MaxProblems+1 {
		t.Fatalf("error has %d lines, more than %d problems and a count; input %q", len(lines), layers.MaxProblems, data)
	}
	for _, line := range lines {
		if !problemLine.MatchString(line) {
			t.Fatalf("error line %q names no file; error:\n%v\ninput %q", line, err, data)
		}
	}
}

func checkProperties(t *testing.T, l *layers.Layer, ft layers.Feature, data []byte) {
	t.Helper()
	for k, v := range ft.Properties {
		fd := l.Field(k)
		if fd == nil {
			t.Fatalf("feature %d has property %q, not in the schema: %q", ft.ID, k, data)
		}
		ok := false
		switch fd.Type {
		case layers.String:
			s, isString := v.(string)
			ok = isString && (len(fd.Values) == 0 || slices.Contains(fd.Values, s))
		case layers.Integer:
			_, ok = v.(int64)
		case layers.Number:
			_, ok = v.(float64)
		case layers.Boolean:
			_, ok = v.(bool)
		case layers.Date:
			s, isString := v.(string)
			_, err := time.Parse("2006-01-02", s)
			ok = isString && err == nil
		case layers.DateTime:
			s, isString := v.(string)
			_, err := time.Parse("2006-01-02T15:04:05.000Z", s)
			ok = isString && err == nil
		}
		if !ok {
			t.Fatalf("feature %d property %q = %#v is not a valid %s: %q", ft.ID, k, v, fd.Type, data)
		}
	}
	for _, fd := range l.Schema {
		if _, ok := ft.Properties[fd.Name]; fd.Required && !ok {
			t.Fatalf("feature %d lacks required property %q: %q", ft.ID, fd.Name, data)
		}
	}
}
