package gpkg

import (
	"context"
	"database/sql"
	"fmt"

	"planmap/layers"
)

// The Store is a web.LayerEditor: an admin creates, redeclares and drops
// layers over HTTP. A declaration goes through the one path an import
// takes (layers.Stream, as a layer file with that declaration and no
// features), so it is checked exactly as a layer file's is and written by
// the same importer: the table with its AUTOINCREMENT ids, R-tree,
// change-log and history triggers, the declaration in planmap_layers, the
// QGIS style. Each is one transaction, its author and note in
// planmap_context as a feature edit's are, and the catalog takes it in
// before the call returns.

// declarationName is what a declaration sent over HTTP is called in the
// problems found in it, where a layer file's path would be.
const declarationName = "declaration"

// DeclareLayer creates layer l.ID from its declaration, with no
// features; ECONFLICT if the layer exists. A layer of that id that was
// dropped comes back with its history, and its new features' ids go on
// after every id the old one used: an id is never given out twice.
func (s *Store) DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error {
	if e.Note == "" {
		// The history's row of the layer's creation says how, as an
		// import's says "planmap import".
		e.Note = "collection created"
	}
	return s.layerEdit(ctx, l.ID, e, func(tx *sql.Tx) error {
		if _, err := getLayer(ctx, tx, l.ID); err == nil {
			return layers.Errorf(layers.ECONFLICT, "collection %s exists: change its declaration with PUT /collections/%s", l.ID, l.ID)
		} else if layers.ErrorCode(err) != layers.ENOTFOUND {
			return err
		}
		if err := s.importDeclaration(ctx, tx, l); err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(fid), 0) FROM planmap_history WHERE layer = ?`, l.ID).Scan(&last); err != nil {
			return err
		}
		return setLastFID(ctx, tx, l.ID, last)
	})
}

// RedeclareLayer gives the existing layer l.ID the declaration l, as
// importing a layer file with that declaration and no features would
// (without --replace): fields may be added and titles, descriptions,
// order, allowed values, style and rules changed; a change of the
// geometry type or of a field's type, or a field removed, is refused, as
// is a declaration that a stored feature breaks (a field now required
// that it lacks, a value no longer allowed): the error names each such
// feature, and nothing is changed.
func (s *Store) RedeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error {
	return s.layerEdit(ctx, l.ID, e, func(tx *sql.Tx) error {
		stored, err := getLayer(ctx, tx, l.ID)
		if err != nil {
			return err
		}
		if err := s.importDeclaration(ctx, tx, l); err != nil {
			return err
		}
		return s.auditRules(ctx, tx, stored, l)
	})
}

// auditRules refuses new declaration l of layer stored when stored
// features break its planning rules that did not break those stored
// declares (layers.CheckRedeclared, which the PostGIS store asks too).
// Nothing is read when the store checks no rules.
func (s *Store) auditRules(ctx context.Context, tx *sql.Tx, stored, l *layers.Layer) error {
	if s.CheckRules == nil {
		return nil
	}
	lk := txLookup{tx}
	return layers.CheckRedeclared(ctx, lk.Near, stored, l, declarationName, func(ctx context.Context, id string, fn func(layers.Feature) error) error {
		fl, err := getLayer(ctx, tx, id)
		if err != nil {
			return err
		}
		return eachFeature(ctx, tx, fl, fn)
	})
}

// DropLayer removes layer id and its features. Its history stays: each
// feature's last version ends with a delete by e, and a 'layer' row
// records the drop with the layer's declaration (historyDrop), so that
// the layer can still be read as of a time it existed (asof.go); the
// change log's 'layer' row tells readers and caches to let the layer go.
func (s *Store) DropLayer(ctx context.Context, id string, e layers.Edit) error {
	return s.layerEdit(ctx, id, e, func(tx *sql.Tx) error {
		l, err := getLayer(ctx, tx, id)
		if err != nil {
			return err
		}
		// Through the history triggers, which keep each feature's state
		// as its last version and record the delete with its author.
		if ok, err := historyTriggersCurrent(ctx, tx, id); err != nil {
			return err
		} else if !ok {
			if err := createHistoryTriggers(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(id)); err != nil {
			return fmt.Errorf("drop layer %s: %w", id, err)
		}
		if err := dropLayer(ctx, tx, id); err != nil {
			return err
		}
		if err := logLayer(ctx, tx, id); err != nil {
			return err
		}
		return historyDrop(ctx, tx, l)
	})
}

// importDeclaration writes declaration l through the import's path in
// tx: a layer file of l with no features.
func (s *Store) importDeclaration(ctx context.Context, tx *sql.Tx, l *layers.Layer) error {
	files := []*layers.File{{Name: declarationName, LayerID: l.ID, Layer: l}}
	im := &importer{tx: tx, declaration: true}
	err := layers.Stream(ctx, func(ctx context.Context, id string) (*layers.Layer, error) {
		return getLayer(ctx, tx, id)
	}, files, false, im)
	im.close()
	if err != nil {
		return err
	}
	return im.p.Err()
}
