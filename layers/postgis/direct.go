package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// Direct edits (QGIS's PostGIS provider, ogr2ogr -update, psql) are
// recorded by the triggers, and checked when the catalog takes them in
// from the change log, by layers.DirectChecks, as the GeoPackage store's
// are: that type says the rule; this file is what it reads from the
// database (directSnapshot) and where the flags are kept
// (planmap_problems, migrations/0007_direct_problems.sql). Changes
// planmap made are told by the mark its transactions leave on each change
// (planmap.checked, which every edit, import and copy of any planmap
// process sets: setContext), not by the author, since a direct writer
// may sign its edits (the GeoPackage store, whose triggers cannot mark a
// change, records its writes' ranges instead).

// OnProblem sets where the store reports a direct edit whose feature fails
// the checks (err), and, with a nil err, one that passes them again. Call
// it before serving.
func (s *Store) OnProblem(fn func(layer string, fid int64, err error)) { s.direct.OnProblem(fn) }

// Problem returns why feature fid of layer failed the checks after a
// direct edit, or "" if it did not (or has not been checked).
func (s *Store) Problem(layer string, fid int64) string { return s.direct.Problem(layer, fid) }

// lastSeq is the latest change number in the log as q sees it.
func lastSeq(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM planmap_changes`).Scan(&n)
	return n, err
}

// directSnapshot is the layers.DirectSnapshot of the read-only, repeatable
// read transaction tx in which the catalog takes changes in.
type directSnapshot struct {
	tx   pgx.Tx
	all  []*layers.Layer
	byID map[string]*layers.Layer
}

// Foreign: the change was not marked checked by planmap's context
// (setContext), whatever author or note its writer set.
func (d *directSnapshot) Foreign(ctx context.Context, lo, hi int64) (map[int64]bool, error) {
	rows, err := d.tx.Query(ctx, `SELECT seq FROM planmap_changes WHERE seq BETWEEN $1 AND $2 AND fid > 0 AND NOT checked`, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	foreign := map[int64]bool{}
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		foreign[seq] = true
	}
	return foreign, rows.Err()
}

func (d *directSnapshot) Layers(ctx context.Context) ([]*layers.Layer, error) {
	if d.byID == nil {
		all, err := listLayers(ctx, d.tx)
		if err != nil {
			return nil, err
		}
		d.all, d.byID = all, make(map[string]*layers.Layer, len(all))
		for _, l := range all {
			d.byID[l.ID] = l
		}
	}
	return d.all, nil
}

func (d *directSnapshot) Feature(ctx context.Context, l *layers.Layer, fid int64) (*layers.Feature, error) {
	var f *layers.Feature
	err := eachRow(ctx, d.tx, l, selectColumns(l)+` WHERE fid = $1`, []any{fid}, func(ft layers.Feature) error {
		f = &ft
		return nil
	})
	return f, err
}

// Ended: a row of planmap_history keeps the state its version began with
// (the trigger writes the row of a version a bulk write began before it
// ends: planmap_history_close), so the versions that ended are the rows
// before the feature's newest, which is its current state or its delete.
func (d *directSnapshot) Ended(ctx context.Context, l *layers.Layer, fid int64, n int) (orb.Geometry, error) {
	if n == 0 {
		return nil, nil
	}
	rows, err := d.tx.Query(ctx, `SELECT ST_AsBinary(geom) FROM planmap_history
		WHERE layer = $1 AND fid = $2 AND geom IS NOT NULL
		AND id < (SELECT max(id) FROM planmap_history WHERE layer = $1 AND fid = $2)
		ORDER BY id DESC LIMIT $3`, l.ID, fid, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var gs orb.Collection
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, err
		}
		g, err := wkb.Unmarshal(blob)
		if err != nil {
			return nil, fmt.Errorf("history of %s %d: %w", l.ID, fid, err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch len(gs) {
	case 0:
		return nil, nil
	case 1:
		return gs[0], nil
	}
	return gs, nil
}

// AsksRules: the store's edits always ask them (edit.go).
func (d *directSnapshot) AsksRules() bool { return true }

// Rules asks the planning rules as an edit does (checkRules), with the
// declarations of the snapshot read once.
func (d *directSnapshot) Rules(ctx context.Context, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
	all, err := d.Layers(ctx)
	if err != nil {
		return err
	}
	return layers.CheckRules(ctx, near(d.tx, func(_ context.Context, id string) (*layers.Layer, error) {
		if nl := d.byID[id]; nl != nil {
			return nl, nil
		}
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	}), all, l, f, was)
}

// recheckFlags checks again, as they are in tx, the flagged features
// that changed since they were flagged without this store taking the
// change in (layers.DirectChecks.Recheck): a change of the feature, or of
// its layer as a whole, after the one checked.
func (s *Store) recheckFlags(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT p.layer, p.fid, c.seq FROM planmap_problems p
		CROSS JOIN LATERAL (SELECT max(seq) AS seq FROM planmap_changes
			WHERE layer = p.layer AND seq > p.seq AND fid IN (p.fid, 0)) c
		WHERE c.seq IS NOT NULL ORDER BY p.layer, p.fid`)
	if err != nil {
		return err
	}
	changed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (layers.Flag, error) {
		var f layers.Flag
		err := row.Scan(&f.Layer, &f.FID, &f.Seq)
		return f, err
	})
	if err != nil {
		return err
	}
	return s.direct.Recheck(ctx, &directSnapshot{tx: tx}, changed)
}

// loadProblems reads the flags the database keeps.
func (s *Store) loadProblems(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT layer, fid, problem, seq FROM planmap_problems`)
	if err != nil {
		return fmt.Errorf("read the features flagged after direct edits: %w", err)
	}
	flags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (layers.Flag, error) {
		var f layers.Flag
		err := row.Scan(&f.Layer, &f.FID, &f.Problem, &f.Seq)
		return f, err
	})
	if err != nil {
		return fmt.Errorf("read the features flagged after direct edits: %w", err)
	}
	s.direct.Load(flags)
	return nil
}

// saveProblems writes the flags set or cleared since it last ran, in one
// transaction.
func (s *Store) saveProblems(ctx context.Context) error {
	return s.direct.Save(ctx, func(ctx context.Context, flags []layers.Flag) error {
		b := &pgx.Batch{}
		for _, f := range flags {
			if f.Problem == "" {
				b.Queue(`DELETE FROM planmap_problems WHERE layer = $1 AND fid = $2`, f.Layer, f.FID)
			} else {
				b.Queue(`INSERT INTO planmap_problems (layer, fid, problem, seq) VALUES ($1, $2, $3, $4)
					ON CONFLICT (layer, fid) DO UPDATE SET problem = excluded.problem, seq = excluded.seq, at = now()`,
					f.Layer, f.FID, f.Problem, f.Seq)
			}
		}
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}
