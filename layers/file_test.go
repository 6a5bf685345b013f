package layers_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"planmap/layers"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parcelsWith returns testdata/parcels.geojson with old replaced by new,
// failing if old is not there.
func parcelsWith(t *testing.T, old, new string) string {
	t.Helper()
	s := readTestdata(t, "parcels.geojson")
	if !strings.Contains(s, old) {
		t.Fatalf("parcels.geojson has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

// checkText parses and checks a layer file against its own declaration.
func checkText(name, text string) error {
	f, err := layers.ParseFile(name, []byte(text))
	if err != nil {
		return err
	}
	return layers.CheckFiles(context.Background(), nil, []*layers.File{f}, false)
}

func TestParseAndCheck(t *testing.T) {
	bowtie := `{"type": "Polygon", "coordinates": [[[121.48, 32.11], [121.49, 32.12], [121.49, 32.11], [121.48, 32.12], [121.48, 32.11]]]}`
	tests := []struct {
		name string
		text func(t *testing.T) string
		want []string // each must be in the error
	}{
		{"OK", func(t *testing.T) string { return readTestdata(t, "parcels.geojson") }, nil},
		{"ErrNotJSON", func(t *testing.T) string { return "{\n  \"type\": \"FeatureCollection\",\n  \"features\": [ }" },
			[]string{"x.geojson: line 3, column 17: not valid JSON"}},
		{"ErrNaN", func(t *testing.T) string {
			return parcelsWith(t, "[121.48, 32.11], [121.48, 32.12]", "[NaN, 32.11], [121.48, 32.12]")
		}, []string{"x.geojson: line 22, column 56", "not valid JSON: invalid character 'N'"}},
		{"ErrFeature", func(t *testing.T) string {
			return `{"type": "Feature", "id": 1, "properties": {}, "geometry": null}`
		}, []string{"x.geojson: is a single Feature; a layer file is a FeatureCollection"}},
		{"ErrArray", func(t *testing.T) string { return `[1, 2]` },
			[]string{"x.geojson: line 1, column 1: top level is a JSON array"}},
		{"ErrBowtie", func(t *testing.T) string {
			return parcelsWith(t, `{"type": "Polygon", "coordinates": [[[121.48, 32.11], [121.48, 32.12], [121.49, 32.12], [121.49, 32.11], [121.48, 32.11]]]}`, bowtie)
		}, []string{"x.geojson: feature 1 (id 1): Polygon: ring 0: ring intersects itself"}},
		{"ErrOpenRing", func(t *testing.T) string {
			return parcelsWith(t, `[121.49, 32.11], [121.48, 32.11]]]}`, `[121.49, 32.11]]]}`)
		}, []string{"feature 1 (id 1): Polygon: ring 0: ring is not closed"}},
		{"ErrDuplicateID", func(t *testing.T) string { return parcelsWith(t, `"id": 7,`, `"id": 1,`) },
			[]string{"x.geojson: feature 2 (id 1): id 1 is already used by feature 1"}},
		{"ErrStringID", func(t *testing.T) string { return parcelsWith(t, `"id": 7,`, `"id": "seven",`) },
			[]string{`feature 2: id "seven" is not a positive integer`}},
		{"ErrSomeWithoutID", func(t *testing.T) string { return parcelsWith(t, `"id": 7,`, ``) },
			[]string{"feature 2: has no id"}},
		{"ErrWrongType", func(t *testing.T) string { return parcelsWith(t, `"berths": 8`, `"berths": "8"`) },
			[]string{`x.geojson: feature 1 (id 1): property "berths": is the string "8", want an integer`}},
		{"ErrUnknownProperty", func(t *testing.T) string { return parcelsWith(t, `"berths": 8`, `"berth": 8`) },
			[]string{`feature 1 (id 1): property "berth" is not in the schema of layer parcels`}},
		{"ErrMissingRequired", func(t *testing.T) string { return parcelsWith(t, `"status": "signed", `, ``) },
			[]string{`feature 3 (id 3): required property "status" is missing`}},
		{"ErrNotAllowed", func(t *testing.T) string { return parcelsWith(t, `"status": "planned"`, `"status": "dreamt"`) },
			[]string{`property "status": "dreamt" is not one of the allowed values (planned, signed, under_construction, in_operation)`}},
		{"ErrBadDate", func(t *testing.T) string { return parcelsWith(t, `"2021-09-26"`, `"26.9.2021"`) },
			[]string{`property "opened": "26.9.2021" is not a date (YYYY-MM-DD)`}},
		{"ErrGeometryType", func(t *testing.T) string {
			return parcelsWith(t, `"geometryType": "MultiPolygon"`, `"geometryType": "MultiLineString"`)
		}, []string{"feature 1 (id 1): geometry is a Polygon, but layer parcels holds MultiLineString"}},
		{"ErrBadDeclaration", func(t *testing.T) string {
			return parcelsWith(t, `"type": "integer"`, `"type": "int"`)
		}, []string{`x.geojson: schema field 3 (berths): type "int" is not one of string, integer, number, boolean, date, datetime`}},
		{"ErrFieldNamedLikeAParameter", func(t *testing.T) string {
			return parcelsWith(t, `{"name": "berths", "type": "integer"`, `{"name": "limit", "type": "integer"`)
		}, []string{`x.geojson: schema field 3 (limit): name "limit" is a query parameter of the layer's items`}},
		{"ErrStyleTypo", func(t *testing.T) string { return parcelsWith(t, `"fillOpacity"`, `"fillOpacitty"`) },
			[]string{`x.geojson: style: unknown field "fillOpacitty"`}},
		{"ErrBadColour", func(t *testing.T) string { return parcelsWith(t, `"color": "#7f5f3f"`, `"color": "brown"`) },
			[]string{`style color "brown" is not a #rrggbb colour`}},
		{"ErrLayerID", func(t *testing.T) string { return parcelsWith(t, `"id": "parcels"`, `"id": "gpkg_parcels"`) },
			[]string{`layer id "gpkg_parcels" is not valid`}},
		{"ErrOtherCRS", func(t *testing.T) string { return readTestdata(t, "epsg32651.geojson") },
			[]string{`crs "urn:ogc:def:crs:EPSG::32651" is not supported`}},
		{"ErrNoIDsOneBroken", func(t *testing.T) string {
			return strings.Replace(readTestdata(t, "qgis_crs84.geojson"), "[ 121.49, 32.11 ], [ 121.48, 32.11 ] ] ] }", "[ 121.49, 32.11 ] ] ] }", 1)
		}, []string{"x.geojson: feature 1: Polygon: ring 0: ring is not closed"}},
		{"ErrNotJSONAfterBrokenFeatures", func(t *testing.T) string {
			return strings.TrimSuffix(string(emptyFeatures(5000)), "]}\n") + ",\n]}"
		}, []string{"x.geojson: line 2, column 1: not valid JSON: invalid character ']' looking for beginning of value"}},
		{"ErrFeaturesNotArray", func(t *testing.T) string { return `{"type": "FeatureCollection", "features": {}}` },
			[]string{`x.geojson: line 1, column 43: member "features" is a JSON object, want an array`}},
		{"ErrFeaturesNull", func(t *testing.T) string { return `{"type": "FeatureCollection", "features": null}` },
			[]string{`x.geojson: has no "features" array`}},
		{"ErrUnknownLayer", func(t *testing.T) string { return readTestdata(t, "qgis_crs84.geojson") },
			[]string{"x.geojson: layer parcels does not exist and the file does not declare it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkText("x.geojson", tt.text(t))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("check = %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("check = nil, want an error with %q", tt.want)
			}
			if code := layers.ErrorCode(err); code != layers.EINVALID {
				t.Errorf("error code = %q, want %q", code, layers.EINVALID)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("check error:\n%v\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "has no id") && tt.name != "ErrSomeWithoutID" {
				t.Errorf("check error blames missing ids:\n%v", err)
			}
		})
	}
}

func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type": "FeatureCollection", "features": [`)
	for i := 1; i <= 120; i++ {
		if i > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type": "Feature", "id": %d, "properties": {}, "geometry": {"type": "Point", "coordinates": [500, 32]}}`, i)
	}
	b.WriteString("]}")
	_, err := layers.ParseFile("many.geojson", []byte(b.String()))
	if err == nil {
		t.Fatal("ParseFile = nil error, want 120 problems")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != layers.MaxProblems+1 {
		t.Errorf("got %d lines, want %d problems and a count", len(lines), layers.MaxProblems)
	}
	if last := lines[len(lines)-1]; last != "… and 70 more problems (120 in all)" {
		t.Errorf("last line = %q", last)
	}
	if !strings.HasPrefix(lines[0], "many.geojson: feature 1 (id 1): Point: coordinate is outside") {
		t.Errorf("first line = %q", lines[0])
	}
}

// TestProblemsAreOneLine: a value quoted in a problem cannot break it into
// lines, which would read as other problems, nor make it of any length.
func TestProblemsAreOneLine(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"ErrCRSOverLines", "{\"type\": \"FeatureCollection\", \"crs\": {\"type\":\n\"link\"}, \"features\": []}",
			`x.geojson: crs member {"type": "link"} is not understood`},
		{"ErrLayerIDOverLines", "{\"type\": \"FeatureCollection\", \"id\": [\r\n1], \"features\": []}",
			"x.geojson: the id member is [ 1]; it must be the layer id, a string"},
		{"ErrFeatureIDForgesProblem", "{\"type\": \"FeatureCollection\", \"name\": \"parcels\", \"features\": [{\"type\": \"Feature\", \"id\": [\n\"x.geojson: feature 9 (id 9): forged\"\n], \"geometry\": null}]}",
			`x.geojson: feature 1: id [ "x.geojson: feature 9 (id 9): forged" ] is not a positive integer`},
		{"ErrHugeID", `{"type": "FeatureCollection", "id": [` + strings.Repeat("1,", 100_000) + `1], "features": []}`,
			"x.geojson: the id member is [1,1,1,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := layers.ParseFile("x.geojson", []byte(tt.text))
			if err == nil {
				t.Fatal("ParseFile = nil error, want one problem")
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") || len(msg) > 1100 || !strings.HasPrefix(msg, tt.want) {
				t.Errorf("ParseFile error = %.300q (%d bytes), want one line of at most 1000 bytes starting %q", msg, len(msg), tt.want)
			}
		})
	}
}

