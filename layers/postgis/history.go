package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
)

// The history of the features is written by the trigger of each feature
// table (migrations/0002_history.sql says what its rows hold), so that a
// write by any program is recorded; planmap only says, per transaction,
// who writes and why (setContext). Each row keeps the state its version
// began with, which Versions reads back through the layer's own row type
// (jsonb_populate_record), so that a past version is served exactly as
// the current one is.

// importNote is the note of the versions an import begins.
const importNote = "planmap import"

// setContext says who makes the writes that follow in tx, and why, for
// the history trigger, and that planmap checked them (the change log's
// checked column, migrations/0009_checked_changes.sql): settings local to
// the transaction, gone at its end.
func setContext(ctx context.Context, tx pgx.Tx, e layers.Edit) error {
	_, err := tx.Exec(ctx, `SELECT set_config('planmap.author', $1, true), set_config('planmap.note', $2, true), set_config('planmap.checked', 'on', true)`, e.Author, e.Note)
	return err
}

// historyLayer records that layer id was written whole: the row begins a
// version of each of its features (planmap_history_close).
func historyLayer(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `INSERT INTO planmap_history (layer, fid, op, author, note) VALUES ($1, 0, 'layer',
		nullif(current_setting('planmap.author', true), ''), nullif(current_setting('planmap.note', true), ''))`, id)
	return err
}

// historyDrop records the drop of layer l: a 'layer' row, as historyLayer
// writes, that keeps l's declaration in its properties
// (layers.DroppedDeclaration), which no other row of fid 0 has.
func historyDrop(ctx context.Context, tx pgx.Tx, l *layers.Layer) error {
	return historyDeclaration(ctx, tx, l, 0)
}

// historyRedeclared records that layer stored is declared as l from now
// on, when the two differ: a row of fid layers.RedeclaredFID that keeps
// stored's declaration, so that the layer is read as of an earlier time
// as it was declared then.
func historyRedeclared(ctx context.Context, tx pgx.Tx, stored, l *layers.Layer) error {
	if layers.DeclarationHash(stored) == layers.DeclarationHash(l) {
		return nil
	}
	return historyDeclaration(ctx, tx, stored, layers.RedeclaredFID)
}

