package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"planmap/layers"
)

// Direct edits (QGIS, GDAL, a SQL shell) cannot be refused: a trigger that
// called planmap's checks would make every other writer fail. They are
// checked when the catalog takes them in from the change log instead, as
// an edit through planmap is checked before it is written (schema and
// geometry by Layer.CheckFeature, then CheckRules), and a feature that
// fails is reported (OnProblem) and flagged (Problem) until a later change
// of it passes or deletes it. Changes planmap made (this store's edits,
// any planmap process's imports, told by the history's context) were
// checked before they were written and are not checked again. The flags live in
// memory: a feature found failing before a restart is not flagged after
// it until it changes again.

// problems are the features that failed the checks after a direct edit.
type problems struct {
	mu  sync.Mutex
	m   map[problemKey]string
	own []seqRange // changes this store made, not yet taken in
	fn  func(layer string, fid int64, err error)
}

type problemKey struct {
	layer string
	fid   int64
}

// seqRange are the change numbers (lo, hi] of one write of this store.
type seqRange struct{ lo, hi int64 }

// OnProblem sets where the store reports a direct edit whose feature fails
// the checks (err), and, with a nil err, one that passes them again. Call
// it before serving.
func (s *Store) OnProblem(fn func(layer string, fid int64, err error)) {
	s.problems.mu.Lock()
	s.problems.fn = fn
	s.problems.mu.Unlock()
}

// Problem returns why feature fid of layer failed the checks after a
// direct edit, or "" if it did not (or has not been checked).
func (s *Store) Problem(layer string, fid int64) string {
	s.problems.mu.Lock()
	defer s.problems.mu.Unlock()
	return s.problems.m[problemKey{layer, fid}]
}

// lastSeq is the latest change number in the log as tx sees it.
func lastSeq(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM planmap_changes`).Scan(&n)
	return n, err
}

// ownWrite records that the changes (lo, hi] were made by this store.
func (s *Store) ownWrite(lo, hi int64) {
	if hi <= lo {
		return
	}
	s.problems.mu.Lock()
	s.problems.own = append(s.problems.own, seqRange{lo, hi})
	s.problems.mu.Unlock()
}

// dropOwn forgets the write (lo, hi], which was not committed.
func (s *Store) dropOwn(lo, hi int64) {
	s.problems.mu.Lock()
	defer s.problems.mu.Unlock()
	s.problems.own = slices.DeleteFunc(s.problems.own, func(r seqRange) bool { return r == seqRange{lo, hi} })
}

// isOwn reports whether change seq was made by this store.
func (s *Store) isOwn(seq int64) bool {
	s.problems.mu.Lock()
	defer s.problems.mu.Unlock()
	for _, r := range s.problems.own {
		if seq > r.lo && seq <= r.hi {
			return true
		}
	}
	return false
}

// forgetOwn forgets the writes whose changes are all taken in, up to last.
func (s *Store) forgetOwn(last int64) {
	s.problems.mu.Lock()
	defer s.problems.mu.Unlock()
	kept := s.problems.own[:0]
	for _, r := range s.problems.own {
		if r.hi > last {
			kept = append(kept, r)
		}
	}
	s.problems.own = kept
}

// checkDirect checks the features of the changes cs that another program
// made, as they are in tx, and flags or clears them.
func (s *Store) checkDirect(ctx context.Context, tx *sql.Tx, cs []layers.Change) error {
	if len(cs) == 0 {
		return nil
	}
	// Which are another program's: the feature's last history row was
	// written with no planmap context (planmap's edits and imports fill
	// it, with their author or note). One query for the batch: an import
	// by another planmap process changes thousands of features, checked
	// as it imported them.
	foreign := map[int64]bool{}
	rows, err := snapshotReader{s, tx}.QueryContext(ctx, `SELECT c.seq FROM planmap_changes c
		WHERE c.seq >= ? AND c.seq <= ? AND c.fid > 0
		AND coalesce((SELECT h.author IS NULL AND h.note IS NULL FROM planmap_history h
			WHERE h.layer = c.layer AND h.fid = c.fid ORDER BY h.id DESC LIMIT 1), 1)`, cs[0].Seq, cs[len(cs)-1].Seq)
	if err != nil {
		return err
	}
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return err
		}
		foreign[seq] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	decls := map[string]*layers.Layer{}
	seen := map[problemKey]bool{}
	// Newest first: a feature changed twice is checked once, as it is.
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		k := problemKey{c.Layer, c.FID}
		if c.FID <= 0 || seen[k] {
			continue
		}
		seen[k] = true
		// Planmap's own writes were checked before they were written; a
		// delete leaves nothing to flag.
		if c.Op == layers.OpDelete || !foreign[c.Seq] || s.isOwn(c.Seq) {
			s.setProblem(k, nil)
			continue
		}
		l, ok := decls[c.Layer]
		if !ok {
			var err error
			if l, err = getLayer(ctx, tx, c.Layer); err != nil {
				if layers.ErrorCode(err) == layers.ENOTFOUND {
					decls[c.Layer] = nil
					continue
				}
				return err
			}
			decls[c.Layer] = l
		}
		if l == nil {
			continue
		}
		s.setProblem(k, s.checkStored(ctx, tx, l, c.FID))
	}
	return nil
}

// checkStored checks feature fid of l as stored: an error if it cannot be
// read, fails Layer.CheckFeature or the planning rules; nil if it passes
// or is gone.
func (s *Store) checkStored(ctx context.Context, tx *sql.Tx, l *layers.Layer, fid int64) error {
	var f *layers.Feature
	err := eachRow(ctx, tx, l, selectColumns(l)+` WHERE fid = ?`, []any{fid}, func(ft layers.Feature) error {
		f = &ft
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot be read: %w", err)
	}
	if f == nil {
		return nil
	}
	checked, err := l.CheckFeature(*f)
	if err != nil {
		return err
	}
	checked.ID = fid
	if s.CheckRules != nil {
		// As a new feature: the geometry it had before another program
		// changed it is not looked up.
		return s.CheckRules(ctx, txLookup{tx}, l, checked, nil)
	}
	return nil
}

// setProblem flags or clears k, and reports a change of its state.
func (s *Store) setProblem(k problemKey, err error) {
	s.problems.mu.Lock()
	old, had := s.problems.m[k]
	if err != nil {
		if s.problems.m == nil {
			s.problems.m = map[problemKey]string{}
		}
		s.problems.m[k] = err.Error()
	} else {
		delete(s.problems.m, k)
	}
	fn := s.problems.fn
	s.problems.mu.Unlock()
	if fn != nil && (err != nil && old != err.Error() || err == nil && had) {
		fn(k.layer, k.fid, err)
	}
}
