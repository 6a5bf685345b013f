package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// SRSID is the spatial reference system of every feature table: WGS 84
// longitude/latitude (EPSG:4326), which is what GeoJSON carries.
const SRSID = 4326

// Import checks the files and, when every one is right, writes them in a
// single transaction: a new layer is created from its declaration; into an
// existing one features are added or updated by id (or, with Replace,
// swapped as a whole). When anything is wrong the database is left exactly
// as it was and the error lists every problem.
//
// The features are checked and written one at a time (layers.Stream), so
// a file from layers.OpenFile of any size is imported in bounded memory.
// Writing k features into an existing layer costs O(k): nothing reads the
// layer's other features unless a new declaration narrows its schema.
func (s *Store) Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error) {
	w, err := s.writer()
	if err != nil {
		return nil, err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	// A page cache large enough for the R-tree and the table's last pages
	// of a bulk write; set back to SQLite's default after, once the
	// transaction has let go of the one connection, which is reused.
	defer func() {
		tx.Rollback()
		w.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -2000`)
	}()
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		return nil, err
	}
	// The history records the import's changes as planmap's, not as a
	// direct edit of the file.
	first, err := setContext(ctx, tx, "", importNote)
	if err != nil {
		return nil, err
	}
	im := &importer{tx: tx, opt: opt}
	if s.CheckRules != nil {
		if err := im.beginChecks(ctx, files); err != nil {
			return nil, err
		}
	}
	// Checked inside the write transaction, so that what was checked is
	// what is written even when another process imports at the same time.
	err = layers.Stream(ctx, func(ctx context.Context, id string) (*layers.Layer, error) {
		return getLayer(ctx, tx, id)
	}, files, opt.Replace, im)
	im.close()
	im.checks.close()
	if err != nil {
		if ctx.Err() != nil {
			// Canceled, database/sql rolls the transaction back itself
			// and closes its statements: the error of whatever ran then
			// ("statement is closed") would hide the cause.
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := im.p.Err(); err != nil {
		return nil, err
	}
	if err := s.checkImportRules(ctx, im); err != nil {
		return nil, err
	}
	if err := clearContext(ctx, tx, first); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// A reader of this store sees the import as soon as it returns. The
	// import is committed whatever the refresh says: a failed refresh is
	// reported, not returned (a caller would take it for an import that
	// wrote nothing), and the watcher catches up.
	s.follow.AfterWrite(ctx, "after an import")
	return im.results, nil
}

// importNote is the note of the versions an import begins.
const importNote = "planmap import"

// importer writes the plans of an import as layers.Stream checks them.
type importer struct {
	tx      *sql.Tx
	opt     layers.ImportOptions
	results []layers.ImportResult
	p       layers.Problems // of stored features, found by recheck
	// declaration: the import is of a declaration alone, sent over
	// HTTP (admin.go), not of a layer file.
	declaration bool
	checks      *importChecks // the planning rules, nil: not asked

	// The plan being written.
	w     layers.PlanWrite
	whole bool         // every feature of the layer is written now
	ins   *batchInsert // the upsert of its features, insertBatch rows at a time
	row   []any        // one feature's values, reused
	blob  []byte       // the geometries of the rows queued, end to end
	boxes []rtreeBox   // of a layer written whole, for loadRTree
}

// insertBatch is the number of rows an INSERT of an import writes. Into a
// layer with triggers, each statement also saves every page it changes to
// a statement journal first: once per batch. The triggers still log each
// row, and the rules have noted each feature's geometry before it is
// queued. An id twice in one statement is written as row by row:
// inserted, then updated.
const insertBatch = 64

func (im *importer) close() {
	if im.ins != nil {
		im.ins.close()
		im.ins = nil
	}
}

// Begin creates, rebuilds or alters the layer's table as the plan says.
// A layer written whole (new, rebuilt or replaced) is written without its
// change-log and R-tree triggers: End logs the layer once and loads its
// index in one go (loadRTree).
func (im *importer) Begin(ctx context.Context, pl *layers.Plan) error {
	tx, opt, l := im.tx, im.opt, pl.Layer
	im.w = layers.BeginPlan(pl, opt)
	if pl.Stored != nil && opt.Replace {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(l.ID)).Scan(&im.w.Result.Removed); err != nil {
			return err
		}
	}
	im.whole = pl.Whole(opt.Replace)
	if err := im.planChecks(ctx, pl); err != nil {
		return err
	}
	if im.whole && pl.Stored != nil {
		// Written again whole, without a history row per feature: the
		// versions current now end here, each with its state.
		if err := closeVersions(ctx, tx, l.ID); err != nil {
			return err
		}
		if err := dropChangeTriggers(ctx, tx, l.ID); err != nil {
			return err
		}
		if err := dropHistoryTriggers(ctx, tx, l.ID); err != nil {
			return err
		}
	}
	switch {
	case pl.Stored == nil:
		if err := createLayer(ctx, tx, l); err != nil {
			return err
		}
	case pl.Rebuild:
		// The new table's ids go on from the highest the old one used.
		last, err := lastFID(ctx, tx, l.ID)
		if err != nil {
			return err
		}
		if err := historyRedeclared(ctx, tx, pl.Stored, l); err != nil {
			return err
		}
		if err := dropLayer(ctx, tx, l.ID); err != nil {
			return err
		}
		if err := createLayer(ctx, tx, l); err != nil {
			return err
		}
		if err := setLastFID(ctx, tx, l.ID, last); err != nil {
			return err
		}
	default:
		for _, fd := range pl.AddCols {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s ADD COLUMN %s %s`,
				quoteIdent(l.ID), quoteIdent(fd.Name), layers.SQLTypes[fd.Type])); err != nil {
				return err
			}
		}
		if len(pl.AddCols) > 0 && !opt.Replace {
			// The versions keep the new columns too.
			if err := createHistoryTriggers(ctx, tx, l.ID); err != nil {
				return err
			}
		}
		if opt.Replace {
			// Emptied without the R-tree's delete trigger, row by row.
			if err := dropRTreeTriggers(ctx, tx, l.ID); err != nil {
				return err
			}
			for _, t := range []string{l.ID, "rtree_" + l.ID + "_geom"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(t)); err != nil {
					return err
				}
			}
		}
		if pl.File.Layer != nil {
			if err := saveLayer(ctx, tx, l, pl.Stored); err != nil {
				return err
			}
		}
	}
	im.boxes = nil
	if im.whole {
		if err := dropRTreeTriggers(ctx, tx, l.ID); err != nil {
			return err
		}
		// Sized once: grown by appends, a million boxes cost a fifth
		// of the writer's time in copies.
		// Len is counted before the features are parsed: capped, so
		// that a file of empty elements cannot ask for 24 bytes each.
		im.boxes = make([]rtreeBox, 0, min(pl.File.Len(), 1<<20))
	}
	return im.prepare(ctx, l)
}

