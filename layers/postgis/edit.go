package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// The Store is a web.Editor: Create, Replace, Delete and Versions, with
// the GeoPackage store's semantics (layers/gpkg/edit.go). Each write is
// one transaction: the writers' lock taken first (writeLock, before any
// row, as every statement writing a feature table takes it, so that
// planmap and QGIS do not deadlock), the
// editor set for the history trigger (setContext), the feature checked as
// an import checks it (Layer.CheckFeature), its current version compared
// with the one the caller names, the feature written (the trigger writes
// its change-log and history rows), the planning rules asked
// (layers.CheckRules, reading the database as the write sees it), and the
// whole committed or nothing. The catalog takes the change in before the
// call returns, so that the writer's next read sees it.
//
// New ids come from the fid column's default, planmap_next_fid
// (migrations/0003_next_fid.sql), as a direct INSERT's do: on from the
// highest the layer ever had (its table and planmap_retired, which the
// trigger fills whoever deletes), under the writers' lock. A refused
// write uses none up, as AUTOINCREMENT in SQLite, which a PostgreSQL
// sequence (never rolled back) would not.

// Create stores f in layer id under a new id, one never used before in
// the layer, and returns it as stored. f.ID is ignored.
func (s *Store) Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error) {
	var it *layers.Item
	err := s.edit(ctx, id, e, func(tx pgx.Tx, l *layers.Layer) error {
		f.ID = 0
		checked, err := l.CheckFeature(f)
		if err != nil {
			return err
		}
		cols, vals, args, err := featureArgs(l, checked)
		if err != nil {
			return err
		}
		// The id from the table's default, planmap_next_fid.
		if err := tx.QueryRow(ctx, `INSERT INTO `+quoteIdent(l.ID)+` (`+strings.Join(cols, ", ")+`) VALUES (`+
			strings.Join(vals, ", ")+`) RETURNING fid`, args...).Scan(&checked.ID); err != nil {
			return err
		}
		it, err = written(ctx, tx, l, checked, nil)
		return err
	})
	return it, err
}

// Replace stores f as feature fid of layer id if the feature's current
// version is ifMatch ("" accepts any; see layers.MatchesVersion), and returns it as
// stored. A feature that was deleted comes back under its id (history op
// restore), unless ifMatch names a version (EPRECONDITION: it has none); a
// fid the layer never had is ENOTFOUND.
func (s *Store) Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error) {
	var it *layers.Item
	err := s.edit(ctx, id, e, func(tx pgx.Tx, l *layers.Layer) error {
		cur, err := currentItem(ctx, tx, l, fid)
		if err != nil {
			return err
		}
		if cur != nil && !layers.MatchesVersion(ifMatch, cur.Version()) {
			return layers.Errorf(layers.EPRECONDITION, "feature %d of collection %s has changed: its version is %s, not %s", fid, id, cur.Version(), ifMatch)
		}
		if cur == nil {
			if err := retired(ctx, tx, l.ID, fid); err != nil {
				return err
			}
			if ifMatch != "" {
				return layers.Errorf(layers.EPRECONDITION, "feature %d of collection %s was deleted: it has no version %s (send no If-Match to bring it back)", fid, id, ifMatch)
			}
		}
		f.ID = fid
		checked, err := l.CheckFeature(f)
		if err != nil {
			return err
		}
		var was orb.Geometry
		if cur != nil {
			was = cur.Geometry()
			cols, vals, args, err := featureArgs(l, checked)
			if err != nil {
				return err
			}
			sets := make([]string, len(cols))
			for i, c := range cols {
				sets[i] = c + " = " + vals[i]
			}
			args = append(args, fid)
			_, err = tx.Exec(ctx, `UPDATE `+quoteIdent(l.ID)+` SET `+strings.Join(sets, ", ")+fmt.Sprintf(` WHERE fid = $%d`, len(args)), args...)
			if err != nil {
				return err
			}
		} else if err := insertFeature(ctx, tx, l, checked); err != nil {
			return err
		}
		it, err = written(ctx, tx, l, checked, was)
		return err
	})
	return it, err
}

// Delete removes feature fid of layer id if its current version is
// ifMatch ("" accepts any). Its id stays retired: Item answers EGONE.
func (s *Store) Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error {
	return s.edit(ctx, id, e, func(tx pgx.Tx, l *layers.Layer) error {
		cur, err := currentItem(ctx, tx, l, fid)
		if err != nil {
			return err
		}
		if cur == nil {
			if err := retired(ctx, tx, l.ID, fid); err != nil {
				return err
			}
			return goneError(l.ID, fid)
		}
		if !layers.MatchesVersion(ifMatch, cur.Version()) {
			return layers.Errorf(layers.EPRECONDITION, "feature %d of collection %s has changed: its version is %s, not %s", fid, id, cur.Version(), ifMatch)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+quoteIdent(l.ID)+` WHERE fid = $1`, fid); err != nil {
			return err
		}
		// Deleting a boundary may leave what must lie within it outside.
		return checkRules(ctx, tx, l, layers.Feature{ID: fid}, cur.Geometry())
	})
}

