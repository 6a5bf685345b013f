package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/ewkb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// sqlTypes are the PostgreSQL column types of the field types.
var sqlTypes = map[layers.FieldType]string{
	layers.String: "text", layers.Integer: "bigint", layers.Number: "double precision",
	layers.Boolean: "boolean", layers.Date: "date", layers.DateTime: "timestamptz",
}

// writeLock is the lock every writer of the change log takes first
// (migrations/0001_layers.sql): an import takes it at once, so that
// imports take turns, as in the GeoPackage store's single writer.
const writeLock = 7231450016

// beginWriting begins a transaction that holds the writers' lock.
func (s *Store) beginWriting(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := lockWriters(ctx, tx); err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// lockWriters takes the writers' lock in tx, until it ends.
func lockWriters(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(writeLock))
	return err
}

// Import checks the files and, when every one is right, writes them in a
// single transaction: a new layer is created from its declaration; into an
// existing one features are added or updated by id (or, with Replace,
// swapped as a whole). When anything is wrong the database is left as it
// was and the error lists every problem. Features are checked one at a
// time (layers.Stream) and streamed, as they are checked, into one COPY
// per file (importcopy.go): into a new or rebuilt layer's table directly,
// its index and triggers made after; into an existing one through a
// staging table, from which one INSERT … ON CONFLICT writes them.
func (s *Store) Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error) {
	tx, err := s.beginWriting(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	// The versions the import begins are the import's (history.go).
	if err := setContext(ctx, tx, layers.Edit{Note: importNote}); err != nil {
		return nil, err
	}
	im := &importer{tx: tx, opt: opt}
	// Before the rollback: the transaction's connection is free again.
	defer im.stopCopy()
	if err := im.beginChecks(ctx, files); err != nil {
		return nil, err
	}
	// Checked inside the write transaction, under the lock, so that what
	// was checked is what is written.
	err = layers.Stream(ctx, func(ctx context.Context, id string) (*layers.Layer, error) {
		// A file Stream stopped writing may have left its COPY open.
		if err := im.stopCopy(); err != nil {
			return nil, err
		}
		return getLayer(ctx, tx, id)
	}, files, opt.Replace, im)
	if err != nil {
		return nil, err
	}
	if err := im.p.Err(); err != nil {
		return nil, err
	}
	// The planning rules, once every file is written (importrules.go).
	if err := checkImportRules(ctx, tx, im.checks); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	// A reader of this store sees the import as soon as it returns. The
	// import is committed whatever the refresh says: a failed refresh is
	// reported, not returned (a caller would take it for an import that
	// wrote nothing), and the watcher catches up.
	s.follow.AfterWrite(ctx, "after an import")
	return im.results, nil
}

// importer writes the plans of an import as layers.Stream checks them.
type importer struct {
	tx      pgx.Tx
	opt     layers.ImportOptions
	results []layers.ImportResult
	p       layers.Problems // of stored features, found by recheck
	// declaration: the import is of a declaration alone, sent over
	// HTTP (admin.go).
	declaration bool
	checks      *layers.ImportRules // nil: no file's layer is one a rule is about

	// The plan being written.
	w     layers.PlanWrite
	whole bool // every feature of the layer is written now
	fresh bool // into a table created now (fresh), not the staging table
	copy  *copier
}

// stage is the staging table of the layer being imported: a temporary
// table, this transaction's own.
const stage = "planmap_stage"

// Begin creates, rebuilds or alters the layer's table as the plan says,
// and creates the staging table. A layer written whole (new, rebuilt or
// replaced) is written with planmap.bulk set, so the trigger logs no row
// per feature: End logs the layer once.
func (im *importer) Begin(ctx context.Context, pl *layers.Plan) error {
	tx, opt, l := im.tx, im.opt, pl.Layer
	if err := im.stopCopy(); err != nil {
		return err
	}
	t, err := checkedTable(l.ID)
	if err != nil {
		return layers.Errorf(layers.EINVALID, "layer id %q is not valid", l.ID)
	}
	im.w = layers.BeginPlan(pl, opt)
	if pl.Stored != nil && opt.Replace {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+t).Scan(&im.w.Result.Removed); err != nil {
			return err
		}
	}
	im.whole = pl.Whole(opt.Replace)
	im.fresh = fresh(pl)
	// Before the table is emptied or dropped.
	if err := im.planChecks(ctx, pl); err != nil {
		return err
	}
	if im.whole {
		if _, err := tx.Exec(ctx, `SELECT set_config('planmap.bulk', 'on', true)`); err != nil {
			return err
		}
	}
	switch {
	case pl.Stored == nil:
		if err := createTable(ctx, tx, l); err != nil {
			return err
		}
	case pl.Rebuild:
		// The features' ids stay retired (planmap_retired): the new
		// table's ids go on from the highest the old one used.
		if err := closeVersions(ctx, tx, l.ID); err != nil {
			return err
		}
		if err := historyRedeclared(ctx, tx, pl.Stored, l); err != nil {
			return err
		}
		if err := retireAll(ctx, tx, l.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM planmap_layers WHERE id = $1`, l.ID); err != nil {
			return err
		}
		if err := createTable(ctx, tx, l); err != nil {
			return err
		}
	default:
		for _, fd := range pl.AddCols {
			if !layers.ValidIdent(fd.Name) {
				return layers.Errorf(layers.EINVALID, "layer %s: field name %q is not valid", l.ID, fd.Name)
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` ADD COLUMN `+quoteIdent(fd.Name)+` `+sqlTypes[fd.Type]); err != nil {
				return err
			}
		}
		if opt.Replace {
			if err := closeVersions(ctx, tx, l.ID); err != nil {
				return err
			}
			if err := retireAll(ctx, tx, l.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM `+t); err != nil {
				return err
			}
		}
		if pl.File.Layer != nil {
			if err := saveLayer(ctx, tx, l, pl.Stored); err != nil {
				return err
			}
		}
	}
	// The first new id, asked now: while the COPY runs, the transaction
	// is its.
	if _, err := im.w.ID(layers.Feature{}, func() (int64, error) { return lastFID(ctx, tx, l.ID) }); err != nil {
		return err
	}
	cols := []string{"fid", "geom"}
	for _, fd := range l.Schema {
		cols = append(cols, fd.Name)
	}
	if im.fresh {
		im.copy = startCopy(ctx, tx, l.ID, cols)
		return nil
	}
	// The staging table: dates as text, cast by the INSERT.
	defs := []string{"fid bigint", "geom bytea"}
	for _, fd := range l.Schema {
		typ := sqlTypes[fd.Type]
		if fd.Type == layers.Date || fd.Type == layers.DateTime {
			typ = "text"
		}
		defs = append(defs, quoteIdent(fd.Name)+" "+typ)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.`+stage); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+stage+` (`+strings.Join(defs, ", ")+`) ON COMMIT DROP`); err != nil {
		return err
	}
	im.copy = startCopy(ctx, tx, stage, cols)
	return nil
}

// Write adds or updates one feature: handed to the COPY.
func (im *importer) Write(ctx context.Context, pl *layers.Plan, f layers.Feature) error {
	l := pl.Layer
	var err error
	// Begin asked for the first new id: last is not called.
	if f.ID, err = im.w.ID(f, nil); err != nil {
		return err
	}
	var blob []byte
	if im.fresh {
		// Into the geometry column as it is: EWKB, with the SRID.
		blob, err = ewkb.Marshal(f.Geometry, SRID)
	} else {
		blob, err = wkb.Marshal(f.Geometry)
	}
	if err != nil {
		return fmt.Errorf("%s: feature %d: %w", pl.File.Name, f.ID, err)
	}
	row := layers.AppendValues(append(make([]any, 0, 2+len(l.Schema)), f.ID, blob), l, f.Properties)
	if im.fresh {
		for j, fd := range l.Schema {
			if row[2+j], err = copyValue(fd, row[2+j]); err != nil {
				return fmt.Errorf("%s: feature %d: %s: %w", pl.File.Name, f.ID, fd.Name, err)
			}
		}
	}
	if err := im.copy.add(row); err != nil {
		return fmt.Errorf("%s: %w", pl.File.Name, err)
	}
	im.w.Wrote()
	return nil
}

// End writes the staged features into the layer's table, logs a layer
// written whole or redeclared, and rechecks the stored features against a
// narrowed declaration.
func (im *importer) End(ctx context.Context, pl *layers.Plan) error {
	tx, l := im.tx, pl.Layer
	if err := im.stopCopy(); err != nil {
		return fmt.Errorf("%s: %w", pl.File.Name, err)
	}
	im.w.End(pl)
	if im.fresh {
		if err := finishTable(ctx, tx, l.ID); err != nil {
			return fmt.Errorf("%s: %w", pl.File.Name, err)
		}
	} else if err := im.insertStaged(ctx, pl); err != nil {
		return err
	}
	if im.whole {
		if _, err := tx.Exec(ctx, `SELECT set_config('planmap.bulk', 'off', true)`); err != nil {
			return err
		}
		// Written without a change row per feature: the layer is new or
		// replaced, and readers read it again as a whole.
		if err := logLayer(ctx, tx, l.ID); err != nil {
			return err
		}
		// And one history row, which begins a version of every feature,
		// after the deletes of a replaced layer's features it has no more.
		historyFn := historyLayer
		if pl.Stored != nil {
			historyFn = historyReplaced
		}
		if err := historyFn(ctx, tx, l.ID); err != nil {
			return err
		}
	} else if pl.File.Layer != nil && !layers.SameDeclaration(pl.Stored, l) {
		// A redeclared layer: its title, style or fields changed.
		if err := logLayer(ctx, tx, l.ID); err != nil {
			return err
		}
	}
	if pl.Stored != nil && pl.File.Layer != nil && !im.opt.Replace && !layers.SameSchema(pl.Stored, l) {
		if err := recheck(ctx, tx, *pl, im.declaration, &im.p); err != nil {
			return err
		}
	}
	im.results = append(im.results, im.w.Result)
	return nil
}

// insertStaged writes the staged features of plan pl into its layer's
// table, added or updated by id.
func (im *importer) insertStaged(ctx context.Context, pl *layers.Plan) error {
	tx, l := im.tx, pl.Layer
	cols, sets := layers.UpsertColumns(l, quoteIdent)
	// The staged values, dates cast from their text.
	vals := append([]string{"fid", fmt.Sprintf("ST_SetSRID(ST_GeomFromWKB(geom), %d)", SRID)}, cols[2:]...)
	for j, fd := range l.Schema {
		if fd.Type == layers.Date || fd.Type == layers.DateTime {
			vals[2+j] += "::" + sqlTypes[fd.Type]
		}
	}
	// Before the staged features overwrite the stored ones.
	if err := im.noteWas(ctx, pl); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s ORDER BY fid ON CONFLICT (fid) DO UPDATE SET %s`,
		quoteIdent(l.ID), strings.Join(cols, ", "), strings.Join(vals, ", "), stage, strings.Join(sets, ", "))); err != nil {
		return fmt.Errorf("%s: %w", pl.File.Name, err)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE pg_temp.`+stage); err != nil {
		return err
	}
	return nil
}

// createTable creates the feature table of l and stores the
// declaration. Every identifier was checked: the layer id by ValidID,
// field names by ValidIdent. The import fills the table, then gives it
// its GiST index and its writers' lock and change-log triggers
// (finishTable).
func createTable(ctx context.Context, tx pgx.Tx, l *layers.Layer) error {
	t, err := checkedTable(l.ID)
	if err != nil {
		return layers.Errorf(layers.EINVALID, "layer id %q is not valid", l.ID)
	}
	gt, ok := layers.SQLGeometryTypes[l.GeometryType]
	if !ok {
		return layers.Errorf(layers.EINVALID, "layer %s: geometryType %q is not one of %s", l.ID, l.GeometryType, strings.Join(layers.GeometryTypes, ", "))
	}
	// A writer that gives no id gets the next one (migrations/0003).
	// The id is a checked layer id: a literal of it needs no escaping.
	cols := []string{"fid bigint PRIMARY KEY DEFAULT planmap_next_fid('" + l.ID + "')", fmt.Sprintf("geom geometry(%s, %d) NOT NULL", gt, SRID)}
	for _, fd := range l.Schema {
		typ, ok := sqlTypes[fd.Type]
		if !layers.ValidIdent(fd.Name) || !ok {
			return layers.Errorf(layers.EINVALID, "layer %s: field %q of type %q cannot be stored", l.ID, fd.Name, fd.Type)
		}
		cols = append(cols, quoteIdent(fd.Name)+" "+typ)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (\n  %s\n)", t, strings.Join(cols, ",\n  "))); err != nil {
		return fmt.Errorf("create layer %s: %w", l.ID, err)
	}
	return saveLayer(ctx, tx, l, nil)
}

// indexName is the name of layer id's GiST index, within PostgreSQL's 63
// bytes (an id may have 63 itself).
func indexName(id string) string {
	const suffix = "_geom"
	if len(id)+len(suffix) > 63 {
		id = id[:63-len(suffix)]
	}
	return id + suffix
}

// saveLayer stores the declaration in planmap_layers: of a new layer when
// stored is nil, else in place of stored, which the history keeps if l
// differs from it.
func saveLayer(ctx context.Context, tx pgx.Tx, l, stored *layers.Layer) error {
	insert := stored == nil
	if !insert {
		if err := historyRedeclared(ctx, tx, stored, l); err != nil {
			return err
		}
	}
	schema, style, rules, err := layers.DeclarationColumns(l)
	if err != nil {
		return err
	}
	args := []any{l.Title.Zh, l.Title.En, l.Description.Zh, l.Description.En, l.GeometryType, l.Order, schema, style, rules, l.ID}
	q := `UPDATE planmap_layers SET title_zh = $1, title_en = $2, description_zh = $3, description_en = $4,
		geometry_type = $5, sort_order = $6, schema = $7, style = $8, rules = $9 WHERE id = $10`
	if insert {
		q = `INSERT INTO planmap_layers (title_zh, title_en, description_zh, description_en,
			geometry_type, sort_order, schema, style, rules, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("save layer %s: %w", l.ID, err)
	}
	return nil
}