// prepare makes the INSERT that adds or updates features by id. An
// updated feature gets exactly the new properties: one that it no longer
// has becomes NULL. Its statements run without ctx's Done channel (see
// Write).
func (im *importer) prepare(ctx context.Context, l *layers.Layer) error {
	cols, sets := layers.UpsertColumns(l, quoteIdent)
	im.close()
	im.ins = newBatchInsert(context.WithoutCancel(ctx), im.tx,
		fmt.Sprintf(`INSERT INTO %s (%s) VALUES `, quoteIdent(l.ID), strings.Join(cols, ", ")),
		len(cols), insertBatch, ` ON CONFLICT (fid) DO UPDATE SET `+strings.Join(sets, ", "))
	im.row, im.blob = make([]any, 0, len(cols)), im.blob[:0]
	return nil
}

// Write queues one feature to be added or updated, and writes the
// features queued once there are insertBatch of them.
func (im *importer) Write(ctx context.Context, pl *layers.Plan, f layers.Feature) error {
	// The writer's statements run without ctx's Done channel: given one,
	// the driver starts a goroutine per statement to interrupt it, a
	// second of CPU in a million rows. A statement of 64 rows ends in
	// well under a millisecond, so ctx is checked here once per feature
	// instead.
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	l := pl.Layer
	var err error
	if f.ID, err = im.w.ID(f, func() (int64, error) {
		// The highest id used counts the features queued.
		if err := im.flush(pl); err != nil {
			return 0, err
		}
		return lastFID(ctx, im.tx, l.ID)
	}); err != nil {
		return err
	}
	if err := im.noteWas(ctx, l.ID, f.ID); err != nil {
		return err
	}
	// The rows queued keep slices of blob: one that grows leaves them
	// in the array they were written to, which stays as it was.
	start := len(im.blob)
	if im.blob, err = geo.AppendGPKG(im.blob, f.Geometry, SRSID); err != nil {
		return fmt.Errorf("%s: feature %d: %w", pl.File.Name, f.ID, err)
	}
	im.row = layers.AppendValues(append(im.row[:0], f.ID, im.blob[start:]), l, f.Properties)
	if err := im.ins.add(im.row...); err != nil {
		return writeError(pl, err, fmt.Sprintf("the %d features up to feature %d", im.ins.rows, f.ID))
	}
	if im.ins.queued() == 0 {
		im.blob = im.blob[:0]
	}
	if im.whole {
		im.boxes = append(im.boxes, newRTreeBox(f.ID, f.Geometry.Bound()))
	}
	im.w.Wrote()
	return nil
}

