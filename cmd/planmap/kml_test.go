package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// planmap export writes KML that GDAL reads with every seed layer's
// features, named by name_zh: a layer per file (the format told by
// --format or by the .kml name), and all layers in one.
func TestExportKML(t *testing.T) {
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	dir := t.TempDir()
	db := filepath.Join(dir, "p.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", db, "../../seeds"); err != nil {
		t.Fatalf("import seeds: %v\n%s", err, stderr)
	}
	store, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := store.Layers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != seedCount(t) {
		t.Fatalf("%d layers imported, want %d", len(ls), seedCount(t))
	}
	names := map[string][]string{}
	for _, l := range ls {
		err := store.Features(context.Background(), l.ID, func(f layers.Feature) error {
			n, _ := f.Properties["name_zh"].(string)
			names[l.ID] = append(names[l.ID], n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	check := func(t *testing.T, got layerstest.OGRLayer, l *layers.Layer) {
		t.Helper()
		if want := l.Title.Zh + " " + l.Title.En; got.Name != want {
			t.Errorf("layer %q, want %q", got.Name, want)
		}
		var gotNames []string
		for _, f := range got.Features {
			gotNames = append(gotNames, f["Name"])
		}
		if got.Count != len(names[l.ID]) || !slices.Equal(gotNames, names[l.ID]) {
			t.Errorf("%s: ogrinfo counts %d features named %q, want %q", l.ID, got.Count, gotNames, names[l.ID])
		}
	}
	for i, l := range ls {
		t.Run(l.ID, func(t *testing.T) {
			path := filepath.Join(dir, l.ID+".kml")
			args := []string{"export", "--db", db, "--layer", l.ID}
			if i%2 == 0 {
				// The format from the file name, or said outright.
				args = append(args, "-o", path)
			} else {
				args = append(args, "--format", "kml")
			}
			out, stderr, err := planmap(t, args...)
			if err != nil {
				t.Fatalf("planmap %s: %v\n%s", strings.Join(args, " "), err, stderr)
			}
			if i%2 == 1 {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if out != "" {
				t.Errorf("export -o wrote to stdout: %.200s", out)
			}
			got := layerstest.OGRInfo(t, ogrinfo, path)
			if len(got) != 1 {
				t.Fatalf("ogrinfo finds %d layers, want 1", len(got))
			}
			check(t, got[0], l)
		})
	}

	t.Run("All", func(t *testing.T) {
		path := filepath.Join(dir, "all.KML")
		if _, stderr, err := planmap(t, "export", "--db", db, "-o", path); err != nil {
			t.Fatalf("export -o all.KML: %v\n%s", err, stderr)
		}
		got := layerstest.OGRInfo(t, ogrinfo, path)
		if len(got) != len(ls) {
			t.Fatalf("ogrinfo finds %d layers, want %d", len(got), len(ls))
		}
		for i, l := range ls {
			check(t, got[i], l)
		}
	})

	t.Run("ErrUnknownLayer", func(t *testing.T) {
		path := filepath.Join(dir, "nope.kml")
		if _, _, err := planmap(t, "export", "--db", db, "--layer", "nope", "-o", path); err == nil || !strings.Contains(err.Error(), `layer "nope" does not exist`) {
			t.Errorf("export of an unknown layer as KML = %v", err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("a failed export left %s behind", path)
		}
	})
}
