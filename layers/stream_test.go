package layers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"planmap/layers"
)

// TestOpenFileChecksAsParseFile checks that a file read by OpenFile, whose
// features are parsed and checked as they stream from disk, gets exactly
// the problems, warnings and features that ParseFile and Check give the
// same bytes.
func TestOpenFileChecksAsParseFile(t *testing.T) {
	feature := func(id, status, geom string) string {
		return fmt.Sprintf(`{"type": "Feature", "id": %s, "properties": {"name_zh": "地块", "status": %q}, "geometry": %s}`, id, status, geom)
	}
	square := `{"type": "MultiPolygon", "coordinates": [[[[121.48, 32.11], [121.49, 32.11], [121.49, 32.12], [121.48, 32.11]]]]}`
	bowtie := `{"type": "Polygon", "coordinates": [[[121.48, 32.11], [121.49, 32.12], [121.49, 32.11], [121.48, 32.12], [121.48, 32.11]]]}`
	decl := strings.SplitAfter(readTestdata(t, "parcels.geojson"), `"features": [`)[0]
	file := func(features ...string) string { return decl + strings.Join(features, ",\n") + "]}" }
	many := func(n int, f func(i int) string) string {
		var fs []string
		for i := 1; i <= n; i++ {
			fs = append(fs, f(i))
		}
		return file(fs...)
	}
	tests := []struct{ name, text string }{
		{"OK", file(feature("1", "planned", square), feature("2", "signed", square))},
		{"Empty", file()},
		{"NoIDs", file(feature("null", "planned", square), feature("null", "signed", square))},
		{"MixedIDs", file(feature("1", "planned", square), feature("null", "signed", square))},
		{"DuplicateID", file(feature("1", "planned", square), feature("1", "signed", square))},
		{"BadValue", file(feature("1", "planned", square), feature("2", "lost", square))},
		{"BadGeometry", file(feature("1", "planned", bowtie), feature("2", "lost", square))},
		{"ParseAndCheck", file(feature("1", "lost", square), feature("2", "planned", bowtie))},
		{"NotAFeature", file(`{"type": "Point"}`, `[1, 2]`, `"x"`)},
		{"SyntaxInFeatures", file(feature("1", "planned", square), `{"type": "Feature", "id": 2,, }`)},
		{"TrailingComma", file(feature("1", "planned", square)) + ","},
		{"MissingComma", strings.Replace(file(feature("1", "planned", square), feature("2", "planned", square)), "},\n{", "}\n{", 1)},
		{"FeaturesFirst", `{"features": [` + feature("1", "planned", square) + `], ` + strings.TrimPrefix(decl, "{")[:strings.LastIndex(strings.TrimPrefix(decl, "{"), ",")] + "}"},
		{"NotAnArray", decl[:len(decl)-1] + `{}}`},
		{"ManyBad", many(3*layers.MaxProblems*20, func(i int) string { return feature(fmt.Sprint(i), "lost", square) })},
		{"ManyUnparsable", many(3*layers.MaxProblems*20, func(i int) string { return feature(fmt.Sprint(i), "planned", bowtie) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := parseAndCheck(tt.name, tt.text)
			path := filepath.Join(t.TempDir(), tt.name+".geojson")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			var got *layers.File
			gotErr := func() error {
				f, err := layers.OpenFile(path)
				if err != nil {
					return err
				}
				got = f
				return layers.CheckFiles(context.Background(), nil, []*layers.File{f}, false)
			}()
			// The streamed file is named by its path.
			if gotErr != nil {
				gotErr = fmt.Errorf("%s", strings.ReplaceAll(gotErr.Error(), path, tt.name))
			}
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("OpenFile and CheckFiles: %v\nwant, as ParseFile and CheckFiles: %v", gotErr, wantErr)
			}
			if wantErr != nil {
				return
			}
			if len(got.Features) != len(want.Features) || got.NewIDs != want.NewIDs ||
				strings.ReplaceAll(strings.Join(got.Warnings, "; "), path, tt.name) != strings.Join(want.Warnings, "; ") {
				t.Fatalf("OpenFile: %d features, NewIDs %t, warnings %q; want %d, %t, %q",
					len(got.Features), got.NewIDs, got.Warnings, len(want.Features), want.NewIDs, want.Warnings)
			}
			for i := range got.Features {
				if fmt.Sprint(got.Features[i]) != fmt.Sprint(want.Features[i]) {
					t.Errorf("feature %d: %v, want %v", i, got.Features[i], want.Features[i])
				}
			}
		})
	}
}

func parseAndCheck(name, text string) (*layers.File, error) {
	f, err := layers.ParseFile(name, []byte(text))
	if err != nil {
		return nil, err
	}
	return f, layers.CheckFiles(context.Background(), nil, []*layers.File{f}, false)
}