// flush writes the features queued.
func (im *importer) flush(pl *layers.Plan) error {
	if n := im.ins.queued(); n > 0 {
		if err := im.ins.write(); err != nil {
			return writeError(pl, err, fmt.Sprintf("the last %d features", n))
		}
	}
	im.blob = im.blob[:0]
	return nil
}

// writeError says which feature a failed write of features is of, when
// failingRow found its row (a row begins with the feature's id), or else
// which features (batch).
func writeError(pl *layers.Plan, err error, batch string) error {
	var re *rowError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: feature %v: %w", pl.File.Name, re.first, re.err)
	}
	return fmt.Errorf("%s: %s: %w", pl.File.Name, batch, err)
}

// End logs a layer written whole, rechecks the stored
// features against a narrowed declaration, and updates gpkg_contents.
func (im *importer) End(ctx context.Context, pl *layers.Plan) error {
	tx, l := im.tx, pl.Layer
	if err := im.flush(pl); err != nil {
		return err
	}
	im.close()
	im.w.End(pl)
	if im.whole {
		if err := loadRTree(ctx, tx, l.ID, im.boxes); err != nil {
			return err
		}
		im.boxes = nil
		if err := createRTreeTriggers(ctx, tx, l.ID); err != nil {
			return err
		}
		// Written without a change row per feature: the layer is new or
		// replaced, and readers read it again as a whole.
		if err := createChangeTriggers(ctx, tx, l.ID); err != nil {
			return err
		}
		if err := logLayer(ctx, tx, l.ID); err != nil {
			return err
		}
		// One history row for the whole write: a compact history of a
		// bulk import, which the triggers would have written per feature.
		if err := createHistoryTriggers(ctx, tx, l.ID); err != nil {
			return err
		}
		var err error
		if pl.Stored == nil {
			err = historyLayer(ctx, tx, l.ID, importNote)
		} else {
			err = historyReplaced(ctx, tx, l.ID, importNote)
		}
		if err != nil {
			return err
		}
	} else if pl.File.Layer != nil && !layers.SameDeclaration(pl.Stored, l) {
		// A redeclared layer: its title, style or fields changed.
		if err := logLayer(ctx, tx, l.ID); err != nil {
			return err
		}
	}
	if pl.Stored != nil && pl.File.Layer != nil && !im.opt.Replace && !layers.SameSchema(pl.Stored, pl.Layer) {
		if err := recheck(ctx, tx, *pl, im.declaration, &im.p); err != nil {
			return err
		}
	}
	if err := updateContents(ctx, tx, l.ID); err != nil {
		return err
	}
	im.results = append(im.results, im.w.Result)
	return nil
}

