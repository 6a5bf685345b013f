package layers

import (
	"context"
	"database/sql"
	"errors"
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
	if q.BBox != nil {
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

// Features calls fn for each feature of layer id that q selects, in id
// order, streaming them from the database. It stops at fn's first error.
func (s *Store) Features(ctx context.Context, id string, q Query, fn func(Feature) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		return err
	}
	return eachFeature(ctx, tx, l, q, fn)
}

func eachFeature(ctx context.Context, q querier, l *Layer, query Query, fn func(Feature) error) error {
	sqlText, args := selectFeatures(l, query)
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
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Feature{}, err
	}
	defer tx.Rollback()
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		return Feature{}, err
	}
	sqlText, _ := selectFeatures(l, Query{})
	sqlText = strings.Replace(sqlText, " ORDER BY fid", " WHERE fid = ?", 1)
	rows, err := tx.QueryContext(ctx, sqlText, fid)
	if err != nil {
		return Feature{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Feature{}, err
		}
		return Feature{}, Errorf(ENOTFOUND, "layer %s has no feature %d", id, fid)
	}
	vals := make([]any, 2+len(l.Schema))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return Feature{}, err
	}
	return decodeRow(l, vals)
}

// Count returns how many features of layer id q selects, ignoring its
// Limit and Offset.
func (s *Store) Count(ctx context.Context, id string, q Query) (int, error) {
	l, err := s.Layer(ctx, id)
	if err != nil {
		return 0, err
	}
	sqlText, args := selectFeatures(l, Query{BBox: q.BBox})
	var n int
	err = s.read.QueryRowContext(ctx, "SELECT count(*) FROM ("+sqlText+")", args...).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}
