package postgis_test

import (
	"os"
	"path/filepath"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// BenchmarkImportParcels imports 100,000 synthetic parcels from a file on
// disk into a new layer of a new PostGIS database, as planmap import
// does: the file is read with OpenFile and streamed into the store
// (COPY). Skipped without PLANMAP_TEST_PG. make bench-postgis compares the
// real program on 1,000,000 with ogr2ogr (BENCHMARKS.md, "PostGIS, side
// by side").
func BenchmarkImportParcels(b *testing.B) {
	layerstest.RequirePostgres(b)
	path := filepath.Join(b.TempDir(), "parcels.geojson")
	if err := os.WriteFile(path, layerstest.Parcels(100_000), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		url := layerstest.PostgresDB(b)
		s, err := postgis.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		f, err := layers.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if n := res[0].Written; n != 100_000 {
			b.Fatalf("%d features written, want 100,000", n)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