// createLayer creates the feature table of l with its GeoPackage
// registration and R-tree index, and stores the declaration.
func createLayer(ctx context.Context, tx *sql.Tx, l *layers.Layer) error {
	t := quoteIdent(l.ID)
	gt, ok := layers.SQLGeometryTypes[l.GeometryType]
	if !ok {
		return layers.Errorf(layers.EINVALID, "layer %s: geometryType %q is not one of %s", l.ID, l.GeometryType, strings.Join(layers.GeometryTypes, ", "))
	}
	// AUTOINCREMENT: an id is never given out again, even the highest
	// after its feature is deleted (the id of a deleted feature stays
	// retired, and its URL answers 410 Gone).
	cols := []string{"fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL", "geom " + gt + " NOT NULL"}
	for _, fd := range l.Schema {
		cols = append(cols, quoteIdent(fd.Name)+" "+layers.SQLTypes[fd.Type])
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (\n  %s\n)", t, strings.Join(cols, ",\n  "))); err != nil {
		return fmt.Errorf("create table %s: %w", l.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
		VALUES (?, 'features', ?, ?, ?)`, l.ID, l.ID, contentsDescription(l), SRSID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
		VALUES (?, 'geom', ?, ?, 0, 0)`, l.ID, gt, SRSID); err != nil {
		return err
	}
	if err := createRTree(ctx, tx, l.ID); err != nil {
		return err
	}
	return saveLayer(ctx, tx, l, nil)
}

func contentsDescription(l *layers.Layer) string {
	d := l.Title.Zh + " / " + l.Title.En
	if l.Description.En != "" || l.Description.Zh != "" {
		d += ": " + strings.TrimSpace(l.Description.Zh+" "+l.Description.En)
	}
	return d
}

// saveLayer stores the declaration in planmap_layers and refreshes the
// gpkg_contents description and the layer's QGIS style: of a new layer
// when stored is nil, else in place of stored, which the history keeps
// if l differs from it.
func saveLayer(ctx context.Context, tx *sql.Tx, l, stored *layers.Layer) error {
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
	q := `UPDATE planmap_layers SET title_zh = ?, title_en = ?, description_zh = ?, description_en = ?,
		geometry_type = ?, sort_order = ?, schema = ?, style = ?, rules = ? WHERE id = ?`
	if insert {
		q = `INSERT INTO planmap_layers (title_zh, title_en, description_zh, description_en,
			geometry_type, sort_order, schema, style, rules, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("save layer %s: %w", l.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET description = ? WHERE table_name = ?`, contentsDescription(l), l.ID); err != nil {
		return err
	}
	return saveStyle(ctx, tx, l)
}

// createRTree sets up the gpkg_rtree_index extension for the geom column
// of table t.
func createRTree(ctx context.Context, tx *sql.Tx, t string) error {
	r := "rtree_" + t + "_geom"
	if _, err := tx.ExecContext(ctx, `CREATE VIRTUAL TABLE `+quoteIdent(r)+` USING rtree(id, minx, maxx, miny, maxy)`); err != nil {
		return fmt.Errorf("spatial index of %s: %w", t, err)
	}
	if err := createRTreeTriggers(ctx, tx, t); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
		VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec/#extension_rtree', 'write-only')`, t)
	return err
}

// rtreeTriggers are the names of the R-tree triggers of GeoPackage 1.3
// (Annex F.3), the version this file declares, and of the three 1.4 added,
// which files planmap wrote before 0003_geopackage_1_3.sql still have.
var rtreeTriggers = []string{"insert", "update1", "update2", "update3", "update4", "update5", "update6", "update7", "delete"}

// createRTreeTriggers (re)creates the R-tree triggers of table t: the six
// that GeoPackage 1.3 names, and no others. A 1.3 reader (GDAL 3.6, QGIS
// 3.22) knows these names: its validator asks for them, and when it drops
// or rebuilds the index it drops them; a trigger it did not know of would
// be left behind, pointing at a dropped table, and fail every later write.
//
// Their bodies are not those of 1.3, which break under UPSERT (the reason
// 1.4 replaced update1 and update3): an INSERT OR REPLACE inside a trigger
// takes the conflict rule of the UPSERT that fired it, so replacing the
// row of an existing feature failed with a constraint error. Here update1
// deletes the feature's box and inserts the new one, which is right
// whether or not it had one (1.4's update6 and update7), and update3 fires
// on any update, not only of geom (1.4's update5). update1 also leaves the
// box alone when the geometry's bytes are the same: an import or an edit
// of properties sets geom to what it was, and the R-tree's delete and
// insert were a third of the CPU of such an import. So such an update no
// longer mends a box that something else left wrong (GDAL with its index
// deferred, a writer cut off): only a change of the geometry does.
func createRTreeTriggers(ctx context.Context, tx *sql.Tx, t string) error {
	r := "rtree_" + t + "_geom"
	qt, qr := quoteIdent(t), quoteIdent(r)
	for _, name := range rtreeTriggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+quoteIdent(r+"_"+name)); err != nil {
			return fmt.Errorf("spatial index of %s: %w", t, err)
		}
	}
	const (
		newOK   = "(NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))"
		newNone = "(NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))"
		values  = "(NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))"
	)
	anyUpdate, geomUpdate := "AFTER UPDATE ON "+qt, "AFTER UPDATE OF geom ON "+qt
	triggers := []struct{ name, event, when, body string }{
		{"insert", "AFTER INSERT ON " + qt, "(new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))",
			"INSERT OR REPLACE INTO " + qr + " VALUES " + values + ";"},
		{"update1", geomUpdate, "OLD.fid = NEW.fid AND " + newOK + " AND NEW.geom IS NOT OLD.geom",
			"DELETE FROM " + qr + " WHERE id = NEW.fid;\n  INSERT INTO " + qr + " VALUES " + values + ";"},
		{"update2", geomUpdate, "OLD.fid = NEW.fid AND " + newNone,
			"DELETE FROM " + qr + " WHERE id = OLD.fid;"},
		{"update3", anyUpdate, "OLD.fid != NEW.fid AND " + newOK,
			"DELETE FROM " + qr + " WHERE id IN (OLD.fid, NEW.fid);\n  INSERT INTO " + qr + " VALUES " + values + ";"},
		{"update4", anyUpdate, "OLD.fid != NEW.fid AND " + newNone,
			"DELETE FROM " + qr + " WHERE id IN (OLD.fid, NEW.fid);"},
		{"delete", "AFTER DELETE ON " + qt, "old.geom NOT NULL",
			"DELETE FROM " + qr + " WHERE id = OLD.fid;"},
	}
	for _, tr := range triggers {
		q := fmt.Sprintf("CREATE TRIGGER %s %s\n  WHEN %s\nBEGIN\n  %s\nEND", quoteIdent(r+"_"+tr.name), tr.event, tr.when, tr.body)
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("spatial index of %s: %w", t, err)
		}
	}
	return nil
}

