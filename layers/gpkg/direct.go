package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// Direct edits (QGIS, GDAL, a SQL shell) cannot be refused: a trigger that
// called planmap's checks would make every other writer fail. They are
// checked when the catalog takes them in from the change log instead, as
// an edit through planmap is checked before it is written (schema and
// geometry by Layer.CheckFeature, then CheckRules with the geometry the
// feature had before, which the history kept; a delete as the API's
// delete is checked), and a feature that fails is reported (OnProblem)
// and flagged (Problem) until a later change of it passes. Changes
// planmap made (this store's edits, any planmap process's imports, told
// by the history's context) were checked before they were written and are
// not checked again, and clear a flag. The flags are kept in the database
// (planmap_problems, 0008_direct_problems.sql), so that they outlive a
// restart: read when the store opens, written after each batch of changes
// is taken in.

// problems are the features that failed the checks after a direct edit.
type problems struct {
	mu  sync.Mutex
	m   map[problemKey]string
	own []seqRange // changes this store made, not yet taken in
	fn  func(layer string, fid int64, err error)
	// unsaved are the flags set or cleared since the last saveProblems,
	// by feature: the message, "" for cleared, and the change checked.
	unsaved map[problemKey]savedProblem
}

type savedProblem struct {
	msg string
	seq int64
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
	// How many versions of each feature the batch ended (its updates
	// and deletes): the history kept their states.
	ended := map[problemKey]int{}
	for _, c := range cs {
		if c.Op == layers.OpUpdate || c.Op == layers.OpDelete {
			ended[problemKey{c.Layer, c.FID}]++
		}
	}
	dc := &directCheck{tx: tx}
	defer dc.close()
	seen := map[problemKey]bool{}
	// Newest first: a feature changed twice is checked once, as it is.
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		k := problemKey{c.Layer, c.FID}
		if c.Op == layers.OpLayer && !seen[k] {
			// The layer written whole (an import, a drop, its
			// triggers put back): its flagged features as they are now.
			seen[k] = true
			if err := s.recheckLayer(ctx, dc, c.Layer, c.Seq); err != nil {
				return err
			}
		}
		if c.FID <= 0 || seen[k] {
			continue
		}
		seen[k] = true
		// Planmap's own writes were checked before they were written.
		if !foreign[c.Seq] || s.isOwn(c.Seq) {
			s.setProblem(k, c.Seq, nil)
			continue
		}
		lk, err := dc.lookup(ctx)
		if err != nil {
			return err
		}
		l := lk.byID[c.Layer]
		if l == nil {
			// The layer is gone, and its features with it.
			s.setProblem(k, c.Seq, nil)
			continue
		}
		var was orb.Geometry
		if s.CheckRules != nil && dc.involved[l.ID] {
			if was, err = endedStates(ctx, tx, c.Layer, c.FID, ended[k]); err != nil {
				return err
			}
		}
		s.flagStored(ctx, dc, l, k, c.Seq, was)
	}
	return nil
}

// directCheck is what the checks of one batch of direct edits read, in
// the snapshot tx: the declarations, read once and only when a change is
// another program's (most are planmap's own), and which layers a rule is
// about. Only those are asked the rules: a bulk delete by another program
// in a layer no rule is about costs no query per feature.
type directCheck struct {
	tx       *sql.Tx
	lk       *declLookup
	involved map[string]bool
}

func (dc *directCheck) lookup(ctx context.Context) (*declLookup, error) {
	if dc.lk != nil {
		return dc.lk, nil
	}
	lk, err := newDeclLookup(ctx, dc.tx)
	if err != nil {
		return nil, err
	}
	dc.lk, dc.involved = lk, layers.RuleLayers(lk.all)
	return lk, nil
}

func (dc *directCheck) close() {
	if dc.lk != nil {
		dc.lk.close()
	}
}

