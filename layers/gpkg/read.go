package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// selectColumns is the SELECT of layer l's columns, fid and geom first.
// Date and date-time columns are read as text: the driver would otherwise
// turn them into time.Time.
func selectColumns(l *layers.Layer) string {
	return selectList(l.Schema, "") + " FROM " + quoteIdent(l.ID)
}

// selectList is the SELECT of fid, geom and the columns of fields, each
// name after prefix (a table's alias and a dot, or "").
func selectList(fields []layers.Field, prefix string) string {
	cols := []string{prefix + "fid", prefix + "geom"}
	for _, fd := range fields {
		c := prefix + quoteIdent(fd.Name)
		if fd.Type == layers.Date || fd.Type == layers.DateTime {
			c = "CAST(" + c + " AS TEXT)"
		}
		cols = append(cols, c)
	}
	return "SELECT " + strings.Join(cols, ", ")
}

// readLayer begins a read-only transaction, a consistent snapshot, and
// loads layer id in it. The caller rolls the transaction back.
func (s *Store) readLayer(ctx context.Context, id string) (*sql.Tx, *layers.Layer, error) {
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

// Features calls fn for each feature of layer id in id order, streaming
// them from one snapshot of the database. It stops at fn's first error.
func (s *Store) Features(ctx context.Context, id string, fn func(layers.Feature) error) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return eachFeature(ctx, tx, l, fn)
}

func eachFeature(ctx context.Context, q querier, l *layers.Layer, fn func(layers.Feature) error) error {
	return eachRow(ctx, q, l, selectColumns(l)+" ORDER BY fid", nil, fn)
}

func eachRow(ctx context.Context, q querier, l *layers.Layer, sqlText string, args []any, fn func(layers.Feature) error) error {
	return eachRawRow(ctx, q, l, sqlText, args, func(fid int64, vals []any, blob []byte) error {
		f, err := decodeRow(l, fid, vals, blob)
		if err != nil {
			return err
		}
		return fn(f)
	})
}

// eachRawRow runs a query of selectList's columns and calls fn with each
// row: its fid, the values of l's fields in schema order (fieldValue's,
// nil where none) and the geometry's blob, the driver's until the next
// row, as vals is eachRawRow's.
func eachRawRow(ctx context.Context, q querier, l *layers.Layer, sqlText string, args []any, fn func(fid int64, vals []any, blob []byte) error) error {
	rows, err := queryRows(ctx, q, sqlText, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	// The geometry is scanned as RawBytes, which database/sql does not
	// copy (decoding copies its coordinates); everything else into an
	// any, the one destination Scan fills without reflection.
	var blob sql.RawBytes
	vals := make([]any, 2+len(l.Schema))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	ptrs[1] = &blob
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		fid, _ := vals[0].(int64)
		fields := vals[2:]
		for i, fd := range l.Schema {
			if v := fields[i]; v != nil {
				fields[i] = fieldValue(fd.Type, v)
			}
		}
		if err := fn(fid, fields, blob); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryRows runs a statement whose rows its caller reads, stopping once
// ctx is done (rowReader). The driver is given ctx without its
// cancellation: for each statement with a context that can be canceled,
// as a served request's is, the modernc driver starts a goroutine to
// interrupt SQLite, and database/sql another to close the rows (outside
// a transaction; inside one it watches the transaction's context). A
// profile of one feature served from the file put them at 5-8 % of the
// request (BENCHMARKS.md). What a read so started gives up: an interrupt
// within a step, a wait for a free connection or for a lock (busy_timeout)
// cut short, and ctx's deadline but between rows. None of the statements
// read so does much before its first row: they step row by row, or sort
// the ids they were given, or at most smallAnswer+1 of a box's R-tree
// hits (small.go). The reader is a value its caller keeps, so that
// reading a statement makes no object of it.
func queryRows(ctx context.Context, q querier, sqlText string, args ...any) (rowReader, error) {
	if err := ctx.Err(); err != nil {
		return rowReader{}, err
	}
	rows, err := q.QueryContext(context.WithoutCancel(ctx), sqlText, args...)
	return rowReader{Rows: rows, ctx: ctx}, err
}

// rowReader is rows that stop, with ctx's error, once ctx is done.
type rowReader struct {
	*sql.Rows
	ctx     context.Context
	stopped error // ctx's error, once Next stopped for it
}

func (r *rowReader) Next() bool {
	if err := r.ctx.Err(); err != nil {
		r.stopped = err
		return false
	}
	return r.Rows.Next()
}

// Err is why Next stopped: ctx's error, the driver's, or nil at the end
// of the rows, as sql.Rows says.
func (r *rowReader) Err() error {
	if r.stopped != nil {
		return r.stopped
	}
	return r.Rows.Err()
}

// decodeRow turns a row eachRawRow gives into a feature.
func decodeRow(l *layers.Layer, fid int64, vals []any, blob []byte) (layers.Feature, error) {
	f := layers.Feature{ID: fid, Properties: make(map[string]any, len(l.Schema))}
	g, err := geo.DecodeGPKG(blob)
	if err != nil {
		return f, fmt.Errorf("layer %s, feature %d: %w", l.ID, fid, err)
	}
	f.Geometry = g
	for i, fd := range l.Schema {
		if v := vals[i]; v != nil {
			f.Properties[fd.Name] = v
		}
	}
	return f, nil
}

// rowGeometry decodes a row's geometry blob into a (nil: alone), and
// returns it with its WKB (both nil for an empty one).
func rowGeometry(l *layers.Layer, fid int64, blob []byte, a *geo.Arena) (orb.Geometry, []byte, error) {
	wkb, err := geo.GPKGWKB(blob)
	if err == nil && wkb != nil {
		var g orb.Geometry
		if g, err = a.DecodeWKB(wkb); err == nil {
			return g, wkb, nil
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("layer %s, feature %d: %w", l.ID, fid, err)
	}
	return nil, nil, nil
}

// rowItem is the item of a row eachRawRow gives, its geometry decoded
// into a for its measures and JSON, which the item does not keep.
func rowItem(l *layers.Layer, fid int64, vals []any, blob []byte, a *geo.Arena) (*layers.Item, error) {
	g, wkb, err := rowGeometry(l, fid, blob, a)
	if err != nil {
		return nil, err
	}
	var box orb.Bound
	if g != nil {
		box = g.Bound()
	}
	return layers.NewRowItem(l, fid, vals, g, box, wkb), nil
}

// fieldValue is v, a column's non-null value as the driver gives it,
// typed as a property of type t is: booleans from 0 and 1, numbers as
// float64, texts as strings.
func fieldValue(t layers.FieldType, v any) any {
	switch t {
	case layers.Boolean:
		if b, ok := v.(int64); ok {
			return b != 0
		}
	case layers.Number:
		if n, ok := v.(int64); ok {
			return float64(n)
		}
	case layers.String, layers.Date, layers.DateTime:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	}
	return v
}
