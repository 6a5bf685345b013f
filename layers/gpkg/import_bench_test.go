package gpkg_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// BenchmarkImportParcels imports 100,000 synthetic parcels from a file on
// disk into a new layer, as planmap import does: the file is read with
// OpenFile and streamed into the store. make bench-import compares the
// real program on 1,000,000 with ogr2ogr.
func BenchmarkImportParcels(b *testing.B) {
	path := filepath.Join(b.TempDir(), "parcels.geojson")
	if err := os.WriteFile(path, layerstest.Parcels(100_000), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := layers.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		s := layerstest.MustOpen(b)
		if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportParcelsRules is BenchmarkImportParcels with planning
// rules on the layer, checked as the import writes it: no parcel overlaps
// another, and each lies within a boundary imported before. Every parcel
// is checked once, its neighbours found through the R-tree: the cost per
// parcel stays the same whatever the layer's size.
func BenchmarkImportParcelsRules(b *testing.B) {
	path := filepath.Join(b.TempDir(), "parcels.geojson")
	data := bytes.Replace(layerstest.Parcels(100_000), []byte(`"geometryType"`),
		[]byte(`"rules": [{"notOverlapping": ["parcels"], "toleranceM2": 1}, {"within": "boundary", "toleranceM": 0.5}], "geometryType"`), 1)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	boundary, err := layers.ParseFile("boundary.geojson", []byte(`{"type": "FeatureCollection", "name": "boundary",
	  "title": {"zh": "范围", "en": "Boundary"}, "geometryType": "Polygon", "schema": [],
	  "features": [{"type": "Feature", "id": 1, "properties": {},
	    "geometry": {"type": "Polygon", "coordinates": [[[121.1, 31.8], [121.9, 31.8], [121.9, 32.3], [121.1, 32.3], [121.1, 31.8]]]}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := layers.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		s := layerstest.MustOpen(b)
		if _, err := s.Import(ctx, []*layers.File{boundary}, layers.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
