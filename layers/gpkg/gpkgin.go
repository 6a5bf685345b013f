package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// gpkgApplicationIDs are the application_id values a GeoPackage has:
// "GPKG" since version 1.2, "GP10" and "GP11" before.
var gpkgApplicationIDs = map[uint32]bool{gpkgApplicationID: true, 0x47503130: true, 0x47503131: true}

const sqliteMagic = "SQLite format 3\x00"

func init() {
	layers.RegisterInput(layers.Input{Match: isGPKG, Read: func(path string) ([]*layers.File, error) {
		return ReadGPKG(context.Background(), path)
	}})
}

// isGPKG reports whether the input file at path is to be read as a
// GeoPackage: its name says so, or it is an SQLite file (which ReadGPKG
// then refuses clearly if it is not a GeoPackage).
func isGPKG(path string) bool {
	if strings.EqualFold(filepath.Ext(path), ".gpkg") {
		return true
	}
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	magic := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(fh, magic)
	return err == nil && string(magic) == sqliteMagic
}

// ReadGPKG reads the feature tables of the GeoPackage at path as layer
// files, one File per table, named "PATH:TABLE" in messages. The file is
// only read: it is opened read-only, and nothing (not even a -wal or -shm
// file) is created beside it.
//
// A table's layer id is its name, lower-cased, with runs of other
// characters than a-z, 0-9 and _ made into _. A GeoPackage made by planmap
// carries each layer's declaration in planmap_layers, which the File then
// has as its own. Any other table declares nothing: its features add to
// the existing layer of that id, as a layer file without a declaration
// would, and when there is none the table's structure is the declaration
// (its columns the schema, its geometry type, or the one its features
// share when it is the generic GEOMETRY, and its gpkg_contents identifier
// and description as title and description in both languages). Declare
// gives it another one. BLOB columns are left out, with a warning.
//
// Features are read in fid order, the fid being the feature id; NULL
// values are absent properties. Geometries are reprojected to longitude/
// latitude from the table's CRS (Z and M coordinates dropped, with a
// warning) and checked as a layer file's are. Every problem is reported,
// as "PATH:TABLE: feature N (id X): …".
func ReadGPKG(ctx context.Context, path string) (files []*layers.File, err error) {
	defer func() {
		// The file is the user's: SQLite failing to read it is a problem
		// with the input, shown as it is.
		if err != nil && layers.ErrorCode(err) == layers.EINTERNAL && ctx.Err() == nil {
			err = layers.Errorf(layers.EINVALID, "%s", err.Error())
		}
	}()
	db, err := openGPKG(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// One read transaction: a snapshot even if QGIS writes to the file
	// meanwhile.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer tx.Rollback()

	tables, err := gpkgTables(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(tables) == 0 {
		return nil, layers.Errorf(layers.EINVALID, "%s: has no feature tables", path)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'planmap_layers'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var p layers.Problems
	ids := map[string]string{}
	for _, t := range tables {
		f, err := readTable(ctx, tx, path, t, n > 0, &p)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		if other, dup := ids[f.LayerID]; dup {
			p.Add("%s: is layer %s, as table %s is; rename one of them", f.Name, f.LayerID, other)
			continue
		}
		ids[f.LayerID] = t.name
		files = append(files, f)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return files, nil
}

// openGPKG opens the GeoPackage at path read-only, after checking that it
// is one, so that an SQLite driver never touches anything else.
func openGPKG(ctx context.Context, path string) (*sql.DB, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, layers.Errorf(layers.EINVALID, "%s: %v", path, errors.Unwrap(err))
	}
	header := make([]byte, 100)
	_, err = io.ReadFull(fh, header)
	fh.Close()
	if err != nil || string(header[:16]) != sqliteMagic {
		return nil, layers.Errorf(layers.EINVALID, "%s: is not a GeoPackage: it is not an SQLite database", path)
	}
	if id := binary.BigEndian.Uint32(header[68:]); !gpkgApplicationIDs[id] {
		return nil, layers.Errorf(layers.EINVALID, "%s: is an SQLite database but not a GeoPackage (application_id 0x%08x)", path, id)
	}
	params := []string{"mode=ro", "_pragma=busy_timeout(10000)"}
	// A file in WAL mode (header bytes 18 and 19 are 2) whose -wal file is
	// gone was closed cleanly: everything is in the main file. Reading it
	// with mode=ro alone would create -wal and -shm files beside it, so it
	// is read as immutable. When the -wal file is there, a program such as
	// QGIS may have it open and committed rows may be in it, so SQLite
	// reads it, through the -shm file that is there with it.
	if header[18] == 2 {
		if _, err := os.Stat(path + "-wal"); errors.Is(err, fs.ErrNotExist) {
			params = append(params, "immutable=1")
		}
	}
	db, err := sql.Open("sqlite", dsn(path, params...))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table'
		AND name IN ('gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys')`).Scan(&n)
	if err != nil {
		db.Close()
		return nil, layers.Errorf(layers.EINVALID, "%s: cannot be read as a GeoPackage: %v", path, err)
	}
	if n < 3 {
		db.Close()
		return nil, layers.Errorf(layers.EINVALID, "%s: is not a GeoPackage: it lacks gpkg_contents, gpkg_geometry_columns or gpkg_spatial_ref_sys", path)
	}
	return db, nil
}

// gpkgTable is a feature table as gpkg_contents, gpkg_geometry_columns
// and gpkg_spatial_ref_sys describe it.
type gpkgTable struct {
	name, identifier, description string
	geomColumn, geomType          sql.NullString
	srsID                         sql.NullInt64
	org                           sql.NullString
	orgCode                       sql.NullInt64
}

func gpkgTables(ctx context.Context, q querier) ([]gpkgTable, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.table_name, coalesce(c.identifier, ''), coalesce(c.description, ''),
		g.column_name, g.geometry_type_name, g.srs_id, s.organization, s.organization_coordsys_id
		FROM gpkg_contents c
		LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
		LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id
		WHERE lower(c.data_type) = 'features'
		ORDER BY c.table_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gpkgTable
	for rows.Next() {
		var t gpkgTable
		if err := rows.Scan(&t.name, &t.identifier, &t.description, &t.geomColumn, &t.geomType,
			&t.srsID, &t.org, &t.orgCode); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// gpkgGeometryTypes maps GeoPackage geometry type names to layer geometry
// types; GEOMETRY, the generic one, maps to "".
var gpkgGeometryTypes = map[string]string{
	"POINT": "Point", "MULTIPOINT": "MultiPoint", "LINESTRING": "LineString",
	"MULTILINESTRING": "MultiLineString", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon",
	"GEOMETRY": "",
}

// gpkgColumn is an attribute column of a feature table.
type gpkgColumn struct {
	column string // as in the table
	field  string // the property name
	typ    layers.FieldType
}

// readTable reads one feature table. Problems with its input go to p (and
// the returned File is nil then); the error is for failures to read.
func readTable(ctx context.Context, tx *sql.Tx, path string, t gpkgTable, planmap bool, p *layers.Problems) (*layers.File, error) {
	f := &layers.File{Name: path + ":" + t.name, LayerID: t.name}
	if id := sanitize(t.name); layers.ValidID(id) {
		f.LayerID = id
	}
	n0 := p.Len()
	bad := func(format string, args ...any) { p.Add("%s: %s", f.Name, fmt.Sprintf(format, args...)) }
	if !t.geomColumn.Valid {
		bad("has no row in gpkg_geometry_columns")
		return nil, nil
	}
	geomType, known := gpkgGeometryTypes[strings.ToUpper(t.geomType.String)]
	if !known {
		bad("geometry type %s is not supported: a layer holds %s", t.geomType.String, strings.Join(layers.GeometryTypes, ", "))
	}
	proj, err := gpkgCRS(t)
	if err != nil {
		bad("%v", err)
	}
	if planmap {
		l, err := getForeignLayer(ctx, tx, t.name)
		switch {
		case err == nil:
			l.Validate(p, f.Name+": ")
			f.Layer, f.LayerID = l, l.ID
		case layers.ErrorCode(err) != layers.ENOTFOUND:
			bad("planmap_layers: %v", err)
		}
	}

	fid, cols, err := gpkgColumns(ctx, tx, t, f, bad)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	if p.Len() > n0 {
		return nil, nil
	}

	sel := []string{quoteIdent(fid), quoteIdent(t.geomColumn.String)}
	for _, c := range cols {
		// The driver would turn dates and date-times into time.Time.
		if c.typ == layers.Date || c.typ == layers.DateTime {
			sel = append(sel, "CAST("+quoteIdent(c.column)+" AS TEXT)")
		} else {
			sel = append(sel, quoteIdent(c.column))
		}
	}
	// The names come from the file itself; quoteIdent quotes any name
	// safely, valid layer id or not.
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM %s ORDER BY %s`,
		strings.Join(sel, ", "), quoteIdent(t.name), quoteIdent(fid)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	defer rows.Close()
	vals := make([]any, len(sel))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	types := map[string]int{}
	zm := 0
	for i := 1; rows.Next(); i++ {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
		where := fmt.Sprintf("%s: feature %d (id %v)", f.Name, i, vals[0])
		id, ok := vals[0].(int64)
		if !ok || id <= 0 {
			p.Add("%s: the fid is not a positive integer", where)
			continue
		}
		g, dropped, err := gpkgGeometry(vals[1], proj)
		if err != nil {
			p.Add("%s: %v", where, err)
			continue
		}
		if dropped {
			zm++
		}
		props := make(map[string]any, len(cols))
		for j, c := range cols {
			v, err := gpkgValue(c.typ, vals[2+j])
			if err != nil {
				p.Add("%s: column %q %v", where, c.column, err)
			} else if v != nil {
				props[c.field] = v
			}
		}
		types[g.GeoJSONType()]++
		f.AddRaw(id, g, props)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	if zm > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s: %d features have Z or M coordinates; they were dropped", f.Name, zm))
	}
	if p.Len() > n0 || f.Layer != nil {
		return f, nil
	}

	if geomType == "" {
		var why string
		geomType, why = inferGeometryType(t.name, types)
		f.Infer(nil, why)
	}
	if geomType != "" {
		title := t.identifier
		if title == "" {
			title = t.name
		}
		l := &layers.Layer{ID: f.LayerID, Title: layers.Text{Zh: title, En: title}, GeometryType: geomType,
			Description: layers.Text{Zh: t.description, En: t.description}}
		for _, c := range cols {
			l.Schema = append(l.Schema, layers.Field{Name: c.field, Type: c.typ})
		}
		f.Infer(l, "")
	}
	return f, nil
}

// gpkgCRS returns the transform to longitude/latitude of the table's
// spatial reference system, through SourceCRS, the one place that says
// which CRSs planmap takes.
func gpkgCRS(t gpkgTable) (func(orb.Geometry) (orb.Geometry, error), error) {
	switch {
	case !t.org.Valid:
		return nil, fmt.Errorf("srs_id %d is not in gpkg_spatial_ref_sys", t.srsID.Int64)
	case strings.EqualFold(t.org.String, "EPSG"):
		return layers.SourceCRS(int(t.orgCode.Int64))
	case strings.EqualFold(t.org.String, "OGC") && t.orgCode.Int64 == 84:
		// CRS84: EPSG:4326, and GeoPackage positions are x/y anyway.
		return layers.SourceCRS(4326)
	case strings.EqualFold(t.org.String, "NONE"):
		return nil, fmt.Errorf("the CRS is undefined (srs_id %d): assign one, e.g. with ogr2ogr -a_srs EPSG:4326", t.srsID.Int64)
	}
	return nil, fmt.Errorf("crs %s:%d (srs_id %d) is not supported: %s", t.org.String, t.orgCode.Int64, t.srsID.Int64, layers.SupportedCRSs)
}

// gpkgColumns returns the feature table's id column and its attribute
// columns, reporting columns planmap cannot take through bad.
func gpkgColumns(ctx context.Context, tx *sql.Tx, t gpkgTable, f *layers.File, bad func(string, ...any)) (string, []gpkgColumn, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, t.name)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	type column struct {
		name, typ string
		pk        int
	}
	var all []column
	pks := 0
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.pk); err != nil {
			return "", nil, err
		}
		if c.pk > 0 {
			pks++
		}
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	if len(all) == 0 {
		bad("the table does not exist")
		return "", nil, nil
	}
	// The feature id is the INTEGER PRIMARY KEY; a view has none and puts
	// its id column first (GeoPackage Req 150).
	fid := ""
	for _, c := range all {
		if (c.pk == 1 && pks == 1 || pks == 0 && c.name == all[0].name) && strings.EqualFold(c.typ, "INTEGER") {
			fid = c.name
		}
	}
	if fid == "" {
		bad("has no INTEGER PRIMARY KEY column for the feature ids")
	}
	var cols []gpkgColumn
	seen := map[string]string{}
	for _, c := range all {
		if c.name == fid || strings.EqualFold(c.name, t.geomColumn.String) {
			continue
		}
		typ, blob, ok := gpkgFieldType(c.typ)
		switch {
		case blob:
			f.Warnings = append(f.Warnings, fmt.Sprintf("%s: column %q holds binary data (%s), which a layer cannot; it was left out", f.Name, c.name, c.typ))
			continue
		case !ok:
			bad("column %q has type %q, which is not a GeoPackage attribute type (INTEGER, REAL, TEXT, BOOLEAN, DATE, DATETIME, …)", c.name, c.typ)
			continue
		}
		field := sanitize(c.name)
		if !layers.ValidIdent(field) {
			field = c.name
		}
		if other, dup := seen[field]; dup {
			bad("columns %q and %q both become property %q", other, c.name, field)
			continue
		}
		seen[field] = c.name
		cols = append(cols, gpkgColumn{column: c.name, field: field, typ: typ})
	}
	return fid, cols, nil
}

// gpkgFieldType maps a GeoPackage column type (GeoPackage 1.4 Table 1) to
// a field type; blob is true for BLOB.
func gpkgFieldType(decl string) (t layers.FieldType, blob, ok bool) {
	d := strings.ToUpper(strings.TrimSpace(decl))
	if i := strings.IndexByte(d, '('); i >= 0 {
		d = strings.TrimSpace(d[:i])
	}
	switch d {
	case "INTEGER", "INT", "SMALLINT", "MEDIUMINT", "TINYINT", "BIGINT":
		return layers.Integer, false, true
	case "REAL", "DOUBLE", "FLOAT":
		return layers.Number, false, true
	case "TEXT":
		return layers.String, false, true
	case "BOOLEAN":
		return layers.Boolean, false, true
	case "DATE":
		return layers.Date, false, true
	case "DATETIME":
		return layers.DateTime, false, true
	case "BLOB":
		return "", true, true
	}
	return "", false, false
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// sanitize lower-cases a table or column name and turns every run of
// characters an identifier cannot have into _.
func sanitize(name string) string {
	return notIdent.ReplaceAllString(strings.ToLower(name), "_")
}

// gpkgGeometry decodes a geometry blob, dropping Z and M coordinates
// (dropped says whether it did), reprojects it to longitude/latitude and
// checks it as a layer file's geometry is checked.
func gpkgGeometry(v any, toLonLat func(orb.Geometry) (orb.Geometry, error)) (g orb.Geometry, dropped bool, err error) {
	if v == nil {
		return nil, false, errors.New("has no geometry")
	}
	blob, ok := v.([]byte)
	if !ok {
		return nil, false, fmt.Errorf("geometry: %w", geo.ErrNotGPKGBlob)
	}
	g, dropped, err = geo.DecodeGPKGXY(blob)
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("geometry: %w", err)
	case g == nil:
		return nil, false, fmt.Errorf("geometry: %w", geo.ErrEmptyGeometry)
	}
	if _, ok := g.(orb.Collection); ok {
		return nil, false, fmt.Errorf("geometry: %w", geo.ErrCollection)
	}
	if g, err = toLonLat(g); err != nil {
		return nil, false, fmt.Errorf("geometry: %w", err)
	}
	if err := geo.Validate(g); err != nil {
		return nil, false, fmt.Errorf("%s: %w", g.GeoJSONType(), err)
	}
	return g, dropped, nil
}

// gpkgValue turns a column value into what a layer file's JSON decodes to
// (string, json.Number, bool), so that File.Check converts and checks it
// the same way; nil stays nil, an absent property.
func gpkgValue(t layers.FieldType, v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case int64:
		// GeoPackage stores BOOLEAN as 0 or 1.
		if t == layers.Boolean && (v == 0 || v == 1) {
			return v == 1, nil
		}
		return json.Number(strconv.FormatInt(v, 10)), nil
	case float64:
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64)), nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case []byte:
		return nil, errors.New("holds binary data, not a value")
	}
	return nil, fmt.Errorf("holds a value of type %T", v)
}

