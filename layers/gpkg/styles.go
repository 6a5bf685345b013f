package gpkg

import (
	"context"
	"database/sql"
	"fmt"

	"planmap/layers"
)

// saveStyle writes the layer's style into layer_styles as the default
// style of its feature table, replacing the one planmap wrote before.
func saveStyle(ctx context.Context, tx *sql.Tx, l *layers.Layer) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM layer_styles WHERE f_table_name = ? AND owner = 'planmap'`, l.ID); err != nil {
		return fmt.Errorf("style of %s: %w", l.ID, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,
		f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui)
		VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'planmap', '')`,
		l.ID, l.ID, l.QML(), l.Title.Zh+" / "+l.Title.En)
	if err != nil {
		return fmt.Errorf("style of %s: %w", l.ID, err)
	}
	return nil
}

// saveStyles rewrites the style of every layer: after a migration, which
// may come with a planmap that draws them differently.
func saveStyles(ctx context.Context, tx *sql.Tx) error {
	ls, err := listLayers(ctx, tx)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if err := saveStyle(ctx, tx, l); err != nil {
			return err
		}
	}
	return nil
}
