package postgis

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"planmap/layers"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// SRID is the spatial reference system of every feature table: WGS 84
// longitude/latitude (EPSG:4326), which is what GeoJSON carries.
const SRID = 4326

// Store keeps the layers in a PostgreSQL database with PostGIS. It is
// safe for concurrent use; several Stores (in several processes) may
// share one database.
type Store struct {
	pool    *pgxpool.Pool
	created bool

	// The catalog and what keeps it current (catalog.go); states is its
	// refresh step's, which runs one at a time.
	follow *layers.Follower
	states map[string]*layerState
	// columnsSeen: the signature of each layer's columns when the
	// refresh step last found its declaration following them
	// (columns.go), and when it last looked.
	columnsSeen    map[string]string
	columnsLooked  time.Time
	columnsFailing bool // the last look failed

	// Other processes' changes, heard of (replica.go): the listener and
	// the replicas' watcher run from the first Catalog until Close.
	replicas   *replicas // nil without read replicas
	lastNotice atomic.Int64
	startOnce  sync.Once
	stop       context.CancelFunc
	listening  chan struct{} // closed when the listener has ended
	watching   chan struct{} // closed when the watcher has ended

	// The checks of direct edits and their flags (direct.go).
	direct layers.DirectChecks
}

// IsURL reports whether db names a PostgreSQL database (postgres:// or
// postgresql://) rather than a GeoPackage file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open connects to the PostgreSQL database at url (postgres://…), which
// must have the PostGIS extension or let this user create it, and applies
// pending migrations. Reads go to the streaming standbys at replicaURLs
// when they have caught up (replica.go).
func Open(ctx context.Context, url string, replicaURLs ...string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, layers.Errorf(layers.EINVALID, "database URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool}
	s.follow = layers.NewFollower(s.refresh)
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if len(replicaURLs) > 0 {
		if s.replicas, err = openReplicas(ctx, replicaURLs); err != nil {
			pool.Close()
			return nil, err
		}
	}
	// Nothing ever imported: no layer, and an empty change log.
	if err := pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM planmap_layers) AND NOT EXISTS (SELECT 1 FROM planmap_changes)`).Scan(&s.created); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadProblems(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start starts the listener and the replicas' watcher, once, when the
// catalog is first built: a command that never reads the catalog (import,
// token) opens no connection for them.
func (s *Store) start() {
	s.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.stop = cancel
		s.listening = make(chan struct{})
		go s.listen(ctx)
		if s.replicas != nil {
			s.watching = make(chan struct{})
			go func() {
				defer close(s.watching)
				s.replicas.watch(ctx)
			}()
		}
	})
}

// Created reports whether the database held nothing of planmap's when
// Open opened it (no layer was ever imported), so that planmap serve loads
// the built-in layers into it. Unlike a GeoPackage file, a database is
// never removed by planmap: a first import that failed leaves it empty,
// and the next Open reports it created again.
func (s *Store) Created() bool { return s.created }

// Name is the database's URL without its password, for logs and messages.
func Name(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "a PostgreSQL database (its URL does not parse)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// OnError sets where the store reports errors of its background work
// (following other processes' changes). Call it before serving.
func (s *Store) OnError(fn func(error)) { s.follow.OnError(fn) }

// Close stops following changes and closes the connections.
func (s *Store) Close() error {
	s.startOnce.Do(func() {})
	if s.stop != nil {
		s.stop()
		<-s.listening
		if s.watching != nil {
			<-s.watching
		}
	}
	s.follow.Close(nil)
	if s.replicas != nil {
		s.replicas.close()
	}
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.pool.QueryRow(ctx, `SELECT count(*) FROM planmap_layers`).Scan(&n)
}

func migrationNames() []string {
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrationLock serialises migrations of one database by several
// processes starting at once.
const migrationLock = 7231450015

// migrate applies the embedded migrations not yet applied, in order, in
// one transaction, each recorded in planmap_migrations.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		return fmt.Errorf("PostGIS: %w (install postgresql-15-postgis-3, or have a superuser run CREATE EXTENSION postgis in this database)", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS planmap_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	var done int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM planmap_migrations`).Scan(&done); err != nil {
		return err
	}
	names := migrationNames()
	if done > len(names) {
		return layers.Errorf(layers.EFOREIGN, "the database was written by a newer planmap (schema version %d, this one knows %d); upgrade planmap", done, len(names))
	}
	for i, name := range names {
		version := i + 1
		if prefix := fmt.Sprintf("migrations/%04d_", version); !strings.HasPrefix(name, prefix) {
			return fmt.Errorf("migration %s is out of sequence: want a name starting %s", name, prefix)
		}
		if version <= done {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO planmap_migrations (version, name) VALUES ($1, $2)`, version, path.Base(name)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// quoteIdent quotes an identifier that has already been checked against
// the identifier pattern (layers.ValidID or the field name rule).
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// checkedTable returns layer id quoted as a table name, or an error if id
// is not a valid layer id: no text reaches SQL as an identifier unchecked.
func checkedTable(id string) (string, error) {
	if !layers.ValidID(id) {
		return "", layers.Errorf(layers.ENOTFOUND, "there is no collection %q; /collections lists them", id)
	}
	return quoteIdent(id), nil
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Layers returns every layer's declaration in drawing order.
func (s *Store) Layers(ctx context.Context) ([]*layers.Layer, error) {
	return listLayers(ctx, s.pool)
}

const layerColumns = `id, title_zh, title_en, description_zh, description_en, geometry_type, sort_order, schema, style, rules`

func listLayers(ctx context.Context, q querier) ([]*layers.Layer, error) {
	rows, err := q.Query(ctx, `SELECT `+layerColumns+` FROM planmap_layers ORDER BY sort_order, id`)
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

// getLayer returns the declaration of layer id, or an ENOTFOUND error.
func getLayer(ctx context.Context, q querier, id string) (*layers.Layer, error) {
	l, err := scanLayer(q.QueryRow(ctx, `SELECT `+layerColumns+` FROM planmap_layers WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
	}
	return l, err
}

// scanLayer scans one planmap_layers row.
func scanLayer(row pgx.Row) (*layers.Layer, error) {
	var l layers.Layer
	var schema, style, rules string
	if err := row.Scan(&l.ID, &l.Title.Zh, &l.Title.En, &l.Description.Zh, &l.Description.En,
		&l.GeometryType, &l.Order, &schema, &style, &rules); err != nil {
		return nil, err
	}
	if err := unmarshalDecl(l.ID, schema, style, rules, &l); err != nil {
		return nil, err
	}
	return &l, nil
}