// retireAll records every feature of layer id as retired, before a write
// that removes them all.
func retireAll(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `INSERT INTO planmap_retired (layer, fid) SELECT $1, fid FROM `+quoteIdent(id)+` ON CONFLICT DO NOTHING`, id)
	return err
}

// lastFID is the highest id layer id has ever given a feature.
func lastFID(ctx context.Context, tx pgx.Tx, id string) (int64, error) {
	var top int64
	err := tx.QueryRow(ctx, `SELECT greatest((SELECT coalesce(max(fid), 0) FROM `+quoteIdent(id)+`),
		(SELECT coalesce(max(fid), 0) FROM planmap_retired WHERE layer = $1))`, id).Scan(&top)
	return top, err
}

// logLayer records that layer id changed as a whole.
func logLayer(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `INSERT INTO planmap_changes (layer, fid, op) VALUES ($1, 0, 'layer')`, id)
	return err
}

// recheck checks every stored feature of the plan's layer against the new
// declaration (layers.Recheck), as the GeoPackage store does.
func recheck(ctx context.Context, tx pgx.Tx, pl layers.Plan, declaration bool, p *layers.Problems) error {
	return eachRow(ctx, tx, pl.Layer, selectColumns(pl.Layer)+" ORDER BY fid", nil, layers.Recheck(pl, declaration, p))
}
