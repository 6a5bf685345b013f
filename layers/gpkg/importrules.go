package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// An import is checked against the planning rules as an edit is: each
// feature it writes goes through the store's RulesFunc (CheckRules), with
// the geometry it had before the import as its old one, and each feature
// a --replace removes is checked as a delete. It runs after every file is
// written and before the commit, inside the import's transaction, so that
// the features of the files see each other and the R-trees hold them all;
// a broken rule refuses the whole import, naming the file, the feature and
// the rule.
//
// The cost is that of the edits it stands for, never of the layer: only
// the layers a rule is about (one that declares rules, or that another
// layer's rule names) are checked at all; their features find their
// neighbours through the R-tree (Lookup.Near); an updated feature whose
// geometry did not change is not checked (CheckRules), so importing the
// same file again costs no geometry. What the import changed is kept in a
// temporary table, not in memory: the id of each feature it wrote to a
// checked layer and the geometry it had before.

// importChecks is what the import must check once it is written.
type importChecks struct {
	involved map[string]bool // layers a rule is about
	plans    []checkedPlan
	was      *sql.Stmt // records a feature about to be updated
}

// checkedPlan is a file written to a layer a rule is about.
type checkedPlan struct {
	file, layer string
	// whole: every feature of the layer was written (a new layer, one
	// replaced or rebuilt), so every one is checked; otherwise those in
	// the temporary table.
	whole bool
	// rulesChanged: the file declares rules other than those stored, so
	// a feature written again as it was is checked too.
	rulesChanged bool
}

// ruleLayers returns the layers that the planning rules are about, once
// the files are written: those that declare a rule and those a rule names,
// with the files' declarations in place of the stored ones. Nil when none.
func ruleLayers(ctx context.Context, q querier, files []*layers.File) (map[string]bool, error) {
	stored, err := listLayers(ctx, q)
	if err != nil {
		return nil, err
	}
	decls := map[string]*layers.Layer{}
	for _, l := range stored {
		decls[l.ID] = l
	}
	for _, f := range files {
		if f.Layer != nil {
			decls[f.LayerID] = f.Layer
		}
	}
	all := make([]*layers.Layer, 0, len(decls))
	for _, l := range decls {
		all = append(all, l)
	}
	return layers.RuleLayers(all), nil
}

