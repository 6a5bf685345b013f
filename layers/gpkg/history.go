package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"planmap/layers"
)

// The history of the features (migration 0005_history.sql says what its
// tables hold) is written by triggers on each feature table, generated
// here from the table's columns. They use only SQL every SQLite has
// (json_object, strftime), never a function planmap registers: QGIS and
// GDAL write the file too, and a trigger calling an unknown function
// would make their every edit fail.

// historyTriggers are the suffixes of a feature table's history triggers:
// planmap_history_<table>_<suffix>. rekey is an update that changes a
// feature's id, recorded as the old id deleted and the new one inserted.
var historyTriggers = []string{"insert", "update", "rekey", "delete"}

func historyTrigger(t, suffix string) string { return "planmap_history_" + t + "_" + suffix }

// sqlLiteral quotes s as an SQL string literal.
func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// propertyColumns returns the columns of table t whose values the history
// keeps as properties: all but the id and the geometry, and but BLOBs,
// which JSON cannot hold. They are the table's columns as they are, not
// the declaration's: a column another program added is kept too.
func propertyColumns(ctx context.Context, q querier, t string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, upper(type), pk FROM pragma_table_info(?)`, t)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", t, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return nil, err
		}
		if pk > 0 || name == "geom" || strings.HasPrefix(typ, "BLOB") {
			continue
		}
		cols = append(cols, name)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return cols, nil
}

// objectColumns is how many columns one json_object takes: two arguments
// each, under SQLite's limit on a function's arguments (127 in the builds
// GDAL and QGIS ship).
const objectColumns = 60

// propertiesJSON is the JSON object of the columns cols of row alias (OLD,
// or a table alias): one json_object, or for a table of more columns than
// one takes, several merged with json_patch (which leaves out a NULL of
// the later ones, the same as an absent property).
func propertiesJSON(alias string, cols []string) string {
	var objects []string
	for chunk := range slices.Chunk(cols, objectColumns) {
		parts := make([]string, 0, 2*len(chunk))
		for _, c := range chunk {
			parts = append(parts, sqlLiteral(c), alias+"."+quoteIdent(c))
		}
		objects = append(objects, "json_object("+strings.Join(parts, ", ")+")")
	}
	if len(objects) == 0 {
		return "json_object()"
	}
	out := objects[0]
	for _, o := range objects[1:] {
		out = "json_patch(" + out + ", " + o + ")"
	}
	return out
}

// historyTriggerSQL returns the CREATE TRIGGER statements of table t with
// property columns cols, by suffix.
func historyTriggerSQL(t string, cols []string) map[string]string {
	lit, qt := sqlLiteral(t), quoteIdent(t)
	ofFID := func(fid string) string {
		return "FROM planmap_history WHERE layer = " + lit + " AND fid = " + fid
	}
	author, note := "(SELECT author FROM planmap_context)", "(SELECT note FROM planmap_context)"
	// The op of a version that begins after what fid's history says last:
	// a first version is an insert, one after a delete a restore.
	opAfter := func(fid, otherwise string) string {
		return "CASE coalesce((SELECT op " + ofFID(fid) + " ORDER BY id DESC LIMIT 1), '') WHEN '' THEN 'insert' WHEN 'delete' THEN 'restore' ELSE " + otherwise + " END"
	}
	// closing ends the version of OLD that is current: its row, written
	// first if a bulk write began the version (no row of the feature
	// since the layer's last 'layer' row), gets OLD's state.
	closing := "  INSERT INTO planmap_history (layer, fid, op, at, author, note)\n" +
		"    SELECT " + lit + ", OLD.fid, " + opAfter("OLD.fid", "'update'") + ", b.at, b.author, b.note\n" +
		"    FROM planmap_history b WHERE b.id = (SELECT max(id) " + ofFID("0") + ")\n" +
		"    AND NOT EXISTS (SELECT 1 " + ofFID("OLD.fid") + " AND id > b.id);\n" +
		"  UPDATE planmap_history SET geom = OLD.geom, properties = " + propertiesJSON("OLD", cols) + "\n" +
		"    WHERE id = (SELECT max(id) " + ofFID("OLD.fid") + ");\n"
	begin := func(fid, op string) string {
		return "  INSERT INTO planmap_history (layer, fid, op, author, note) VALUES (" + lit + ", " + fid + ", " + op + ", " + author + ", " + note + ");\n"
	}
	return map[string]string{
		"insert": "CREATE TRIGGER " + quoteIdent(historyTrigger(t, "insert")) + " AFTER INSERT ON " + qt + "\nBEGIN\n" +
			begin("NEW.fid", opAfter("NEW.fid", "'restore'")) + "END",
		"update": "CREATE TRIGGER " + quoteIdent(historyTrigger(t, "update")) + " AFTER UPDATE ON " + qt + "\n  WHEN OLD.fid = NEW.fid\nBEGIN\n" +
			closing + begin("NEW.fid", "'update'") + "END",
		"rekey": "CREATE TRIGGER " + quoteIdent(historyTrigger(t, "rekey")) + " AFTER UPDATE ON " + qt + "\n  WHEN OLD.fid != NEW.fid\nBEGIN\n" +
			closing + begin("OLD.fid", "'delete'") + begin("NEW.fid", opAfter("NEW.fid", "'restore'")) + "END",
		"delete": "CREATE TRIGGER " + quoteIdent(historyTrigger(t, "delete")) + " AFTER DELETE ON " + qt + "\nBEGIN\n" +
			closing + begin("OLD.fid", "'delete'") + "END",
	}
}

// createHistoryTriggers (re)creates the history triggers of table t from
// its columns as they are now.
func createHistoryTriggers(ctx context.Context, tx *sql.Tx, t string) error {
	cols, err := propertyColumns(ctx, tx, t)
	if err != nil {
		return err
	}
	stmts := historyTriggerSQL(t, cols)
	for _, suffix := range historyTriggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+quoteIdent(historyTrigger(t, suffix))); err != nil {
			return fmt.Errorf("history of %s: %w", t, err)
		}
		if _, err := tx.ExecContext(ctx, stmts[suffix]); err != nil {
			return fmt.Errorf("history of %s: %w", t, err)
		}
	}
	return nil
}

// dropHistoryTriggers removes them, for a bulk write of a whole layer,
// recorded as one 'layer' row (historyLayer).
func dropHistoryTriggers(ctx context.Context, tx *sql.Tx, t string) error {
	for _, suffix := range historyTriggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+quoteIdent(historyTrigger(t, suffix))); err != nil {
			return fmt.Errorf("history of %s: %w", t, err)
		}
	}
	return nil
}

// historyTriggersCurrent reports whether table t has its history
// triggers, as generated from its columns now (a column added since
// would be missing from the versions they keep).
func historyTriggersCurrent(ctx context.Context, q querier, t string) (bool, error) {
	cols, err := propertyColumns(ctx, q, t)
	if err != nil {
		return false, err
	}
	want := historyTriggerSQL(t, cols)
	for _, suffix := range historyTriggers {
		var got string
		err := q.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ? AND tbl_name = ?`, historyTrigger(t, suffix), t).Scan(&got)
		if err == sql.ErrNoRows {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if got != want[suffix] {
			return false, nil
		}
	}
	return true, nil
}

