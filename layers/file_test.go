package layers_test

import (
	"context"
	"fmt"
	"os"
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
