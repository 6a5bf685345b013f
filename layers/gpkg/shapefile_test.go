package gpkg_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// The shapefiles are made by ogr2ogr from seed layers
// (testdata/shp/make_shapefiles.sh).
const shpDir = "../testdata/shp/"

func readSeed(t *testing.T, id string) string {
	t.Helper()
	b, err := os.ReadFile("../../seeds/" + id + ".geojson")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestShapefileImport(t *testing.T) {
	tests := []struct {
		name   string
		file   string // under testdata/shp
		seed   string // the seed layer it was made from
		layer  string
		fields string // the inferred schema
		want   string // a name that must come out right
	}{
		{"UTF8WithCPG", "roads_utf8.shp", "roads", "roads_utf8",
			"name_zh:string name_en:string landuse_co:string landuse_gb:string status:string road_class:string source:string position_c:string position_n:string", "港西大道"},
		{"GBKWithLDID", "resettlement_ldid.shp", "resettlement", "resettlement_ldid", "", "港西大道"},
		{"GBKSaidNowhere", "resettlement_gbk.shp", "resettlement", "resettlement_gbk", "", "港西大道"},
		{"Zip", "plan.zip", "stations", "stations", "", "洋吕铁路东灶港站"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := layers.ReadFiles([]string{shpDir + tt.file})
			if err != nil {
				t.Fatalf("ReadFiles(%s): %v", tt.file, err)
			}
			var f *layers.File
			for _, x := range files {
				if x.LayerID == tt.layer {
					f = x
				}
			}
			if f == nil {
				t.Fatalf("ReadFiles(%s) gave no layer %s", tt.file, tt.layer)
			}
			if w := strings.Join(f.Warnings, "\n"); !strings.Contains(w, "no id field") {
				t.Errorf("warnings = %q, want one about new ids", w)
			}

			a := layerstest.MustOpen(t)
			mustImport(t, a, layers.ImportOptions{}, parseText(t, tt.seed+".geojson", readSeed(t, tt.seed)))
			b := layerstest.MustOpen(t)
			res := mustImport(t, b, layers.ImportOptions{}, files...)
			if !res[0].Created {
				t.Errorf("import result %v, want the layer created", res[0])
			}
			l, err := b.Layer(context.Background(), tt.layer)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fields != "" {
				var got []string
				for _, fd := range l.Schema {
					got = append(got, fd.Name+":"+string(fd.Type))
				}
				if strings.Join(got, " ") != tt.fields {
					t.Errorf("schema = %s, want %s", strings.Join(got, " "), tt.fields)
				}
			}
			gotText, wantText := exportText(t, b, tt.layer), exportText(t, a, tt.seed)
			if !strings.Contains(gotText, `"`+tt.want+`"`) {
				t.Errorf("export of %s has no %q:\n%.2000s", tt.layer, tt.want, gotText)
			}
			if strings.Contains(gotText, "\ufffd") {
				t.Errorf("export of %s has undecodable text:\n%.2000s", tt.layer, gotText)
			}
			// The new ids are given in file order, which is the seed's id order.
			sameCoords(t, featureCoords(t, gotText), featureCoords(t, wantText), 1e-7+1e-12)
		})
	}
}

func TestShapefileNamesAndTexts(t *testing.T) {
	// Every text of the GBK files equals the UTF-8 file's: same seed.
	read := func(name string) *layers.File {
		files, err := layers.ReadFiles([]string{shpDir + name})
		if err != nil {
			t.Fatal(err)
		}
		if err := layers.CheckFiles(context.Background(), nil, files, false); err != nil {
			t.Fatal(err)
		}
		return files[0]
	}
	ldid, gbk := read("resettlement_ldid.shp"), read("resettlement_gbk.shp")
	if len(ldid.Features) != 15 || len(gbk.Features) != 15 {
		t.Fatalf("%d and %d features, want 15", len(ldid.Features), len(gbk.Features))
	}
	for i := range ldid.Features {
		for k, v := range ldid.Features[i].Properties {
			if gbk.Features[i].Properties[k] != v {
				t.Errorf("feature %d %s: %q in the file without .cpg or LDID, %q with the LDID", i+1, k, gbk.Features[i].Properties[k], v)
			}
		}
	}
}

