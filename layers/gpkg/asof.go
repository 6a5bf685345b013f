package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// Reading the past ("as of"): the version of each feature current at a
// time T, from the history (migration 0005, history.go) and the live
// table, by the rules Versions follows for one feature:
//   - a feature's versions begin at its own history rows, and at the
//     layer's last bulk write ('layer' row) when it is live and has no
//     row of its own after it (the implicit version);
//   - the version current at T is the last that began at or before T; a
//     'delete' row's version has no state (the feature was gone then);
//   - the state of an ended version is in its row (geom, properties), that
//     of the current version is the live row.
// Every feature of the layer at T is read as one query, the live rows
// turned into the history's form (json_object of the columns) so that one
// decoder (decodeState) reads both. Filters are applied to the past
// features in Go, with the one rule of layers.Filter.

// historyTime is T as the history's at column spells times, truncated to
// its millisecond: a version that began in T's millisecond began by T.
func historyTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// eachAsOf calls fn for each feature of layer l as it was at time t, in id
// order, of those with an id in (after, upto]; when boxes are given, of
// those that may meet one of them (the caller applies the filter): a
// feature whose state at t is its live row is read only if the layer's
// R-tree has its box in one of boxes, one whose state at t is in the
// history is read whatever its box (the history has no spatial index; it
// holds only what was edited, not the layer).
func eachAsOf(ctx context.Context, q querier, l *layers.Layer, t time.Time, after, upto int64, boxes []orb.Bound, fn func(layers.Feature) error) error {
	cols, err := propertyColumns(ctx, q, l.ID)
	if err != nil {
		return err
	}
	args := []any{l.ID, historyTime(t), after, upto}
	inBoxes := ""
	if len(boxes) > 0 {
		rt := quoteIdent("rtree_" + l.ID + "_geom")
		var parts []string
		for _, b := range boxes {
			n := len(args)
			parts = append(parts, fmt.Sprintf(`SELECT id FROM %s WHERE maxx >= ?%d AND minx <= ?%d AND maxy >= ?%d AND miny <= ?%d`, rt, n+1, n+2, n+3, n+4))
			args = append(args, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
		}
		inBoxes = ` AND f.fid IN (` + strings.Join(parts, ` UNION ALL `) + `)`
	}
	// ?1 layer, ?2 T, ?3 after, ?4 upto.
	text := `WITH bulk AS (
		SELECT id, at FROM planmap_history WHERE layer = ?1 AND fid = 0 ORDER BY id DESC LIMIT 1
	), own AS (
		SELECT fid, max(id) AS last, max(CASE WHEN at <= ?2 THEN id END) AS atT
		FROM planmap_history WHERE layer = ?1 AND fid > ?3 AND fid <= ?4 GROUP BY fid
	)
	SELECT f.fid, f.geom, ` + propertiesJSON("f", cols) + `
	FROM ` + quoteIdent(l.ID) + ` f LEFT JOIN own o ON o.fid = f.fid LEFT JOIN bulk b ON 1
	WHERE f.fid > ?3 AND f.fid <= ?4 AND CASE
		WHEN b.id IS NOT NULL AND coalesce(o.last, 0) < b.id THEN b.at <= ?2
		WHEN o.fid IS NULL THEN 1
		ELSE o.atT = o.last END` + inBoxes + `
	UNION ALL
	SELECT h.fid, h.geom, h.properties
	FROM own o JOIN planmap_history h ON h.id = o.atT
	WHERE h.op != 'delete' AND h.properties IS NOT NULL
	AND NOT EXISTS (SELECT 1 FROM bulk b WHERE b.id > o.last AND b.at <= ?2)
	ORDER BY 1`
	rows, err := q.QueryContext(ctx, text, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	last := int64(-1)
	for rows.Next() {
		var fid int64
		var blob []byte
		var props sql.NullString
		if err := rows.Scan(&fid, &blob, &props); err != nil {
			return err
		}
		if fid == last {
			continue // the live row came first; never expected
		}
		last = fid
		f, err := decodeState(l, fid, blob, props.String)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// layerEvents reads the history rows of layer id as a whole (fid 0 and
// layers.RedeclaredFID), in the order they were written, for
// layers.LayerAt.
func layerEvents(ctx context.Context, q querier, id string) ([]layers.LayerEvent, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, fid, at, properties FROM planmap_history
		WHERE layer = ?1 AND fid IN (0, ?2) ORDER BY id`, id, layers.RedeclaredFID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []layers.LayerEvent
	for rows.Next() {
		var row, fid int64
		var at string
		var decl sql.NullString
		if err := rows.Scan(&row, &fid, &at, &decl); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, fmt.Errorf("history of %s: time %q: %w", id, at, err)
		}
		e := layers.LayerEvent{Row: row, At: t, Redeclared: fid == layers.RedeclaredFID}
		if decl.Valid {
			e.Declaration = []byte(decl.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// layerAsOf returns layer id as it was at time t, read in q
// (layers.LayerAt), and the layer there now (nil when there is none): the
// layer there now when t falls in its life (eachAsOf reads it), else the
// life of a layer dropped since that t falls in (past, which eachPast
// reads from the history alone); ENOTFOUND when there was none at t.
func layerAsOf(ctx context.Context, q querier, id string, t time.Time) (l *layers.Layer, past *layers.PastLayer, live *layers.Layer, err error) {
	live, events, err := layerLives(ctx, q, id)
	if err != nil {
		return nil, nil, nil, err
	}
	l, past, err = layers.LayerAt(id, t, live, events)
	return l, past, live, err
}

// layerLives reads what tells the lives of layer id apart: the layer there
// now (nil when there is none) and its layer events.
func layerLives(ctx context.Context, q querier, id string) (*layers.Layer, []layers.LayerEvent, error) {
	live, err := getLayer(ctx, q, id)
	if err != nil && layers.ErrorCode(err) != layers.ENOTFOUND {
		return nil, nil, err
	}
	events, err := layerEvents(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	return live, events, nil
}

// eachPast calls fn for each feature of past layer l as it was at time t,
// in id order, of those with an id in (after, upto]: from the history
// alone, where the drop left every version it ended with its state.
func eachPast(ctx context.Context, q querier, l *layers.Layer, t time.Time, after, upto int64, fn func(layers.Feature) error) error {
	rows, err := q.QueryContext(ctx, `SELECT h.fid, h.geom, h.properties
	FROM (SELECT max(id) AS atT FROM planmap_history
		WHERE layer = ?1 AND fid > ?3 AND fid <= ?4 AND at <= ?2 GROUP BY fid) o
	JOIN planmap_history h ON h.id = o.atT
	WHERE h.op != 'delete' AND h.properties IS NOT NULL
	ORDER BY h.fid`, l.ID, historyTime(t), after, upto)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var blob []byte
		var props string
		if err := rows.Scan(&fid, &blob, &props); err != nil {
			return err
		}
		f, err := decodeState(l, fid, blob, props)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eachAt calls fn for each feature of layer l as it was at time t, of
// those with an id in (after, upto]: l is there now, or past.
func eachAt(ctx context.Context, q querier, l *layers.Layer, past *layers.PastLayer, t time.Time, after, upto int64, boxes []orb.Bound, fn func(layers.Feature) error) error {
	if past != nil {
		return eachPast(ctx, q, l, t, after, upto, fn)
	}
	return eachAsOf(ctx, q, l, t, after, upto, boxes, fn)
}

// readLayerAsOf begins a read-only transaction, a consistent snapshot,
// and reads layer id as of t in it (layerAsOf).
func (s *Store) readLayerAsOf(ctx context.Context, id string, t time.Time) (tx *sql.Tx, l *layers.Layer, past *layers.PastLayer, live *layers.Layer, err error) {
	tx, err = s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	l, past, live, err = layerAsOf(ctx, tx, id, t)
	if err != nil {
		tx.Rollback()
		return nil, nil, nil, nil, err
	}
	return tx, l, past, live, nil
}

// PastCollection is layer id as it was at time t when t falls in a life
// of the layer that has ended (it was dropped after t): its declaration
// then, read from the history. When t falls in the life of the layer
// there now it is nil, or, if the layer was declared otherwise then, a
// collection of that declaration alone (layers.CollectionAt); ENOTFOUND
// when there was no layer id at t, with a message that says when it was
// dropped.
func (s *Store) PastCollection(ctx context.Context, id string, t time.Time) (*layers.Collection, error) {
	tx, l, past, live, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return layers.CollectionAt(l, live, past), nil
}

// ItemsAsOf is Items as of time t: page p of the features of layer id as
// they were at t that f selects (bbox and values applied to the features
// as they were), in id order, and how many matched in all, paged as Items
// pages (layers.PageOfFeatures). Features deleted since are among them,
// features created after t are not. The layer's declaration is the one it
// had at t (layers.LayerAt).
func (s *Store) ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error) {
	tx, l, past, _, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	return layers.PageOfFeatures(l, f, p, func(fn func(layers.Feature) error) error {
		return eachAt(ctx, tx, l, past, t, p.UncountedAfter(), math.MaxInt64, f.BBoxes, fn)
	})
}

// ItemAsOf is Item as of time t: feature fid of layer id as it was at t;
// an EGONE error if it had been deleted by then, ENOTFOUND if it did not
// exist yet.
func (s *Store) ItemAsOf(ctx context.Context, id string, fid int64, t time.Time) (*layers.Item, error) {
	tx, l, past, _, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var it *layers.Item
	if fid > 0 {
		err = eachAt(ctx, tx, l, past, t, fid-1, fid, nil, func(f layers.Feature) error {
			it = layers.NewItem(l, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if it != nil {
		return it, nil
	}
	var op string
	err = tx.QueryRowContext(ctx, `SELECT op FROM planmap_history WHERE layer = ? AND fid = ? AND fid > 0 AND at <= ?
		ORDER BY id DESC LIMIT 1`, id, fid, historyTime(t)).Scan(&op)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return nil, layers.AbsentAsOf(id, fid, t, op == "delete", past)
}

// WriteGeoJSONAsOf is WriteGeoJSON of layer id as it was at time t: a
// layer file of the past, which planmap import takes as it is, in the
// declaration the layer had at t (layers.LayerAt).
func (s *Store) WriteGeoJSONAsOf(ctx context.Context, w io.Writer, id string, t time.Time, progress func(done, total int)) error {
	tx, l, past, _, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	total := 0
	if progress != nil && past == nil {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(id)).Scan(&total); err != nil {
			return err
		}
	}
	return layers.WriteLayerFile(w, l, func(fn func(layers.Feature) error) error {
		return eachAt(ctx, tx, l, past, t, 0, math.MaxInt64, nil, fn)
	}, total, progress)
}
