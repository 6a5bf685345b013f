package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// The Store is a web.Editor: Create, Replace, Delete and Versions. Each
// write is one transaction, taken with the write lock at its start (the
// write pool's DSN has _txlock=immediate, BEGIN IMMEDIATE): the feature
// is checked as an import checks it (Layer.CheckFeature), its current
// version compared with the one the caller names, the editor written into
// planmap_context for the history triggers, the feature written (its
// R-tree entry by the GeoPackage triggers, its change-log and history rows
// by ours), the planning rules asked (CheckRules), the context emptied and
// the write's changes recorded as planmap's (planmap_writes, so that no
// follower checks them again as a direct edit), and the whole committed or
// nothing. The catalog then takes the change in
// before the call returns, so that the writer's next read sees it; other
// readers never wait for it.

// RulesFunc checks feature f, just written to layer l (f.Geometry nil
// when it was deleted), against the planning rules, reading the database
// as the write's transaction sees it through lk; was is its geometry
// before, nil for a new feature. An error refuses the write and nothing
// is stored: it should be an EINVALID layers.Error naming the rule and
// the other feature.
type RulesFunc func(ctx context.Context, lk Lookup, l *layers.Layer, f layers.Feature, was orb.Geometry) error

// PlanningRules is the RulesFunc every store opened by Open starts with:
// layers.CheckRules, the rules declared in the layers, from both sides.
func PlanningRules(ctx context.Context, lk Lookup, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
	all, err := lk.Layers(ctx)
	if err != nil {
		return err
	}
	return layers.CheckRules(ctx, lk.Near, all, l, f, was)
}

// Lookup is what a RulesFunc may read inside a write's transaction.
type Lookup interface {
	// Layers returns every layer's declaration.
	Layers(ctx context.Context) ([]*layers.Layer, error)
	// Near returns the features of layer id whose bounding boxes meet b
	// (from the R-tree: their geometries may not), f among them when it
	// is of that layer.
	Near(ctx context.Context, id string, b orb.Bound) ([]layers.Feature, error)
}

// txLookup is the Lookup of one transaction.
type txLookup struct{ tx *sql.Tx }

func (lk txLookup) Layers(ctx context.Context) ([]*layers.Layer, error) {
	return listLayers(ctx, lk.tx)
}

func (lk txLookup) Near(ctx context.Context, id string, b orb.Bound) ([]layers.Feature, error) {
	l, err := getLayer(ctx, lk.tx, id)
	if err != nil {
		return nil, err
	}
	return near(ctx, lk.tx, l, b)
}

// near returns the features of layer l whose bounding boxes meet b, by
// nearQuery (q may be that query prepared: see prepared).
func near(ctx context.Context, q querier, l *layers.Layer, b orb.Bound) ([]layers.Feature, error) {
	var out []layers.Feature
	err := eachRow(ctx, q, l, nearQuery(l), []any{b.Max[0], b.Min[0], b.Max[1], b.Min[1]}, func(f layers.Feature) error {
		out = append(out, f)
		return nil
	})
	return out, err
}

// nearQuery selects the features of layer l whose R-tree boxes meet the
// box given as its arguments maxx, minx, maxy, miny.
func nearQuery(l *layers.Layer) string {
	return selectColumns(l) + ` WHERE fid IN (SELECT id FROM ` + quoteIdent("rtree_"+l.ID+"_geom") + `
		WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?) ORDER BY fid`
}

// editLookup is the Lookup of a feature write's transaction: the
// declarations as the transaction read them at its start (declCache),
// the features through the kept statements.
type editLookup struct {
	q  stmtTx
	ls []*layers.Layer
}

func (lk editLookup) Layers(ctx context.Context) ([]*layers.Layer, error) {
	return slices.Clone(lk.ls), nil
}

func (lk editLookup) layer(id string) (*layers.Layer, error) {
	for _, l := range lk.ls {
		if l.ID == id {
			return l, nil
		}
	}
	return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
}

func (lk editLookup) Near(ctx context.Context, id string, b orb.Bound) ([]layers.Feature, error) {
	l, err := lk.layer(id)
	if err != nil {
		return nil, err
	}
	return near(ctx, lk.q, l, b)
}

