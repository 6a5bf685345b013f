package gpkg

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// Direct edits (QGIS, GDAL, a SQL shell writing the file) are checked
// when the catalog takes them in from the change log, by
// layers.DirectChecks, which says the rule; this file is what it reads
// from the GeoPackage (directSnapshot) and where the flags are kept
// (planmap_problems, 0008_direct_problems.sql). Changes planmap made are
// told by the ranges its writes record (planmap_writes,
// 0010_planmap_writes.sql), and, for those made before that table, by the
// history's context (planmap_context, which planmap's edits and imports
// fill with their author or note).

// OnProblem sets where the store reports a direct edit whose feature fails
// the checks (err), and, with a nil err, one that passes them again. Call
// it before serving.
func (s *Store) OnProblem(fn func(layer string, fid int64, err error)) { s.direct.OnProblem(fn) }

// Problem returns why feature fid of layer failed the checks after a
// direct edit, or "" if it did not (or has not been checked).
func (s *Store) Problem(layer string, fid int64) string { return s.direct.Problem(layer, fid) }

// lastSeq is the latest change number in the log as tx sees it.
func lastSeq(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM planmap_changes`).Scan(&n)
	return n, err
}

// directSnapshot is the layers.DirectSnapshot of the read transaction tx
// in which the catalog takes changes in.
type directSnapshot struct {
	s  *Store
	tx *sql.Tx
	lk *declLookup // read by Layers, for the rules
}

// close releases the statements of the lookup, if it was read.
func (d *directSnapshot) close() {
	if d.lk != nil {
		d.lk.close()
	}
}

// Foreign: the change is in no range planmap_writes records, and the
// feature's last history row was written with no planmap context (which
// tells planmap's writes made before that table). An import by another
// planmap process is one range, and costs one row read, not a history
// lookup a feature.
func (d *directSnapshot) Foreign(ctx context.Context, lo, hi int64) (map[int64]bool, error) {
	r := snapshotReader{s: d.s, tx: d.tx}
	writes, err := planmapWrites(ctx, r, lo, hi)
	if err != nil {
		return nil, err
	}
	foreign := map[int64]bool{}
	for _, g := range gaps(lo, hi, writes) {
		if err := d.foreignIn(ctx, r, g.first+1, g.last, foreign); err != nil {
			return nil, err
		}
	}
	return foreign, nil
}

// seqRange are the change numbers (first, last].
type seqRange struct{ first, last int64 }

// planmapWrites returns the ranges of planmap's writes that reach into
// the changes lo to hi, in order.
func planmapWrites(ctx context.Context, r snapshotReader, lo, hi int64) ([]seqRange, error) {
	rows, err := r.QueryContext(ctx, `SELECT first, last FROM planmap_writes WHERE last >= ? AND first < ? ORDER BY last`, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var writes []seqRange
	for rows.Next() {
		var w seqRange
		if err := rows.Scan(&w.first, &w.last); err != nil {
			return nil, err
		}
		writes = append(writes, w)
	}
	return writes, rows.Err()
}

// gaps returns the parts of the changes lo to hi (both included) that
// none of writes covers (ordered, not overlapping, as planmap_writes
// holds them).
func gaps(lo, hi int64, writes []seqRange) []seqRange {
	var out []seqRange
	from := lo // the first change not known to be covered
	for _, w := range writes {
		if w.first >= from {
			out = append(out, seqRange{from - 1, min(w.first, hi)})
		}
		from = max(from, w.last+1)
	}
	if from <= hi {
		out = append(out, seqRange{from - 1, hi})
	}
	return out
}

// foreignIn adds to foreign the changes lo to hi (both included) of
// features whose last history row was written with no planmap context.
func (d *directSnapshot) foreignIn(ctx context.Context, r snapshotReader, lo, hi int64, foreign map[int64]bool) error {
	rows, err := r.QueryContext(ctx, `SELECT c.seq FROM planmap_changes c
		WHERE c.seq >= ? AND c.seq <= ? AND c.fid > 0
		AND coalesce((SELECT h.author IS NULL AND h.note IS NULL FROM planmap_history h
			WHERE h.layer = c.layer AND h.fid = c.fid ORDER BY h.id DESC LIMIT 1), 1)`, lo, hi)
	if err != nil {
		return err
	}
	seqs, err := appendIDs(nil, rows)
	for _, seq := range seqs {
		foreign[seq] = true
	}
	return err
}

func (d *directSnapshot) Layers(ctx context.Context) ([]*layers.Layer, error) {
	if d.lk == nil {
		lk, err := newDeclLookup(ctx, d.tx)
		if err != nil {
			return nil, err
		}
		d.lk = lk
	}
	return d.lk.all, nil
}

func (d *directSnapshot) Feature(ctx context.Context, l *layers.Layer, fid int64) (*layers.Feature, error) {
	var f *layers.Feature
	err := eachRow(ctx, d.tx, l, selectColumns(l)+` WHERE fid = ?`, []any{fid}, func(ft layers.Feature) error {
		f = &ft
		return nil
	})
	return f, err
}

// Ended: the rows of planmap_history keep the state each version ended
// with.
func (d *directSnapshot) Ended(ctx context.Context, l *layers.Layer, fid int64, n int) (orb.Geometry, error) {
	if n == 0 {
		return nil, nil
	}
	rows, err := d.tx.QueryContext(ctx, `SELECT geom FROM planmap_history
		WHERE layer = ? AND fid = ? AND geom IS NOT NULL ORDER BY id DESC LIMIT ?`, l.ID, fid, n)
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
		g, err := geo.DecodeGPKG(blob)
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

func (d *directSnapshot) AsksRules() bool { return d.s.CheckRules != nil }

func (d *directSnapshot) Rules(ctx context.Context, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
	if _, err := d.Layers(ctx); err != nil {
		return err
	}
	return d.s.CheckRules(ctx, d.lk, l, f, was)
}

// checkDirect checks the features of the changes cs that another program
// made, as they are in tx, and flags or clears them.
func (s *Store) checkDirect(ctx context.Context, tx *sql.Tx, cs []layers.Change) error {
	snap := &directSnapshot{s: s, tx: tx}
	defer snap.close()
	return s.direct.Check(ctx, snap, cs)
}

// recheckFlags checks again, as they are in tx, the flagged features
// that changed since they were flagged without this store taking the
// change in (layers.DirectChecks.Recheck).
func (s *Store) recheckFlags(ctx context.Context, tx *sql.Tx) error {
	var flags []layers.Flag
	rows, err := tx.QueryContext(ctx, `SELECT layer, fid, seq FROM planmap_problems`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var f layers.Flag
		if err := rows.Scan(&f.Layer, &f.FID, &f.Seq); err != nil {
			rows.Close()
			return err
		}
		flags = append(flags, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// A change of the feature, or of its layer as a whole, since.
	var changed []layers.Flag
	for _, f := range flags {
		var seq sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM planmap_changes
			WHERE layer = ? AND seq > ? AND fid IN (?, 0)`, f.Layer, f.Seq, f.FID).Scan(&seq); err != nil {
			return err
		}
		if seq.Valid {
			f.Seq = seq.Int64
			changed = append(changed, f)
		}
	}
	snap := &directSnapshot{s: s, tx: tx}
	defer snap.close()
	return s.direct.Recheck(ctx, snap, changed)
}

