package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// Reads answer from the file. A bbox query asks the layer's R-tree for the
// features whose boxes meet the query's, takes those whose box lies
// inside it as they are, and reads the geometry of the others to decide
// (layers.Filter.Spatial); then reads the page it returns. Memory is
// bounded by the page and the R-tree hits, never the layer.

// Items returns the page p of the features of layer id that f selects, in
// id order, and how many match in all.
func (s *Store) Items(ctx context.Context, id string, f layers.Filter, p layers.Page) (items []*layers.Item, matched int, err error) {
	if col, err := s.follow.Collection(ctx, id); err == nil && likelySmall(col, f, p) {
		if items, matched, ok, err := s.itemsSmall(ctx, col, f, p, nil); ok || err != nil {
			return items, matched, err
		}
	}
	err = s.inSnapshot(ctx, id, func(r snapshotReader, col *layers.Collection) error {
		fids, n, err := selectIDs(ctx, r, col, f, p)
		if err != nil {
			return err
		}
		matched = n
		items, err = loadItems(ctx, r, col.Layer, fids)
		return err
	})
	return items, matched, err
}

// Select returns the ids of page p of the features of layer id that f
// selects, in id order, and how many match in all: Items without reading
// the features, for a cache that has them.
func (s *Store) Select(ctx context.Context, id string, f layers.Filter, p layers.Page) (fids []int64, matched int, err error) {
	err = s.inSnapshot(ctx, id, func(r snapshotReader, col *layers.Collection) error {
		fids, matched, err = selectIDs(ctx, r, col, f, p)
		return err
	})
	return fids, matched, err
}

// Shapes returns page p of the features of layer id that f selects, in
// id order, and how many match in all, as Items does, each as a shape
// with only the values of fields: the selection is Items', the
// read is of the geometry and those columns alone, with no GeoJSON and no
// measures made. The shapes' geometries share one arena's arrays (see
// layers.Shape).
func (s *Store) Shapes(ctx context.Context, id string, f layers.Filter, p layers.Page, fields []string) (shapes []layers.Shape, matched int, err error) {
	err = s.inSnapshot(ctx, id, func(r snapshotReader, col *layers.Collection) error {
		fids, n, err := selectIDs(ctx, r, col, f, p)
		if err != nil {
			return err
		}
		matched = n
		shapes, err = loadShapes(ctx, r, col.Layer, fids, fields)
		return err
	})
	return shapes, matched, err
}

// LoadShapes returns the shapes of the features fids of layer id that
// exist, in the order of fids (each once), with only the values of fields:
// Load for a reader that needs no more.
func (s *Store) LoadShapes(ctx context.Context, id string, fids []int64, fields []string) ([]layers.Shape, error) {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return nil, err
	}
	return loadShapes(ctx, s.cached(), col.Layer, fids, fields)
}

// inSnapshot runs fn with layer id's state and one read snapshot.
func (s *Store) inSnapshot(ctx context.Context, id string, fn func(snapshotReader, *layers.Collection) error) error {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return err
	}
	r, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	defer r.close()
	return fn(r, col)
}

// Load returns the features fids of layer id that exist, in the order of
// fids.
func (s *Store) Load(ctx context.Context, id string, fids []int64) ([]*layers.Item, error) {
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return nil, err
	}
	return loadItems(ctx, s.cached(), col.Layer, fids)
}

// Item returns feature fid of layer id, or an ENOTFOUND error.
func (s *Store) Item(ctx context.Context, id string, fid int64) (*layers.Item, error) {
	items, err := s.Load(ctx, id, []int64{fid})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		// Deleted (EGONE) or never there (ENOTFOUND)?
		if err := retired(ctx, s.cached(), id, fid); err != nil {
			return nil, err
		}
		return nil, goneError(id, fid)
	}
	return items[0], nil
}

// Count returns how many features of layer id f selects.
func (s *Store) Count(ctx context.Context, id string, f layers.Filter) (int, error) {
	_, n, err := s.Select(ctx, id, f, layers.Page{Limit: 0})
	return n, err
}

