package postgis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
	"planmap/layers/gpkg"
)

// Backup writes a consistent copy of the whole database to path, which
// must not exist, as a planmap GeoPackage (planmap backup): every layer
// with its declaration, the features under their ids, the full history,
// the ids retired, the change log's position and the tokens' hashes, as
// planmap copy moves them (layers.Copy). Everything is read in one
// REPEATABLE READ transaction, a snapshot, so it may run while planmap
// serve serves and writes. The copy is built in a GeoPackage store in a
// temporary folder beside path, whose own Backup then writes path
// (checked, durable, never over an existing file). planmap restore puts it
// back into a GeoPackage file, or into an empty PostgreSQL database.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return layers.Errorf(layers.EINVALID, "%s already exists; planmap will not overwrite it", path)
	}
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	dir, err := os.MkdirTemp(filepath.Dir(path), ".planmap-backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	g, err := gpkg.Open(ctx, filepath.Join(dir, "planmap.gpkg"))
	if err != nil {
		return err
	}
	defer g.Close()
	if _, err := layers.Copy(ctx, snapshot{tx}, g); err != nil {
		return fmt.Errorf("copy into a GeoPackage: %w", err)
	}
	tx.Rollback(ctx)
	return g.Backup(ctx, path)
}

// snapshot is a layers.CopySource that reads the whole database in one
// transaction, tx: what it gives is one state of the database, however
// long the copy takes and whoever writes meanwhile. Its calls run one
// after another, as Copy makes them (a connection runs one query at a
// time).
type snapshot struct{ tx pgx.Tx }

func (s snapshot) Layers(ctx context.Context) ([]*layers.Layer, error) {
	return listLayers(ctx, s.tx)
}

func (s snapshot) Features(ctx context.Context, id string, fn func(layers.Feature) error) error {
	l, err := getLayer(ctx, s.tx, id)
	if err != nil {
		return err
	}
	return eachRow(ctx, s.tx, l, selectColumns(l)+" ORDER BY fid", nil, fn)
}

func (s snapshot) History(ctx context.Context, id string, fn func(layers.HistoryRow) error) error {
	return history(ctx, s.tx, id, fn)
}

func (s snapshot) DroppedLayers(ctx context.Context) ([]string, error) {
	return droppedLayers(ctx, s.tx)
}

func (s snapshot) LastFID(ctx context.Context, id string) (int64, error) {
	return lastFIDEver(ctx, s.tx, id)
}

func (s snapshot) LastChange(ctx context.Context) (int64, error) {
	return lastChange(ctx, s.tx)
}

func (s snapshot) TokenRecords(ctx context.Context) ([]layers.TokenRecord, error) {
	return tokenRecords(ctx, s.tx)
}

// Info returns the declaration, feature count and extent of every layer,
// in drawing order, from one snapshot (planmap layers).
func (s *Store) Info(ctx context.Context) ([]layers.LayerInfo, error) {
	tx, err := s.readOnly(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	ls, err := listLayers(ctx, tx)
	if err != nil {
		return nil, err
	}
	out := make([]layers.LayerInfo, len(ls))
	for i, l := range ls {
		st := &layerState{col: &layers.Collection{Layer: l}}
		if err := measure(ctx, tx, st); err != nil {
			return nil, err
		}
		e := st.col.Extent
		out[i] = layers.LayerInfo{Layer: l, Count: st.col.Count}
		if st.col.Count > 0 {
			out[i].Extent = [4]float64{e.Min[0], e.Min[1], e.Max[0], e.Max[1]}
		}
	}
	return out, nil
}

// Layer returns the declaration of layer id, or ENOTFOUND.
func (s *Store) Layer(ctx context.Context, id string) (*layers.Layer, error) {
	return getLayer(ctx, s.pool, id)
}
