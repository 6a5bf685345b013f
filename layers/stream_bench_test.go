package layers_test

import (
	"os"
	"path/filepath"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// BenchmarkCheckParcels checks 100,000 synthetic parcels read from disk,
// which is import's work before the store: the features array cut into
// features, each feature parsed (its coordinates cut by geo's splitter)
// and checked. BenchmarkImportParcels (layers/gpkg) adds the store.
func BenchmarkCheckParcels(b *testing.B) {
	path := filepath.Join(b.TempDir(), "parcels.geojson")
	data := layerstest.Parcels(100_000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := layers.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var p layers.Problems
		f.Check(f.Layer, &p)
		if err := p.Err(); err != nil {
			b.Fatal(err)
		}
	}
}