func historyDeclaration(ctx context.Context, tx pgx.Tx, l *layers.Layer, fid int64) error {
	decl, err := layers.DroppedDeclaration(l)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO planmap_history (layer, fid, op, author, note, properties) VALUES ($1, $2, 'layer',
		nullif(current_setting('planmap.author', true), ''), nullif(current_setting('planmap.note', true), ''), $3::jsonb)`, l.ID, fid, string(decl))
	return err
}

// goneError says that feature fid of layer id was deleted, and where its
// versions are.
func goneError(id string, fid int64) error {
	return layers.Errorf(layers.EGONE, "feature %d of collection %s was deleted; its versions are at /collections/%s/items/%d/versions", fid, id, id, fid)
}

// Versions returns the history of feature fid of layer id, newest first,
// or an ENOTFOUND error if the layer never had it. The current version
// has the feature as served (its Version is the ETag); a delete's version
// has no Item.
func (s *Store) Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error) {
	if _, err := s.follow.Collection(ctx, id); err != nil {
		return nil, err
	}
	if fid <= 0 {
		// fid 0 in the history is a bulk write's row, no feature's.
		return nil, layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %d", id, fid)
	}
	tx, err := s.readOnly(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	type row struct {
		id           int64
		op           string
		at           time.Time
		author, note *string
		item         *layers.Item
	}
	// The state through the table's row type: its columns typed and read
	// as the live features' are (columnOf), whatever the JSON holds.
	cols := []string{"$2::bigint", "ST_AsBinary(h.geom)"}
	for _, fd := range l.Schema {
		cols = append(cols, columnOf("r", fd))
	}
	cols = append(cols, "h.id", "h.op", "h.at", "h.author", "h.note")
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM planmap_history h
		LEFT JOIN LATERAL jsonb_populate_record(NULL::`+quoteIdent(l.ID)+`, h.properties) r ON true
		WHERE h.layer = $1 AND h.fid = $2 ORDER BY h.id`, id, fid)
	if err != nil {
		return nil, err
	}
	var hist []row
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			rows.Close()
			return nil, err
		}
		n := 2 + len(l.Schema)
		var r row
		r.id, _ = vals[n].(int64)
		r.op, _ = vals[n+1].(string)
		r.at, _ = vals[n+2].(time.Time)
		if a, ok := vals[n+3].(string); ok {
			r.author = &a
		}
		if a, ok := vals[n+4].(string); ok {
			r.note = &a
		}
		if rows.RawValues()[1] != nil {
			f, err := decodeRow(l, rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("history of %s %d: %w", id, fid, err)
			}
			r.item = layers.NewItem(l, f)
		}
		hist = append(hist, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	live, err := loadItems(ctx, tx, l, []int64{fid})
	if err != nil {
		return nil, err
	}
	// The layer's last bulk write began the current version of a live
	// feature that has no row of its own since.
	if len(live) > 0 {
		var bulk row
		err := tx.QueryRow(ctx, `SELECT id, at, author, note FROM planmap_history
			WHERE layer = $1 AND fid = 0 ORDER BY id DESC LIMIT 1`, id).Scan(&bulk.id, &bulk.at, &bulk.author, &bulk.note)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if bulk.id != 0 && (len(hist) == 0 || hist[len(hist)-1].id < bulk.id) {
			bulk.op = "insert"
			if n := len(hist); n > 0 {
				bulk.op = map[bool]string{true: "restore", false: "update"}[hist[n-1].op == "delete"]
			}
			hist = append(hist, bulk)
		}
	}
	if len(hist) == 0 {
		return nil, layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %d", id, fid)
	}
	out := make([]layers.Version, len(hist))
	for i, r := range hist {
		v := layers.Version{Number: i + 1, Op: layers.Op(r.op), From: r.at.UTC(), Item: r.item}
		if r.author != nil {
			v.Author = *r.author
		}
		if r.note != nil {
			v.Note = *r.note
		}
		switch {
		case r.op == "delete":
			v.Item = nil
		case i == len(hist)-1 && len(live) > 0:
			v.Item = live[0]
		}
		if i > 0 {
			out[i-1].To = v.From
		}
		out[i] = v
	}
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// closeVersions ends the current version of every feature of layer id, as
// the trigger ends one, before the layer is written whole (replaced or
// rebuilt), which happens without the trigger's history: a version that a
// bulk write began gets its row, with the state it ends with. The ids the
// layer had are kept in pg_temp.planmap_replaced for historyReplaced.
func closeVersions(ctx context.Context, tx pgx.Tx, id string) error {
	t := quoteIdent(id)
	if _, err := tx.Exec(ctx, `INSERT INTO planmap_history (layer, fid, op, at, author, note, geom, properties)
		SELECT $1, f.fid, planmap_history_op($1, f.fid, 'update'), b.at, b.author, b.note, f.geom, to_jsonb(f) - 'fid' - 'geom'
		FROM `+t+` f, (SELECT id, at, author, note FROM planmap_history WHERE layer = $1 AND fid = 0 ORDER BY id DESC LIMIT 1) b
		WHERE NOT EXISTS (SELECT 1 FROM planmap_history h WHERE h.layer = $1 AND h.fid = f.fid AND h.id > b.id)
		ORDER BY f.fid`, id); err != nil {
		return fmt.Errorf("history of %s: %w", id, err)
	}
	_, err := tx.Exec(ctx, `CREATE TEMP TABLE planmap_replaced ON COMMIT DROP AS SELECT fid FROM `+t)
	return err
}

// historyReplaced records, after layer id was written whole over
// closeVersions, the delete of each feature it had and has no more, then
// the bulk write itself (historyLayer), which begins a version of every
// feature it has.
func historyReplaced(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO planmap_history (layer, fid, op, author, note)
		SELECT $1, r.fid, 'delete', nullif(current_setting('planmap.author', true), ''), nullif(current_setting('planmap.note', true), '')
		FROM pg_temp.planmap_replaced r WHERE NOT EXISTS (SELECT 1 FROM `+quoteIdent(id)+` f WHERE f.fid = r.fid)
		ORDER BY r.fid`, id); err != nil {
		return fmt.Errorf("history of %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE pg_temp.planmap_replaced`); err != nil {
		return err
	}
	return historyLayer(ctx, tx, id)
}
