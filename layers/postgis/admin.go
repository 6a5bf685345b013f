package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
)

// The Store is a web.LayerEditor, as the GeoPackage store is
// (layers/gpkg/admin.go): an admin creates, redeclares and drops layers
// over HTTP. A declaration goes through the one path an import takes
// (layers.Stream and the importer, as a layer file with that declaration
// and no features), so it is checked exactly as a layer file's is and
// written by the same code: the table with its GiST index and triggers,
// the declaration in planmap_layers, the change-log and history rows.
// Each is one transaction under the writers' lock, its author and note
// set for the history (setContext) as a feature edit's are, and the
// catalog takes it in before the call returns.

// declarationName is what a declaration sent over HTTP is called in the
// problems found in it, where a layer file's path would be.
const declarationName = "declaration"

// DeclareLayer creates layer l.ID from its declaration, with no
// features; ECONFLICT if the layer exists. A layer of that id that was
// dropped comes back with its history, and its new features' ids go on
// after every id the old one used (planmap_retired): an id is never
// given out twice.
func (s *Store) DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error {
	if e.Note == "" {
		// The history's row of the layer's creation says how, as an
		// import's says "planmap import".
		e.Note = "collection created"
	}
	return s.layerEdit(ctx, l.ID, e, func(tx pgx.Tx) error {
		if _, err := getLayer(ctx, tx, l.ID); err == nil {
			return layers.Errorf(layers.ECONFLICT, "collection %s exists: change its declaration with PUT /collections/%s", l.ID, l.ID)
		} else if layers.ErrorCode(err) != layers.ENOTFOUND {
			return err
		}
		return importDeclaration(ctx, tx, l)
	})
}

// RedeclareLayer gives the existing layer l.ID the declaration l, as
// importing a layer file with that declaration and no features would
// (without --replace): fields may be added and titles, descriptions,
// order, allowed values, style and rules changed; a change of the
// geometry type or of a field's type, or a field removed, is refused, as
// is a declaration that a stored feature breaks (a field now required
// that it lacks, a value no longer allowed, a planning rule added or
// tightened): the error names each such feature, and nothing is changed.
func (s *Store) RedeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error {
	return s.layerEdit(ctx, l.ID, e, func(tx pgx.Tx) error {
		stored, err := getLayer(ctx, tx, l.ID)
		if err != nil {
			return err
		}
		if err := importDeclaration(ctx, tx, l); err != nil {
			return err
		}
		return layers.CheckRedeclared(ctx, near(tx, func(ctx context.Context, id string) (*layers.Layer, error) {
			return getLayer(ctx, tx, id)
		}), stored, l, declarationName, func(ctx context.Context, id string, fn func(layers.Feature) error) error {
			fl, err := getLayer(ctx, tx, id)
			if err != nil {
				return err
			}
			return eachInChunks(ctx, tx, fl, fn)
		})
	})
}

// eachInChunks calls fn with each feature of l in the order of their ids,
// read a chunk at a time, so that fn may query tx itself (the rules'
// neighbours), which it may not while a query's rows are open.
func eachInChunks(ctx context.Context, tx pgx.Tx, l *layers.Layer, fn func(layers.Feature) error) error {
	const chunk = 500
	for after := int64(0); ; {
		var fs []layers.Feature
		if err := eachRow(ctx, tx, l, selectColumns(l)+` WHERE fid > $1 ORDER BY fid LIMIT `+fmt.Sprint(chunk), []any{after}, func(f layers.Feature) error {
			fs = append(fs, f)
			return nil
		}); err != nil {
			return err
		}
		for _, f := range fs {
			if err := fn(f); err != nil {
				return err
			}
		}
		if len(fs) < chunk {
			return nil
		}
		after = fs[len(fs)-1].ID
	}
}

// DropLayer removes layer id and its features. Its history stays: the
// DELETE goes through the table's trigger, which ends each feature's
// last version with a delete by e and retires its id; a 'layer' row of
// the history records the drop with the layer's declaration
// (historyDrop), so that the layer can still be read as of a time it
// existed (asof.go), and the change log's 'layer' row tells readers and
// caches to let the layer go.
func (s *Store) DropLayer(ctx context.Context, id string, e layers.Edit) error {
	return s.layerEdit(ctx, id, e, func(tx pgx.Tx) error {
		l, err := getLayer(ctx, tx, id)
		if err != nil {
			return err
		}
		t, err := checkedTable(id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+t); err != nil {
			return fmt.Errorf("drop layer %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+t); err != nil {
			return fmt.Errorf("drop layer %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM planmap_layers WHERE id = $1`, id); err != nil {
			return fmt.Errorf("drop layer %s: %w", id, err)
		}
		if err := logLayer(ctx, tx, id); err != nil {
			return err
		}
		return historyDrop(ctx, tx, l)
	})
}

// layerEdit runs fn, a change of layer id by e, in one transaction under
// the writers' lock with e set for the history, and takes it into the
// catalog.
func (s *Store) layerEdit(ctx context.Context, id string, e layers.Edit, fn func(pgx.Tx) error) error {
	if _, err := checkedTable(id); err != nil {
		return layers.Errorf(layers.EINVALID, "collection id %q is not valid", id)
	}
	tx, err := s.beginWriting(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := setContext(ctx, tx, e); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// As after an edit: committed whatever the refresh says, and the
	// watch catches up.
	s.follow.AfterWrite(ctx, "after a change of collection %s", id)
	return nil
}

// importDeclaration writes declaration l through the import's path in
// tx: a layer file of l with no features, its planning rules checked as
// an import's are.
func importDeclaration(ctx context.Context, tx pgx.Tx, l *layers.Layer) error {
	files := []*layers.File{{Name: declarationName, LayerID: l.ID, Layer: l}}
	im := &importer{tx: tx, declaration: true}
	if err := im.beginChecks(ctx, files); err != nil {
		return err
	}
	err := layers.Stream(ctx, func(ctx context.Context, id string) (*layers.Layer, error) {
		return getLayer(ctx, tx, id)
	}, files, false, im)
	if err != nil {
		return err
	}
	if err := im.p.Err(); err != nil {
		return err
	}
	return checkImportRules(ctx, tx, im.checks)
}
