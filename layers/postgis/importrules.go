package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// An import is checked against the planning rules as an edit is, and as
// the GeoPackage store checks its imports (gpkg/importrules.go): each
// feature it writes to a layer a rule is about goes through
// layers.CheckRules, with the geometry it had before the import as its
// old one, and each feature a --replace removes is checked as a delete.
// It runs after every file is written and before the commit, inside the
// import's transaction, so that the features of the files see each other;
// a broken rule refuses the whole import, naming the file, the feature
// and the rule.
//
// Only the layers a rule is about (one that declares rules, or that
// another layer's rule names) are checked at all; features find their
// neighbours through the GiST index (near, the edits' lookup); an updated
// feature whose geometry did not change is not checked (CheckRules). What
// the import changed is kept in a temporary table, not in memory: the id
// of each feature it wrote to a checked layer and the geometry it had
// before, copied from the layer's table before the INSERT … ON CONFLICT
// or the DELETE of a replace overwrites it.

// was is the temporary table of the features an import wrote to the
// layers a rule is about, with the geometries (WKB) they had before.
const was = "planmap_import_was"

// importChecks is what the import must check once it is written.
type importChecks struct {
	involved map[string]bool // layers a rule is about
	plans    []checkedPlan
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

// beginChecks prepares im to record what it writes to the layers a rule
// is about, when any of the files' layers is one: the rules of the stored
// layers and of the files' declarations, which replace them.
func (im *importer) beginChecks(ctx context.Context, files []*layers.File) error {
	stored, err := listLayers(ctx, im.tx)
	if err != nil {
		return err
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
	involved := layers.RuleLayers(all)
	some := false
	for _, f := range files {
		some = some || involved[f.LayerID]
	}
	if !some {
		return nil
	}
	if _, err := im.tx.Exec(ctx, `CREATE TEMP TABLE `+was+` (layer text NOT NULL, fid bigint NOT NULL, geom bytea, PRIMARY KEY (layer, fid)) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	im.checks = &importChecks{involved: involved}
	return nil
}

// planChecks records, as the plan pl begins, that its layer is to be
// checked, and keeps the features it has before a whole write: Begin
// calls it before it empties or drops the layer's table.
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
	if pl.Stored == nil || !whole {
		return nil
	}
	_, err := im.tx.Exec(ctx, `INSERT INTO pg_temp.`+was+` (layer, fid, geom) SELECT $1, fid, ST_AsBinary(geom) FROM `+
		quoteIdent(pl.Layer.ID)+` ON CONFLICT DO NOTHING`, pl.Layer.ID)
	return err
}

// noteWas keeps, for a write by id, the id of every staged feature of
// plan pl and the geometry it has before End writes it (none for a new
// one): End calls it before the INSERT … ON CONFLICT.
func (im *importer) noteWas(ctx context.Context, pl *layers.Plan) error {
	c := im.checks
	if c == nil || !c.involved[pl.Layer.ID] || im.whole {
		return nil
	}
	_, err := im.tx.Exec(ctx, `INSERT INTO pg_temp.`+was+` (layer, fid, geom)
		SELECT $1, s.fid, ST_AsBinary(t.geom) FROM `+stage+` s LEFT JOIN `+quoteIdent(pl.Layer.ID)+` t ON t.fid = s.fid
		ON CONFLICT DO NOTHING`, pl.Layer.ID)
	return err
}

func rulesText(l *layers.Layer) string {
	b, _ := json.Marshal(l.Rules)
	return string(b)
}

// checkImportRules asks layers.CheckRules about every feature the import
// wrote to a layer a rule is about, and every one it removed, in the
// transaction, after the last file is written. The declarations are read
// once. It returns an EINVALID error listing what breaks which rule, each
// line naming the file and the feature.
func checkImportRules(ctx context.Context, tx pgx.Tx, c *importChecks) error {
	if c == nil || len(c.plans) == 0 {
		return nil
	}
	all, err := listLayers(ctx, tx)
	if err != nil {
		return err
	}
	byID := make(map[string]*layers.Layer, len(all))
	for _, l := range all {
		byID[l.ID] = l
	}
	lookup := near(tx, func(_ context.Context, id string) (*layers.Layer, error) {
		if l := byID[id]; l != nil {
			return l, nil
		}
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	})
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
		l := byID[cp.layer]
		if l == nil {
			continue
		}
		t := quoteIdent(l.ID)
		q := `SELECT w.fid FROM pg_temp.` + was + ` w JOIN ` + t + ` t ON t.fid = w.fid WHERE w.layer = $1 ORDER BY w.fid`
		args := []any{l.ID}
		if cp.whole {
			q, args = `SELECT fid FROM `+t+` ORDER BY fid`, nil
		}
		ids, err := int64s(ctx, tx, q, args...)
		if err != nil {
			return err
		}
		for len(ids) > 0 && !full() {
			n := min(len(ids), 500)
			chunk := ids[:n]
			ids = ids[n:]
			old, err := oldGeometries(ctx, tx, l.ID, chunk)
			if err != nil {
				return err
			}
			var fs []layers.Feature
			if err := eachRow(ctx, tx, l, selectColumns(l)+` WHERE fid = ANY($1) ORDER BY fid`, []any{chunk}, func(f layers.Feature) error {
				fs = append(fs, f)
				return nil
			}); err != nil {
				return err
			}
			for _, f := range fs {
				w := old[f.ID]
				if cp.rulesChanged && w != nil && orb.Equal(w, f.Geometry) {
					w = nil // checked against the new rules all the same
				}
				if err := add(fmt.Sprintf("%s: feature %d", cp.file, f.ID), layers.CheckRules(ctx, lookup, all, l, f, w)); err != nil {
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
		gone, err := int64s(ctx, tx, `SELECT fid FROM pg_temp.`+was+` w WHERE layer = $1
			AND NOT EXISTS (SELECT 1 FROM `+t+` t WHERE t.fid = w.fid) ORDER BY fid`, l.ID)
		if err != nil {
			return err
		}
		for len(gone) > 0 && !full() {
			n := min(len(gone), 500)
			chunk := gone[:n]
			gone = gone[n:]
			old, err := oldGeometries(ctx, tx, l.ID, chunk)
			if err != nil {
				return err
			}
			for _, fid := range chunk {
				if err := add(fmt.Sprintf("%s: feature %d, removed", cp.file, fid), layers.CheckRules(ctx, lookup, all, l, layers.Feature{ID: fid}, old[fid])); err != nil {
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
// fids of layer id that had one.
func oldGeometries(ctx context.Context, tx pgx.Tx, id string, fids []int64) (map[int64]orb.Geometry, error) {
	rows, err := tx.Query(ctx, `SELECT fid, geom FROM pg_temp.`+was+`
		WHERE layer = $1 AND geom IS NOT NULL AND fid = ANY($2)`, id, fids)
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
		g, err := wkb.Unmarshal(blob)
		if err != nil {
			return nil, fmt.Errorf("layer %s, feature %d before the import: %w", id, fid, err)
		}
		out[fid] = g
	}
	return out, rows.Err()
}

// int64s returns the first column of what query selects.
func int64s(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
