package postgis_test

import (
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// TestLayerAdmin: the store's web.LayerEditor, tested as the GeoPackage
// store's is (layerstest.LayerAdmin), on the seed layers.
func TestLayerAdmin(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	layerstest.LayerAdmin(t, s)
}
