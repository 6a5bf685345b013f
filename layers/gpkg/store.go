package gpkg

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"planmap/layers"

	"modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const gpkgApplicationID = 0x47504B47 // "GPKG"

// Store keeps the layers in one SQLite file that is a GeoPackage. It is
// safe for concurrent use. Reads go through a pool of read-only
// connections and never wait for a writer (WAL); writes go through a
// single connection, one transaction at a time.
type Store struct {
	// CheckRules checks every feature a Create, Replace or Delete
	// writes against the planning rules, inside the write's transaction
	// and before its commit (edit.go); its error refuses the write. An
	// import asks it about each feature it writes to a layer a rule is
	// about (importrules.go), and the watch about each feature another
	// program wrote or deleted (direct.go). Open sets it to
	// PlanningRules; nil asks no rules.
	CheckRules RulesFunc

	path string
	read *sql.DB
	// readSlots lets the snapshots of reads by box or filter (Items,
	// Shapes, Bounds, Search) begin in the order they asked, as many at
	// once as read has connections: database/sql hands a freed connection
	// to a waiter picked at random, and with many more readers than
	// connections some waited for many turns. Reads of single features
	// and the catalog's refresh take connections without a slot, and the
	// version connection holds one for good, so an admitted snapshot may
	// still wait in database/sql's queue, but behind few.
	readSlots chan struct{}
	write     *sql.DB
	created   bool
	immutable bool // read as an immutable file: see OpenReadOnly

	// The catalog and what keeps it current (state.go). What follows
	// follow is its refresh step's, which runs one at a time.
	follow      *layers.Follower
	versionConn *sql.Conn
	versionStmt *sql.Stmt // PRAGMA data_version on versionConn
	seenVersion int64
	states      map[string]*layerState
	// triggersReported: a read-only store said once that triggers are gone.
	triggersReported bool
	// leftSaid: the columns left out of each layer's declaration, as
	// last reported, so that each is said once. A BLOB column another
	// program adds changes neither the declaration nor the history
	// triggers (they leave BLOBs out), and would otherwise go unsaid.
	leftSaid map[string]string
	// checkedSchema: the schema version at which repairTriggers last found
	// every trigger in place.
	checkedSchema int64

	// The checks of direct edits and their flags (direct.go).
	direct layers.DirectChecks

	// Prepared statements of the reads (query.go).
	stmts  sync.Map // SQL text → *sql.Stmt
	nstmts atomic.Int64
	// The statements being prepared in the background (query.go's kept),
	// which Close waits for: a goroutine left running would open a
	// reading connection, and with it the -wal and -shm files, after
	// Close returned, in a folder the caller may be removing.
	// Close cancels bgCtx, so that a prepare waiting for a connection
	// that a caller's unclosed rows hold does not hold up Close.
	bgMu     sync.Mutex
	bgClosed bool
	bgWG     sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	// What feature writes keep between them (editstate.go, txstmt.go).
	writeStmts txStatements
	decls      declCache
}

// OnError sets where the store reports errors of its background work
// (following other processes' changes), which no caller is waiting for.
// Call it before serving.
func (s *Store) OnError(fn func(error)) { s.follow.OnError(fn) }

// newStore returns a store of the database at path, its catalog not yet
// read.
func newStore(path string) *Store {
	s := &Store{path: path}
	s.follow = layers.NewFollower(s.refresh)
	return s
}

