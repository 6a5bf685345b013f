package postgis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
)

// Reading the past ("as of"): the version of each feature current at a
// time T, from the history (migrations/0002_history.sql, history.go) and
// the live table, by the rules Versions follows for one feature, which are
// the GeoPackage store's (layers/gpkg/asof.go):
//   - a feature's versions begin at its own history rows, and at the
//     layer's last bulk write ('layer' row) when it is live and has no
//     row of its own after it (the implicit version);
//   - the version current at T is the last that began at or before T; a
//     'delete' row's version has no state (the feature was gone then);
//   - the state of an ended version is in its row (geom, properties), that
//     of the current version is the live row.
// Every feature of the layer at T is read as one query; a past state is
// read through the table's row type (jsonb_populate_record), as Versions
// reads it, so that one decoder (decodeRow) reads both. The boxes of a
// filter narrow the query (the live rows by their GiST index), and the
// filter itself is applied in Go with the one rule of layers.Filter
// (layers.PageOfFeatures), as the GeoPackage store applies it.

// eachAsOf calls fn for each feature of layer l as it was at time t, in id
// order, of those with an id in (after, upto] whose bounding box meets
// one of boxes (all of them when there are none). l is the declaration at
// t, table the one there now, whose columns the live rows have: a field
// of l the table no longer has is NULL in a live row. A live row is a
// state from before the field went only when another program dropped the
// column (an import writes the layer whole, which ends every version
// with its state); the GeoPackage store reads it so too.
func eachAsOf(ctx context.Context, q querier, l, table *layers.Layer, t time.Time, after, upto int64, f layers.Filter, fn func(layers.Feature) error) error {
	live := []string{"f.fid", "ST_AsBinary(f.geom)"}
	past := []string{"h.fid", "ST_AsBinary(h.geom)"}
	for _, fd := range l.Schema {
		if tf := table.Field(fd.Name); tf != nil && tf.Type == fd.Type {
			live = append(live, columnOf("f", fd))
		} else {
			live = append(live, "NULL")
		}
		past = append(past, columnOf("r", fd))
	}
	// $1 layer, $2 T, $3 after, $4 upto, then four per box.
	args := []any{l.ID, t, after, upto}
	liveBoxes, pastBoxes := boxesWhere(f, &args)
	t1 := quoteIdent(l.ID)
	sql := `WITH bulk AS (
		SELECT id, at FROM planmap_history WHERE layer = $1 AND fid = 0 ORDER BY id DESC LIMIT 1
	), own AS (
		SELECT fid, max(id) AS last, max(id) FILTER (WHERE at <= $2) AS at_t
		FROM planmap_history WHERE layer = $1 AND fid > $3 AND fid <= $4 GROUP BY fid
	)
	SELECT ` + strings.Join(live, ", ") + `
	FROM ` + t1 + ` f LEFT JOIN own o ON o.fid = f.fid LEFT JOIN bulk b ON true
	WHERE f.fid > $3 AND f.fid <= $4` + liveBoxes + ` AND CASE
		WHEN b.id IS NOT NULL AND coalesce(o.last, 0) < b.id THEN b.at <= $2
		WHEN o.fid IS NULL THEN true
		ELSE o.at_t = o.last END
	UNION ALL
	SELECT ` + strings.Join(past, ", ") + `
	FROM own o JOIN planmap_history h ON h.id = o.at_t` + pastRecord(l, "h.properties") + `
	WHERE h.op <> 'delete' AND h.properties IS NOT NULL` + pastBoxes + `
	AND NOT EXISTS (SELECT 1 FROM bulk b WHERE b.id > o.last AND b.at <= $2)
	ORDER BY 1`
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	last := int64(-1)
	for rows.Next() {
		ft, err := decodeRow(l, rows)
		if err != nil {
			return fmt.Errorf("as of %s: %w", t.Format(time.RFC3339Nano), err)
		}
		if ft.ID == last {
			continue // the live row came first; never expected
		}
		last = ft.ID
		if err := fn(ft); err != nil {
			return err
		}
	}
	return rows.Err()
}