// loadProblems reads the flags the database keeps.
func (s *Store) loadProblems(ctx context.Context) error {
	rows, err := s.read.QueryContext(ctx, `SELECT layer, fid, problem, seq FROM planmap_problems`)
	if err != nil {
		return fmt.Errorf("read the features flagged after direct edits: %w", err)
	}
	defer rows.Close()
	var flags []layers.Flag
	for rows.Next() {
		var f layers.Flag
		if err := rows.Scan(&f.Layer, &f.FID, &f.Problem, &f.Seq); err != nil {
			return err
		}
		flags = append(flags, f)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.direct.Load(flags)
	return nil
}

// saveProblems writes the flags set or cleared since it last ran, in one
// transaction; a read-only store keeps them in memory only.
func (s *Store) saveProblems(ctx context.Context) error {
	if s.write == nil {
		return nil
	}
	return s.direct.Save(ctx, func(ctx context.Context, flags []layers.Flag) error {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, f := range flags {
			if f.Problem == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM planmap_problems WHERE layer = ? AND fid = ?`, f.Layer, f.FID)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO planmap_problems (layer, fid, problem, seq) VALUES (?, ?, ?, ?)`, f.Layer, f.FID, f.Problem, f.Seq)
			}
			if err != nil {
				return err
			}
		}
		return tx.Commit()
	})
}