// emptyFeatures is a layer file of n features that are each an empty
// object, {}: the smallest file with a problem in every feature.
func emptyFeatures(n int) []byte {
	var b bytes.Buffer
	b.Grow(3*n + 64)
	b.WriteString(`{"type": "FeatureCollection", "features": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("{}")
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// TestParseStopsCountingAtLimit: a file with a problem in each of many
// features costs the same memory and allocations whether it has a
// thousand more or a hundred thousand more, and says that it was checked
// only so far.
func TestParseStopsCountingAtLimit(t *testing.T) {
	cost := func(n int) (allocs float64, bytes uint64, err error) {
		data := emptyFeatures(n)
		parse := func() { _, err = layers.ParseFile("empty.geojson", data) }
		parse() // warm up once: first calls fill caches in encoding/json
		allocs = testing.AllocsPerRun(3, parse)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		parse()
		runtime.ReadMemStats(&after)
		return allocs, after.TotalAlloc - before.TotalAlloc, err
	}
	smallAllocs, smallBytes, _ := cost(2_000)
	allocs, bytes, err := cost(200_000)
	if err == nil {
		t.Fatal("ParseFile(200000 empty features) = nil error, want problems")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != layers.MaxProblems+1 {
		t.Errorf("got %d lines, want %d problems and a count", len(lines), layers.MaxProblems)
	}
	if first, want := lines[0], `empty.geojson: feature 1: type is "", want "Feature"`; first != want {
		t.Errorf("first line = %q, want %q", first, want)
	}
	if last, want := lines[len(lines)-1], "… and at least 950 more problems (at least 1000 in all; empty.geojson was checked up to feature 1000 of 200000)"; last != want {
		t.Errorf("last line = %q, want %q", last, want)
	}
	// A hundred times the features may cost a few more buffers, never
	// something per feature (the race detector's runtime adds a little
	// noise, a few hundred at most; per feature would be 200,000 more).
	if allocs > smallAllocs+1000 {
		t.Errorf("ParseFile made %.0f allocations for 200000 empty features and %.0f for 2000: the cost grows with the features refused", allocs, smallAllocs)
	}
	if bytes > smallBytes+64<<10 {
		t.Errorf("ParseFile allocated %d bytes for 200000 empty features and %d for 2000: the cost grows with the features refused", bytes, smallBytes)
	}
}

// TestParseStopsAtLimitInDeclaration: a declaration with more problems
// than are counted leaves every feature unchecked, and says so.
func TestParseStopsAtLimitInDeclaration(t *testing.T) {
	fields := make([]string, 1000)
	for i := range fields {
		fields[i] = fmt.Sprintf(`{"name": "f%d", "type": "text"}`, i)
	}
	text := `{"type": "FeatureCollection", "title": {"zh": "坏", "en": "Bad"}, "geometryType": "Point", "schema": [` +
		strings.Join(fields, ", ") + `], "features": [{}, {"type": "Feature"}, {}]}`
	_, err := layers.ParseFile("bad.geojson", []byte(text))
	if err == nil {
		t.Fatal("ParseFile = nil error, want problems")
	}
	lines := strings.Split(err.Error(), "\n")
	if last, want := lines[len(lines)-1], "… and at least 950 more problems (at least 1000 in all; bad.geojson was checked up to feature 0 of 3)"; last != want {
		t.Errorf("last line = %q, want %q", last, want)
	}
}

// BenchmarkParseEmptyFeatures parses a file of a million empty features,
// each of them a problem: the pathological file of issue 9.
func BenchmarkParseEmptyFeatures(b *testing.B) {
	data := emptyFeatures(1_000_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := layers.ParseFile("empty.geojson", data); err == nil {
			b.Fatal("ParseFile = nil error, want a million problems")
		}
	}
}
