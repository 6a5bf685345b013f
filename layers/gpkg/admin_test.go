package gpkg_test

import (
	"testing"

	"planmap/layers/layerstest"
)

// TestLayerAdmin: the store's web.LayerEditor, tested as the PostGIS
// store's is (layerstest.LayerAdmin).
func TestLayerAdmin(t *testing.T) {
	layerstest.LayerAdmin(t, seededStore(t))
}
