package seeds_test

import (
	"context"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/seeds"
)

// The first layers every user sees must load: each file parses and passes
// the same checks as planmap import.
func TestSeedsCheck(t *testing.T) {
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatalf("ReadFS: %v", err)
	}
	if err := layers.CheckFiles(context.Background(), nil, files, false); err != nil {
		t.Fatalf("CheckFiles:\n%v", err)
	}
	common := []string{"name_zh", "name_en", "landuse_code", "landuse_gb50137", "status", "position_confidence", "position_note"}
	for _, f := range files {
		if f.Layer == nil {
			t.Errorf("%s declares no layer", f.Name)
			continue
		}
		if f.LayerID+".geojson" != f.Name {
			t.Errorf("%s declares layer %q: the file must be named after its layer", f.Name, f.LayerID)
		}
		for _, name := range common {
			if fd := f.Layer.Field(name); fd == nil || !fd.Required {
				t.Errorf("%s: %s is not a required field", f.Name, name)
			}
		}
		// Declared but not required: a layer file written before the
		// Chinese notes (a GeoPackage imported with --declare) still loads.
		if fd := f.Layer.Field("position_note_zh"); fd == nil || fd.Required {
			t.Errorf("%s: position_note_zh is not an optional field", f.Name)
		}
		if len(f.Features) == 0 {
			t.Errorf("%s has no features", f.Name)
		}
		for _, w := range f.Warnings {
			t.Errorf("warning: %s", w)
		}
	}
	for _, id := range []string{"terminals", "resettlement", "parks", "stations", "railways", "roads"} {
		found := false
		for _, f := range files {
			found = found || f.LayerID == id
		}
		if !found {
			t.Errorf("no seed layer %s", id)
		}
	}
}

// Every hand-drawn feature says where it comes from: the sentence of the
// source article it shows, or, for a context feature the article does not
// name, the gazetteer entry it is drawn from ("背景要素，取自地名录：…").
func TestSeedsHaveSources(t *testing.T) {
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatalf("ReadFS: %v", err)
	}
	if err := layers.CheckFiles(context.Background(), nil, files, false); err != nil {
		t.Fatalf("CheckFiles:\n%v", err)
	}
	n := 0
	for _, f := range files {
		for _, ft := range f.Features {
			n++
			s, _ := ft.Properties["source"].(string)
			if strings.TrimSpace(s) == "" {
				name, _ := ft.Properties["name_zh"].(string)
				t.Errorf("%s: feature %d (%s) has no source: give the article's sentence, or 背景要素，取自地名录：… with the gazetteer basis", f.Name, ft.ID, name)
			}
		}
	}
	if n == 0 {
		t.Fatal("no seed features were read")
	}
}

// Every feature says in Chinese too what its position rests on, so that
// the map tells it in either language.
func TestSeedsPositionNotesInChinese(t *testing.T) {
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatalf("ReadFS: %v", err)
	}
	for _, f := range files {
		for i, ft := range f.Features {
			zh, _ := ft.Properties["position_note_zh"].(string)
			en, _ := ft.Properties["position_note"].(string)
			if !strings.ContainsFunc(zh, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) || zh == en {
				t.Errorf("%s feature %d: position_note_zh %q is not a Chinese note", f.Name, i+1, zh)
			}
		}
	}
}