// historyLayer records a bulk write of layer id: a version of every
// feature it has now begins, with the author and note of the context.
func historyLayer(ctx context.Context, tx *sql.Tx, id, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO planmap_history (layer, fid, op, author, note)
		VALUES (?, 0, 'layer', (SELECT author FROM planmap_context), coalesce((SELECT note FROM planmap_context), ?))`, id, nullString(note))
	return err
}

// historyDrop records the drop of layer l: a 'layer' row, as historyLayer
// writes, that keeps l's declaration in its properties
// (layers.DroppedDeclaration), which no other row of fid 0 has.
func historyDrop(ctx context.Context, tx *sql.Tx, l *layers.Layer) error {
	return historyDeclaration(ctx, tx, l, 0)
}

// historyRedeclared records that layer stored is declared as l from now
// on, when the two differ: a row of fid layers.RedeclaredFID that keeps
// stored's declaration, so that the layer is read as of an earlier time
// as it was declared then.
func historyRedeclared(ctx context.Context, tx *sql.Tx, stored, l *layers.Layer) error {
	if layers.DeclarationHash(stored) == layers.DeclarationHash(l) {
		return nil
	}
	return historyDeclaration(ctx, tx, stored, layers.RedeclaredFID)
}

func historyDeclaration(ctx context.Context, tx *sql.Tx, l *layers.Layer, fid int64) error {
	decl, err := layers.DroppedDeclaration(l)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO planmap_history (layer, fid, op, author, note, properties)
		VALUES (?, ?, 'layer', (SELECT author FROM planmap_context), (SELECT note FROM planmap_context), ?)`, l.ID, fid, string(decl))
	return err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// closeVersions ends the current version of every feature of table t, as