// endedStates returns the geometry feature fid of layer id had before
// its last n versions ended (n of its changes in the batch updated or
// deleted it), from the states the history keeps of the versions that
// ended: nil for none, one geometry, or, when the batch changed it more
// than once, a collection of each, so that the rules look near every
// place it had.
func endedStates(ctx context.Context, q querier, id string, fid int64, n int) (orb.Geometry, error) {
	if n == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT geom FROM planmap_history
		WHERE layer = ? AND fid = ? AND geom IS NOT NULL ORDER BY id DESC LIMIT ?`, id, fid, n)
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
			return nil, fmt.Errorf("history of %s %d: %w", id, fid, err)
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

// checkStored checks feature fid of l as stored, which had geometry was
// before the changes being taken in (nil: none known): an error if it
// cannot be read, fails Layer.CheckFeature or the planning rules; nil if
// it passes. A feature that is gone is checked as a delete is: the rules
// from the other side, a boundary that others must lie within. The rules
// are asked only of a layer a rule is about.
func (s *Store) checkStored(ctx context.Context, dc *directCheck, l *layers.Layer, fid int64, was orb.Geometry) (gone bool, err error) {
	lk, err := dc.lookup(ctx)
	if err != nil {
		return false, err
	}
	rules := s.CheckRules != nil && dc.involved[l.ID]
	var f *layers.Feature
	err = eachRow(ctx, dc.tx, l, selectColumns(l)+` WHERE fid = ?`, []any{fid}, func(ft layers.Feature) error {
		f = &ft
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("cannot be read: %w", err)
	}
	if f == nil {
		if !rules || was == nil {
			return true, nil
		}
		return true, s.CheckRules(ctx, lk, l, layers.Feature{ID: fid}, was)
	}
	checked, err := l.CheckFeature(*f)
	if err != nil {
		return false, err
	}
	checked.ID = fid
	if rules {
		return false, s.CheckRules(ctx, lk, l, checked, was)
	}
	return false, nil
}

// flagStored checks feature k as it is stored after change seq (was: its
// geometries before, for the rules) and flags or clears it. A feature
// that is gone carries no flag, since nothing serves it and its id is
// retired: what its delete broke is reported, not kept.
func (s *Store) flagStored(ctx context.Context, dc *directCheck, l *layers.Layer, k problemKey, seq int64, was orb.Geometry) {
	gone, err := s.checkStored(ctx, dc, l, k.fid, was)
	if !gone {
		s.setProblem(k, seq, err)
		return
	}
	s.setProblem(k, seq, nil)
	if err != nil {
		s.problems.mu.Lock()
		fn := s.problems.fn
		s.problems.mu.Unlock()
		if fn != nil {
			fn(k.layer, k.fid, fmt.Errorf("its deletion: %w", err))
		}
	}
}

// setProblem flags or clears k, as change seq left it, and reports a
// change of its state. saveProblems writes it to the database.
func (s *Store) setProblem(k problemKey, seq int64, err error) {
	s.problems.mu.Lock()
	old, had := s.problems.m[k]
	msg := ""
	if err != nil {
		msg = err.Error()
		if s.problems.m == nil {
			s.problems.m = map[problemKey]string{}
		}
		s.problems.m[k] = msg
	} else {
		delete(s.problems.m, k)
	}
	changed := err != nil && old != msg || err == nil && had
	if changed {
		if s.problems.unsaved == nil {
			s.problems.unsaved = map[problemKey]savedProblem{}
		}
		s.problems.unsaved[k] = savedProblem{msg, seq}
	}
	fn := s.problems.fn
	s.problems.mu.Unlock()
	if fn != nil && changed {
		fn(k.layer, k.fid, err)
	}
}

// recheckFlags checks again, as they are in tx, the flagged features
// that changed since they were flagged without this store taking the
// change in: while no planmap followed the file. The catalog is then
// built afresh, and only later changes are checked as they come, so a
// feature put right meanwhile would otherwise stay flagged. Whoever made
// the change, the feature is checked as it is now (its geometry before
// is not known): one that passes is cleared, one that is gone too.
func (s *Store) recheckFlags(ctx context.Context, tx *sql.Tx) error {
	type changed struct {
		k   problemKey
		seq int64
	}
	var flags []changed
	rows, err := tx.QueryContext(ctx, `SELECT layer, fid, seq FROM planmap_problems`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c changed
		if err := rows.Scan(&c.k.layer, &c.k.fid, &c.seq); err != nil {
			rows.Close()
			return err
		}
		flags = append(flags, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// A change of the feature, or of its layer as a whole, since.
	var cs []changed
	for _, c := range flags {
		var seq sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM planmap_changes
			WHERE layer = ? AND seq > ? AND fid IN (?, 0)`, c.k.layer, c.seq, c.k.fid).Scan(&seq); err != nil {
			return err
		}
		if seq.Valid {
			cs = append(cs, changed{c.k, seq.Int64})
		}
	}
	if len(cs) == 0 {
		return nil
	}
	dc := &directCheck{tx: tx}
	defer dc.close()
	lk, err := dc.lookup(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		l := lk.byID[c.k.layer]
		if l == nil {
			s.setProblem(c.k, c.seq, nil)
			continue
		}
		s.flagStored(ctx, dc, l, c.k, c.seq, nil)
	}
	return nil
}