// Open opens the planmap database at path for reading and writing,
// creating it (and its folder) when there is no file there, and applies
// pending migrations. A file that is not a planmap database (not SQLite,
// not a GeoPackage, or a GeoPackage made by another program) is refused
// with an EFOREIGN error and left untouched.
func Open(ctx context.Context, path string) (*Store, error) {
	create, err := preflight(ctx, path)
	if err != nil {
		return nil, err
	}
	if create {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	s := newStore(path)
	s.created, s.CheckRules = create, PlanningRules
	// Pragmas go in the DSN so that every pooled connection gets them.
	// WAL lets readers go on while a writer writes; busy_timeout makes a
	// second writer (another planmap process) wait instead of failing; the
	// writer takes its lock at BEGIN, so it never fails half-way on an
	// upgrade from a read lock.
	s.write, err = sql.Open("sqlite", dsn(path,
		"_pragma=journal_mode(WAL)", "_pragma=busy_timeout(10000)", "_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)", "_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	s.write.SetMaxOpenConns(1)
	s.writeStmts.db = s.write
	migrated, err := s.migrate(ctx)
	if err != nil {
		s.write.Close()
		if create {
			removeDB(path)
		}
		return nil, err
	}
	if migrated {
		// In WAL mode the GeoPackage header (application_id, user_version)
		// and new tables reach the main file only at a checkpoint; GDAL
		// reads the header from the file, and so does preflight.
		if _, err := s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			s.write.Close()
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
	}
	if err := s.openReaders(); err != nil {
		s.write.Close()
		return nil, err
	}
	if err := s.loadProblems(ctx); err != nil {
		s.read.Close()
		s.write.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens an existing planmap database for reading only. It
// takes no lock and writes nothing, so it never waits for a writer; a
// database whose schema is older than this planmap's is refused (Open
// upgrades it). On a read-only medium the file is read as it is, unless a
// -wal beside it holds changes it does not have: that is refused with
// ECONFLICT.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	create, err := preflight(ctx, path)
	if err != nil {
		return nil, err
	}
	if create {
		return nil, layers.Errorf(layers.ENOTFOUND, "no database at %s (planmap serve or planmap import creates one)", path)
	}
	s := newStore(path)
	if err := s.openReaders(); err != nil {
		return nil, err
	}
	const versionQuery = `SELECT max(version) FROM planmap_migrations`
	var version sql.NullInt64
	err = s.read.QueryRowContext(ctx, versionQuery).Scan(&version)
	if cannotShare(err) {
		// SQLite reads a database in WAL mode through a -shm file beside
		// it, which it must create when it is not there: on a read-only
		// medium, or in a folder this user cannot write, it cannot. With
		// nothing in a -wal, the file alone is the database, and reading
		// it as immutable needs no -shm.
		s.read.Close()
		if err := checkImmutable(path); err != nil {
			return nil, err
		}
		s.immutable = true
		if err := s.openReaders(); err != nil {
			return nil, err
		}
		err = s.read.QueryRowContext(ctx, versionQuery).Scan(&version)
	}
	if err != nil {
		s.read.Close()
		return nil, err
	}
	if n := len(migrationNames()); int(version.Int64) < n {
		s.read.Close()
		return nil, layers.Errorf(layers.ECONFLICT, "%s has schema version %d, older than this planmap's %d; run planmap serve or planmap import once to upgrade it", path, version.Int64, n)
	}
	if err := s.loadProblems(ctx); err != nil {
		s.read.Close()
		return nil, err
	}
	return s, nil
}

// cannotShare reports whether err is SQLite failing to open a database for
// shared reading because it cannot create the files it shares through.
func cannotShare(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_CANTOPEN || e.Code() == sqlite3.SQLITE_READONLY_DIRECTORY)
}

// checkImmutable decides whether the database at path, which SQLite cannot
// open for shared reading where it is, may be read as an immutable file:
// not when a -wal beside it holds changes, which immutable mode would not
// see.
func checkImmutable(path string) error {
	fi, err := os.Stat(path + "-wal")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Size() > 0:
		return layers.Errorf(layers.ECONFLICT, "%s is on a read-only medium or in a folder this user cannot write, and has un-checkpointed changes in %s-wal: copy both files to a writable place and open the copy", path, path)
	}
	return nil
}

// readerConns is how many read-only connections a store keeps open.
func readerConns() int { return max(4, 2*runtime.NumCPU()) }

// PageCacheErr says why SQLite's pages could not be given slots of their
// own, so that readers may stall after another connection's commit
// (pagecache_unix.go); nil if they were. Serve says it at start.
func PageCacheErr() error { return pageCacheErr }

// openReaders opens the pool of read-only connections.
func (s *Store) openReaders() error {
	// Each reading connection keeps up to 4 MB of pages (SQLite's default
	// is 2 MB), so that the R-tree's upper nodes stay in memory; features
	// read again soon come from the feature cache.
	params := []string{"mode=ro", "_pragma=busy_timeout(10000)", "_pragma=cache_size(-4096)"}
	if s.immutable {
		params = append(params, "immutable=1")
	}
	var err error
	s.read, err = sql.Open("sqlite", dsn(s.path, params...))
	if err != nil {
		return err
	}
	// All of them may stay open when idle: database/sql keeps 2 by
	// default, and with more readers than that each one beyond returned
	// its connection to be closed, and the next opened one, parsing the
	// schema again with an empty page cache. A connection idle for a
	// minute is closed, its page cache freed.
	n := readerConns()
	s.read.SetMaxOpenConns(n)
	s.readSlots = make(chan struct{}, n)
	s.read.SetMaxIdleConns(n)
	s.read.SetConnMaxIdleTime(time.Minute)
	return nil
}

// writer returns the write pool, or an error for a read-only store.
func (s *Store) writer() (*sql.DB, error) {
	if s.write == nil {
		return nil, layers.Errorf(layers.ECONFLICT, "%s is open read-only", s.path)
	}
	return s.write, nil
}

// Created reports whether Open created the database.
func (s *Store) Created() bool { return s.created }

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. When it returns, nothing of the store
// touches the files any more (so long as the caller closed what it read).
func (s *Store) Close() error {
	s.bgMu.Lock()
	s.bgClosed = true // no background prepare starts after this
	if s.bgCancel != nil {
		s.bgCancel()
	}
	s.bgMu.Unlock()
	s.bgWG.Wait()
	s.follow.Close(func() {
		if s.versionStmt != nil {
			s.versionStmt.Close()
			s.versionStmt = nil
		}
		if s.versionConn != nil {
			s.versionConn.Close()
			s.versionConn = nil
		}
	})
	s.closeStatements()
	s.writeStmts.close()
	if s.write == nil {
		return s.read.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// Discard closes a database that Open created and removes its files: for
// when what was to go into a new database failed.
func (s *Store) Discard() error {
	if !s.created {
		return layers.Errorf(layers.ECONFLICT, "%s existed before; planmap will not remove it", s.path)
	}
	err := s.Close()
	removeDB(s.path)
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.read.QueryRowContext(ctx, `SELECT count(*) FROM planmap_layers`).Scan(&n)
}

func dsn(path string, params ...string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := url.URL{Scheme: "file", Path: abs}
	return "file:" + u.EscapedPath() + "?" + strings.Join(params, "&")
}

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// preflight decides whether path must be created, and refuses a file that
// is not ours before anything could write to it: even setting WAL mode
// would modify a stranger's file.
func preflight(ctx context.Context, path string) (create bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, err
	case fi.IsDir():
		return false, layers.Errorf(layers.EFOREIGN, "%s is a folder, not a database file", path)
	case fi.Size() == 0:
		// SQLite would take an empty file for an empty database, but
		// planmap did not make it: an empty file at the path is more
		// likely a mistake than a database to seed.
		return false, layers.Errorf(layers.EFOREIGN, "%s is an empty file, not a planmap database; planmap will not touch it", path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	header := make([]byte, 100)
	_, err = io.ReadFull(fh, header)
	fh.Close()
	if err != nil || string(header[:16]) != "SQLite format 3\x00" {
		return false, layers.Errorf(layers.EFOREIGN, "%s is not an SQLite database; planmap will not touch it", path)
	}
	if id := binary.BigEndian.Uint32(header[68:]); id != gpkgApplicationID {
		return false, layers.Errorf(layers.EFOREIGN, "%s is an SQLite database but not a GeoPackage (application_id %#x); planmap will not touch it", path, id)
	}
	// immutable=1 reads the file as it is: a probe in WAL mode would leave
	// -wal and -shm files beside a stranger's database.
	db, err := sql.Open("sqlite", dsn(path, "mode=ro", "immutable=1"))
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'planmap_migrations'`).Scan(&n); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if n == 0 {
		return false, layers.Errorf(layers.EFOREIGN, "%s is a GeoPackage but not a planmap database; planmap will not modify it (planmap import takes its layers into a planmap database)", path)
	}
	var version sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM planmap_migrations`).Scan(&version); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if n := len(migrationNames()); int(version.Int64) > n {
		return false, layers.Errorf(layers.EFOREIGN, "%s was written by a newer planmap (schema version %d, this one knows %d); upgrade planmap", path, version.Int64, n)
	}
	return false, nil
}

func migrationNames() []string {
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrate applies the embedded migrations not yet applied, in order, in one
// transaction, each recorded in planmap_migrations. It takes the write
// lock only when there is something to apply, and reports whether there
// was.
func (s *Store) migrate(ctx context.Context) (bool, error) {
	names := migrationNames()
	var done sql.NullInt64
	err := s.write.QueryRowContext(ctx, `SELECT max(version) FROM planmap_migrations`).Scan(&done)
	if err == nil && int(done.Int64) == len(names) {
		return false, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS planmap_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`); err != nil {
		return false, fmt.Errorf("migrations table: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM planmap_migrations`).Scan(&done); err != nil {
		return false, err
	}
	for i, name := range names {
		version := i + 1
		if prefix := fmt.Sprintf("migrations/%04d_", version); !strings.HasPrefix(name, prefix) {
			return false, fmt.Errorf("migration %s is out of sequence: want a name starting %s", name, prefix)
		}
		if int64(version) <= done.Int64 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return false, fmt.Errorf("migration %s: %w", name, err)
		}
		if step := migrationSteps[filepath.Base(name)]; step != nil {
			if err := step(ctx, tx); err != nil {
				return false, fmt.Errorf("migration %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO planmap_migrations (version, name) VALUES (?, ?)`,
			version, filepath.Base(name)); err != nil {
			return false, err
		}
	}
	// The QGIS styles are derived from the declarations: a planmap that
	// migrates the file may draw the layers differently.
	if err := saveStyles(ctx, tx); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// migrationSteps are the parts of a migration that SQL cannot do, such as
// work on each feature table, run right after its SQL in the same
// transaction. They read only columns that the migration's version has.
var migrationSteps = map[string]func(context.Context, *sql.Tx) error{
	"0003_geopackage_1_3.sql": eachLayerID(createRTreeTriggers),
	"0004_change_log.sql": eachLayerID(func(ctx context.Context, tx *sql.Tx, id string) error {
		if err := createChangeTriggers(ctx, tx, id); err != nil {
			return err
		}
		return logLayer(ctx, tx, id)
	}),
	"0005_history.sql": eachLayerID(func(ctx context.Context, tx *sql.Tx, id string) error {
		if err := rebuildAutoincrement(ctx, tx, id); err != nil {
			return err
		}
		if err := createHistoryTriggers(ctx, tx, id); err != nil {
			return err
		}
		// The features deleted before, as the change log knows them: their
		// ids stay retired, their URLs answer 410 Gone.
		if _, err := tx.ExecContext(ctx, `INSERT INTO planmap_history (layer, fid, op, at)
			SELECT layer, fid, 'delete', max(at) FROM planmap_changes c
			WHERE layer = ? AND op = 'delete' AND fid > 0
			AND NOT EXISTS (SELECT 1 FROM `+quoteIdent(id)+` f WHERE f.fid = c.fid)
			GROUP BY fid ORDER BY fid`, id); err != nil {
			return err
		}
		// The features there now: one version each, begun by the upgrade.
		return historyLayer(ctx, tx, id, "history began (planmap upgrade)")
	}),
	"0009_rtree_same_geometry.sql": eachLayerID(createRTreeTriggers),
}

// eachLayerID makes a migration step that calls fn for each layer id.
func eachLayerID(fn func(context.Context, *sql.Tx, string) error) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM planmap_layers ORDER BY id`)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	}
}

// quoteIdent quotes an identifier that has already been checked against
// the identifier pattern (ValidID or the field name rule).
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// scanLayer scans one planmap_layers row.
func scanLayer(row interface{ Scan(...any) error }) (*layers.Layer, error) {
	var l layers.Layer
	var schema, style, rules string
	if err := row.Scan(&l.ID, &l.Title.Zh, &l.Title.En, &l.Description.Zh, &l.Description.En,
		&l.GeometryType, &l.Order, &schema, &style, &rules); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(schema), &l.Schema); err != nil {
		return nil, fmt.Errorf("layer %s: stored schema: %w", l.ID, err)
	}
	if err := json.Unmarshal([]byte(style), &l.Style); err != nil {
		return nil, fmt.Errorf("layer %s: stored style: %w", l.ID, err)
	}
	if err := json.Unmarshal([]byte(rules), &l.Rules); err != nil {
		return nil, fmt.Errorf("layer %s: stored rules: %w", l.ID, err)
	}
	if len(l.Rules) == 0 {
		l.Rules = nil
	}
	return &l, nil
}

const layerColumns = `id, title_zh, title_en, description_zh, description_en, geometry_type, sort_order, schema, style, rules`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Layers returns every layer's declaration in drawing order.
func (s *Store) Layers(ctx context.Context) ([]*layers.Layer, error) {
	return listLayers(ctx, s.read)
}

func listLayers(ctx context.Context, q querier) ([]*layers.Layer, error) {
	return listLayersIn(ctx, q, "main")
}

// listLayersIn lists the layers of an attached database: schema is main or
// an alias given to ATTACH by planmap.
func listLayersIn(ctx context.Context, q querier, schema string) ([]*layers.Layer, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+layerColumns+` FROM `+schema+`.planmap_layers ORDER BY sort_order, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*layers.Layer
	for rows.Next() {
		l, err := scanLayer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Layer returns the declaration of layer id, or an ENOTFOUND error.
func (s *Store) Layer(ctx context.Context, id string) (*layers.Layer, error) {
	return getLayer(ctx, s.read, id)
}

func getLayer(ctx context.Context, q querier, id string) (*layers.Layer, error) {
	l, err := scanLayer(q.QueryRowContext(ctx, `SELECT `+layerColumns+` FROM planmap_layers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	}
	return l, err
}

// LayerInfo is a layer with its feature count and extent: Info's, as
// every store gives it.
type LayerInfo = layers.LayerInfo

// readLayers begins a read-only transaction, a consistent snapshot, and
// lists the layers in it. The caller rolls the transaction back.
func (s *Store) readLayers(ctx context.Context) (*sql.Tx, []*layers.Layer, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	ls, err := listLayers(ctx, tx)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return tx, ls, nil
}

// Info returns the declaration, feature count and extent of every layer,
// in drawing order, from one consistent snapshot.
func (s *Store) Info(ctx context.Context) ([]LayerInfo, error) {
	tx, ls, err := s.readLayers(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]LayerInfo, len(ls))
	for i, l := range ls {
		out[i].Layer = l
		var ext [4]sql.NullFloat64
		if err := tx.QueryRowContext(ctx,
			`SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?`, l.ID,
		).Scan(&ext[0], &ext[1], &ext[2], &ext[3]); err != nil {
			return nil, err
		}
		for j := range ext {
			out[i].Extent[j] = ext[j].Float64
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(l.ID)).Scan(&out[i].Count); err != nil {
			return nil, err
		}
	}
	return out, nil
}