// boxesWhere is the condition, for the live rows (f) and the history's
// (h), that a feature's bounding box meets one of f's boxes ("" when it
// has none), its parameters appended to args: the candidates, which
// layers.Filter then decides on, as selectBBox does.
func boxesWhere(f layers.Filter, args *[]any) (live, past string) {
	if len(f.BBoxes) == 0 {
		return "", ""
	}
	var ls, ps []string
	for _, b := range f.BBoxes {
		n := len(*args)
		env := fmt.Sprintf("ST_MakeEnvelope($%d, $%d, $%d, $%d, %d)", n+1, n+2, n+3, n+4, SRID)
		*args = append(*args, b.Min[0], b.Min[1], b.Max[0], b.Max[1])
		ls = append(ls, "f.geom && "+env)
		ps = append(ps, "h.geom && "+env)
	}
	return " AND (" + strings.Join(ls, " OR ") + ")", " AND (" + strings.Join(ps, " OR ") + ")"
}

// layerEvents reads the history rows of layer id as a whole (fid 0 and
// layers.RedeclaredFID), in the order they were written, for
// layers.LayerAt.
func layerEvents(ctx context.Context, q querier, id string) ([]layers.LayerEvent, error) {
	rows, err := q.Query(ctx, `SELECT id, at, properties::text, fid = $2 FROM planmap_history
		WHERE layer = $1 AND fid IN (0, $2) ORDER BY id`, id, layers.RedeclaredFID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []layers.LayerEvent
	for rows.Next() {
		var e layers.LayerEvent
		var decl *string
		if err := rows.Scan(&e.Row, &e.At, &decl, &e.Redeclared); err != nil {
			return nil, err
		}
		if decl != nil {
			e.Declaration = []byte(*decl)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// layerAsOf returns layer id as it was at time t, read in q
// (layers.LayerAt), and the layer there now (nil when there is none):
// the layer there now when t falls in its life (eachAsOf reads it), else
// the life of a layer dropped since that t falls in (past, which eachPast
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
// in id order, of those with an id in (after, upto] whose bounding box
// meets one of f's boxes: from the history alone, where the drop left
// every version it ended with its state. The table and its row type are
// gone: the state is read through a record of the declaration's columns,
// typed as the table's were (sqlTypes), and then as the live features'
// are (columnOf).
func eachPast(ctx context.Context, q querier, l *layers.Layer, t time.Time, after, upto int64, f layers.Filter, fn func(layers.Feature) error) error {
	cols := []string{"h.fid", "ST_AsBinary(h.geom)"}
	for _, fd := range l.Schema {
		cols = append(cols, columnOf("r", fd))
	}
	record := pastRecord(l, "h.properties")
	// $1 layer, $2 T, $3 after, $4 upto, then four per box.
	args := []any{l.ID, t, after, upto}
	_, pastBoxes := boxesWhere(f, &args)
	sql := `SELECT ` + strings.Join(cols, ", ") + `
	FROM (SELECT max(id) AS at_t FROM planmap_history
		WHERE layer = $1 AND fid > $3 AND fid <= $4 AND at <= $2 GROUP BY fid) o
	JOIN planmap_history h ON h.id = o.at_t` + record + `
	WHERE h.op <> 'delete' AND h.properties IS NOT NULL` + pastBoxes + `
	ORDER BY h.fid`
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		ft, err := decodeRow(l, rows)
		if err != nil {
			return fmt.Errorf("as of %s: %w", t.Format(time.RFC3339Nano), err)
		}
		if err := fn(ft); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pastRecord is the join that reads the properties of a version of a
// feature of past layer l (props, of jsonb) as r, a record of its
// declaration's columns typed as its table's were (sqlTypes): the table
// and its row type are gone. It is "" when l has no fields.
func pastRecord(l *layers.Layer, props string) string {
	if len(l.Schema) == 0 {
		return ""
	}
	defs := make([]string, len(l.Schema))
	for i, fd := range l.Schema {
		defs[i] = quoteIdent(fd.Name) + " " + sqlTypes[fd.Type]
	}
	return `
	LEFT JOIN LATERAL jsonb_to_record(` + props + `) AS r(` + strings.Join(defs, ", ") + `) ON true`
}

// eachAt calls fn for each feature of layer l as it was at time t, of
// those with an id in (after, upto] whose box meets one of f's: l is of
// the life of live, the layer there now, or past.
func eachAt(ctx context.Context, q querier, l, live *layers.Layer, past *layers.PastLayer, t time.Time, after, upto int64, f layers.Filter, fn func(layers.Feature) error) error {
	if past != nil {
		return eachPast(ctx, q, l, t, after, upto, f, fn)
	}
	return eachAsOf(ctx, q, l, live, t, after, upto, f, fn)
}

// readLayerAsOf begins a read-only transaction, a consistent snapshot,
// and reads layer id as of t in it (layerAsOf).
func (s *Store) readLayerAsOf(ctx context.Context, id string, t time.Time) (tx pgx.Tx, l *layers.Layer, past *layers.PastLayer, live *layers.Layer, err error) {
	tx, err = s.readOnly(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	l, past, live, err = layerAsOf(ctx, tx, id, t)
	if err != nil {
		tx.Rollback(ctx)
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
	defer tx.Rollback(ctx)
	return layers.CollectionAt(l, live, past), nil
}

// ItemsAsOf is Items as of time t: page p of the features of layer id as
// they were at t that f selects (bbox and values applied to the features
// as they were), in id order, and how many matched in all, paged as Items
// pages (layers.PageOfFeatures). Features deleted since are among them,
// features created after t are not. The layer's declaration is the one it
// had at t (layers.LayerAt).
func (s *Store) ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error) {
	tx, l, past, live, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback(ctx)
	return layers.PageOfFeatures(l, f, p, func(fn func(layers.Feature) error) error {
		return eachAt(ctx, tx, l, live, past, t, p.UncountedAfter(), math.MaxInt64, f, fn)
	})
}

// ItemAsOf is Item as of time t: feature fid of layer id as it was at t;
// an EGONE error if it had been deleted by then, ENOTFOUND if it did not
// exist yet.
func (s *Store) ItemAsOf(ctx context.Context, id string, fid int64, t time.Time) (*layers.Item, error) {
	tx, l, past, live, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	var it *layers.Item
	if fid > 0 {
		err = eachAt(ctx, tx, l, live, past, t, fid-1, fid, layers.Filter{}, func(f layers.Feature) error {
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
	err = tx.QueryRow(ctx, `SELECT op FROM planmap_history WHERE layer = $1 AND fid = $2 AND fid > 0 AND at <= $3
		ORDER BY id DESC LIMIT 1`, id, fid, t).Scan(&op)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return nil, layers.AbsentAsOf(id, fid, t, op == "delete", past)
}

// WriteGeoJSONAsOf is WriteGeoJSON of layer id as it was at time t: a
// layer file of the past, which planmap import takes as it is, byte for
// byte as the GeoPackage store writes it (layers.WriteLayerFile), in the
// declaration the layer had at t (layers.LayerAt). The progress of a
// layer dropped since has no total: its table is gone.
func (s *Store) WriteGeoJSONAsOf(ctx context.Context, w io.Writer, id string, t time.Time, progress func(done, total int)) error {
	tx, l, past, live, err := s.readLayerAsOf(ctx, id, t)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	total := 0
	if past == nil {
		if total, err = progressTotal(ctx, tx, id, progress); err != nil {
			return err
		}
	}
	return layers.WriteLayerFile(w, l, func(fn func(layers.Feature) error) error {
		return eachAt(ctx, tx, l, live, past, t, 0, math.MaxInt64, layers.Filter{}, fn)
	}, total, progress)
}
