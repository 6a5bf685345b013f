package gpkg

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// An import is checked against the planning rules as an edit is
// (layers.ImportRules): each feature it writes to a layer a rule is about
// goes through the store's RulesFunc (CheckRules). This file is the
// GeoPackage side of it: what the import changed is kept in a temporary
// table, not in memory: the id of each feature it wrote to a checked
// layer and the geometry it had before. Features find their neighbours
// through the R-tree (declLookup), which holds every file's features by
// the time the check runs.

// importChecks is what the import must check once it is written.
type importChecks struct {
	rules *layers.ImportRules
	was   *sql.Stmt // records a feature about to be updated
}

// beginChecks prepares im to record what it writes to the layers a rule
// is about, when any of the files' layers is one. The temporary table
// lives as long as the transaction's connection: it is emptied first.
func (im *importer) beginChecks(ctx context.Context, files []*layers.File) error {
	stored, err := listLayers(ctx, im.tx)
	if err != nil {
		return err
	}
	rules := layers.NewImportRules(stored, files)
	if rules == nil {
		return nil
	}
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS planmap_import_was (layer TEXT NOT NULL, fid INTEGER NOT NULL, geom BLOB, PRIMARY KEY (layer, fid))`,
		`DELETE FROM temp.planmap_import_was`,
	} {
		if _, err := im.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	im.checks = &importChecks{rules: rules}
	return nil
}

// planChecks records, as the plan pl begins, that its layer is to be
// checked, with the features it has before a whole write; for a write by
// id it prepares the statement that keeps each feature's old geometry
// (Write calls noteWas).
func (im *importer) planChecks(ctx context.Context, pl *layers.Plan) error {
	c := im.checks
	if c == nil || !c.rules.Plan(pl, im.whole) {
		return nil
	}
	if c.was != nil {
		c.was.Close()
		c.was = nil
	}
	t := quoteIdent(pl.Layer.ID)
	if pl.Stored != nil && im.whole {
		// Before the table is emptied or dropped.
		_, err := im.tx.ExecContext(ctx, `INSERT OR IGNORE INTO temp.planmap_import_was (layer, fid, geom) SELECT ?, fid, geom FROM `+t, pl.Layer.ID)
		return err
	}
	if im.whole {
		return nil
	}
	var err error
	c.was, err = im.tx.PrepareContext(ctx, `INSERT OR IGNORE INTO temp.planmap_import_was (layer, fid, geom)
		VALUES (?1, ?2, (SELECT geom FROM `+t+` WHERE fid = ?2))`)
	return err
}

// noteWas keeps the geometry feature fid of layer id has before Write
// updates it (none for a new one).
func (im *importer) noteWas(ctx context.Context, id string, fid int64) error {
	if im.checks == nil || im.checks.was == nil || !im.checks.rules.Involves(id) {
		return nil
	}
	_, err := im.checks.was.ExecContext(ctx, id, fid)
	return err
}

func (c *importChecks) close() {
	if c != nil && c.was != nil {
		c.was.Close()
		c.was = nil
	}
}

// checkImportRules asks the store's RulesFunc about what the import
// wrote, in the transaction, after the last file is written
// (layers.ImportRules.Check).
func (s *Store) checkImportRules(ctx context.Context, im *importer) error {
	if im.checks == nil || s.CheckRules == nil {
		return nil
	}
	lk, err := newDeclLookup(ctx, im.tx)
	if err != nil {
		return err
	}
	defer lk.close()
	return im.checks.rules.Check(ctx, importSource{im.tx}, lk.all, func(ctx context.Context, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
		return s.CheckRules(ctx, lk, l, f, was)
	})
}

// importSource is the layers.ImportSource of an import's transaction.
type importSource struct{ tx *sql.Tx }

func (src importSource) Written(ctx context.Context, id string, whole bool) ([]int64, error) {
	t := quoteIdent(id)
	if whole {
		return int64s(ctx, src.tx, `SELECT fid FROM `+t+` ORDER BY fid`)
	}
	return int64s(ctx, src.tx, `SELECT fid FROM temp.planmap_import_was WHERE layer = ? AND fid IN (SELECT fid FROM `+t+`) ORDER BY fid`, id)
}

func (src importSource) Removed(ctx context.Context, id string) ([]int64, error) {
	return int64s(ctx, src.tx, `SELECT fid FROM temp.planmap_import_was WHERE layer = ? AND fid NOT IN (SELECT fid FROM `+quoteIdent(id)+`) ORDER BY fid`, id)
}

// Before returns the geometries before the import of the features ids of
// layer id that had one.
func (src importSource) Before(ctx context.Context, id string, ids []int64) (map[int64]orb.Geometry, error) {
	rows, err := src.tx.QueryContext(ctx, `SELECT fid, geom FROM temp.planmap_import_was
		WHERE layer = ? AND geom IS NOT NULL AND fid IN (SELECT value FROM json_each(?))`, id, idList(ids, func(i int) int64 { return ids[i] }))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]orb.Geometry{}
	for rows.Next() {
		var fid int64
		var blob []byte
		if err := rows.Scan(&fid, &blob); err != nil {
			return nil, err
		}
		g, err := geo.DecodeGPKG(blob)
		if err != nil {
			return nil, fmt.Errorf("layer %s, feature %d before the import: %w", id, fid, err)
		}
		out[fid] = g
	}
	return out, rows.Err()
}

func (src importSource) Features(ctx context.Context, l *layers.Layer, ids []int64, fn func(layers.Feature) error) error {
	list := idList(ids, func(i int) int64 { return ids[i] })
	return eachRow(ctx, src.tx, l, selectColumns(l)+` WHERE `+inIDs+` ORDER BY fid`, []any{list}, fn)
}

// int64s returns the first column of what query selects.
func int64s(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return appendIDs(nil, rows)
}

// declLookup is the Lookup of a transaction whose declarations do not
// change while it is asked (the end of an import): they are read once,
// and each layer's R-tree query prepared once, not at every Near, which
// an import of a million features asks millions of times (SQLite parsing
// the query again was a third of the time the rules took).
type declLookup struct {
	tx    *sql.Tx
	all   []*layers.Layer
	byID  map[string]*layers.Layer
	stmts map[string]*sql.Stmt
}

func newDeclLookup(ctx context.Context, tx *sql.Tx) (*declLookup, error) {
	all, err := listLayers(ctx, tx)
	if err != nil {
		return nil, err
	}
	lk := &declLookup{tx: tx, all: all, byID: make(map[string]*layers.Layer, len(all)), stmts: map[string]*sql.Stmt{}}
	for _, l := range all {
		lk.byID[l.ID] = l
	}
	return lk, nil
}

func (lk *declLookup) close() {
	for _, st := range lk.stmts {
		st.Close()
	}
}

func (lk *declLookup) Layers(context.Context) ([]*layers.Layer, error) { return lk.all, nil }

// Near is txLookup's Near with the declaration read and the query
// prepared once.
func (lk *declLookup) Near(ctx context.Context, id string, b orb.Bound) ([]layers.Feature, error) {
	l := lk.byID[id]
	if l == nil {
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	}
	st := lk.stmts[id]
	if st == nil {
		var err error
		st, err = lk.tx.PrepareContext(ctx, nearQuery(l))
		if err != nil {
			return nil, err
		}
		lk.stmts[id] = st
	}
	return near(ctx, prepared{st}, l, b)
}

// prepared is a querier of one prepared statement: the query text it is
// given is that statement's.
type prepared struct{ st *sql.Stmt }

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.st.QueryRowContext(ctx, args...)
}
