package gpkg_test

import (
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// BenchmarkReplace replaces one feature at a time of 100,000 synthetic
// parcels through the store, as an edit over HTTP does: one transaction
// with its history and change-log rows, and the catalog taking it in.
func BenchmarkReplace(b *testing.B) {
	const n = 100_000
	s := parcelsStore(b, n)
	i := 0
	for b.Loop() {
		fid := int64(i%n + 1)
		it, err := s.Item(ctx, "parcels", fid)
		if err != nil {
			b.Fatal(err)
		}
		props := maps.Clone(it.Properties())
		props["name_zh"] = "改" + strconv.Itoa(i)
		if _, err := s.Replace(ctx, "parcels", fid, layers.Feature{Properties: props, Geometry: it.Geometry()}, it.Version(), layers.Edit{Author: "bench"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTakeInOtherEdit: another connection changes one feature of
// 100,000 synthetic parcels by SQL, as QGIS or GDAL does, and the store
// takes the change in, as its poll loop does. Only the taking in is timed.
func BenchmarkTakeInOtherEdit(b *testing.B) {
	const n = 100_000
	s := parcelsStore(b, n)
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	i := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := db.ExecContext(ctx, `UPDATE parcels SET name_zh = ? WHERE fid = ?`, "改"+strconv.Itoa(i), i%n+1); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s.TakeIn(ctx)
		i++
	}
	b.StopTimer()
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT max(seq) FROM planmap_changes`).Scan(&last); err != nil {
		b.Fatal(err)
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if cat.Seq != last {
		b.Fatalf("the catalog is at change %d, the log at %d", cat.Seq, last)
	}
}

// parcelsStore returns a store of n synthetic parcels, imported from a
// file as planmap import does, its catalog built.
func parcelsStore(b *testing.B, n int) *gpkg.Store {
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
	return s
}
