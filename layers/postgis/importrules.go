package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// An import is checked against the planning rules as an edit is, and as
// the GeoPackage store checks its imports (layers.ImportRules). This file
// is the PostGIS side of it: features find their neighbours through the
// GiST index (near, the edits' lookup), and what the import changed is
// kept in a temporary table, not in memory: the id of each feature it
// wrote to a checked layer and the geometry it had before, copied from
// the layer's table before the INSERT … ON CONFLICT or the DELETE of a
// replace overwrites it.

// was is the temporary table of the features an import wrote to the
// layers a rule is about, with the geometries (WKB) they had before.
const was = "planmap_import_was"

// beginChecks prepares im to record what it writes to the layers a rule
// is about, when any of the files' layers is one.
func (im *importer) beginChecks(ctx context.Context, files []*layers.File) error {
	stored, err := listLayers(ctx, im.tx)
	if err != nil {
		return err
	}
	rules := layers.NewImportRules(stored, files)
	if rules == nil {
		return nil
	}
	if _, err := im.tx.Exec(ctx, `CREATE TEMP TABLE `+was+` (layer text NOT NULL, fid bigint NOT NULL, geom bytea, PRIMARY KEY (layer, fid)) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	im.checks = rules
	return nil
}

// planChecks records, as the plan pl begins, that its layer is to be
// checked, and keeps the features it has before a whole write: Begin
// calls it before it empties or drops the layer's table.
func (im *importer) planChecks(ctx context.Context, pl *layers.Plan) error {
	if !im.checks.Plan(pl, im.whole) || pl.Stored == nil || !im.whole {
		return nil
	}
	_, err := im.tx.Exec(ctx, `INSERT INTO pg_temp.`+was+` (layer, fid, geom) SELECT $1, fid, ST_AsBinary(geom) FROM `+
		quoteIdent(pl.Layer.ID)+` ON CONFLICT DO NOTHING`, pl.Layer.ID)
	return err
}

// noteWas keeps, for a write by id, the id of every staged feature of
// plan pl and the geometry it has before End writes it (none for a new
// one): End calls it before the INSERT … ON CONFLICT.
func (im *importer) noteWas(ctx context.Context, pl *layers.Plan) error {
	if !im.checks.Involves(pl.Layer.ID) || im.whole {
		return nil
	}
	_, err := im.tx.Exec(ctx, `INSERT INTO pg_temp.`+was+` (layer, fid, geom)
		SELECT $1, s.fid, ST_AsBinary(t.geom) FROM `+stage+` s LEFT JOIN `+quoteIdent(pl.Layer.ID)+` t ON t.fid = s.fid
		ON CONFLICT DO NOTHING`, pl.Layer.ID)
	return err
}

// checkImportRules asks layers.CheckRules about what the import wrote,
// in the transaction, after the last file is written
// (layers.ImportRules.Check). The declarations are read once.
func checkImportRules(ctx context.Context, tx pgx.Tx, rules *layers.ImportRules) error {
	if rules == nil {
		return nil
	}
	all, err := listLayers(ctx, tx)
	if err != nil {
		return err
	}
	byID := make(map[string]*layers.Layer, len(all))
	for _, l := range all {
		byID[l.ID] = l
	}
	lookup := near(tx, func(_ context.Context, id string) (*layers.Layer, error) {
		if l := byID[id]; l != nil {
			return l, nil
		}
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	})
	return rules.Check(ctx, importSource{tx}, all, func(ctx context.Context, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
		return layers.CheckRules(ctx, lookup, all, l, f, was)
	})
}

// importSource is the layers.ImportSource of an import's transaction.
type importSource struct{ tx pgx.Tx }

func (src importSource) Written(ctx context.Context, id string, whole bool) ([]int64, error) {
	t := quoteIdent(id)
	if whole {
		return int64s(ctx, src.tx, `SELECT fid FROM `+t+` ORDER BY fid`)
	}
	return int64s(ctx, src.tx, `SELECT w.fid FROM pg_temp.`+was+` w JOIN `+t+` t ON t.fid = w.fid WHERE w.layer = $1 ORDER BY w.fid`, id)
}

func (src importSource) Removed(ctx context.Context, id string) ([]int64, error) {
	return int64s(ctx, src.tx, `SELECT fid FROM pg_temp.`+was+` w WHERE layer = $1
		AND NOT EXISTS (SELECT 1 FROM `+quoteIdent(id)+` t WHERE t.fid = w.fid) ORDER BY fid`, id)
}

func (src importSource) Features(ctx context.Context, l *layers.Layer, ids []int64, fn func(layers.Feature) error) error {
	return eachRow(ctx, src.tx, l, selectColumns(l)+` WHERE fid = ANY($1) ORDER BY fid`, []any{ids}, fn)
}

// Before returns the geometries before the import of the features fids
// of layer id that had one.
func (src importSource) Before(ctx context.Context, id string, fids []int64) (map[int64]orb.Geometry, error) {
	rows, err := src.tx.Query(ctx, `SELECT fid, geom FROM pg_temp.`+was+`
		WHERE layer = $1 AND geom IS NOT NULL AND fid = ANY($2)`, id, fids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]orb.Geometry{}
	for rows.Next() {
		var fid int64
		var blob []byte
		if err := rows.Scan(&fid, &blob); err != nil {
			return nil, err
		}
		g, err := wkb.Unmarshal(blob)
		if err != nil {
			return nil, fmt.Errorf("layer %s, feature %d before the import: %w", id, fid, err)
		}
		out[fid] = g
	}
	return out, rows.Err()
}

// int64s returns the first column of what query selects.
func int64s(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