// inferGeometryType returns the layer geometry type of a table declared
// with the generic GEOMETRY from the types its features have: one type,
// or a type and its Multi form, which is then the layer's. Otherwise it
// returns "" and why.
func inferGeometryType(table string, types map[string]int) (string, string) {
	if len(types) == 0 {
		return "", fmt.Sprintf("table %s declares the generic geometry type GEOMETRY and has no features to tell the type from", table)
	}
	var names []string
	multi := false
	for t := range types {
		names = append(names, t)
		multi = multi || strings.HasPrefix(t, "Multi")
	}
	sort.Strings(names)
	base := strings.TrimPrefix(names[0], "Multi")
	for _, t := range names {
		if strings.TrimPrefix(t, "Multi") != base {
			return "", fmt.Sprintf("table %s declares the generic geometry type GEOMETRY and holds %s", table, strings.Join(names, ", "))
		}
	}
	if multi {
		return "Multi" + base, ""
	}
	return base, ""
}

// getForeignLayer reads the declaration of layer id from a planmap
// GeoPackage written by any release: one from before migration 0007 has no
// rules column, and its layers no rules.
func getForeignLayer(ctx context.Context, q querier, id string) (*layers.Layer, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('planmap_layers') WHERE name = 'rules'`).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return getLayer(ctx, q, id)
	}
	cols := strings.Replace(layerColumns, ", rules", ", '[]' AS rules", 1)
	l, err := scanLayer(q.QueryRowContext(ctx, `SELECT `+cols+` FROM planmap_layers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	}
	return l, err
}
