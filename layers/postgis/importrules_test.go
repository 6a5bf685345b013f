package postgis_test

import (
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// TestImportKeepsPlanningRules: an import into PostGIS is checked against
// the planning rules as an edit is, tested as the GeoPackage store's is
// (layerstest.ImportRules), on the seed layers.
func TestImportKeepsPlanningRules(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatalf("Import of the seeds: %v", err)
	}
	layerstest.ImportRules(t, s)
}