// the triggers end one version: before the whole layer is written again
// (replaced or rebuilt), which happens without them. The ids it had are
// kept in temp.planmap_replaced for historyReplaced.
func closeVersions(ctx context.Context, tx *sql.Tx, t string) error {
	cols, err := propertyColumns(ctx, tx, t)
	if err != nil {
		return err
	}
	lit, qt := sqlLiteral(t), quoteIdent(t)
	stmts := []string{
		`INSERT INTO planmap_history (layer, fid, op, at, author, note, geom, properties)
		SELECT ` + lit + `, f.fid,
			CASE coalesce((SELECT op FROM planmap_history h WHERE h.layer = ` + lit + ` AND h.fid = f.fid ORDER BY h.id DESC LIMIT 1), '')
				WHEN '' THEN 'insert' WHEN 'delete' THEN 'restore' ELSE 'update' END,
			b.at, b.author, b.note, f.geom, ` + propertiesJSON("f", cols) + `
		FROM ` + qt + ` f, planmap_history b
		WHERE b.id = (SELECT max(id) FROM planmap_history WHERE layer = ` + lit + ` AND fid = 0)
		AND NOT EXISTS (SELECT 1 FROM planmap_history h WHERE h.layer = ` + lit + ` AND h.fid = f.fid AND h.id > b.id)`,
		`UPDATE planmap_history
		SET geom = (SELECT f.geom FROM ` + qt + ` f WHERE f.fid = planmap_history.fid),
			properties = (SELECT ` + propertiesJSON("f", cols) + ` FROM ` + qt + ` f WHERE f.fid = planmap_history.fid)
		WHERE id IN (SELECT (SELECT max(h.id) FROM planmap_history h WHERE h.layer = ` + lit + ` AND h.fid = f.fid) FROM ` + qt + ` f)
		AND geom IS NULL AND op != 'delete'`,
		`DROP TABLE IF EXISTS temp.planmap_replaced`,
		`CREATE TEMP TABLE planmap_replaced (fid INTEGER PRIMARY KEY)`,
		`INSERT INTO temp.planmap_replaced SELECT fid FROM ` + qt,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("history of %s: %w", t, err)
		}
	}
	return nil
}

// historyReplaced records, after a layer closed by closeVersions has been
// written whole again, the deletes of the features it no longer has, and
// the bulk write that began a version of those it has.
func historyReplaced(ctx context.Context, tx *sql.Tx, t, note string) error {
	qt := quoteIdent(t)
	if _, err := tx.ExecContext(ctx, `INSERT INTO planmap_history (layer, fid, op, author, note)
		SELECT ?, r.fid, 'delete', (SELECT author FROM planmap_context), coalesce((SELECT note FROM planmap_context), ?)
		FROM temp.planmap_replaced r WHERE NOT EXISTS (SELECT 1 FROM `+qt+` f WHERE f.fid = r.fid)`, t, nullString(note)); err != nil {
		return fmt.Errorf("history of %s: %w", t, err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE temp.planmap_replaced`); err != nil {
		return err
	}
	return historyLayer(ctx, tx, t, note)
}

// setContext says who makes the writes that follow in tx, for the
// triggers, and returns the last change number before them, for
// clearContext.
func setContext(ctx context.Context, tx execQuerier, author, note string) (first int64, err error) {
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO planmap_context (id, author, note) VALUES (1, ?, ?)`, nullString(author), nullString(note)); err != nil {
		return 0, err
	}
	return lastSeq(ctx, tx)
}

// clearContext, before the commit, says that nobody writes any more, and
// records the changes tx made after first as planmap's (planmap_writes),
// so that no process following the file checks them as another
// program's (direct.go). The write lock held since setContext keeps any
// other writer's changes out of them.
func clearContext(ctx context.Context, tx execQuerier, first int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM planmap_context`); err != nil {
		return err
	}
	last, err := lastSeq(ctx, tx)
	if err != nil || last <= first {
		return err
	}
	// A range past first is stale: its numbers were given out again
	// (the log's newest rows deleted and its sequence set back, which
	// planmap never does), and would pass a direct edit off as planmap's.
	if _, err := tx.ExecContext(ctx, `DELETE FROM planmap_writes WHERE last > ?`, first); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO planmap_writes (first, last) VALUES (?, ?)`, first, last)
	return err
}

