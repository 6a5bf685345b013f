package postgis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// column is the SELECT expression of field fd: dates and date-times are
// read as the text the layer files carry, so that they serve and export
// exactly as the GeoPackage store's.
func column(fd layers.Field) string { return columnOf("", fd) }

// columnOf is column of the field in the row of alias ("" for none).
func columnOf(alias string, fd layers.Field) string {
	c := quoteIdent(fd.Name)
	if alias != "" {
		c = alias + "." + c
	}
	switch fd.Type {
	case layers.Date:
		return `to_char(` + c + `, 'YYYY-MM-DD')`
	case layers.DateTime:
		return `to_char(` + c + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
	}
	return c
}

// selectColumns is the SELECT of layer l's features, fid and the geometry
// as WKB first, the fields after in schema order.
func selectColumns(l *layers.Layer) string {
	cols := []string{"fid", "ST_AsBinary(geom)"}
	for _, fd := range l.Schema {
		cols = append(cols, column(fd))
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(l.ID)
}

// eachRow runs a query of selectColumns and calls fn with each feature.
func eachRow(ctx context.Context, q querier, l *layers.Layer, sql string, args []any, fn func(layers.Feature) error) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		f, err := decodeRow(l, rows)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// decodeRow turns the current row of selectColumns into a feature.
func decodeRow(l *layers.Layer, rows pgx.Rows) (layers.Feature, error) {
	raw := rows.RawValues()
	vals, err := rows.Values()
	if err != nil {
		return layers.Feature{}, err
	}
	fid, _ := vals[0].(int64)
	f := layers.Feature{ID: fid, Properties: make(map[string]any, len(l.Schema))}
	g, err := wkb.Unmarshal(raw[1])
	if err != nil {
		return f, fmt.Errorf("layer %s, feature %d: %w", l.ID, fid, err)
	}
	f.Geometry = g
	for i, fd := range l.Schema {
		if v := vals[2+i]; v != nil {
			f.Properties[fd.Name] = fieldValue(fd.Type, v)
		}
	}
	return f, nil
}

// fieldValue is v, a column's non-null value as pgx gives it, typed as a
// property of type t is: integers as int64, numbers as float64.
func fieldValue(t layers.FieldType, v any) any {
	switch x := v.(type) {
	case int16: // smallint
		v = int64(x)
	case int32:
		v = int64(x)
	case float32:
		v = float64(x)
	}
	if t == layers.Number {
		if n, ok := v.(int64); ok {
			return float64(n)
		}
	}
	return v
}

// Items returns page p of the features of layer id that f selects, in id
// order, and how many match in all: from one snapshot.
func (s *Store) Items(ctx context.Context, id string, f layers.Filter, p layers.Page) (items []*layers.Item, matched int, err error) {
	if col, err := s.follow.Collection(ctx, id); err == nil && likelySmall(col, f) {
		if items, matched, ok, err := s.itemsSmall(ctx, col.Layer, f, p); ok || err != nil {
			return items, matched, err
		}
	}
	err = s.inSnapshot(ctx, id, func(tx pgx.Tx, col *layers.Collection) error {
		fids, n, err := selectIDs(ctx, tx, col, f, p)
		if err != nil {
			return err
		}
		matched = n
		items, err = loadItems(ctx, tx, col.Layer, fids)
		return err
	})
	return items, matched, err
}

// Select returns the ids of page p of the features of layer id that f
// selects, in id order, and how many match in all: Items without reading
// the features, for a cache that has them (layers/cache).
func (s *Store) Select(ctx context.Context, id string, f layers.Filter, p layers.Page) (fids []int64, matched int, err error) {
	if col, err := s.follow.Collection(ctx, id); err == nil && likelySmall(col, f) {
		if fids, matched, ok, err := s.selectSmall(ctx, col.Layer, f, p); ok || err != nil {
			return fids, matched, err
		}
	}
	err = s.inSnapshot(ctx, id, func(tx pgx.Tx, col *layers.Collection) error {
		fids, matched, err = selectIDs(ctx, tx, col, f, p)
		return err
	})
	return fids, matched, err
}

// Load returns the features fids of layer id that exist, in the order of
// fids.
func (s *Store) Load(ctx context.Context, id string, fids []int64) ([]*layers.Item, error) {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return nil, err
	}
	var items []*layers.Item
	err = s.read(ctx, func(q querier) error {
		items, err = loadItems(ctx, q, col.Layer, fids)
		return err
	})
	return items, err
}

