package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// The store's catalog follows the change log through a layers.Follower
// whose refresh step is refresh: it learns that another process wrote
// through PRAGMA data_version. A change of k features costs O(k) to take
// in: the layer's count moves by the inserts and deletes, and its extent
// grows to take in the features added or changed, unless a feature that
// reached an edge changed or went (see edges).

type layerState struct {
	col   *layers.Collection
	seq   int64  // its last change
	at    string // when that change was made
	decl  uint64 // hash of its declaration
	edges edges  // of col.Extent
	// top is at least the highest id the layer has had (planmap's
	// tables' ids are AUTOINCREMENT, so new features go above it): an
	// insert at or below it makes the refresh count the layer again.
	top int64
}

// edges are, for each edge of a layer's extent (min x, min y, max x,
// max y), the id of a feature whose geometry reaches it (0: none, for an
// empty layer). While a change leaves these features alone, every edge is
// still reached, so the extent can only grow: the refresh reads the
// boxes of the k features changed (grownExtent) rather than the R-tree's
// edges (extent), which on a layer of a million parcels is most of the
// time another process's one-feature edit takes to be seen. Whose change
// it is does not matter, so QGIS's and GDAL's edits take the short way
// too.
type edges [4]int64

// Catalog returns the layers as of the last change taken in.
// The first call builds it and starts following other processes' writes.
func (s *Store) Catalog(ctx context.Context) (*layers.Catalog, error) {
	return s.follow.Catalog(ctx)
}