// beginChecks prepares im to record what it writes to the layers a rule
// is about, when the store checks rules and any of the files' layers is
// one. The temporary table lives as long as the transaction's connection:
// it is emptied first.
func (im *importer) beginChecks(ctx context.Context, files []*layers.File) error {
	involved, err := ruleLayers(ctx, im.tx, files)
	if err != nil {
		return err
	}
	some := false
	for _, f := range files {
		some = some || involved[f.LayerID]
	}
	if !some {
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
	im.checks = &importChecks{involved: involved}
	return nil
}

// planChecks records, as the plan pl begins, that its layer is to be
// checked, with the features it has before a whole write; for a write by
// id it prepares the statement that keeps each feature's old geometry
// (Write calls noteWas).
func (im *importer) planChecks(ctx context.Context, pl *layers.Plan) error {
	c := im.checks
	if c == nil || !c.involved[pl.Layer.ID] {
		return nil
	}
	whole := pl.Stored == nil || pl.Rebuild || im.opt.Replace
	c.plans = append(c.plans, checkedPlan{
		file: pl.File.Name, layer: pl.Layer.ID, whole: whole,
		rulesChanged: pl.Stored != nil && pl.File.Layer != nil && rulesText(pl.Stored) != rulesText(pl.File.Layer),
	})
	if c.was != nil {
		c.was.Close()
		c.was = nil
	}
	t := quoteIdent(pl.Layer.ID)
	if pl.Stored != nil && whole {
		// Before the table is emptied or dropped.
		_, err := im.tx.ExecContext(ctx, `INSERT OR IGNORE INTO temp.planmap_import_was (layer, fid, geom) SELECT ?, fid, geom FROM `+t, pl.Layer.ID)
		return err
	}
	if whole {
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
	if im.checks == nil || im.checks.was == nil || !im.checks.involved[id] {
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

// checkImportRules asks the store's RulesFunc about every feature the import
// wrote to a layer a rule is about, and every one it removed, in the
// transaction, after the last file is written. It returns an EINVALID
// error listing what breaks which rule, each line naming the file and the
// feature.
func (s *Store) checkImportRules(ctx context.Context, im *importer) error {
	c := im.checks
	if c == nil || len(c.plans) == 0 || s.CheckRules == nil {
		return nil
	}
	lk, err := newDeclLookup(ctx, im.tx)
	if err != nil {
		return err
	}
	defer lk.close()
	var p layers.Problems
	full := func() bool { return p.Len() >= layers.MaxProblems }
	add := func(prefix string, err error) error {
		var e *layers.Error
		if err == nil || !errors.As(err, &e) || e.Code != layers.EINVALID {
			return err
		}
		for _, line := range strings.Split(e.Message, "\n") {
			p.Add("%s: %s", prefix, line)
		}
		return nil
	}
	for _, cp := range c.plans {
		if full() {
			break
		}
		l := lk.byID[cp.layer]
		if l == nil {
			continue
		}
		t := quoteIdent(l.ID)
		q := `SELECT fid FROM temp.planmap_import_was WHERE layer = ? AND fid IN (SELECT fid FROM ` + t + `) ORDER BY fid`
		args := []any{l.ID}
		if cp.whole {
			q, args = `SELECT fid FROM `+t+` ORDER BY fid`, nil
		}
		ids, err := int64s(ctx, im.tx, q, args...)
		if err != nil {
			return err
		}
		for len(ids) > 0 && !full() {
			n := min(len(ids), 500)
			chunk := ids[:n]
			ids = ids[n:]
			list := idList(chunk, func(i int) int64 { return chunk[i] })
			was, err := oldGeometries(ctx, im.tx, l.ID, list)
			if err != nil {
				return err
			}
			var fs []layers.Feature
			if err := eachRow(ctx, im.tx, l, selectColumns(l)+` WHERE `+inIDs+` ORDER BY fid`, []any{list}, func(f layers.Feature) error {
				fs = append(fs, f)
				return nil
			}); err != nil {
				return err
			}
			for _, f := range fs {
				w := was[f.ID]
				if cp.rulesChanged && w != nil && orb.Equal(w, f.Geometry) {
					w = nil // checked against the new rules all the same
				}
				if err := add(fmt.Sprintf("%s: feature %d", cp.file, f.ID), s.CheckRules(ctx, lk, l, f, w)); err != nil {
					return err
				}
				if full() {
					break
				}
			}
		}
		if !cp.whole || full() {
			continue
		}
		// The features a replace removed: checked as deletes are.
		gone, err := int64s(ctx, im.tx, `SELECT fid FROM temp.planmap_import_was WHERE layer = ? AND fid NOT IN (SELECT fid FROM `+t+`) ORDER BY fid`, l.ID)
		if err != nil {
			return err
		}
		for len(gone) > 0 && !full() {
			n := min(len(gone), 500)
			chunk := gone[:n]
			gone = gone[n:]
			was, err := oldGeometries(ctx, im.tx, l.ID, idList(chunk, func(i int) int64 { return chunk[i] }))
			if err != nil {
				return err
			}
			for _, fid := range chunk {
				if err := add(fmt.Sprintf("%s: feature %d, removed", cp.file, fid), s.CheckRules(ctx, lk, l, layers.Feature{ID: fid}, was[fid])); err != nil {
					return err
				}
				if full() {
					break
				}
			}
		}
	}
	if full() {
		p.Add("the planning rules were not checked further")
	}
	return p.Err()
}

// oldGeometries returns the geometries before the import of the features
// of layer id in list (a JSON array) that had one.
func oldGeometries(ctx context.Context, q querier, id, list string) (map[int64]orb.Geometry, error) {
	rows, err := q.QueryContext(ctx, `SELECT fid, geom FROM temp.planmap_import_was
		WHERE layer = ? AND geom IS NOT NULL AND fid IN (SELECT value FROM json_each(?))`, id, list)
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

// int64s returns the first column of what query selects.
func int64s(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
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

func rulesText(l *layers.Layer) string {
	b, _ := json.Marshal(l.Rules)
	return string(b)
}
