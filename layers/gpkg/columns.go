package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"planmap/layers"
)

// A program that edits the file directly (QGIS, GDAL) may add a column to
// a layer's table, or drop one. The declaration follows (layers.
// FollowColumns) in the step of repairTriggers that makes the history
// triggers again for the new columns, so a field a GIS user adds in QGIS
// is served without an admin redeclaring the layer.

// tableColumns returns the attribute columns of table t (all but the
// INTEGER PRIMARY KEY and the geometry), typed as ReadGPKG types a
// foreign GeoPackage's columns (gpkgFieldType), and whether the table
// exists.
func tableColumns(ctx context.Context, q querier, t string) ([]layers.Column, bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, t)
	if err != nil {
		return nil, false, fmt.Errorf("columns of %s: %w", t, err)
	}
	defer rows.Close()
	var cols []layers.Column
	exists := false
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return nil, false, err
		}
		exists = true
		if pk > 0 || strings.EqualFold(name, "geom") {
			continue
		}
		c := layers.Column{Name: name}
		ft, blob, ok := gpkgFieldType(typ)
		switch {
		case blob:
			c.NoType = fmt.Sprintf("holds binary data (%s), which a layer cannot", typ)
		case !ok:
			c.NoType = fmt.Sprintf("has type %q, which is not a GeoPackage attribute type (INTEGER, REAL, TEXT, BOOLEAN, DATE, DATETIME, …)", typ)
		default:
			c.Type = ft
		}
		cols = append(cols, c)
	}
	return cols, exists, rows.Err()
}

// columnChanges returns what following its table's columns would change
// of declaration l (layers.FollowColumns): fields to add or remove, and
// the columns left out. A table that does not exist changes nothing.
func columnChanges(ctx context.Context, q querier, l *layers.Layer) (layers.ColumnChanges, error) {
	cols, exists, err := tableColumns(ctx, q, l.ID)
	if err != nil || !exists {
		return layers.ColumnChanges{Layer: l.ID}, err
	}
	_, ch := layers.FollowColumns(l, cols)
	return ch, nil
}

// followColumns gives layer id, whose table exists, the declaration that
// follows its columns, in tx, and returns what changed. The caller logs
// and records a change.
func followColumns(ctx context.Context, tx *sql.Tx, id string) (layers.ColumnChanges, error) {
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		return layers.ColumnChanges{}, err
	}
	cols, _, err := tableColumns(ctx, tx, id)
	if err != nil {
		return layers.ColumnChanges{}, err
	}
	next, ch := layers.FollowColumns(l, cols)
	if ch.Changed() {
		if err := saveLayer(ctx, tx, next, l); err != nil {
			return ch, err
		}
	}
	return ch, nil
}