// refresh is the follower's refresh step: it takes in the changes made
// since cur was built, if SQLite says the file changed.
func (s *Store) refresh(ctx context.Context, cur *layers.Catalog, publish func(*layers.Catalog)) error {
	v, err := s.dataVersion(ctx)
	if err != nil {
		return err
	}
	if cur != nil && v == s.seenVersion {
		return nil
	}
	if cur != nil {
		if err := s.repairTriggers(ctx, cur); err != nil {
			return err
		}
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	next, err := s.advance(ctx, tx, cur)
	if err != nil {
		return err
	}
	if cur == nil {
		if err := s.recheckFlags(ctx, tx); err != nil {
			return err
		}
	}
	s.seenVersion = v
	publish(next)
	// The flags the changes set or cleared: the catalog is right without
	// them, so a failure is said, not returned (the next refresh tries
	// again).
	if err := s.saveProblems(ctx); err != nil {
		s.follow.Report(err)
	}
	return nil
}

// repairTriggers puts back the change-log and history triggers of layers
// that lost them, and regenerates the history triggers of a table whose
// columns changed (they keep every column). A program that rebuilds a
// table (QGIS and GDAL do, to add or drop a column) drops the triggers it
// does not know, and the layer's changes would then go unrecorded. A
// layer that lost them is logged as changed as a whole, since what
// happened while they were gone is unknown, and its history gets a
// 'layer' row: the features as found begin a version. In the same step
// the declaration follows the table's columns (followColumns): a column
// added becomes an optional field, a field whose column was dropped goes,
// logged and recorded the same way. It looks only when the schema changed
// since it last found everything in place.
func (s *Store) repairTriggers(ctx context.Context, cat *layers.Catalog) error {
	var schema int64
	if err := s.read.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&schema); err != nil {
		return err
	}
	if schema == s.checkedSchema {
		return nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE 'planmap\_changes\_%' ESCAPE '\' OR name LIKE 'planmap\_history\_%' ESCAPE '\')`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// lost: triggers gone; stale: history triggers of other columns;
	// drifted: a declaration that does not follow its table's columns.
	var lost, stale, drifted []string
	for _, col := range cat.Collections {
		ch, err := columnChanges(ctx, s.read, col.Layer)
		if err != nil {
			return err
		}
		if ch.Changed() {
			drifted = append(drifted, col.ID)
		} else {
			s.sayLeft(ch)
		}
		gone := false
		for _, suffix := range changeTriggers {
			gone = gone || !have["planmap_changes_"+col.ID+"_"+suffix]
		}
		for _, suffix := range historyTriggers {
			gone = gone || !have[historyTrigger(col.ID, suffix)]
		}
		if gone {
			lost = append(lost, col.ID)
			continue
		}
		current, err := historyTriggersCurrent(ctx, s.read, col.ID)
		if err != nil {
			return err
		}
		if !current {
			stale = append(stale, col.ID)
		}
	}
	if len(lost) == 0 && len(stale) == 0 && len(drifted) == 0 {
		s.checkedSchema = schema
		return nil
	}
	if s.write == nil {
		// A read-only store cannot put them back, nor change a
		// declaration; it says so once.
		if !s.triggersReported {
			s.triggersReported = true
			var said []string
			if len(lost)+len(stale) > 0 {
				said = append(said, fmt.Sprintf("the change-log or history triggers of %s are gone or out of date (another program rebuilt or altered the table); changes to it are recorded again only when planmap serve or import opens the database for writing and puts them back", strings.Join(append(lost, stale...), ", ")))
			}
			if len(drifted) > 0 {
				said = append(said, fmt.Sprintf("the declarations of %s do not follow the columns another program added to or dropped from their tables: a column added is not served, and a column dropped makes reading the layer fail, until planmap serve or import opens the database for writing and makes them follow", strings.Join(drifted, ", ")))
			}
			s.follow.Report(errors.New(strings.Join(said, "; ")))
		}
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var put, regenerated []string
	var followed []layers.ColumnChanges
	seen := map[string]bool{}
	for _, id := range append(append(lost, stale...), drifted...) {
		if seen[id] {
			continue // drifted, and lost or stale too
		}
		seen[id] = true
		// Still a layer, and its table still there?
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM planmap_layers l JOIN sqlite_master m ON m.name = l.id AND m.type = 'table' WHERE l.id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		switch {
		case slices.Contains(lost, id):
			if err := createHistoryTriggers(ctx, tx, id); err != nil {
				return err
			}
			if err := createChangeTriggers(ctx, tx, id); err != nil {
				return err
			}
			put = append(put, id)
		case slices.Contains(stale, id):
			if err := createHistoryTriggers(ctx, tx, id); err != nil {
				return err
			}
			regenerated = append(regenerated, id)
		}
		ch, err := followColumns(ctx, tx, id)
		if err != nil {
			return err
		}
		// Columns left out of a declaration that did not change were
		// said in the look above (sayLeft).
		if ch.Changed() {
			followed = append(followed, ch)
		}
		if !ch.Changed() && !slices.Contains(put, id) {
			continue
		}
		// The layer is read again whole: its features' JSON changes
		// with their fields, and edits made while the triggers were
		// gone are in no change.
		if err := logLayer(ctx, tx, id); err != nil {
			return err
		}
		if !slices.Contains(put, id) {
			// A change of the declaration alone begins no version of
			// the features: their states are as they were, and a 'layer'
			// row of fid 0 here would hide every version before it from
			// as-of reads (saveLayer's row of fid RedeclaredFID keeps the
			// declaration that changed).
			continue
		}
		// The triggers were gone: what the features were before is
		// unknown. Each feature's version is ended as found now (the
		// history cannot say better), so that as-of reads before now
		// still find it, and a bulk row begins the next.
		if err := closeVersions(ctx, tx, id); err != nil {
			return err
		}
		note := "triggers put back after another program rebuilt the table; edits made while they were gone are not in the history"
		if ch.Changed() {
			note += "; " + ch.Note()
		}
		if err := historyReplaced(ctx, tx, id, note); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if len(put) > 0 {
		s.follow.Report(fmt.Errorf("the change-log and history triggers of %s were gone (another program rebuilt the table); put back, and the layer read again", strings.Join(put, ", ")))
	}
	if len(regenerated) > 0 {
		s.follow.Report(fmt.Errorf("the columns of %s changed (another program altered the table); its history triggers were made again to keep every column", strings.Join(regenerated, ", ")))
	}
	for _, ch := range followed {
		s.follow.Report(errors.New(ch.String()))
		s.saidLeft(ch)
	}
	return nil
}

// sayLeft reports the columns ch leaves out of a declaration that
// follows its table otherwise, when they are not those last said: a
// column added that cannot be a field is said once, as the report of a
// followed declaration says it.
func (s *Store) sayLeft(ch layers.ColumnChanges) {
	if s.saidLeft(ch) && len(ch.Left) > 0 {
		s.follow.Report(errors.New(ch.String()))
	}
}

// saidLeft notes the columns ch leaves out as said, and reports whether
// they differ from those said before.
func (s *Store) saidLeft(ch layers.ColumnChanges) bool {
	left := strings.Join(ch.Left, "; ")
	if left == s.leftSaid[ch.Layer] {
		return false
	}
	if s.leftSaid == nil {
		s.leftSaid = map[string]string{}
	}
	s.leftSaid[ch.Layer] = left
	return true
}

// dataVersion asks SQLite whether another connection has committed since
// the last call. It must ask on one and the same connection each time.
func (s *Store) dataVersion(ctx context.Context) (int64, error) {
	if s.versionConn == nil {
		c, err := s.read.Conn(ctx)
		if err != nil {
			return 0, err
		}
		s.versionConn = c
	}
	if s.versionStmt == nil {
		// Prepared once: the follower asks every poll, and after each
		// write.
		st, err := s.versionConn.PrepareContext(ctx, `PRAGMA data_version`)
		if err != nil {
			s.versionConn.Close()
			s.versionConn = nil
			return 0, err
		}
		s.versionStmt = st
	}
	var v int64
	err := s.versionStmt.QueryRowContext(ctx).Scan(&v)
	if err != nil {
		s.versionStmt.Close()
		s.versionStmt = nil
		s.versionConn.Close()
		s.versionConn = nil
	}
	return v, err
}

// advance returns the catalog that follows cur after the changes in the
// snapshot tx: cur itself when there are none, a new one built from
// scratch when cur is nil or the log went back (the file was replaced).
func (s *Store) advance(ctx context.Context, tx *sql.Tx, cur *layers.Catalog) (*layers.Catalog, error) {
	// The statements through the kept ones: a refresh follows each write.
	q := snapshotReader{s: s, tx: tx}
	var last int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM planmap_changes`).Scan(&last); err != nil {
		return nil, fmt.Errorf("change log: %w", err)
	}
	if cur == nil || last < cur.Seq {
		return s.build(ctx, tx, last)
	}
	if last == cur.Seq {
		return cur, nil
	}
	// What changed, per layer: the net count, whether the layer changed
	// as a whole, and what the changes did to its extent.
	type delta struct {
		count int
		whole bool
		// grow are the features added or changed, whose boxes the
		// extent grows to take in. reread: the extent must be read
		// again (a feature that reached an edge changed or went, or
		// too many changed). recount: the features must be counted
		// again; top is the highest id inserted.
		grow            []int64
		reread, recount bool
		top             int64
	}
	deltas := map[string]*delta{}
	for after := cur.Seq; after < last; {
		cs, err := readChanges(ctx, q, after, layers.ChangeBatch, false)
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 {
			break
		}
		if err := s.checkDirect(ctx, tx, cs); err != nil {
			return nil, err
		}
		for _, c := range cs {
			d := deltas[c.Layer]
			if d == nil {
				d = &delta{}
				deltas[c.Layer] = d
			}
			st := s.states[c.Layer]
			switch c.Op {
			case layers.OpInsert:
				d.count++
				d.top = max(d.top, c.FID)
				// An id the layer has had: a feature deleted and put
				// back, or another program's INSERT OR REPLACE of one
				// still there, which SQLite deletes without the delete
				// trigger. The log cannot tell; a count can.
				if st == nil || c.FID <= st.top {
					d.recount = true
				}
			case layers.OpDelete:
				d.count--
			case layers.OpLayer:
				d.whole = true
				continue
			}
			if c.Op != layers.OpDelete {
				if len(d.grow) < maxGrowInserts {
					d.grow = append(d.grow, c.FID)
				} else {
					d.reread = true
				}
			}
			// A change of a feature at an edge may take its geometry
			// away: the extent may shrink. An insert too: another
			// program's INSERT OR REPLACE deletes the row it replaces
			// without a delete trigger.
			if st == nil || slices.Contains(st.edges[:], c.FID) {
				d.reread = true
			}
		}
		after = cs[len(cs)-1].Seq
	}
	for _, d := range deltas {
		if d.whole {
			// A layer created, dropped or redeclared: the list of
			// layers may have changed.
			return s.build(ctx, tx, last)
		}
	}
	next := &layers.Catalog{Seq: last, Collections: make([]*layers.Collection, 0, len(cur.Collections))}
	states := make(map[string]*layerState, len(cur.Collections))
	for _, col := range cur.Collections {
		st := s.states[col.ID]
		if d := deltas[col.ID]; d != nil && st != nil {
			c := *col
			c.Count += d.count
			ns := &layerState{col: &c, decl: st.decl, top: max(st.top, d.top)}
			if err := layerSeq(ctx, q, col.ID, ns); err != nil {
				return nil, err
			}
			if d.recount {
				if err := countLayer(ctx, q, col.ID, &c.Count); err != nil {
					return nil, err
				}
			}
			var err error
			if !d.reread && !col.Extent.IsZero() {
				c.Extent, ns.edges, err = grownExtent(ctx, q, col.ID, col.Extent, st.edges, d.grow)
			} else {
				c.Extent, ns.edges, err = extent(ctx, q, col.ID)
			}
			if err != nil {
				return nil, err
			}
			c.Version = version(ns)
			st = ns
		}
		next.Collections = append(next.Collections, st.col)
		states[col.ID] = st
	}
	s.states = states
	return next, nil
}

// build reads the catalog as of change last from scratch: the layers'
// declarations, versions, counts and extents, each from an index.
func (s *Store) build(ctx context.Context, tx *sql.Tx, last int64) (*layers.Catalog, error) {
	ls, err := listLayers(ctx, tx)
	if err != nil {
		return nil, err
	}
	cat := &layers.Catalog{Seq: last, Collections: make([]*layers.Collection, 0, len(ls))}
	states := make(map[string]*layerState, len(ls))
	for _, l := range ls {
		st := &layerState{col: &layers.Collection{Layer: l}}
		st.decl = layers.DeclarationHash(l)
		if err := layerSeq(ctx, tx, l.ID, st); err != nil {
			return nil, err
		}
		if err := countLayer(ctx, tx, l.ID, &st.col.Count); err != nil {
			return nil, err
		}
		// Apart: with max() beside it, count(*) would read every row.
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(fid), 0) FROM `+quoteIdent(l.ID)).Scan(&st.top); err != nil {
			return nil, fmt.Errorf("highest id of %s: %w", l.ID, err)
		}
		if st.col.Extent, st.edges, err = extent(ctx, tx, l.ID); err != nil {
			return nil, err
		}
		st.col.Version = version(st)
		cat.Collections = append(cat.Collections, st.col)
		states[l.ID] = st
	}
	s.states = states
	return cat, nil
}

// countLayer counts layer id's features into n.
func countLayer(ctx context.Context, q querier, id string, n *int) error {
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(id)).Scan(n); err != nil {
		return fmt.Errorf("count %s: %w", id, err)
	}
	return nil
}