// dropRTreeTriggers removes the R-tree triggers of table t, for emptying
// it and its index at once.
func dropRTreeTriggers(ctx context.Context, tx *sql.Tx, t string) error {
	for _, name := range rtreeTriggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+quoteIdent("rtree_"+t+"_geom_"+name)); err != nil {
			return fmt.Errorf("spatial index of %s: %w", t, err)
		}
	}
	return nil
}

// dropLayer removes layer id: its table, index, registrations and
// declaration.
func dropLayer(ctx context.Context, tx *sql.Tx, id string) error {
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM planmap_layers WHERE id = ?`, []any{id}},
		{`DELETE FROM layer_styles WHERE f_table_name = ?`, []any{id}},
		{`DELETE FROM gpkg_extensions WHERE table_name = ?`, []any{id}},
		{`DELETE FROM gpkg_geometry_columns WHERE table_name = ?`, []any{id}},
		{`DELETE FROM gpkg_contents WHERE table_name = ?`, []any{id}},
		{`DROP TABLE IF EXISTS ` + quoteIdent("rtree_"+id+"_geom"), nil},
		{`DROP TABLE IF EXISTS ` + quoteIdent(id), nil},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("drop layer %s: %w", id, err)
		}
	}
	return nil
}

// updateContents refreshes the layer's extent and last change time in
// gpkg_contents. The extent is exact, read through the R-tree's root
// (extent): O(log n), not a scan of every geometry.
func updateContents(ctx context.Context, tx *sql.Tx, id string) error {
	b, _, err := extent(ctx, tx, id)
	if err != nil {
		return err
	}
	var box [4]any // NULL for an empty layer
	if b != (orb.Bound{}) {
		box = [4]any{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	_, err = tx.ExecContext(ctx, `UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?,
		last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
		WHERE table_name = ?`, box[0], box[1], box[2], box[3], id)
	return err
}

// recheck checks every stored feature of the plan's layer, as it is after
// the plan was written, against the new declaration (layers.Recheck).
func recheck(ctx context.Context, tx *sql.Tx, pl layers.Plan, declaration bool, p *layers.Problems) error {
	return eachFeature(ctx, tx, pl.Layer, layers.Recheck(pl, declaration, p))
}