// edit runs one write of a feature of layer id by e in a
// transaction (see above), and takes it into the catalog.
func (s *Store) edit(ctx context.Context, id string, e layers.Edit, fn func(pgx.Tx, *layers.Layer) error) error {
	if _, err := checkedTable(id); err != nil {
		return err
	}
	var err error
	// Every writer takes the writers' lock before rows, but a program may
	// lock a row first (SELECT … FOR UPDATE) and write after: should
	// PostgreSQL break a deadlock by failing the edit, it is made again
	// from the start (its If-Match compared anew).
	for attempt := 1; ; attempt++ {
		err = s.editOnce(ctx, id, e, fn)
		var pgErr *pgconn.PgError
		if attempt < editAttempts && errors.As(err, &pgErr) && pgErr.Code == "40P01" { // deadlock_detected
			continue
		}
		break
	}
	if err != nil {
		return err
	}
	// The writer's next read sees the write: the catalog takes it in now.
	// Should that fail, the write is stored all the same, and the watch
	// takes it in at its next round.
	s.follow.AfterWrite(ctx, "after a write to %s", id)
	return nil
}

// editAttempts is how many times an edit is tried when it deadlocks.
const editAttempts = 3

// editOnce is one attempt of edit: the transaction, committed or not.
func (s *Store) editOnce(ctx context.Context, id string, e layers.Edit, fn func(pgx.Tx, *layers.Layer) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	l, err := getLayer(ctx, tx, id)
	if layers.ErrorCode(err) == layers.ENOTFOUND {
		return layers.Errorf(layers.ENOTFOUND, "there is no collection %q; /collections lists them", id)
	}
	if err != nil {
		return err
	}
	// The writers' lock before any row, as every statement that writes a
	// feature table takes it (migrations/0005_write_lock.sql).
	if err := lockWriters(ctx, tx); err != nil {
		return err
	}
	if err := setContext(ctx, tx, e); err != nil {
		return err
	}
	// setContext marks this write's changes checked in the change log
	// (migrations/0009_checked_changes.sql), so direct.go does not check
	// them again: no range of our own to keep, unlike the GeoPackage.
	if err := fn(tx, l); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// featureArgs returns the columns of a checked feature, the SQL of their
// values, and the values: an absent property is NULL; dates, which the
// feature holds as the text of the layer files, cast from it.
func featureArgs(l *layers.Layer, f layers.Feature) (cols, vals []string, args []any, err error) {
	blob, err := wkb.Marshal(f.Geometry)
	if err != nil {
		return nil, nil, nil, layers.Errorf(layers.EINVALID, "geometry: %v", err)
	}
	cols = []string{"geom"}
	vals = []string{fmt.Sprintf("ST_SetSRID(ST_GeomFromWKB($1), %d)", SRID)}
	args = []any{blob}
	for _, fd := range l.Schema {
		v := f.Properties[fd.Name]
		p := fmt.Sprintf("$%d", len(args)+1)
		if fd.Type == layers.Date || fd.Type == layers.DateTime {
			p += "::text::" + sqlTypes[fd.Type]
			if v != nil {
				v = fmt.Sprint(v)
			}
		}
		cols = append(cols, quoteIdent(fd.Name))
		vals = append(vals, p)
		args = append(args, v)
	}
	return cols, vals, args, nil
}

// insertFeature inserts checked feature f of layer l under its id.
func insertFeature(ctx context.Context, tx pgx.Tx, l *layers.Layer, f layers.Feature) error {
	cols, vals, args, err := featureArgs(l, f)
	if err != nil {
		return err
	}
	args = append(args, f.ID)
	_, err = tx.Exec(ctx, `INSERT INTO `+quoteIdent(l.ID)+` (`+strings.Join(cols, ", ")+`, fid) VALUES (`+
		strings.Join(vals, ", ")+fmt.Sprintf(`, $%d)`, len(args)), args...)
	return err
}

// written asks the planning rules about feature f, just written to layer
// l over was, and returns it as stored.
func written(ctx context.Context, tx pgx.Tx, l *layers.Layer, f layers.Feature, was orb.Geometry) (*layers.Item, error) {
	if err := checkRules(ctx, tx, l, f, was); err != nil {
		return nil, err
	}
	it, err := currentItem(ctx, tx, l, f.ID)
	if err == nil && it == nil {
		err = fmt.Errorf("feature %d of %s not found after writing it", f.ID, l.ID)
	}
	return it, err
}

// checkRules checks feature f of layer l (f.Geometry nil: deleted), was
// before, against the planning rules of every layer, from both sides
// (layers.CheckRules), reading the database as tx sees it.
func checkRules(ctx context.Context, tx pgx.Tx, l *layers.Layer, f layers.Feature, was orb.Geometry) error {
	all, err := listLayers(ctx, tx)
	if err != nil {
		return err
	}
	return layers.CheckRules(ctx, near(tx, func(ctx context.Context, id string) (*layers.Layer, error) {
		return getLayer(ctx, tx, id)
	}), all, l, f, was)
}

// near returns the Neighbours of the rules as tx sees the database: the
// features of a layer (declared as decl says) whose bounding boxes meet
// b, found through the layer's GiST index. An edit reads the declaration
// at each lookup; an import, which asks once per feature it wrote, from
// those it read once.
func near(tx pgx.Tx, decl func(ctx context.Context, id string) (*layers.Layer, error)) layers.Neighbours {
	return func(ctx context.Context, id string, b orb.Bound) ([]layers.Feature, error) {
		nl, err := decl(ctx, id)
		if err != nil {
			return nil, err
		}
		var out []layers.Feature
		err = eachRow(ctx, tx, nl, selectColumns(nl)+` WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY fid`,
			[]any{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}, func(f layers.Feature) error {
				out = append(out, f)
				return nil
			})
		return out, err
	}
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
	var gone bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM planmap_retired WHERE layer = $1 AND fid = $2)`, id, fid).Scan(&gone); err != nil {
		return err
	}
	if !gone || fid <= 0 {
		return layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %d", id, fid)
	}
	return nil
}
