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
// with so little that it evicts all the time, and with room and every
// layer's spatial index made as it is first asked for (in the other two
// an index may come in the background at any point of a test), each
// holding what it reads the first time, so that the suite's second reads
// meet held features; and as serve runs it, holding what is read twice.
func TestContract(t *testing.T) {
	for _, c := range []struct {
		name           string
		budget         int64
		indexed, first bool
	}{
		{"Roomy", cache.DefaultBudget, false, true},
		{"Tight", 16 << 10, false, true},
		{"Indexed", cache.DefaultBudget, true, true},
		{"Serve", cache.DefaultBudget, false, false},
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
				cc := cache.New(s, c.budget)
				if c.indexed {
					cc.IndexNow()
				}
				if c.first {
					cc.AdmitFirst()
				}
				return cc, layerstest.OpenOtherClient(t, path)
			}})
		})
	}
}
