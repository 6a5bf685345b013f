package gpkg_test

import (
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
