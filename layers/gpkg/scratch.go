package gpkg

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"planmap/layers"
)

// FromLayerFiles makes a GeoPackage store in a temporary folder holding
// layers ids, each imported from the layer file write writes of it, and
// calls fn with it; the folder is removed after. It is how a download
// that only this store's encoders write (a GeoPackage, KML) is made of
// data read elsewhere: another store's layers, or layers as of a time.
// Each file is streamed to disk and imported from there, so memory holds
// one feature at a time; the cost is an import of the layers per call.
func FromLayerFiles(ctx context.Context, ids []string, write func(w io.Writer, id string) error, fn func(*Store) error) error {
	dir, err := os.MkdirTemp("", "planmap-scratch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files := make([]*layers.File, 0, len(ids))
	for _, id := range ids {
		p := filepath.Join(dir, id+".geojson")
		fh, err := os.Create(p)
		if err != nil {
			return err
		}
		err = write(fh, id)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		f, err := layers.OpenFile(p)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	g, err := Open(ctx, filepath.Join(dir, "planmap.gpkg"))
	if err != nil {
		return err
	}
	defer g.Close()
	if len(files) > 0 {
		if _, err := g.Import(ctx, files, layers.ImportOptions{}); err != nil {
			return fmt.Errorf("copy into a GeoPackage: %w", err)
		}
	}
	return fn(g)
}