// layerSeq reads the layer's last change.
func layerSeq(ctx context.Context, q querier, id string, st *layerState) error {
	err := q.QueryRowContext(ctx, `SELECT seq, at FROM planmap_changes WHERE layer = ? ORDER BY seq DESC LIMIT 1`, id).Scan(&st.seq, &st.at)
	if err == sql.ErrNoRows {
		return nil
	}
	return err
}

// version is the layer's version: its last change, when it was made (so
// that a file put back from a backup, whose log may reuse a number, does
// not repeat an old version), and its declaration.
func version(st *layerState) string {
	return layers.CollectionVersion(st.seq, st.at, st.decl)
}

// extent returns the exact extent of layer id's geometries. The R-tree's
// root node holds the boxes of its children, which together cover every
// feature: their union is the extent, rounded outward to single precision.
// The features that reach each rounded edge are then read to find the
// exact one, and a feature that reaches it: O(log n) on a random layer
// instead of a scan of every geometry, though on a grid of parcels each
// edge is a row of O(√n) of them.
func extent(ctx context.Context, q querier, id string) (orb.Bound, edges, error) {
	var root []byte
	err := q.QueryRowContext(ctx, `SELECT data FROM `+quoteIdent("rtree_"+id+"_geom_node")+` WHERE nodeno = 1`).Scan(&root)
	if err != nil {
		return orb.Bound{}, edges{}, fmt.Errorf("extent of %s: %w", id, err)
	}
	rough, ok := rtreeNodeBound(root)
	if !ok {
		return orb.Bound{}, edges{}, nil
	}
	rt := quoteIdent("rtree_" + id + "_geom")
	t := quoteIdent(id)
	// Within a few single-precision steps of the rounded edge.
	near := func(v float64) float64 {
		return 4 * float64(math.Nextafter32(float32(math.Abs(v)), float32(math.Inf(1)))-float32(math.Abs(v)))
	}
	var ext [4]sql.NullFloat64
	var at edges
	queries := []struct {
		agg, where string
		arg        float64
	}{
		{"min(ST_MinX(geom))", "minx <= ?", rough.Min[0] + near(rough.Min[0])},
		{"min(ST_MinY(geom))", "miny <= ?", rough.Min[1] + near(rough.Min[1])},
		{"max(ST_MaxX(geom))", "maxx >= ?", rough.Max[0] - near(rough.Max[0])},
		{"max(ST_MaxY(geom))", "maxy >= ?", rough.Max[1] - near(rough.Max[1])},
	}
	for i, e := range queries {
		// With one min() or max(), SQLite takes the bare column fid
		// from the row that has it.
		var fid sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT `+e.agg+`, fid FROM `+t+` WHERE fid IN (SELECT id FROM `+rt+` WHERE `+e.where+`)`, e.arg).Scan(&ext[i], &fid)
		if err != nil {
			return orb.Bound{}, edges{}, fmt.Errorf("extent of %s: %w", id, err)
		}
		at[i] = fid.Int64
	}
	if !ext[0].Valid {
		return orb.Bound{}, edges{}, nil
	}
	return orb.Bound{Min: orb.Point{ext[0].Float64, ext[1].Float64}, Max: orb.Point{ext[2].Float64, ext[3].Float64}}, at, nil
}

// maxGrowInserts is how many changes adding or changing a feature of one
// layer a catalog refresh takes into the extent one by one (grownExtent);
// past it, it reads the extent whole.
const maxGrowInserts = 1000

// grownExtent is layer id's extent and its edges' features after features
// fids were added to a layer whose exact extent was ext, or changed, when
// none of the features at ext's edges (at) changed or went: ext grown to
// cover their geometries, as extent() would find them (a feature without
// a geometry, or with an empty one, adds nothing). An edge moves to the
// feature that goes past it; one it only reaches leaves it as it was.
func grownExtent(ctx context.Context, q querier, id string, ext orb.Bound, at edges, fids []int64) (orb.Bound, edges, error) {
	if len(fids) == 0 {
		return ext, at, nil
	}
	// The ids as one JSON array: one statement, kept, whatever their number.
	list, err := json.Marshal(fids)
	if err != nil {
		return orb.Bound{}, edges{}, err
	}
	where, arg := ` WHERE fid IN (SELECT value FROM json_each(?))`, any(string(list))
	if len(fids) == 1 {
		// The common case, a write: a lookup by rowid.
		where, arg = ` WHERE fid = ?`, fids[0]
	}
	rows, err := q.QueryContext(ctx, `SELECT fid, ST_MinX(geom), ST_MinY(geom), ST_MaxX(geom), ST_MaxY(geom) FROM `+quoteIdent(id)+where, arg)
	if err != nil {
		return orb.Bound{}, edges{}, fmt.Errorf("extent of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var b [4]sql.NullFloat64
		if err := rows.Scan(&fid, &b[0], &b[1], &b[2], &b[3]); err != nil {
			return orb.Bound{}, edges{}, fmt.Errorf("extent of %s: %w", id, err)
		}
		if !b[0].Valid {
			continue
		}
		if b[0].Float64 < ext.Min[0] {
			ext.Min[0], at[0] = b[0].Float64, fid
		}
		if b[1].Float64 < ext.Min[1] {
			ext.Min[1], at[1] = b[1].Float64, fid
		}
		if b[2].Float64 > ext.Max[0] {
			ext.Max[0], at[2] = b[2].Float64, fid
		}
		if b[3].Float64 > ext.Max[1] {
			ext.Max[1], at[3] = b[3].Float64, fid
		}
	}
	if err := rows.Err(); err != nil {
		return orb.Bound{}, edges{}, fmt.Errorf("extent of %s: %w", id, err)
	}
	return ext, at, nil
}

// rtreeNodeBound is the union of the boxes of an SQLite R-tree node of two
// dimensions: a 2-byte depth, a 2-byte cell count, then per cell an 8-byte
// id and minx, maxx, miny, maxy as big-endian 32-bit floats.
func rtreeNodeBound(node []byte) (orb.Bound, bool) {
	if len(node) < 4 {
		return orb.Bound{}, false
	}
	n := int(binary.BigEndian.Uint16(node[2:4]))
	const cell = 8 + 4*4
	if n == 0 || len(node) < 4+n*cell {
		return orb.Bound{}, false
	}
	f := func(b []byte) float64 { return float64(math.Float32frombits(binary.BigEndian.Uint32(b))) }
	var b orb.Bound
	for i := 0; i < n; i++ {
		c := node[4+i*cell+8:]
		cb := orb.Bound{Min: orb.Point{f(c[0:]), f(c[8:])}, Max: orb.Point{f(c[4:]), f(c[12:])}}
		if i == 0 {
			b = cb
		} else {
			b = b.Union(cb)
		}
	}
	return b, true
}