// recheckLayer checks again the flagged features of layer id, as they
// are after change seq wrote the layer whole.
func (s *Store) recheckLayer(ctx context.Context, dc *directCheck, id string, seq int64) error {
	var fids []int64
	s.problems.mu.Lock()
	for k := range s.problems.m {
		if k.layer == id {
			fids = append(fids, k.fid)
		}
	}
	s.problems.mu.Unlock()
	if len(fids) == 0 {
		return nil
	}
	lk, err := dc.lookup(ctx)
	if err != nil {
		return err
	}
	l := lk.byID[id]
	for _, fid := range fids {
		k := problemKey{id, fid}
		if l == nil {
			s.setProblem(k, seq, nil)
			continue
		}
		s.flagStored(ctx, dc, l, k, seq, nil)
	}
	return nil
}

// loadProblems reads the flags the database keeps.
func (s *Store) loadProblems(ctx context.Context) error {
	rows, err := s.read.QueryContext(ctx, `SELECT layer, fid, problem FROM planmap_problems`)
	if err != nil {
		return fmt.Errorf("read the features flagged after direct edits: %w", err)
	}
	defer rows.Close()
	m := map[problemKey]string{}
	for rows.Next() {
		var k problemKey
		var msg string
		if err := rows.Scan(&k.layer, &k.fid, &msg); err != nil {
			return err
		}
		m[k] = msg
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.problems.mu.Lock()
	s.problems.m = m
	s.problems.mu.Unlock()
	return nil
}

// saveProblems writes the flags set or cleared since it last ran, in one
// transaction; a read-only store keeps them in memory only. Should the
// write fail, they are kept to be written next time.
func (s *Store) saveProblems(ctx context.Context) error {
	if s.write == nil {
		return nil
	}
	s.problems.mu.Lock()
	unsaved := s.problems.unsaved
	s.problems.unsaved = nil
	s.problems.mu.Unlock()
	if len(unsaved) == 0 {
		return nil
	}
	err := func() error {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for k, p := range unsaved {
			if p.msg == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM planmap_problems WHERE layer = ? AND fid = ?`, k.layer, k.fid)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO planmap_problems (layer, fid, problem, seq) VALUES (?, ?, ?, ?)`, k.layer, k.fid, p.msg, p.seq)
			}
			if err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		// Kept, unless a newer state of the feature came meanwhile.
		s.problems.mu.Lock()
		for k, p := range unsaved {
			if _, newer := s.problems.unsaved[k]; !newer {
				if s.problems.unsaved == nil {
					s.problems.unsaved = map[problemKey]savedProblem{}
				}
				s.problems.unsaved[k] = p
			}
		}
		s.problems.mu.Unlock()
		return fmt.Errorf("keep the features flagged after direct edits: %w", err)
	}
	return nil
}
