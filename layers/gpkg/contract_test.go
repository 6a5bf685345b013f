package gpkg_test

import (
	"path/filepath"
	"testing"

	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/storetest"
)

// The contract checks ItemsHolding where a store has it: a change of its
// signature would otherwise skip the check without a word.
var _ storetest.Holding = (*gpkg.Store)(nil)

// TestContract runs the store contract on the GeoPackage store, with a
// second store on the same file (and plain SQL for deletes and direct
// edits) as the other client.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, storetest.Writer) {
		path := filepath.Join(t.TempDir(), "planmap.gpkg")
		s, err := gpkg.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s, layerstest.OpenOtherClient(t, path)
	}, Direct: &storetest.DirectHarness{
		New: func(t *testing.T) string { return filepath.Join(t.TempDir(), "planmap.gpkg") },
		Open: func(t *testing.T, path string) storetest.Checker {
			s, err := gpkg.Open(ctx, path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Other: func(t *testing.T, path string) storetest.DirectWriter { return layerstest.OpenOtherClient(t, path) },
	}})
}
