package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"planmap/layers"
)

// The store's catalog follows the change log through a layers.Follower
// whose refresh step is refresh: it learns that something changed from
// max(seq) of the log, one index lookup. A layer that changed has its
// count and extent read again from its table (one scan of the table; the
// GiST index does not give an exact extent).

type layerState struct {
	col  *layers.Collection
	seq  int64     // its last change
	at   time.Time // when that change was made
	decl uint64    // hash of its declaration
}

// Catalog returns the layers as of the last change taken in. The first
// call builds it and starts following other processes' writes.
func (s *Store) Catalog(ctx context.Context) (*layers.Catalog, error) {
	return s.follow.Catalog(ctx)
}

// refresh is the follower's refresh step: it takes in the changes logged
// since cur was built.
func (s *Store) refresh(ctx context.Context, cur *layers.Catalog, publish func(*layers.Catalog)) error {
	if cur == nil {
		s.start()
	}
	// The primary's WAL position in the same statement as the log: read
	// once the last change is visible, it is past that change's commit,
	// and reads go to a replica only once it has replayed that far.
	var last int64
	var lsn string
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0), CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END::text FROM planmap_changes`).Scan(&last, &lsn); err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	if cur != nil {
		// Before the snapshot, which then has the declarations made
		// to follow. The catalog is right without it (a role that
		// may not write planmap_layers cannot): a failure is said,
		// not returned, and tried again at the next direct edit or
		// look. A declaration it changes is a change logged after
		// last, taken in at the next refresh.
		looked, err := s.followColumns(ctx, cur, last)
		if err != nil && ctx.Err() != nil {
			return err
		}
		// A look that fails is said when the looks begin to fail, not
		// every columnsLook while they do.
		if err != nil && !(looked && s.columnsFailing) {
			s.follow.Report(fmt.Errorf("following the columns another program added or dropped: %w", err))
		}
		if looked {
			s.columnsFailing = err != nil
		}
	}
	if cur != nil && last == cur.Seq {
		return nil
	}
	if s.replicas != nil {
		p, err := parseLSN(lsn)
		if err != nil {
			return err
		}
		s.replicas.raise(p)
	}
	// One snapshot: the log and the tables as of the same moment.
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	next, err := s.advance(ctx, tx, cur)
	if err != nil {
		return err
	}
	if cur == nil {
		if err := s.recheckFlags(ctx, tx); err != nil {
			return err
		}
	}
	publish(next)
	// The flags the changes set or cleared: the catalog is right without
	// them, so a failure is said, not returned (the next refresh tries
	// again).
	if err := s.saveProblems(ctx); err != nil {
		s.follow.Report(err)
	}
	return nil
}

// advance returns the catalog that follows cur after the changes in the
// snapshot tx: cur itself when there are none, one built from scratch when
// cur is nil, the log went back, or a layer changed as a whole.
func (s *Store) advance(ctx context.Context, tx pgx.Tx, cur *layers.Catalog) (*layers.Catalog, error) {
	last, err := lastSeq(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("change log: %w", err)
	}
	if cur == nil || last < cur.Seq {
		return s.build(ctx, tx, last)
	}
	if last == cur.Seq {
		return cur, nil
	}
	changed := map[string]bool{}
	rebuild := false
	snap := &directSnapshot{tx: tx}
	for after := cur.Seq; after < last; {
		cs, err := readChanges(ctx, tx, after, layers.ChangeBatch)
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 {
			break
		}
		// Every change is checked, those after a bulk write too.
		if err := s.direct.Check(ctx, snap, cs); err != nil {
			return nil, err
		}
		for _, c := range cs {
			// A layer created, dropped or redeclared: the list of
			// layers may have changed.
			rebuild = rebuild || c.Op == layers.OpLayer
			changed[c.Layer] = true
		}
		after = cs[len(cs)-1].Seq
	}
	if rebuild {
		return s.build(ctx, tx, last)
	}
	next := &layers.Catalog{Seq: last, Collections: make([]*layers.Collection, 0, len(cur.Collections))}
	states := make(map[string]*layerState, len(cur.Collections))
	for _, col := range cur.Collections {
		st := s.states[col.ID]
		if changed[col.ID] && st != nil {
			c := *col
			ns := &layerState{col: &c, decl: st.decl}
			if err := measure(ctx, tx, ns); err != nil {
				return nil, err
			}
			st = ns
		}
		next.Collections = append(next.Collections, st.col)
		states[col.ID] = st
	}
	s.states = states
	return next, nil
}

// build reads the catalog as of change last from scratch.
func (s *Store) build(ctx context.Context, tx pgx.Tx, last int64) (*layers.Catalog, error) {
	ls, err := listLayers(ctx, tx)
	if err != nil {
		return nil, err
	}
	cat := &layers.Catalog{Seq: last, Collections: make([]*layers.Collection, 0, len(ls))}
	states := make(map[string]*layerState, len(ls))
	for _, l := range ls {
		st := &layerState{col: &layers.Collection{Layer: l}}
		st.decl = layers.DeclarationHash(l)
		if err := measure(ctx, tx, st); err != nil {
			return nil, err
		}
		cat.Collections = append(cat.Collections, st.col)
		states[l.ID] = st
	}
	s.states = states
	return cat, nil
}

// measure reads the layer's count, exact extent and last change into st,
// and sets its version.
func measure(ctx context.Context, q querier, st *layerState) error {
	id := st.col.ID
	t, err := checkedTable(id)
	if err != nil {
		return err
	}
	err = q.QueryRow(ctx, `SELECT seq, at FROM planmap_changes WHERE layer = $1 ORDER BY seq DESC LIMIT 1`, id).Scan(&st.seq, &st.at)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	// ST_XMin and the others of a geometry are its exact coordinates
	// (double precision), not the float4 box the index keeps.
	var ext [4]*float64
	if err := q.QueryRow(ctx, `SELECT count(*), min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom)) FROM `+t).
		Scan(&st.col.Count, &ext[0], &ext[1], &ext[2], &ext[3]); err != nil {
		return fmt.Errorf("count and extent of %s: %w", id, err)
	}
	st.col.Extent = orb.Bound{}
	if ext[0] != nil {
		st.col.Extent = orb.Bound{Min: orb.Point{*ext[0], *ext[1]}, Max: orb.Point{*ext[2], *ext[3]}}
	}
	st.col.Version = layers.CollectionVersion(st.seq, st.at.UTC().Format("2006-01-02T15:04:05.000Z"), st.decl)
	return nil
}

// unmarshalDecl reads the JSON columns of a planmap_layers row into l.
func unmarshalDecl(id, schema, style, rules string, l *layers.Layer) error {
	if err := json.Unmarshal([]byte(schema), &l.Schema); err != nil {
		return fmt.Errorf("layer %s: stored schema: %w", id, err)
	}
	if err := json.Unmarshal([]byte(style), &l.Style); err != nil {
		return fmt.Errorf("layer %s: stored style: %w", id, err)
	}
	if err := json.Unmarshal([]byte(rules), &l.Rules); err != nil {
		return fmt.Errorf("layer %s: stored rules: %w", id, err)
	}
	if len(l.Rules) == 0 {
		l.Rules = nil
	}
	return nil
}

// Changes returns up to limit entries of the change log after seq after,
// oldest first.
func (s *Store) Changes(ctx context.Context, after int64, limit int) (cs []layers.Change, err error) {
	err = s.read(ctx, func(q querier) error {
		cs, err = readChanges(ctx, q, after, limit)
		return err
	})
	return cs, err
}

func readChanges(ctx context.Context, q querier, after int64, limit int) ([]layers.Change, error) {
	rows, err := q.Query(ctx, `SELECT seq, layer, fid, op, at FROM planmap_changes WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []layers.Change
	for rows.Next() {
		var c layers.Change
		var op string
		if err := rows.Scan(&c.Seq, &c.Layer, &c.FID, &op, &c.At); err != nil {
			return nil, err
		}
		c.Op = layers.Op(op)
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
