package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// Shapes returns page p of the features of layer id that f selects, in
// id order, and how many match in all, as Items does, each as a shape
// with only the values of fields: the selection is Items', the read is of
// the geometry and those columns alone, with no GeoJSON and no measures
// made.
func (s *Store) Shapes(ctx context.Context, id string, f layers.Filter, p layers.Page, fields []string) (shapes []layers.Shape, matched int, err error) {
	err = s.inSnapshot(ctx, id, func(tx pgx.Tx, col *layers.Collection) error {
		fids, n, err := selectIDs(ctx, tx, col, f, p)
		if err != nil {
			return err
		}
		matched = n
		shapes, err = loadShapes(ctx, tx, col.Layer, fids, fields)
		return err
	})
	return shapes, matched, err
}

// LoadShapes returns the shapes of the features fids of layer id that
// exist, in the order of fids (each once), with only the values of fields.
func (s *Store) LoadShapes(ctx context.Context, id string, fids []int64, fields []string) ([]layers.Shape, error) {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return nil, err
	}
	var shapes []layers.Shape
	err = s.read(ctx, func(q querier) error {
		shapes, err = loadShapes(ctx, q, col.Layer, fids, fields)
		return err
	})
	return shapes, err
}

// loadShapes reads the shapes of the features fids of layer l that
// exist, in the order of fids: fid, geometry and the columns of the fields
// of l named in fields.
func loadShapes(ctx context.Context, q querier, l *layers.Layer, fids []int64, fields []string) ([]layers.Shape, error) {
	if len(fids) == 0 {
		return nil, nil
	}
	cols, at := layers.ShapeColumns(l, fields)
	sel := []string{"fid", "ST_AsBinary(geom)"}
	for _, fd := range cols {
		sel = append(sel, column(fd))
	}
	rows, err := q.Query(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+quoteIdent(l.ID)+` WHERE fid = ANY($1) ORDER BY fid`, fids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	shapes := make([]layers.Shape, 0, len(fids))
	// The shapes' values, in one allocation (a tile reads thousands).
	values := make([]any, len(fids)*len(fields))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		fid, _ := vals[0].(int64)
		g, err := wkb.Unmarshal(rows.RawValues()[1])
		if err != nil {
			return nil, fmt.Errorf("layer %s, feature %d: %w", l.ID, fid, err)
		}
		if len(values) < len(fields) {
			// More rows than ids: cannot be, but not worth a panic.
			values = make([]any, len(fields))
		}
		v := values[:len(fields):len(fields)]
		values = values[len(fields):]
		for i, fd := range cols {
			if c := vals[2+i]; c != nil {
				v[at[i]] = fieldValue(fd.Type, c)
			}
		}
		shapes = append(shapes, layers.Shape{ID: fid, Geometry: g, Values: v})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	layers.OrderShapes(shapes, fids)
	return shapes, nil
}