// selectIDs is Select within a snapshot.
func selectIDs(ctx context.Context, q querier, col *layers.Collection, f layers.Filter, p layers.Page) ([]int64, int, error) {
	if len(f.BBoxes) > 0 {
		return selectBBox(ctx, q, col, f, p)
	}
	t := quoteIdent(col.ID)
	where, args := equalsWhere(col.Layer, f, "")
	matched := col.Count
	switch {
	case where != "" && p.Uncounted:
		// Counting is a scan of the table, on every page of a reader
		// that pages through them all (the statistics).
		matched = 0
	case where != "":
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+t+` WHERE `+where, args...).Scan(&matched); err != nil {
			return nil, 0, err
		}
	}
	if p.Limit <= 0 {
		return nil, matched, nil
	}
	conds := []string{"fid > ?"}
	if where != "" {
		conds = append(conds, where)
	}
	args = append([]any{p.After}, args...)
	args = append(args, p.Limit, p.Offset)
	rows, err := q.QueryContext(ctx, `SELECT fid FROM `+t+` WHERE `+strings.Join(conds, " AND ")+` ORDER BY fid LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, 0, err
	}
	fids, err := appendIDs(make([]int64, 0, min(p.Limit, 1024)), rows)
	return fids, matched, err
}

// equalsWhere is the SQL condition of f's property values, on columns of
// the table aliased as alias ("" for none).
func equalsWhere(l *layers.Layer, f layers.Filter, alias string) (string, []any) {
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
		col := quoteIdent(name)
		if alias != "" {
			col = alias + "." + col
		}
		v := f.Equals[name]
		if b, ok := v.(bool); ok {
			// Booleans are stored as 0 and 1.
			v = map[bool]int64{false: 0, true: 1}[b]
		}
		conds = append(conds, col+" = ?")
		args = append(args, v)
	}
	return strings.Join(conds, " AND "), args
}

// manyHits is how many features a box is expected to hold for
// selectBBox to read the R-tree in two: where the rows saved, at 0.4 µs
// each, outweigh the second statement, about 40 µs (BENCHMARKS.md, "A
// tile from the file, leaner": 231 features broke even, 441 gained a
// tenth). A variable for the tests, which compare the two reads.
var manyHits atomic.Int64

func init() { manyHits.Store(400) }

type hit struct {
	fid   int64
	bound orb.Bound
}

// selectBBox answers a query with boxes through the layer's R-tree: the
// features whose R-tree boxes meet a box, placed against all the filter's
// boxes by their R-tree boxes, and, where one crosses an edge, by their
// geometries. A box expected to hold many (manyHits, a tile's holds
// thousands) is read in two: the ids alone of the features whose R-tree
// boxes lie inside it, which are inside it; then, with their boxes, those
// whose boxes cross one of its four edges, a few hundred. The driver
// reads a box's four values at three times the cost of the id, and a
// second statement costs what about a hundred rows do.
func selectBBox(ctx context.Context, q querier, col *layers.Collection, f layers.Filter, p layers.Page) ([]int64, int, error) {
	from := ` FROM ` + quoteIdent("rtree_"+col.ID+"_geom") + ` r`
	where, eqArgs := equalsWhere(col.Layer, f, "t")
	if where != "" {
		from += ` JOIN ` + quoteIdent(col.ID) + ` t ON t.fid = r.id`
		where = ` AND ` + where
	}
	// An uncounted page leaves out the features before it, whose
	// geometries a box's edge would otherwise have read again for each
	// page of a reader that pages through the box.
	if after := p.UncountedAfter(); after > 0 {
		where += ` AND r.id > ?`
		eqArgs = append(eqArgs, after)
	}
	const hits = `SELECT r.id, r.minx, r.maxx, r.miny, r.maxy`
	const meets = ` WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?`
	inside := `SELECT r.id` + from + ` WHERE r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?` + where
	var edges []string
	for _, beyond := range []string{`r.minx < ?`, `r.maxx > ?`, `r.miny < ?`, `r.maxy > ?`} {
		edges = append(edges, hits+from+meets+` AND `+beyond+where)
	}
	crossingEdges := strings.Join(edges, ` UNION ALL `)
	var matches []int64
	var crossing []hit
	// A feature whose box reaches beyond two edges of a box comes from
	// two strips, and one in two boxes from both: matches and crossing
	// are made unique below.
	place := func(h hit) {
		switch f.Spatial(h.bound) {
		case layers.Inside:
			matches = append(matches, h.fid)
		case layers.Crossing:
			crossing = append(crossing, h)
		}
	}
	for _, box := range f.BBoxes {
		x0, x1, y0, y1 := box.Min[0], box.Max[0], box.Min[1], box.Max[1]
		sqlText, args := hits+from+meets+where, append([]any{x0, x1, y0, y1}, eqArgs...)
		if col.Expected(box) >= float64(manyHits.Load()) {
			// The R-tree's boxes are rounded outward: one inside the
			// query's box holds a feature inside it.
			rows, err := q.QueryContext(ctx, inside, args...)
			if err != nil {
				return nil, 0, err
			}
			if matches, err = appendIDs(matches, rows); err != nil {
				return nil, 0, err
			}
			sqlText, args = crossingEdges, nil
			for _, edge := range []float64{x0, x1, y0, y1} {
				args = append(append(args, x0, x1, y0, y1, edge), eqArgs...)
			}
		}
		rows, err := q.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return nil, 0, err
		}
		if err := eachRTreeHit(rows, place); err != nil {
			return nil, 0, err
		}
	}
	if len(crossing) > 0 {
		slices.SortFunc(crossing, func(a, b hit) int { return cmp.Compare(a.fid, b.fid) })
		crossing = slices.CompactFunc(crossing, func(a, b hit) bool { return a.fid == b.fid })
		err := eachGeometry(ctx, q, col.ID, crossing, func(fid int64, g orb.Geometry) {
			if f.MatchesGeometry(g, g.Bound()) {
				matches = append(matches, fid)
			}
		})
		if err != nil {
			return nil, 0, err
		}
	}
	page, matched := layers.PageOf(matches, p)
	return page, matched, nil
}

// Bounds calls each with the id and box of every feature of layer id that
// has a geometry: the rows of its R-tree, whose boxes are rounded outward.
func (s *Store) Bounds(ctx context.Context, id string, each func(fid int64, b orb.Bound)) error {
	return s.inSnapshot(ctx, id, func(r snapshotReader, col *layers.Collection) error {
		rows, err := r.QueryContext(ctx, `SELECT id, minx, maxx, miny, maxy FROM `+quoteIdent("rtree_"+col.ID+"_geom"))
		if err != nil {
			return err
		}
		return eachRTreeHit(rows, func(h hit) { each(h.fid, h.bound) })
	})
}

// appendIDs appends the ids rows hold, one integer each, to ids, and
// closes rows.
func appendIDs(ids []int64, rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// eachRTreeHit calls fn with each of rows, rows of an R-tree (id, minx,
// maxx, miny, maxy), and closes rows.
func eachRTreeHit(rows *sql.Rows, fn func(hit)) error {
	defer rows.Close()
	// Scanned into anys, the one destination database/sql fills without
	// reflection: an R-tree hit is five values.
	var vals [5]any
	ptrs := [5]any{&vals[0], &vals[1], &vals[2], &vals[3], &vals[4]}
	for rows.Next() {
		if err := rows.Scan(ptrs[:]...); err != nil {
			return err
		}
		h, err := rtreeHit(vals)
		if err != nil {
			return err
		}
		fn(h)
	}
	return rows.Err()
}

// rtreeHit is a row of the R-tree: id, minx, maxx, miny, maxy.
func rtreeHit(vals [5]any) (hit, error) {
	id, ok := vals[0].(int64)
	if !ok {
		return hit{}, fmt.Errorf("R-tree id %v (%T) is not an integer", vals[0], vals[0])
	}
	h := hit{fid: id}
	for i, to := range [4]*float64{&h.bound.Min[0], &h.bound.Max[0], &h.bound.Min[1], &h.bound.Max[1]} {
		switch v := vals[1+i].(type) {
		case float64:
			*to = v
		case int64:
			*to = float64(v)
		default:
			return hit{}, fmt.Errorf("R-tree box of %d: %v (%T) is not a number", id, v, v)
		}
	}
	return h, nil
}

// inIDs is the condition that fid is one of the ids in the JSON array
// given as its parameter: one statement, prepared once, for any number of
// ids (an IN list of placeholders would be a new statement per length).
const inIDs = `fid IN (SELECT value FROM json_each(?))`

// idList returns ids as a JSON array.
func idList(ids []int64, fid func(int) int64) string {
	b := make([]byte, 0, 2+8*len(ids))
	b = append(b, '[')
	for i := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, fid(i), 10)
	}
	return string(append(b, ']'))
}

// byIDs returns the FROM and WHERE of a read of the rows of table id
// whose fids are fids (at least one), and their one argument; the table
// is aliased t, so the columns are named t."name" (json_each has columns
// of its own, such as value and path). One id is a rowid lookup. Ids in
// ascending runs of consecutive ones, a few runs for many ids (a page of a
// box or a tile, in a layer written in about the order of its places, as
// imports are), are read one rowid range per run, from a JSON array of
// [first, last] pairs: the table's b-tree is walked in order rather than
// searched for each id, and SQLite builds no temporary index of the ids.
// Other ids are read through inIDs.
func byIDs(id string, fids []int64) (string, any) {
	t := ` FROM ` + quoteIdent(id) + ` AS t WHERE `
	if len(fids) == 1 {
		return t + `t.fid = ?`, fids[0]
	}
	runs := 1
	for i := 1; i < len(fids); i++ {
		if fids[i] <= fids[i-1] {
			runs = len(fids) // not ascending: no ranges
			break
		}
		if fids[i] != fids[i-1]+1 {
			runs++
		}
	}
	if runs > len(fids)/4 {
		return t + `t.` + inIDs, idList(fids, func(i int) int64 { return fids[i] })
	}
	b := make([]byte, 0, 2+24*runs)
	b = append(b, '[')
	for i := 0; i < len(fids); {
		j := i
		for j+1 < len(fids) && fids[j+1] == fids[j]+1 {
			j++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, fids[i], 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, fids[j], 10)
		b = append(b, ']')
		i = j + 1
	}
	b = append(b, ']')
	return ` FROM json_each(?) AS r CROSS JOIN ` + quoteIdent(id) + ` AS t WHERE t.fid BETWEEN r.value->>0 AND r.value->>1`, string(b)
}

// eachGeometry reads the geometries of the hits.
func eachGeometry(ctx context.Context, q querier, id string, hits []hit, fn func(int64, orb.Geometry)) error {
	list := idList(make([]int64, len(hits)), func(i int) int64 { return hits[i].fid })
	rows, err := queryRows(ctx, q, `SELECT fid, geom FROM `+quoteIdent(id)+` WHERE `+inIDs, list)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var blob sql.RawBytes
		if err := rows.Scan(&fid, &blob); err != nil {
			return err
		}
		g, err := geo.DecodeGPKG(blob)
		if err != nil {
			return fmt.Errorf("layer %s, feature %d: %w", id, fid, err)
		}
		fn(fid, g)
	}
	return rows.Err()
}

// loadItems reads and encodes the features fids of layer l that exist, in
// the order of fids.
func loadItems(ctx context.Context, q querier, l *layers.Layer, fids []int64) ([]*layers.Item, error) {
	if len(fids) == 0 {
		return nil, nil
	}
	if len(fids) == 1 {
		// One feature, the most common request after a page: a lookup
		// by rowid costs a fraction of going through json_each. Its
		// geometry is decoded alone: an arena's first slabs hold dozens.
		var it *layers.Item
		err := eachRawRow(ctx, q, l, selectColumns(l)+` WHERE fid = ?`, []any{fids[0]}, func(fid int64, vals []any, blob []byte) (err error) {
			it, err = rowItem(l, fid, vals, blob, nil)
			return err
		})
		if err != nil || it == nil {
			return nil, err
		}
		return []*layers.Item{it}, nil
	}
	// The geometries are decoded into one arena for the items' measures
	// and JSON, which keep none of them.
	var arena geo.Arena
	byID := make(map[int64]*layers.Item, len(fids))
	from, arg := byIDs(l.ID, fids)
	err := eachRawRow(ctx, q, l, selectList(l.Schema, "t.")+from, []any{arg}, func(fid int64, vals []any, blob []byte) error {
		it, err := rowItem(l, fid, vals, blob, &arena)
		byID[fid] = it
		return err
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

// loadShapes reads the shapes of the features fids of layer l that
// exist, in the order of fids: fid, geometry and the columns of the fields
// of l named in fields (others have no value in any feature).
func loadShapes(ctx context.Context, q querier, l *layers.Layer, fids []int64, fields []string) ([]layers.Shape, error) {
	if len(fids) == 0 {
		return nil, nil
	}
	cols, at := layers.ShapeColumns(l, fields)
	from, arg := byIDs(l.ID, fids)
	rows, err := queryRows(ctx, q, selectList(cols, "t.")+from, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// As eachRow scans: the geometry as RawBytes, the rest into anys.
	var blob sql.RawBytes
	vals := make([]any, 2+len(cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	ptrs[1] = &blob
	shapes := make([]layers.Shape, 0, len(fids))
	// The shapes' values, in one allocation (a tile reads thousands),
	// and their geometries in the arena's few.
	values := make([]any, len(fids)*len(fields))
	var arena geo.Arena
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		fid, _ := vals[0].(int64)
		g, err := arena.DecodeGPKG(blob)
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

// Search finds up to limit features whose Chinese or English name
// contains text, ignoring case, ranked as layers.Search says, from one
// snapshot.
func (s *Store) Search(ctx context.Context, text string, limit int) ([]layers.Hit, error) {
	cat, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.close()
	find := func(col *layers.Collection, fields []string, text string, limit int) ([]layers.Match, error) {
		var at, starts []string
		for _, n := range fields {
			at = append(at, "instr(lower(coalesce("+quoteIdent(n)+", '')), ?1) > 0")
			starts = append(starts, "instr(lower(coalesce("+quoteIdent(n)+", '')), ?1) = 1")
		}
		rows, err := tx.QueryContext(ctx, `SELECT fid, `+strings.Join(starts, " OR ")+` AS first FROM `+quoteIdent(col.ID)+
			` WHERE `+strings.Join(at, " OR ")+` ORDER BY first DESC, fid LIMIT ?2`, text, limit)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ms []layers.Match
		for rows.Next() {
			var m layers.Match
			if err := rows.Scan(&m.FID, &m.Starts); err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		return ms, rows.Err()
	}
	return layers.Search(text, limit, cat.Collections, find, func(l *layers.Layer, fids []int64) ([]*layers.Item, error) {
		return loadItems(ctx, tx, l, fids)
	})
}

// Statements are prepared once and kept: modernc's SQLite compiles a
// statement each time it is prepared, which costs more than answering a
// small query. maxStatements bounds how many are kept (their texts vary
// only with the layers and the fields filtered on).
const maxStatements = 512

// stmt returns the prepared statement of text, preparing it the first
// time; nil when maxStatements are kept already, and the query is then
// prepared afresh each time.
func (s *Store) stmt(ctx context.Context, text string) *sql.Stmt {
	if st, ok := s.stmts.Load(text); ok {
		return st.(*sql.Stmt)
	}
	if s.nstmts.Load() >= maxStatements {
		return nil
	}
	st, err := s.read.PrepareContext(ctx, text)
	if err != nil {
		// The query itself will say what is wrong.
		return nil
	}
	if old, loaded := s.stmts.LoadOrStore(text, st); loaded {
		st.Close()
		return old.(*sql.Stmt)
	}
	s.nstmts.Add(1)
	return st
}

// closeStatements closes the kept statements.
func (s *Store) closeStatements() {
	s.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		s.stmts.Delete(k)
		return true
	})
}

// cachedReader runs queries through the kept statements, each on any
// reading connection.
type cachedReader struct{ s *Store }

func (s *Store) cached() cachedReader { return cachedReader{s} }

func (r cachedReader) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st := r.s.stmt(ctx, text); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.s.read.QueryContext(ctx, text, args...)
}

func (r cachedReader) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	if st := r.s.stmt(ctx, text); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.s.read.QueryRowContext(ctx, text, args...)
}

// snapshotReader runs queries through the kept statements inside one
// read transaction, so that they all see the same state of the file.
type snapshotReader struct {
	s    *Store
	tx   *sql.Tx
	slot bool // it holds one of s.readSlots, from snapshot
}

// snapshot begins a read transaction once a slot is free (readSlots):
// the goroutines blocked sending on a channel are let in first come,
// first served. Its caller closes it, once.
func (s *Store) snapshot(ctx context.Context) (snapshotReader, error) {
	select {
	case s.readSlots <- struct{}{}:
	case <-ctx.Done():
		return snapshotReader{}, ctx.Err()
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		<-s.readSlots
		return snapshotReader{}, err
	}
	return snapshotReader{s: s, tx: tx, slot: true}, nil
}

// close ends the transaction, and gives back the slot of a reader
// snapshot made; one made around another's transaction has none.
func (r snapshotReader) close() {
	r.tx.Rollback()
	if r.slot {
		<-r.s.readSlots
	}
}

func (r snapshotReader) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st := r.kept(text); st != nil {
		return r.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return r.tx.QueryContext(ctx, text, args...)
}

func (r snapshotReader) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	if st := r.kept(text); st != nil {
		return r.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return r.tx.QueryRowContext(ctx, text, args...)
}

// kept returns the kept statement of text, if there is one. Inside a
// transaction a statement is never prepared on the pool: that takes a
// second connection while the transaction holds one, and readers that
// all did so at once would wait for each other for ever. It is prepared
// in the background for the next reader instead.
func (r snapshotReader) kept(text string) *sql.Stmt {
	if st, ok := r.s.stmts.Load(text); ok {
		return st.(*sql.Stmt)
	}
	if r.s.nstmts.Load() < maxStatements {
		r.s.prepareInBackground(text)
	}
	return nil
}

// prepareInBackground prepares text for the next reader in a goroutine
// that Close waits for; none starts once Close has begun.
func (s *Store) prepareInBackground(text string) {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.bgClosed {
		return
	}
	if s.bgCtx == nil {
		s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	}
	ctx := s.bgCtx
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		s.stmt(ctx, text)
	}()
}