func TestShapefileIntoExistingLayer(t *testing.T) {
	// The second import finds the layer: its stored declaration is used,
	// not one inferred again from the DBF.
	s := layerstest.MustOpen(t)
	for i := 0; i < 2; i++ {
		files, err := layers.ReadFiles([]string{shpDir + "roads_utf8.shp"})
		if err != nil {
			t.Fatal(err)
		}
		mustImport(t, s, layers.ImportOptions{}, files...)
	}
	if n, _ := s.Count(ctx, "roads_utf8", layers.Filter{}); n != 12 {
		t.Errorf("Count = %d after importing 6 features twice, want 12", n)
	}
}

func TestShapefileRefused(t *testing.T) {
	copyShp := func(t *testing.T, from, to string, skip ...string) string {
		t.Helper()
		dir := t.TempDir()
		for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
			data, err := os.ReadFile(shpDir + from + ext)
			if err != nil || contains(skip, ext) {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, to+ext), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(dir, to+".shp")
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"UnknownCRS", func(t *testing.T) string { return shpDir + "roads_utm.shp" },
			`roads_utm.shp: .prj: CRS "WGS_1984_UTM_Zone_51N" is not supported`},
		{"NoPRJ", func(t *testing.T) string { return copyShp(t, "roads_utf8", "roads", ".prj") },
			"roads.shp: has no .prj beside it, so its CRS is unknown"},
		{"NoDBF", func(t *testing.T) string { return copyShp(t, "roads_utf8", "roads", ".dbf") },
			"roads.shp: has no .dbf beside it"},
		{"ChineseName", func(t *testing.T) string { return copyShp(t, "roads_utf8", "道路") },
			"道路.shp: the file name gives no layer id"},
		{"ReservedName", func(t *testing.T) string { return copyShp(t, "roads_utf8", "GPKG-roads") },
			"GPKG-roads.shp: the file name gives no layer id"},
		{"BrokenSHP", func(t *testing.T) string {
			p := copyShp(t, "roads_utf8", "roads")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)-10], 0o644)
			return p
		}, "roads.shp: geo: not a valid shapefile: record 6"},
		{"CountsDiffer", func(t *testing.T) string {
			p := copyShp(t, "resettlement_ldid", "blocks")
			dbf, _ := os.ReadFile(shpDir + "roads_utf8.dbf")
			os.WriteFile(strings.TrimSuffix(p, ".shp")+".dbf", dbf, 0o644)
			return p
		}, "blocks.shp: the .shp has 15 records and the .dbf 6"},
		{"UnknownCPG", func(t *testing.T) string {
			p := copyShp(t, "roads_utf8", "roads")
			os.WriteFile(strings.TrimSuffix(p, ".shp")+".cpg", []byte("KOI8-R"), 0o644)
			return p
		}, `roads.shp: .cpg names the encoding "KOI8-R"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := layers.ReadFiles([]string{tt.path(t)})
			if err == nil || layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadFiles = %v, want an invalid-input error with %q", err, tt.want)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestShapefileZAndDeleted(t *testing.T) {
	files, err := layers.ReadFiles([]string{shpDir + "stations_z.shp"})
	if err != nil {
		t.Fatal(err)
	}
	if err := layers.CheckFiles(context.Background(), nil, files, false); err != nil {
		t.Fatal(err)
	}
	f := files[0]
	if len(f.Features) != 1 || f.Features[0].Properties["name_zh"] != "洋吕铁路东灶港站" {
		t.Errorf("features = %v, want the one station not marked deleted", f.Features)
	}
	w := strings.Join(f.Warnings, "\n")
	for _, want := range []string{"stations_z.shp: 1 features have Z coordinates; heights were dropped", "stations_z.shp: 1 records marked deleted in the .dbf were left out"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings = %q, want %q", w, want)
		}
	}
}
