package postgis

import (
	"context"
	"io"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
	"planmap/layers/gpkg"
)

// WriteGeoJSON writes layer id as a layer file, byte for byte as the
// GeoPackage store writes the same layer (layers.WriteLayerFile),
// streamed from one snapshot; progress, when set, is called every 1000
// features.
func (s *Store) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return writeGeoJSON(ctx, tx, w, l, progress)
}

// readLayer begins a read-only snapshot and reads layer id's declaration
// in it; the caller rolls tx back.
func (s *Store) readLayer(ctx context.Context, id string) (pgx.Tx, *layers.Layer, error) {
	tx, err := s.readOnly(ctx)
	if err != nil {
		return nil, nil, err
	}
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		tx.Rollback(ctx)
		return nil, nil, err
	}
	return tx, l, nil
}

// writeGeoJSON is WriteGeoJSON of layer l in the snapshot tx.
func writeGeoJSON(ctx context.Context, tx pgx.Tx, w io.Writer, l *layers.Layer, progress func(done, total int)) error {
	total, err := progressTotal(ctx, tx, l.ID, progress)
	if err != nil {
		return err
	}
	return layers.WriteLayerFile(w, l, func(fn func(layers.Feature) error) error {
		return eachRow(ctx, tx, l, selectColumns(l)+" ORDER BY fid", nil, fn)
	}, total, progress)
}

// progressTotal is the count of layer id's features that a progress
// report counts toward: 0 when there is no progress to report.
func progressTotal(ctx context.Context, tx pgx.Tx, id string, progress func(done, total int)) (int, error) {
	total := 0
	if progress != nil {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(id)).Scan(&total); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// ExportGPKG writes a standalone GeoPackage of the given layers (all when
// ids is empty) to path, as the GeoPackage store exports it: the layers
// are copied from one snapshot into a GeoPackage store in a temporary
// folder (viaGeoPackage), which writes the file.
func (s *Store) ExportGPKG(ctx context.Context, path string, ids ...string) error {
	return s.viaGeoPackage(ctx, ids, func(g *gpkg.Store) error { return g.ExportGPKG(ctx, path, ids...) })
}

// WriteKML writes layer id as a KML document, as the GeoPackage store
// writes it (viaGeoPackage).
func (s *Store) WriteKML(ctx context.Context, w io.Writer, id string) error {
	return s.viaGeoPackage(ctx, []string{id}, func(g *gpkg.Store) error { return g.WriteKML(ctx, w, id) })
}

// WriteAllKML writes every layer as one KML document, as the GeoPackage
// store writes it (viaGeoPackage).
func (s *Store) WriteAllKML(ctx context.Context, w io.Writer) error {
	return s.viaGeoPackage(ctx, nil, func(g *gpkg.Store) error { return g.WriteAllKML(ctx, w) })
}

// viaGeoPackage copies layers ids (every layer when none) from one
// snapshot into a new GeoPackage store in a temporary folder, through
// their layer files (gpkg.FromLayerFiles), and calls fn with it: the
// GeoPackage and KML downloads are the GeoPackage store's own, byte for
// byte the same encoders. It costs an import of the layers per call; web
// caches each download once per version of the data.
func (s *Store) viaGeoPackage(ctx context.Context, ids []string, fn func(*gpkg.Store) error) error {
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	byID := map[string]*layers.Layer{}
	if len(ids) == 0 {
		ls, err := listLayers(ctx, tx)
		if err != nil {
			return err
		}
		for _, l := range ls {
			ids = append(ids, l.ID)
			byID[l.ID] = l
		}
	}
	for _, id := range ids {
		if byID[id] != nil {
			continue
		}
		l, err := getLayer(ctx, tx, id)
		if err != nil {
			return err
		}
		byID[id] = l
	}
	written := 0
	return gpkg.FromLayerFiles(ctx, ids, func(w io.Writer, id string) error {
		if err := writeGeoJSON(ctx, tx, w, byID[id], nil); err != nil {
			return err
		}
		// The snapshot ends with the last file: it holds a connection and
		// keeps old rows from vacuum, and the import and the download
		// (to a client however slow) need it no more.
		if written++; written == len(ids) {
			tx.Rollback(ctx)
		}
		return nil
	}, fn)
}

// Features calls fn for each feature of layer id in id order, streaming
// them from one snapshot. It stops at fn's first error.
func (s *Store) Features(ctx context.Context, id string, fn func(layers.Feature) error) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return eachRow(ctx, tx, l, selectColumns(l)+" ORDER BY fid", nil, fn)
}