// Create stores f in layer id under a new id, one never used before in
// the layer (AUTOINCREMENT), and returns it as stored. f.ID is ignored.
func (s *Store) Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error) {
	var it *layers.Item
	err := s.edit(ctx, id, e, func(q stmtTx, lk editLookup, l *layers.Layer) (orb.Bound, error) {
		f.ID = 0
		checked, err := l.CheckFeature(f)
		if err != nil {
			return orb.Bound{}, err
		}
		cols, args, err := featureArgs(l, checked)
		if err != nil {
			return orb.Bound{}, err
		}
		res, err := q.ExecContext(ctx, `INSERT INTO `+quoteIdent(l.ID)+` (`+strings.Join(cols, ", ")+`) VALUES (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`)`, args...)
		if err != nil {
			return orb.Bound{}, err
		}
		if checked.ID, err = res.LastInsertId(); err != nil {
			return orb.Bound{}, err
		}
		it, err = s.written(ctx, lk, l, checked, nil)
		return checked.Geometry.Bound(), err
	})
	return it, err
}

// Replace stores f as feature fid of layer id if the feature's current
// version is ifMatch ("" accepts any; a W/ prefix, quotes and a suffix
// after '-' or ';' that a proxy adds are ignored), and returns it as
// stored. A feature that was deleted comes back under its id (history op
// restore), unless ifMatch names a version (EPRECONDITION: it has none); a
// fid the layer never had is ENOTFOUND.
func (s *Store) Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error) {
	var it *layers.Item
	err := s.edit(ctx, id, e, func(q stmtTx, lk editLookup, l *layers.Layer) (orb.Bound, error) {
		var none orb.Bound
		cur, err := currentItem(ctx, q, l, fid)
		if err != nil {
			return none, err
		}
		if cur != nil && !layers.MatchesVersion(ifMatch, cur.Version()) {
			return none, layers.Errorf(layers.EPRECONDITION, "feature %d of collection %s has changed: its version is %s, not %s", fid, id, cur.Version(), ifMatch)
		}
		if cur == nil {
			if err := retired(ctx, q, l.ID, fid); err != nil {
				return none, err
			}
			if ifMatch != "" {
				return none, layers.Errorf(layers.EPRECONDITION, "feature %d of collection %s was deleted: it has no version %s (send no If-Match to bring it back)", fid, id, ifMatch)
			}
		}
		f.ID = fid
		checked, err := l.CheckFeature(f)
		if err != nil {
			return none, err
		}
		cols, args, err := featureArgs(l, checked)
		if err != nil {
			return none, err
		}
		if cur != nil {
			sets := make([]string, len(cols))
			for i, c := range cols {
				sets[i] = c + " = ?"
			}
			_, err = q.ExecContext(ctx, `UPDATE `+quoteIdent(l.ID)+` SET `+strings.Join(sets, ", ")+` WHERE fid = ?`, append(args, fid)...)
		} else {
			_, err = q.ExecContext(ctx, `INSERT INTO `+quoteIdent(l.ID)+` (fid, `+strings.Join(cols, ", ")+`) VALUES (?, `+
				strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`)`, append([]any{fid}, args...)...)
		}
		if err != nil {
			return none, err
		}
		var was orb.Geometry
		if cur != nil {
			was = cur.Geometry()
		}
		it, err = s.written(ctx, lk, l, checked, was)
		return checked.Geometry.Bound(), err
	})
	return it, err
}

// Delete removes feature fid of layer id if its current version is
// ifMatch ("" accepts any). Its id stays retired: Item answers EGONE.
func (s *Store) Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error {
	return s.edit(ctx, id, e, func(q stmtTx, lk editLookup, l *layers.Layer) (orb.Bound, error) {
		var none orb.Bound
		cur, err := currentItem(ctx, q, l, fid)
		if err != nil {
			return none, err
		}
		if cur == nil {
			if err := retired(ctx, q, l.ID, fid); err != nil {
				return none, err
			}
			return none, goneError(l.ID, fid)
		}
		if !layers.MatchesVersion(ifMatch, cur.Version()) {
			return none, layers.Errorf(layers.EPRECONDITION, "feature %d of collection %s has changed: its version is %s, not %s", fid, id, cur.Version(), ifMatch)
		}
		if _, err = q.ExecContext(ctx, `DELETE FROM `+quoteIdent(l.ID)+` WHERE fid = ?`, fid); err != nil {
			return none, err
		}
		// Deleting a boundary may leave what must lie within it outside.
		if s.CheckRules != nil {
			err = s.CheckRules(ctx, lk, l, layers.Feature{ID: fid}, cur.Geometry())
		}
		return none, err
	})
}

// edit runs one write of a feature of layer id by e in a transaction (see
// above): layerEdit's, with the statements kept, the declarations read
// once (declCache), the layer looked up first and gpkg_contents told of
// the change after: fn returns the box of the geometry it wrote (the zero
// Bound: none), which the contents' extent grows to take in.
func (s *Store) edit(ctx context.Context, id string, e layers.Edit, fn func(stmtTx, editLookup, *layers.Layer) (grow orb.Bound, err error)) error {
	return s.writeTx(ctx, id, e, func(q stmtTx) (bool, error) {
		ls, err := s.decls.list(ctx, q, q.began)
		if err != nil {
			return false, err
		}
		lk := editLookup{q: q, ls: ls}
		l, err := lk.layer(id)
		if err != nil {
			return false, err
		}
		grow, err := fn(q, lk, l)
		if err != nil {
			return false, err
		}
		return true, touchContents(ctx, q, id, grow)
	})
}

// layerEdit runs one change of layer id by e in a transaction: the
// editor written into planmap_context for the history triggers, fn, the
// context emptied, the whole committed or nothing.
func (s *Store) layerEdit(ctx context.Context, id string, e layers.Edit, fn func(*sql.Tx) error) error {
	return s.writeTx(ctx, id, e, func(q stmtTx) (bool, error) {
		return false, fn(q.Tx)
	})
}

// writeTx is layerEdit, its statements through the kept ones; fn says
// whether it was a feature write (ok), which leaves the declarations as
// they were (declCache keeps them).
func (s *Store) writeTx(ctx context.Context, id string, e layers.Edit, fn func(stmtTx) (ok bool, err error)) error {
	if err := s.commitWrite(ctx, id, e, fn); err != nil {
		return err
	}
	// The writer's next read sees the write: the catalog takes it in now.
	// Should that fail, the write is stored all the same, and the watch
	// takes it in at its next round.
	s.follow.AfterWrite(ctx, "after a write to %s", id)
	return nil
}

// commitWrite is writeTx's transaction, on the write pool's connection,
// which it gives back before the catalog is refreshed (that may write).
func (s *Store) commitWrite(ctx context.Context, id string, e layers.Edit, fn func(stmtTx) (ok bool, err error)) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	// Before the transaction takes the pool's one connection.
	s.writeStmts.prepare(ctx)
	c, err := w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	q := stmtTx{c: &s.writeStmts}
	// Which connection it is: the declarations kept hold for the one
	// they were read on (declCache). Only compared, never used.
	if err := c.Raw(func(dc any) error { q.conn = dc; return nil }); err != nil {
		return err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q.Tx = tx
	if q.began, err = readConnState(ctx, q, q.conn); err != nil {
		return err
	}
	// The changes this write makes, those after first, were checked:
	// clearContext records them as planmap's.
	first, err := setContext(ctx, q, e.Author, e.Note)
	if err != nil {
		return err
	}
	known, err := fn(q)
	if err != nil {
		return err
	}
	if err := clearContext(ctx, q, first); err != nil {
		return err
	}
	if known {
		// data_version stays as it began: the write lock keeps every
		// other connection from committing.
		st := q.began
		if err := q.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&st.total); err != nil {
			return err
		}
		s.decls.wrote(st)
	}
	return tx.Commit()
}

// touchContents records in gpkg_contents that layer id changed, its
// extent grown to take in grow (the zero Bound: nothing). The extent there is
// informative (GeoPackage 1.3, Req 18): an edit only grows it, at no cost,
// where working out the exact extent again would cost more than the edit;
// the next import makes it exact.
func touchContents(ctx context.Context, q execer, id string, grow orb.Bound) error {
	if grow == (orb.Bound{}) { // a delete
		_, err := q.ExecContext(ctx, `UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?`, id)
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE gpkg_contents SET
		min_x = min(coalesce(min_x, ?1), ?1), min_y = min(coalesce(min_y, ?2), ?2),
		max_x = max(coalesce(max_x, ?3), ?3), max_y = max(coalesce(max_y, ?4), ?4),
		last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
		WHERE table_name = ?5`, grow.Min[0], grow.Min[1], grow.Max[0], grow.Max[1], id)
	return err
}

// written asks the planning rules about feature f, just written to layer
// l over was, and returns it as stored.
func (s *Store) written(ctx context.Context, lk editLookup, l *layers.Layer, f layers.Feature, was orb.Geometry) (*layers.Item, error) {
	if s.CheckRules != nil {
		if err := s.CheckRules(ctx, lk, l, f, was); err != nil {
			return nil, err
		}
	}
	it, err := currentItem(ctx, lk.q, l, f.ID)
	if err == nil && it == nil {
		err = fmt.Errorf("feature %d of %s not found after writing it", f.ID, l.ID)
	}
	return it, err
}

// featureArgs returns the columns and values of a checked feature: an
// absent property is NULL.
func featureArgs(l *layers.Layer, f layers.Feature) ([]string, []any, error) {
	blob, err := geo.AppendGPKG(nil, f.Geometry, SRSID)
	if err != nil {
		return nil, nil, layers.Errorf(layers.EINVALID, "geometry: %v", err)
	}
	cols, args := []string{"geom"}, []any{blob}
	for _, fd := range l.Schema {
		cols = append(cols, quoteIdent(fd.Name))
		args = append(args, f.Properties[fd.Name])
	}
	return cols, args, nil
}

// currentItem returns feature fid of l as stored, or nil.
func currentItem(ctx context.Context, q querier, l *layers.Layer, fid int64) (*layers.Item, error) {
	items, err := loadItems(ctx, q, l, []int64{fid})
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return items[0], nil
}

// retired returns nil if layer id had feature fid, which it has no more,
// and an ENOTFOUND error if it never had it.
func retired(ctx context.Context, q querier, id string, fid int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM planmap_history WHERE layer = ? AND fid = ? LIMIT 1)`, id, fid).Scan(&n); err != nil {
		return err
	}
	if n == 0 || fid <= 0 {
		return layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %d", id, fid)
	}
	return nil
}

// goneError says that feature fid of layer id was deleted, and where its
// versions are.
func goneError(id string, fid int64) error {
	return layers.Errorf(layers.EGONE, "feature %d of collection %s was deleted; its versions are at /collections/%s/items/%d/versions", fid, id, id, fid)
}

// Versions returns the history of feature fid of layer id, newest first,
// an ENOTFOUND error if the layer never had it. The current version has
// the feature as served (its Version is the ETag); a delete's version has
// no Item; a version whose state was never recorded (an edit made while
// another program had dropped the triggers) has none either.
func (s *Store) Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error) {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if fid <= 0 {
		// fid 0 in the history is a bulk write's row, no feature's.
		return nil, layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %d", id, fid)
	}
	type row struct {
		id           int64
		op           string
		at           string
		author, note sql.NullString
		geom         []byte
		props        sql.NullString
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, op, at, author, note, geom, properties
		FROM planmap_history WHERE layer = ? AND fid = ? ORDER BY id`, id, fid)
	if err != nil {
		return nil, err
	}
	var hist []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.op, &r.at, &r.author, &r.note, &r.geom, &r.props); err != nil {
			rows.Close()
			return nil, err
		}
		hist = append(hist, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	live, err := currentItem(ctx, tx, l, fid)
	if err != nil {
		return nil, err
	}
	// The layer's last bulk write began the current version of a live
	// feature that has no row of its own since.
	var bulk row
	err = tx.QueryRowContext(ctx, `SELECT id, at, author, note FROM planmap_history
		WHERE layer = ? AND fid = 0 ORDER BY id DESC LIMIT 1`, id).Scan(&bulk.id, &bulk.at, &bulk.author, &bulk.note)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	implicit := live != nil && bulk.id != 0 && (len(hist) == 0 || hist[len(hist)-1].id < bulk.id)
	if implicit {
		bulk.op = "insert"
		if n := len(hist); n > 0 {
			bulk.op = map[bool]string{true: "restore", false: "update"}[hist[n-1].op == "delete"]
		}
		hist = append(hist, bulk)
	}
	if len(hist) == 0 {
		if live != nil {
			// A feature written before history began, in a layer whose
			// history has no row at all (never the case after the
			// upgrade): its one known version.
			return []layers.Version{{Number: 1, Op: layers.OpInsert, Item: live}}, nil
		}
		return nil, layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %d", id, fid)
	}
	out := make([]layers.Version, len(hist))
	for i, r := range hist {
		from, err := parseTime(r.at)
		if err != nil {
			return nil, fmt.Errorf("history of %s %d: %w", id, fid, err)
		}
		v := layers.Version{Number: i + 1, Op: layers.Op(r.op), From: from, Author: r.author.String, Note: r.note.String}
		switch {
		case r.op == "delete":
		case i == len(hist)-1:
			v.Item = live
		case r.geom != nil:
			f, err := decodeState(l, fid, r.geom, r.props.String)
			if err != nil {
				return nil, fmt.Errorf("history of %s %d, version %d: %w", id, fid, i+1, err)
			}
			v.Item = layers.NewItem(l, f)
		}
		if i > 0 {
			out[i-1].To = from
		}
		out[i] = v
	}
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func parseTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05.999999999Z", s)
}

// decodeState decodes a version's state as the history keeps it (the
// geometry blob and the json_object of the columns) into a feature of l,
// as decodeRow decodes a row of the table.
func decodeState(l *layers.Layer, fid int64, blob []byte, props string) (layers.Feature, error) {
	var m map[string]any
	if props != "" {
		dec := json.NewDecoder(strings.NewReader(props))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return layers.Feature{}, err
		}
	}
	vals := make([]any, len(l.Schema))
	for i, fd := range l.Schema {
		switch v := m[fd.Name].(type) {
		case json.Number:
			if n, err := v.Int64(); err == nil && fd.Type != layers.Number {
				vals[i] = fieldValue(fd.Type, n)
			} else if x, err := v.Float64(); err == nil {
				vals[i] = x
			}
		case string:
			vals[i] = v
		case bool:
			vals[i] = v
		}
	}
	return decodeRow(l, fid, vals, blob)
}
