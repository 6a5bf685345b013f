package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"planmap/layers"
)

// WriteGeoJSON writes layer id as a layer file: an RFC 7946
// FeatureCollection that QGIS opens cleanly (INTEROP.md §5: no crs member,
// right-hand rule, integer ids, one type per property, ISO dates, name set
// to the layer id) whose foreign members carry the layer's declaration, so
// the file can be imported again as it is. Features are streamed in id
// order; progress, when set, is called every 1000 features.
func (s *Store) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	total := 0
	if progress != nil {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(id)).Scan(&total); err != nil {
			return err
		}
	}
	return layers.WriteLayerFile(w, l, func(fn func(layers.Feature) error) error { return eachFeature(ctx, tx, l, fn) }, total, progress)
}

// exportTables are the tables besides the layers' own (the feature table
// and its R-tree index) that an export carries, in the order they are
// created: the GeoPackage's core and metadata tables, the QGIS styles and
// the layers' declarations, so that importing the file restores the layers
// whole. The list is what may leave the database: a table not named here
// (planmap_migrations, and whatever internal tables come later: tokens,
// history, the change log) never reaches a download. Rows that describe
// tables are kept only for tables the export carries.
var exportTables = []struct{ name, where string }{
	{"gpkg_spatial_ref_sys", ""},
	{"gpkg_contents", "table_name IN (SELECT value FROM json_each(?1))"},
	{"gpkg_geometry_columns", "table_name IN (SELECT value FROM json_each(?1))"},
	{"gpkg_extensions", "table_name IS NULL OR table_name IN (SELECT value FROM json_each(?1))"},
	{"gpkg_data_columns", "table_name IN (SELECT value FROM json_each(?1))"},
	{"gpkg_data_column_constraints", ""},
	{"gpkg_metadata", ""},
	{"gpkg_metadata_reference", "table_name IS NULL OR table_name IN (SELECT value FROM json_each(?1))"},
	{"layer_styles", "f_table_name IN (SELECT value FROM json_each(?1))"},
	{"planmap_layers", "id IN (SELECT value FROM json_each(?1))"},
}

// ExportGPKG writes a standalone GeoPackage of the given layers (all when
// ids is empty) to path, replacing any file there: the layers' feature
// tables with their spatial indexes, and the tables exportTables allows,
// copied from one consistent snapshot of the database, so it may run while
// the server is serving and writing. The file is in rollback-journal mode,
// a single file to hand on. It is not a planmap database (it has no
// planmap_migrations): planmap import reads it as a GeoPackage that
// carries its declarations.
func (s *Store) ExportGPKG(ctx context.Context, path string, ids ...string) error {
	if s.IsDatabase(path) {
		return layers.Errorf(layers.EINVALID, "%s is the database itself; export to another file", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planmap-export-*.gpkg")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer removeDB(tmpPath)
	if err := s.writeExport(ctx, tmpPath, ids); err != nil {
		return err
	}
	return os.Rename(tmpPath, path)
}

// writeExport copies the export into the empty file at path.
func (s *Store) writeExport(ctx context.Context, path string, ids []string) error {
	db, err := sql.Open("sqlite", dsn(path, "_pragma=journal_mode(DELETE)", "_pragma=foreign_keys(0)"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The database is attached read-only: one transaction over both files
	// reads one snapshot of it, waits for no writer and makes none wait.
	if _, err := db.ExecContext(ctx, `ATTACH DATABASE ? AS src`, dsn(s.path, "mode=ro")); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	all, err := listLayersIn(ctx, tx, "src")
	if err != nil {
		return err
	}
	var layerIDs []string
	if len(ids) == 0 {
		for _, l := range all {
			layerIDs = append(layerIDs, l.ID)
		}
	}
	for _, id := range ids {
		found := false
		for _, l := range all {
			found = found || l.ID == id
		}
		if !found {
			return layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
		}
		layerIDs = append(layerIDs, id)
	}
	carried := append([]string{"layer_styles"}, layerIDs...)
	carriedJSON, _ := json.Marshal(carried)
	for _, pragma := range []string{"application_id", "user_version"} {
		var v int64
		if err := tx.QueryRowContext(ctx, `PRAGMA src.`+pragma).Scan(&v); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA main.%s = %d`, pragma, v)); err != nil {
			return err
		}
	}
	copyTable := func(name, where string) error {
		var create string
		err := tx.QueryRowContext(ctx, `SELECT sql FROM src.sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&create)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		q := `INSERT INTO main.` + quoteIdent(name) + ` SELECT * FROM src.` + quoteIdent(name)
		var args []any
		if where != "" {
			q += ` WHERE ` + where
			args = append(args, string(carriedJSON))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		return nil
	}
	for _, t := range exportTables {
		if err := copyTable(t.name, t.where); err != nil {
			return err
		}
	}
	for _, id := range layerIDs {
		for _, t := range []string{id, "rtree_" + id + "_geom"} {
			if err := copyTable(t, ""); err != nil {
				return err
			}
		}
		// The triggers and indexes last, so that copying the rows does not
		// fire them. Our own triggers (the change log's) write tables that
		// do not leave, so they do not either.
		rows, err := tx.QueryContext(ctx, `SELECT sql FROM src.sqlite_master
			WHERE type IN ('trigger', 'index') AND tbl_name = ? AND sql IS NOT NULL
			AND name NOT LIKE 'planmap\_%' ESCAPE '\' ORDER BY type, name`, id)
		if err != nil {
			return err
		}
		var stmts []string
		for rows.Next() {
			var q string
			if err := rows.Scan(&q); err != nil {
				rows.Close()
				return err
			}
			stmts = append(stmts, q)
		}
		rows.Close()
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("export %s: %w", id, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `DETACH DATABASE src`); err != nil {
		return err
	}
	return db.Close()
}

// IsDatabase reports whether path names the database file or its -wal or
// -shm file, which an export must never overwrite.
func (s *Store) IsDatabase(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if db, err := os.Stat(s.path + suffix); err == nil && os.SameFile(fi, db) {
			return true
		}
	}
	return false
}
