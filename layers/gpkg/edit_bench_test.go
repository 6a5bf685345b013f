package gpkg_test

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// BenchmarkReplace replaces one feature at a time of 100,000 synthetic
// parcels through the store, as an edit over HTTP does: one transaction
// with its history and change-log rows, and the catalog taking it in.
func BenchmarkReplace(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "parcels.geojson")
	if err := os.WriteFile(path, layerstest.Parcels(n), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := layers.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s := layerstest.MustOpen(b)
	if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Catalog(ctx); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		fid := int64(i%n + 1)
		it, err := s.Item(ctx, "parcels", fid)
		if err != nil {
			b.Fatal(err)
		}
		props := maps.Clone(it.Properties())
		props["name_zh"] = "改" + strconv.Itoa(i)
		if _, err := s.Replace(ctx, "parcels", fid, layers.Feature{Properties: props, Geometry: it.Geometry}, it.Version(), layers.Edit{Author: "bench"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