// nextSeq returns the id AUTOINCREMENT would give the next feature of
// table t without one, less one: the highest ever used.
func lastFID(ctx context.Context, q querier, t string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(fid) FROM `+quoteIdent(t)+`), 0),
		coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))`, t).Scan(&n)
	return n, err
}

// setLastFID makes the highest id ever used of table t at least n, so
// that AUTOINCREMENT never gives out an id up to n.
func setLastFID(ctx context.Context, tx *sql.Tx, t string, n int64) error {
	cur, err := lastFID(ctx, tx, t)
	if err != nil || cur >= n {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sqlite_sequence WHERE name = ?`, t); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, t, n)
	return err
}

// rebuildAutoincrement rebuilds feature table t, made before ids were
// never reused, with an AUTOINCREMENT id: a copy under the same columns,
// types, constraints and indexes, then its R-tree, change-log and history
// triggers. The R-tree itself is kept (the ids do not change). The
// highest id ever used is the highest the table or the change log knows.
func rebuildAutoincrement(ctx context.Context, tx *sql.Tx, t string) error {
	var create string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, t).Scan(&create); err != nil {
		return fmt.Errorf("rebuild %s: %w", t, err)
	}
	if strings.Contains(strings.ToUpper(create), "AUTOINCREMENT") {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, t)
	if err != nil {
		return err
	}
	var cols, names []string
	for rows.Next() {
		var name, typ string
		var notNull, pk int
		var dflt sql.NullString
		if err := rows.Scan(&name, &typ, &notNull, &dflt, &pk); err != nil {
			rows.Close()
			return err
		}
		names = append(names, quoteIdent(name))
		c := quoteIdent(name) + " " + typ
		if pk > 0 {
			c = quoteIdent(name) + " INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"
		} else {
			if notNull != 0 {
				c += " NOT NULL"
			}
			if dflt.Valid {
				c += " DEFAULT " + dflt.String
			}
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var indexes []string
	irows, err := tx.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, t)
	if err != nil {
		return err
	}
	for irows.Next() {
		var q string
		if err := irows.Scan(&q); err != nil {
			irows.Close()
			return err
		}
		indexes = append(indexes, q)
	}
	irows.Close()
	last, err := lastFID(ctx, tx, t)
	if err != nil {
		return err
	}
	var logged int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(fid), 0) FROM planmap_changes WHERE layer = ?`, t).Scan(&logged); err != nil {
		return err
	}
	tmp := quoteIdent("planmap_rebuild_" + t)
	list := strings.Join(names, ", ")
	for _, q := range []string{
		"CREATE TABLE " + tmp + " (\n  " + strings.Join(cols, ",\n  ") + "\n)",
		"INSERT INTO " + tmp + " (" + list + ") SELECT " + list + " FROM " + quoteIdent(t),
		"DROP TABLE " + quoteIdent(t),
		"ALTER TABLE " + tmp + " RENAME TO " + quoteIdent(t),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild %s: %w", t, err)
		}
	}
	for _, q := range indexes {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild %s: %w", t, err)
		}
	}
	if err := setLastFID(ctx, tx, t, max(last, logged)); err != nil {
		return err
	}
	if err := createRTreeTriggers(ctx, tx, t); err != nil {
		return err
	}
	return createChangeTriggers(ctx, tx, t)
}