// Bounds calls each with the id and bounding box of every feature of layer
// id that has a geometry: the boxes PostGIS keeps with the geometries,
// rounded outward to float32.
func (s *Store) Bounds(ctx context.Context, id string, each func(fid int64, b orb.Bound)) error {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return err
	}
	return s.read(ctx, func(q querier) error {
		rows, err := q.Query(ctx, `SELECT fid, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
			FROM (SELECT fid, Box2D(geom) AS b FROM `+quoteIdent(col.ID)+` WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)) t`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var fid int64
		var b orb.Bound
		for rows.Next() {
			if err := rows.Scan(&fid, &b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1]); err != nil {
				return err
			}
			each(fid, b)
		}
		return rows.Err()
	})
}

// inSnapshot runs fn with layer id's state and one read-only snapshot.
func (s *Store) inSnapshot(ctx context.Context, id string, fn func(pgx.Tx, *layers.Collection) error) error {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return err
	}
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return fn(tx, col)
}

// selectIDs is Select within a snapshot. Without a filter the count is the
// catalog's, as in the GeoPackage store: counting a table is a scan.
func selectIDs(ctx context.Context, q querier, col *layers.Collection, f layers.Filter, p layers.Page) ([]int64, int, error) {
	if len(f.BBoxes) > 0 {
		return selectBBox(ctx, q, col.Layer, f, p)
	}
	t := quoteIdent(col.ID)
	where, args := equalsWhere(col.Layer, f, 1)
	matched := col.Count
	switch {
	case where != "" && p.Uncounted:
		// Counting is a scan of the table, on every page of a reader
		// that pages through them all (the statistics).
		matched = 0
	case where != "":
		if err := q.QueryRow(ctx, `SELECT count(*) FROM `+t+` WHERE `+where, args...).Scan(&matched); err != nil {
			return nil, 0, err
		}
	}
	if p.Limit <= 0 {
		return nil, matched, nil
	}
	n := len(args)
	conds := []string{fmt.Sprintf("fid > $%d", n+1)}
	if where != "" {
		conds = append(conds, where)
	}
	args = append(args, p.After, p.Limit, p.Offset)
	rows, err := q.Query(ctx, `SELECT fid FROM `+t+` WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(` ORDER BY fid LIMIT $%d OFFSET $%d`, n+2, n+3), args...)
	if err != nil {
		return nil, 0, err
	}
	fids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return fids, matched, err
}

// equalsWhere is the SQL condition of f's property values, its
// parameters numbered from first. Field names were checked when the layer
// was declared, and a filter names only declared fields; a name that is
// not one matches nothing.
func equalsWhere(l *layers.Layer, f layers.Filter, first int) (string, []any) {
	if len(f.Equals) == 0 {
		return "", nil
	}
	names := make([]string, 0, len(f.Equals))
	for name := range f.Equals {
		names = append(names, name)
	}
	slices.Sort(names)
	conds := make([]string, 0, len(names))
	args := make([]any, 0, len(names))
	for _, name := range names {
		fd := l.Field(name)
		if fd == nil {
			conds = append(conds, "false")
			continue
		}
		p := "$" + strconv.Itoa(first+len(args))
		v := f.Equals[name]
		switch fd.Type {
		case layers.Date, layers.DateTime:
			// Compared as the text they are served as.
			conds = append(conds, column(*fd)+" = "+p+"::text")
			v = fmt.Sprint(v)
		default:
			conds = append(conds, quoteIdent(name)+" = "+p)
		}
		args = append(args, v)
	}
	return strings.Join(conds, " AND "), args
}

// selectBBox answers a query with boxes: the GiST index gives the
// candidates of each box with their exact bounding boxes, and the one
// bbox rule of layers.Filter decides (doc.go).
func selectBBox(ctx context.Context, q querier, l *layers.Layer, f layers.Filter, p layers.Page) ([]int64, int, error) {
	t := quoteIdent(l.ID)
	where, eqArgs := equalsWhere(l, f, 5)
	sql := `SELECT fid, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM ` + t +
		` WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`
	if where != "" {
		sql += ` AND ` + where
	}
	// An uncounted page leaves out the features before it, whose
	// geometries a box's edge would otherwise have read again for each
	// page of a reader that pages through the box.
	after := p.UncountedAfter()
	if after > 0 {
		sql += fmt.Sprintf(` AND fid > $%d`, 5+len(eqArgs))
	}
	var matches, crossing []int64
	for _, box := range f.BBoxes {
		args := append([]any{box.Min[0], box.Min[1], box.Max[0], box.Max[1]}, eqArgs...)
		if after > 0 {
			args = append(args, after)
		}
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return nil, 0, err
		}
		var fid int64
		var b orb.Bound
		for rows.Next() {
			if err := rows.Scan(&fid, &b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1]); err != nil {
				rows.Close()
				return nil, 0, err
			}
			switch f.Spatial(b) {
			case layers.Inside:
				matches = append(matches, fid)
			case layers.Crossing:
				crossing = append(crossing, fid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
	}
	if len(crossing) > 0 {
		slices.Sort(crossing)
		crossing = slices.Compact(crossing)
		rows, err := q.Query(ctx, `SELECT fid, ST_AsBinary(geom) FROM `+t+` WHERE fid = ANY($1)`, crossing)
		if err != nil {
			return nil, 0, err
		}
		for rows.Next() {
			fid, _ := rows.Values()
			g, err := wkb.Unmarshal(rows.RawValues()[1])
			if err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("layer %s, feature %v: %w", l.ID, fid[0], err)
			}
			if f.MatchesGeometry(g, g.Bound()) {
				matches = append(matches, fid[0].(int64))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
	}
	page, matched := layers.PageOf(matches, p)
	return page, matched, nil
}

// loadItems reads and encodes the features fids of layer l that exist, in
// the order of fids.
func loadItems(ctx context.Context, q querier, l *layers.Layer, fids []int64) ([]*layers.Item, error) {
	if len(fids) == 0 {
		return nil, nil
	}
	byID := make(map[int64]*layers.Item, len(fids))
	err := eachRow(ctx, q, l, selectColumns(l)+` WHERE fid = ANY($1)`, []any{fids}, func(f layers.Feature) error {
		byID[f.ID] = layers.NewItem(l, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	items := make([]*layers.Item, 0, len(byID))
	for _, fid := range fids {
		if it := byID[fid]; it != nil {
			items = append(items, it)
		}
	}
	return items, nil
}

// Item returns feature fid of layer id: an EGONE error if it was deleted,
// ENOTFOUND if it never was.
func (s *Store) Item(ctx context.Context, id string, fid int64) (*layers.Item, error) {
	items, err := s.Load(ctx, id, []int64{fid})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		// Deleted (EGONE) or never there (ENOTFOUND)?
		if err := s.read(ctx, func(q querier) error { return retired(ctx, q, id, fid) }); err != nil {
			return nil, err
		}
		return nil, goneError(id, fid)
	}
	return items[0], nil
}

// Search finds up to limit features whose Chinese or English name
// contains text, ignoring case, ranked as layers.Search says, from one
// snapshot.
func (s *Store) Search(ctx context.Context, text string, limit int) ([]layers.Hit, error) {
	cat, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.readOnly(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	find := func(col *layers.Collection, fields []string, text string, limit int) ([]layers.Match, error) {
		var at, starts []string
		for _, n := range fields {
			c := "strpos(lower(coalesce(" + quoteIdent(n) + ", '')), $1)"
			at = append(at, c+" > 0")
			starts = append(starts, c+" = 1")
		}
		rows, err := tx.Query(ctx, `SELECT fid, `+strings.Join(starts, " OR ")+` AS first FROM `+quoteIdent(col.ID)+
			` WHERE `+strings.Join(at, " OR ")+` ORDER BY first DESC, fid LIMIT $2`, text, limit)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (m layers.Match, err error) {
			err = r.Scan(&m.FID, &m.Starts)
			return m, err
		})
	}
	return layers.Search(text, limit, cat.Collections, find, func(l *layers.Layer, fids []int64) ([]*layers.Item, error) {
		return loadItems(ctx, tx, l, fids)
	})
}
