package gpkg

import (
	"context"
	"database/sql"
	"sync"

	"planmap/layers"
)

// What feature writes keep between them, so that each costs little more
// than the rows it writes: the layers' declarations decoded once, and
// what each write did to its layer's extent.

// declCache keeps the layers' declarations decoded, keyed by the row of
// planmap_layers each was decoded from: decoding every layer's schema,
// style and rules from JSON on each write was a fifth of an edit's CPU.
// A write's transaction reads the rows (one statement, kept) and decodes
// only those that changed since. Comparing the rows themselves, rather
// than trusting a version number, means that no change is missed, whoever
// made it (a redeclaration over HTTP, planmap import in another process,
// a file put back from a backup).
//
// Reading the rows is skipped, too, when nothing but this store's feature
// writes has written to the file since the last one (which read them):
// the write connection then has the same PRAGMA data_version (no other
// connection committed) and total_changes() (it changed no row outside
// feature writes, which never change planmap_layers) as that write left.
type declCache struct {
	mu  sync.Mutex
	m   map[string]cachedDecl // by layer id
	all []*layers.Layer       // the last list
	// The write connection as the last feature write left it.
	last          connState
	afterFeatures bool
}

type cachedDecl struct {
	row []string // the columns of its planmap_layers row
	l   *layers.Layer
}

// connState is the state of a write connection that declCache compares:
// which connection (the driver's), its total_changes() and data_version.
type connState struct {
	conn         any
	total, dataV int64
}

// readConnState reads the state of the write connection conn.
func readConnState(ctx context.Context, q querier, conn any) (connState, error) {
	st := connState{conn: conn}
	err := q.QueryRowContext(ctx, `SELECT total_changes(), data_version FROM pragma_data_version`).Scan(&st.total, &st.dataV)
	return st, err
}

// wrote records the state of the write connection at the end of a
// feature write, before its commit.
func (c *declCache) wrote(st connState) {
	c.mu.Lock()
	c.last, c.afterFeatures = st, true
	c.mu.Unlock()
}

// list returns every layer's declaration as q, a write transaction, sees
// them, in drawing order; at is the state of q's connection when the
// transaction began. The declarations are shared: callers must not
// change them.
func (c *declCache) list(ctx context.Context, q querier, at connState) ([]*layers.Layer, error) {
	c.mu.Lock()
	if c.afterFeatures && c.last == at {
		all := c.all
		c.mu.Unlock()
		return all, nil
	}
	c.afterFeatures = false
	c.mu.Unlock()
	out, err := c.read(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.all = out
	c.mu.Unlock()
	return out, nil
}

// read reads the rows of planmap_layers, decoding those that changed.
func (c *declCache) read(ctx context.Context, q querier) ([]*layers.Layer, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+layerColumns+` FROM planmap_layers ORDER BY sort_order, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var (
		out     []*layers.Layer
		changed []int // indexes in out of the rows to decode
		rowsOf  = map[int][]string{}
	)
	c.mu.Lock()
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		if d, ok := c.m[string(raw[0])]; ok && sameRow(d.row, raw) {
			out = append(out, d.l)
			continue
		}
		row := make([]string, len(raw))
		for i, b := range raw {
			row[i] = string(b)
		}
		rowsOf[len(out)] = row
		changed = append(changed, len(out))
		out = append(out, nil)
	}
	c.mu.Unlock()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(changed) == 0 && len(out) == c.size() {
		return out, nil
	}
	for _, i := range changed {
		// Decoded as every reader of planmap_layers decodes a row, read
		// again in the same snapshot.
		l, err := getLayer(ctx, q, rowsOf[i][0])
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	m := make(map[string]cachedDecl, len(out))
	c.mu.Lock()
	for i, l := range out {
		if row, ok := rowsOf[i]; ok {
			m[l.ID] = cachedDecl{row: row, l: l}
		} else {
			m[l.ID] = c.m[l.ID]
		}
	}
	c.m = m
	c.mu.Unlock()
	return out, nil
}

func (c *declCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func sameRow(row []string, raw []sql.RawBytes) bool {
	if len(row) != len(raw) {
		return false
	}
	for i, b := range raw {
		if row[i] != string(b) {
			return false
		}
	}
	return true
}
