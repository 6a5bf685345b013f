package layers

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// Query selects features of a layer.
type Query struct {
	// BBox, when set, keeps the features whose bounding box intersects it.
	// The lookup goes through the layer's R-tree index.
	BBox *orb.Bound
	// Limit caps the number of features; 0 means no cap.
	Limit int
	// Offset skips that many features, in id order.
	Offset int
}

// selectFeatures builds the SELECT for layer l. Date and date-time columns
// are read as text: the driver would otherwise turn them into time.Time.
func selectFeatures(l *Layer, q Query) (string, []any) {
	return selectWhere(l, q, 0)
}

// selectWhere is selectFeatures, for the one feature fid when fid is not 0.
func selectWhere(l *Layer, q Query, fid int64) (string, []any) {
	cols := []string{"fid", "geom"}
	for _, fd := range l.Schema {
		c := quoteIdent(fd.Name)
		if fd.Type == Date || fd.Type == DateTime {
			c = "CAST(" + c + " AS TEXT)"
		}
		cols = append(cols, c)
	}
	var b strings.Builder
	var args []any
	fmt.Fprintf(&b, "SELECT %s FROM %s", strings.Join(cols, ", "), quoteIdent(l.ID))
	switch {
	case fid != 0:
		b.WriteString(" WHERE fid = ?")
		args = append(args, fid)
	case q.BBox != nil:
		fmt.Fprintf(&b, " WHERE fid IN (SELECT id FROM %s WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)",
			quoteIdent("rtree_"+l.ID+"_geom"))
		args = append(args, q.BBox.Min[0], q.BBox.Max[0], q.BBox.Min[1], q.BBox.Max[1])
	}
	b.WriteString(" ORDER BY fid")
	if q.Limit > 0 || q.Offset > 0 {
		limit := int64(q.Limit)
		if limit <= 0 {
			limit = -1
		}
		b.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, limit, q.Offset)
	}
	return b.String(), args
}

// readLayer begins a read-only transaction, a consistent snapshot, and
// loads layer id in it. The caller rolls the transaction back.
func (s *Store) readLayer(ctx context.Context, id string) (*sql.Tx, *Layer, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return tx, l, nil
}

// Features calls fn for each feature of layer id that q selects, in id
// order, streaming them from the database. It stops at fn's first error.
func (s *Store) Features(ctx context.Context, id string, q Query, fn func(Feature) error) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return eachFeature(ctx, tx, l, q, fn)
}

func eachFeature(ctx context.Context, q querier, l *Layer, query Query, fn func(Feature) error) error {
	sqlText, args := selectFeatures(l, query)
	return eachRow(ctx, q, l, sqlText, args, fn)
}

func eachRow(ctx context.Context, q querier, l *Layer, sqlText string, args []any, fn func(Feature) error) error {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, 2+len(l.Schema))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		f, err := decodeRow(l, vals)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

func decodeRow(l *Layer, vals []any) (Feature, error) {
	fid, _ := vals[0].(int64)
	f := Feature{ID: fid, Properties: make(map[string]any, len(l.Schema))}
	blob, _ := vals[1].([]byte)
	g, err := geo.DecodeGPKG(blob)
	if err != nil {
		return f, fmt.Errorf("layer %s, feature %d: %w", l.ID, fid, err)
	}
	f.Geometry = g
	for i, fd := range l.Schema {
		v := vals[2+i]
		if v == nil {
			continue
		}
		switch fd.Type {
		case Boolean:
			switch b := v.(type) {
			case int64:
				v = b != 0
			case bool:
				v = b
			}
		case Number:
			if n, ok := v.(int64); ok {
				v = float64(n)
			}
		case String, Date, DateTime:
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
		}
		f.Properties[fd.Name] = v
	}
	return f, nil
}

// Feature returns feature fid of layer id, or an ENOTFOUND error.
func (s *Store) Feature(ctx context.Context, id string, fid int64) (Feature, error) {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return Feature{}, err
	}
	defer tx.Rollback()
	sqlText, args := selectWhere(l, Query{}, fid)
	var f Feature
	found := false
	err = eachRow(ctx, tx, l, sqlText, args, func(got Feature) error {
		f, found = got, true
		return nil
	})
	if err == nil && !found {
		err = Errorf(ENOTFOUND, "layer %s has no feature %d", id, fid)
	}
	return f, err
}

// Count returns how many features of layer id q selects, ignoring its
// Limit and Offset.
func (s *Store) Count(ctx context.Context, id string, q Query) (int, error) {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	sqlText, args := selectFeatures(l, Query{BBox: q.BBox})
	var n int
	err = tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+sqlText+")", args...).Scan(&n)
	return n, err
}
