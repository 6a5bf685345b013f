package cache_test

import (
	"context"
	"path/filepath"
	"testing"

	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/storetest"
)

// The cache passes the contract of every store, in front of a GeoPackage
// store written by another client of the file: with room for everything,
// and with so little that it evicts all the time.
func TestContract(t *testing.T) {
	for _, c := range []struct {
		name   string
		budget int64
	}{
		{"Roomy", cache.DefaultBudget},
		{"Tight", 16 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			if raceDetector && c.budget > 1<<20 {
				t.Skip("under -race only the tight budget (see race_test.go)")
			}
			storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, storetest.Writer) {
				path := filepath.Join(t.TempDir(), "planmap.gpkg")
				s, err := gpkg.Open(context.Background(), path)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				t.Cleanup(func() { s.Close() })
				return cache.New(s, c.budget), layerstest.OpenOtherClient(t, path)
			}})
		})
	}
}
