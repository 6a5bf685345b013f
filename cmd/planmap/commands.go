package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
	"planmap/seeds"
	"planmap/web"
	"planmap/web/filecache"
	webtiles "planmap/web/tiles"
)

const (
	defaultDB   = "data/planmap.gpkg"
	defaultAddr = "127.0.0.1:8080"
)

// newFlags returns a flag set for a command whose usage line and help go
// to stdout on -h and to stderr on a mistake.
func newFlags(name, synopsis, about string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := stderr
		if fs.Output() == stdout {
			w = stdout
		}
		fmt.Fprintf(w, "usage: planmap %s %s\n\n%s\n\nflags:\n", name, synopsis, about)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args; -h prints the help to stdout and ends the command
// successfully (errHelp), a mistake prints it to stderr.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	}
	if err != nil {
		fs.Usage()
		return usageError{err.Error()}
	}
	return nil
}

var errHelp = errors.New("help shown")

func dbFlag(fs *flag.FlagSet, env envFunc) *string {
	return fs.String("db", env.or("PLANMAP_DB", defaultDB), "database: a GeoPackage file, or a PostgreSQL + PostGIS database as postgres://user@host:port/dbname (env PLANMAP_DB)")
}

// store is what serve and import need of a store: the GeoPackage store,
// or the PostGIS store when --db is a postgres:// URL.
type store interface {
	cache.Store
	Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error)
	OnError(fn func(error))
	Created() bool
	Close() error
}

// reader is what the commands that read a database need of it (export,
// layers, check, backup, and copy's source), from either store.
type reader interface {
	layers.CopySource
	Layer(ctx context.Context, id string) (*layers.Layer, error)
	Info(ctx context.Context) ([]layers.LayerInfo, error)
	Items(ctx context.Context, id string, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error
	WriteGeoJSONAsOf(ctx context.Context, w io.Writer, id string, t time.Time, progress func(done, total int)) error
	PastCollection(ctx context.Context, id string, t time.Time) (*layers.Collection, error)
	ExportGPKG(ctx context.Context, path string, ids ...string) error
	WriteKML(ctx context.Context, w io.Writer, id string) error
	WriteAllKML(ctx context.Context, w io.Writer) error
	// Backup writes a consistent copy of the whole database, history and
	// tokens included, to the new planmap GeoPackage path.
	Backup(ctx context.Context, path string) error
	Close() error
}

// database is a store as openAny opens it: each command uses its part.
type database interface {
	store
	reader
	tokenStore
	layers.CopyTarget
}

// Both stores are every command's.
var (
	_ database = (*gpkg.Store)(nil)
	_ database = (*postgis.Store)(nil)
)

// openMode says what a command does with the database it opens.
type openMode int

const (
	// openCreate creates the database when there is none (serve, import,
	// copy --to, restore into PostgreSQL).
	openCreate openMode = iota
	// openExisting opens a database that exists, for writing (token
	// add, token revoke).
	openExisting
	// openRead opens a database that exists, for reading only: a
	// GeoPackage file is opened read-only, creating nothing, writing
	// nothing and waiting for no writer.
	openRead
)

// openAny opens the database db for every command: PostGIS for a
// postgres:// URL, with the read replicas at replicas (serve), else the
// GeoPackage file at db. Unless mode is openCreate, a database that does
// not exist (no file, or a PostgreSQL database with no planmap layers) is
// refused with ENOTFOUND.
func openAny(ctx context.Context, db string, mode openMode, replicas ...string) (database, error) {
	if postgis.IsURL(db) {
		s, err := postgis.Open(ctx, db, replicas...)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", postgis.Name(db), err)
		}
		if mode != openCreate && s.Created() {
			s.Close()
			return nil, layers.Errorf(layers.ENOTFOUND, "open database: %s has no planmap layers (planmap serve or planmap import creates them)", postgis.Name(db))
		}
		return s, nil
	}
	var s *gpkg.Store
	var err error
	switch mode {
	case openCreate:
		s, err = gpkg.Open(ctx, db)
	case openExisting:
		if _, serr := os.Stat(db); errors.Is(serr, os.ErrNotExist) {
			return nil, layers.Errorf(layers.ENOTFOUND, "open database: no database at %s (planmap serve or planmap import creates one)", db)
		}
		s, err = gpkg.Open(ctx, db)
	case openRead:
		s, err = gpkg.OpenReadOnly(ctx, db)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err) // not s: a nil *gpkg.Store is not a nil database
	}
	return s, nil
}

// urlList is a repeatable flag's values, which replace those the
// environment gave once the flag is given.
type urlList struct {
	fromEnv, set []string
	given        bool
}

func (l *urlList) String() string { return strings.Join(l.list(), ",") }

func (l *urlList) Set(v string) error {
	l.given = true
	l.set = append(l.set, v)
	return nil
}

func (l *urlList) list() []string {
	if l.given {
		return l.set
	}
	return l.fromEnv
}

// splitList splits a comma-separated list, leaving out empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// dbName is db as logs and messages show it: a URL without its password.
func dbName(db string) string {
	if postgis.IsURL(db) {
		return postgis.Name(db)
	}
	return db
}

// isDatabase reports whether the file path is the database s itself (a
// GeoPackage's file), which an export must not overwrite.
func isDatabase(s reader, path string) bool {
	d, ok := s.(interface{ IsDatabase(path string) bool })
	return ok && d.IsDatabase(path)
}

func helped(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func cmdServe(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]", "Serve the layers over HTTP. With no database at --db, create it and load the built-in Haimen layers; an existing database is never overwritten.", stdout, stderr)
	db := dbFlag(fs, env)
	addr := fs.String("addr", env.or("PLANMAP_ADDR", defaultAddr), "address to listen on (env PLANMAP_ADDR)")
	baseURL := fs.String("base-url", env.or("PLANMAP_BASE_URL", ""), "public URL of the service, for the links it writes, when it differs from what clients send as Host, as behind a proxy (env PLANMAP_BASE_URL)")
	tiles := fs.String("tiles", env.or("PLANMAP_TILES", ""), "tile URL template ({z}/{x}/{y}) of a base map under the layers, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; off by default (env PLANMAP_TILES)")
	attribution := fs.String("tiles-attribution", env.or("PLANMAP_TILES_ATTRIBUTION", ""), "attribution the tile provider requires, shown on the map (env PLANMAP_TILES_ATTRIBUTION)")
	allowedHosts := fs.String("allowed-hosts", env.or("PLANMAP_ALLOWED_HOSTS", ""), "comma-separated host names the service answers to (ports ignored, * for any); others get 421. Default: the --base-url host, localhost, 127.0.0.1, ::1 and the --addr host, or with a wildcard --addr this machine's addresses and name (env PLANMAP_ALLOWED_HOSTS)")
	cacheDir := fs.String("cache-dir", env.or("PLANMAP_CACHE_DIR", ""), "folder of the download cache, emptied at start; one server per folder (env PLANMAP_CACHE_DIR; default: planmap-cache-… for this database in the system's temporary folder)")
	downloadMB := fs.String("download-cache-mb", env.or("PLANMAP_DOWNLOAD_CACHE_MB", "512"), "most megabytes the download cache may hold (env PLANMAP_DOWNLOAD_CACHE_MB)")
	cacheMB := fs.String("cache-mb", env.or("PLANMAP_CACHE_MB", strconv.Itoa(cache.DefaultBudget>>20)), "most megabytes of features, query answers and layers' spatial indexes kept in memory in front of the database; 0 for none (env PLANMAP_CACHE_MB)")
	tileMB := fs.String("tile-cache-mb", env.or("PLANMAP_TILE_CACHE_MB", strconv.Itoa(webtiles.DefaultBudget>>20)), "most megabytes of vector tiles kept in memory; 0 for none (env PLANMAP_TILE_CACHE_MB)")
	tlsCert := fs.String("tls-cert", env.or("PLANMAP_TLS_CERT", ""), "serve HTTPS with this certificate (PEM, chain included), read again when it changes; with --tls-key (env PLANMAP_TLS_CERT)")
	tlsKey := fs.String("tls-key", env.or("PLANMAP_TLS_KEY", ""), "the private key (PEM) of --tls-cert (env PLANMAP_TLS_KEY)")
	// No environment variable: sending tokens in clear is a choice made
	// on the command line, where it shows.
	replicas := urlList{fromEnv: splitList(env.or("PLANMAP_DB_REPLICA", ""))}
	fs.Var(&replicas, "db-replica", "a streaming standby of the PostgreSQL --db, as postgres://…, to send reads to once it has caught up; repeat for several (env PLANMAP_DB_REPLICA, comma-separated)")
	plainTokens := fs.Bool("allow-plain-http-tokens", false, "accept editors' tokens over plain HTTP from any client. Without it a token is accepted only over HTTPS, from a client on this machine, or through a proxy on it when --base-url is https")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	tileBytes, err := strconv.ParseInt(*tileMB, 10, 64)
	if err != nil || tileBytes < 0 || tileBytes > 1<<20 {
		return usageError{"serve: --tile-cache-mb " + *tileMB + " is not a whole number of megabytes, 0 or more"}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{"serve: --tls-cert and --tls-key go together"}
	}
	mb, err := strconv.Atoi(*downloadMB)
	if err != nil || mb < 1 {
		return usageError{"serve: --download-cache-mb " + *downloadMB + " is not a whole number of 1 or more"}
	}
	featureMB, err := strconv.Atoi(*cacheMB)
	if err != nil || featureMB < 0 || featureMB > 1<<20 {
		return usageError{"serve: --cache-mb " + *cacheMB + " is not a whole number of megabytes, 0 or more"}
	}
	if err := web.CheckAssets(); err != nil {
		return err
	}
	if *tiles != "" && *attribution == "" {
		return usageError{"serve: --tiles needs --tiles-attribution: tile providers require their attribution on the map"}
	}
	opt := web.Options{BaseURL: *baseURL, Tiles: *tiles, Attribution: *attribution, TileCacheBytes: -1, AllowPlainHTTPTokens: *plainTokens}
	if tileBytes > 0 {
		opt.TileCacheBytes = tileBytes << 20
	}
	opt.AllowedHosts = splitList(*allowedHosts)
	if err := opt.Check(); err != nil {
		return usageError{"serve: " + err.Error()}
	}
	logBuf := newLogBuffer(stderr, logFlushAfter)
	defer logBuf.Close()
	log := slog.New(flushingHandler{slog.NewTextHandler(logBuf, nil), logBuf})
	var cert *certificate
	if *tlsCert != "" {
		if cert, err = loadCertificate(*tlsCert, *tlsKey); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	switch {
	case *plainTokens:
		log.Warn("editors' tokens are accepted over plain HTTP from any client (--allow-plain-http-tokens): anyone on the way can read them")
	case cert == nil && !strings.HasPrefix(strings.ToLower(*baseURL), "https://"):
		log.Info("editors' tokens are accepted only from this machine; for others serve with --tls-cert and --tls-key, or behind a TLS proxy named by an https --base-url")
	}

	urls := replicas.list()
	if len(urls) > 0 && !postgis.IsURL(*db) {
		return usageError{"serve: --db-replica needs a PostgreSQL --db (postgres://…): a GeoPackage file has no replicas"}
	}
	store, err := openAny(ctx, *db, openCreate, urls...)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, ok := store.(*gpkg.Store); ok {
		if err := gpkg.PageCacheErr(); err != nil {
			log.Warn("SQLite's pages come from libc: readers may stall for a tenth of a second after each write", "err", err)
		}
		if err := gpkg.MutexErr(); err != nil {
			log.Warn("SQLite keeps its own mutexes: reads cost about a tenth more CPU", "err", err)
		}
	}
	if ps, ok := store.(*postgis.Store); ok && len(urls) > 0 {
		opt.Replication = func(ctx context.Context) layers.Replication {
			rep, _ := ps.Replication(ctx)
			return rep
		}
		names := make([]string, len(urls))
		for i, u := range urls {
			names[i] = postgis.Name(u)
		}
		log.Info("reads go to the replicas once they have caught up", "replicas", strings.Join(names, " "))
	}
	name := dbName(*db)
	if *cacheDir == "" {
		*cacheDir = defaultCacheDir(*db)
	}
	downloads, err := filecache.Open(*cacheDir, int64(mb)<<20)
	if err != nil {
		return err
	}
	if store.Created() {
		files, err := layers.ReadFS(seeds.FS)
		if err == nil {
			_, err = store.Import(ctx, files, layers.ImportOptions{})
		}
		if err != nil {
			if d, ok := store.(interface{ Discard() error }); ok {
				d.Discard()
			}
			return fmt.Errorf("load the built-in layers into %s: %w", name, err)
		}
		log.Info("created database with the built-in Haimen layers", "db", name, "layers", len(files))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	scheme := "http://"
	if cert != nil {
		// http.Server.Serve speaks HTTP/2 over a TLS listener that
		// offers it, and answers a plain-HTTP client with a 400.
		scheme = "https://"
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.get, NextProtos: []string{"h2", "http/1.1"}})
	}
	// The listener's own address: with --addr :0 the port is known only now.
	opt.ListenAddr = ln.Addr().String()
	opt.Downloads = downloads
	// The server listens at once and reads the layers' state meanwhile:
	// /healthz says "starting" until it has, and a request that comes
	// before waits for it. A database that cannot be served ends serve.
	var ready atomic.Bool
	opt.Ready = ready.Load
	store.OnError(func(err error) { log.Warn("following the database's changes", "db", name, "err", err) })
	if p, ok := store.(interface {
		OnProblem(func(layer string, fid int64, err error))
	}); ok {
		p.OnProblem(func(layer string, fid int64, err error) {
			if err != nil {
				log.Warn("a feature written by another program fails the checks", "layer", layer, "fid", fid, "err", err)
			} else {
				log.Info("a feature written by another program passes the checks again", "layer", layer, "fid", fid)
			}
		})
	}
	loaded := make(chan error, 1)
	go func() {
		start := time.Now()
		_, err := store.Catalog(ctx)
		if err == nil {
			ready.Store(true)
			log.Info("ready", "db", name, "took", time.Since(start).Round(time.Millisecond))
		}
		loaded <- err
	}()
	// Who a bearer token speaks for, from the database on every write.
	// A store without tokens is served read-only.
	if t, ok := store.(web.Tokens); ok {
		opt.Tokens = t
	}
	// The feature cache answers what web asks in front of the store, or
	// with --cache-mb 0 the store alone.
	var served web.Store = store
	if featureMB > 0 {
		c := cache.New(store, int64(featureMB)<<20)
		served = c
		opt.CacheStats = func() any { return c.Stats() }
	}
	// The tile cache holds its budget in the heap too.
	setMemoryLimit(env, int64(featureMB)<<20+tileBytes<<20, log)
	// Change streams last as long as their clients: shutting down ends
	// them, so that Shutdown waits only for ordinary requests.
	stop := make(chan struct{})
	opt.Stop = stop
	srv := &http.Server{
		Handler: web.NewRouter(served, opt, log),
		// A client gets 10 s to send its headers, which stops slow-header
		// attacks from holding connections open.
		ReadHeaderTimeout: 10 * time.Second,
		// Requests are GETs or small uploads.
		ReadTimeout: 30 * time.Second,
		// Long enough to stream a whole layer or GeoPackage to a slow
		// client, short enough that a stuck one does not hold a goroutine
		// for ever. The change streams lift it and ReadTimeout for
		// themselves.
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(stop) })
	log.Info("listening", "addr", scheme+ln.Addr().String(), "db", name, "cache", *cacheDir)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case err := <-loaded:
		if err != nil {
			srv.Close()
			return fmt.Errorf("load the layers of %s: %w", name, err)
		}
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// Requests in flight get 15 s to finish.
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// problems prints each problem of an invalid-input error to stderr, one a
// line, and returns a one-line summary; other errors are returned as they
// are.
func problems(stderr io.Writer, what string, err error) error {
	if layers.ErrorCode(err) != layers.EINVALID {
		return fmt.Errorf("%s: %w", what, err)
	}
	lines := strings.Split(err.Error(), "\n")
	for _, l := range lines {
		fmt.Fprintln(stderr, l)
	}
	n := len(lines)
	if last := lines[n-1]; strings.HasPrefix(last, "… and") {
		return fmt.Errorf("%s (%s)", what, strings.TrimPrefix(last, "… and "))
	}
	if n == 1 {
		return fmt.Errorf("%s (1 problem)", what)
	}
	return fmt.Errorf("%s (%d problems)", what, n)
}

func cmdImport(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("import", "[flags] FILE|DIR…", "Check layer files (or the feature tables of GeoPackages) and write them into the database, all in one transaction: a new layer is created from its declaration; into an existing layer features are added or updated by id. If anything is wrong, nothing is written.", stdout, stderr)
	db := dbFlag(fs, env)
	replace := fs.Bool("replace", false, "replace each layer's features as a whole (and allow its schema to change)")
	declare := declareFlag(fs)
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"import: name at least one layer file or folder"}
	}
	files, err := readInputs(fs.Args(), *declare)
	if err != nil {
		return problems(stderr, "import: nothing was written", err)
	}
	store, err := openAny(ctx, *db, openCreate)
	if err != nil {
		return err
	}
	defer store.Close()
	opt := layers.ImportOptions{Replace: *replace, Progress: progress(stderr, "importing")}
	results, err := store.Import(ctx, files, opt)
	if err != nil {
		if d, ok := store.(interface{ Discard() error }); ok && store.Created() {
			d.Discard()
		}
		return problems(stderr, "import: nothing was written", err)
	}
	for _, r := range results {
		for _, w := range r.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintln(stdout, r)
	}
	return nil
}

func cmdCheck(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("check", "[flags] FILE|DIR…", "Check layer files (or the feature tables of GeoPackages) as an import would, without writing anything: against the layers stored in --db when that database exists, else against the files' own declarations. With --rules, report the planning rules the features in --db break instead (the rules stored, or those the layer files named declare), failing if any is.", stdout, stderr)
	db := dbFlag(fs, env)
	replace := fs.Bool("replace", false, "check as import --replace would (any schema change allowed)")
	declare := declareFlag(fs)
	rules := fs.Bool("rules", false, "report the planning rules the features in --db break, every layer's rules against every feature")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if *rules {
		return checkRules(ctx, *db, fs.Args(), stdout, stderr)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"check: name at least one layer file or folder"}
	}
	files, err := readInputs(fs.Args(), *declare)
	if err != nil {
		return problems(stderr, "check", err)
	}
	// Without a database at --db, the files are checked against their
	// own declarations.
	var lookup layers.Lookup
	store, err := openAny(ctx, *db, openRead)
	switch {
	case err == nil:
		defer store.Close()
		lookup = store.Layer
	case layers.ErrorCode(err) != layers.ENOTFOUND:
		return err
	}
	if err := layers.CheckFiles(ctx, lookup, files, *replace); err != nil {
		return problems(stderr, "check", err)
	}
	for _, f := range files {
		for _, w := range f.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintf(stdout, "%s: layer %s, %d %s, ok\n", f.Name, f.LayerID, len(f.Features), plural(len(f.Features), "feature", "features"))
	}
	return nil
}

func declareFlag(fs *flag.FlagSet) *string {
	return fs.String("declare", "", "layer file whose declaration (id, title, geometryType, schema, style, order; features ignored) the input's layer takes: the one input layer, else the one with the declaration's id")
}

// readInputs reads the input files and gives the declaration in the file
// declare, when named, to the layer it is for.
func readInputs(paths []string, declare string) ([]*layers.File, error) {
	files, err := layers.ReadFiles(paths)
	if err != nil || declare == "" {
		return files, err
	}
	data, err := os.ReadFile(declare)
	if err != nil {
		return nil, &layers.Error{Code: layers.EINVALID, Message: "--declare: " + err.Error()}
	}
	l, err := layers.ParseDeclaration(declare, data)
	if err != nil {
		return nil, err
	}
	return files, layers.Declare(files, l)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func cmdLayers(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("layers", "[flags]", "List the layers in the database, in drawing order.", stdout, stderr)
	db := dbFlag(fs, env)
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	store, err := openAny(ctx, *db, openRead)
	if err != nil {
		return err
	}
	defer store.Close()
	info, err := store.Info(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tGEOMETRY\tFEATURES\tTITLE")
	for _, l := range info {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s / %s\n", l.ID, l.GeometryType, l.Count, l.Title.Zh, l.Title.En)
	}
	return tw.Flush()
}

func cmdExport(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("export", "[flags]", "Write a layer as a GeoJSON layer file (which planmap import takes back as it is), one layer or all of them as a standalone GeoPackage for QGIS, or as KML for Google Earth and 奥维互动地图 (all layers as a folder each when --layer is omitted). The copy is consistent even while planmap serve writes.", stdout, stderr)
	db := dbFlag(fs, env)
	layer := fs.String("layer", "", "layer id (required for geojson; for gpkg and kml, all layers when omitted)")
	format := fs.String("format", "", "geojson, gpkg or kml (default: from the -o file name, else geojson)")
	out := fs.String("o", "", "output file (default: standard output, for geojson and kml)")
	asOfText := fs.String("as-of", "", "write the layer as it was at this time, from its history: an RFC 3339 date-time (2026-11-30T12:00:00Z) or a date")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("export: unexpected argument %q", fs.Arg(0))}
	}
	asOf, err := parseAsOf(*asOfText)
	if err != nil {
		return err
	}
	if *format == "" {
		*format = "geojson"
		switch ext := strings.ToLower(filepath.Ext(*out)); ext {
		case ".gpkg", ".kml":
			*format = ext[1:]
		}
	}
	switch {
	case *format != "geojson" && *format != "gpkg" && *format != "kml":
		return usageError{fmt.Sprintf("export: --format %q is not geojson, gpkg or kml", *format)}
	case *format == "geojson" && *layer == "":
		return usageError{"export: --layer is required for geojson (planmap layers lists them)"}
	case *format == "gpkg" && *out == "":
		return usageError{"export: -o FILE is required for gpkg"}
	}
	store, err := openAny(ctx, *db, openRead)
	if err != nil {
		return err
	}
	defer store.Close()

	if *format != "geojson" {
		if *out != "" && isDatabase(store, *out) {
			return fmt.Errorf("export: %s is the database itself; export to another file", *out)
		}
		if asOf.IsZero() {
			return exportDownload(ctx, store, *format, *layer, *out, stdout, stderr)
		}
		ids, err := layerIDsAsOf(ctx, store, *layer, asOf)
		if err != nil {
			return err
		}
		// The GeoPackage and KML writers read a store's tables; the
		// past is in layer files, so they are taken into a scratch store.
		return gpkg.FromLayerFiles(ctx, ids, func(w io.Writer, id string) error {
			return store.WriteGeoJSONAsOf(ctx, w, id, asOf, nil)
		}, func(g *gpkg.Store) error {
			return exportDownload(ctx, g, *format, *layer, *out, stdout, stderr)
		})
	}
	report := progress(stderr, "exporting "+*layer)
	var prog func(int, int)
	if report != nil {
		prog = func(done, total int) { report(*layer, done, total) }
	}
	writeGeoJSON := func(w io.Writer) error {
		if !asOf.IsZero() {
			return store.WriteGeoJSONAsOf(ctx, w, *layer, asOf, prog)
		}
		return store.WriteGeoJSON(ctx, w, *layer, prog)
	}
	if *out == "" {
		return writeGeoJSON(stdout)
	}
	if isDatabase(store, *out) {
		return fmt.Errorf("export: %s is the database itself; export to another file", *out)
	}
	return writeFileAtomic(*out, writeGeoJSON)
}

// downloader is what exportDownload needs of a store.
type downloader interface {
	ExportGPKG(ctx context.Context, path string, ids ...string) error
	WriteKML(ctx context.Context, w io.Writer, id string) error
	WriteAllKML(ctx context.Context, w io.Writer) error
}

// exportDownload writes layer (every layer when "") of s as a GeoPackage
// or KML (format) to the file out, KML to stdout when out is "".
func exportDownload(ctx context.Context, s downloader, format, layer, out string, stdout, stderr io.Writer) error {
	if format == "gpkg" {
		var ids []string
		if layer != "" {
			ids = []string{layer}
		}
		if err := s.ExportGPKG(ctx, out, ids...); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(stderr, "wrote %s\n", out)
		return nil
	}
	write := func(w io.Writer) error {
		if layer == "" {
			return s.WriteAllKML(ctx, w)
		}
		return s.WriteKML(ctx, w, layer)
	}
	if out == "" {
		return write(stdout)
	}
	return writeFileAtomic(out, write)
}

// layerIDs is layer when it is set, else every layer of s.
func layerIDs(ctx context.Context, s reader, layer string) ([]string, error) {
	if layer != "" {
		return []string{layer}, nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(info))
	for i, l := range info {
		ids[i] = l.ID
	}
	return ids, nil
}

// layerIDsAsOf is layer when it is set, else every layer of s there now
// and, after them, every layer dropped since that existed at t.
func layerIDsAsOf(ctx context.Context, s reader, layer string, t time.Time) ([]string, error) {
	ids, err := layerIDs(ctx, s, layer)
	if err != nil || layer != "" {
		return ids, err
	}
	dropped, err := s.DroppedLayers(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range dropped {
		_, err := s.PastCollection(ctx, id, t)
		switch {
		case layers.ErrorCode(err) == layers.ENOTFOUND:
			// Not there at t: created after it, or dropped before.
		case err != nil:
			return nil, err
		default:
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// parseAsOf parses export's --as-of: an RFC 3339 date-time, or a date (its
// start in UTC); zero when empty.
func parseAsOf(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("export: --as-of %q is not an RFC 3339 date-time (2026-11-30T12:00:00Z) nor a date (2026-11-30)", v)}
}

// writeFileAtomic writes path through a temporary file in the same folder,
// so a failed export never leaves half a file behind.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planmap-*"+filepath.Ext(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file private; an export is for handing on.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// progress returns a progress reporter that redraws one line on a
// terminal, or nil when w is not a terminal, so that logs and pipes stay
// quiet.
func progress(w io.Writer, what string) func(layer string, done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(layer string, done, total int) {
		fmt.Fprintf(f, "\r%s %s: %d/%d features", what, layer, done, total)
		if done >= total {
			fmt.Fprintln(f)
		}
	}
}

// defaultCacheDir is the download cache of the database at db: a folder in
// the system's temporary folder named for the database's absolute path, so
// that a server started again on it empties what the last one left, and
// servers of different databases do not share one.
func defaultCacheDir(db string) string {
	abs, err := filepath.Abs(db)
	if err != nil || postgis.IsURL(db) {
		abs = db
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(os.TempDir(), "planmap-cache-"+hex.EncodeToString(sum[:6]))
}

// setMemoryLimit gives the Go runtime a soft memory limit (unless
// GOMEMLIMIT sets one) of one and a quarter times the caches' budgets
// (features and tiles) plus room for requests. Without one, the heap
// grows to twice what is live before the collector runs, and with the
// cache full that doubles the cache's share of the server's memory.
//
// The quarter: a full feature cache holds up to its budget of heap (0.81
// times with none of its features served yet, 0.98 with all; 1.13 when
// this was chosen, before its features were packed), and the rest is the
// collector's room. One and a half, as before,
// left the server at 251-262 MB serving random boxes of 1,000,000 parcels
// with the default budgets (the tile cache empty, its share of the limit
// room for garbage), over issue 10's 250; a quarter brings it to 228-231
// MB for about 8 % more CPU per read from the file and 7-17 % more
// per read from the cache (BENCHMARKS.md).
//
// Under that limit the collector may also wait longer (gcPercent, unless
// GOGC says otherwise): while the live heap is small (the cache cold or
// off) it would otherwise run every few megabytes of requests, about a
// fifth of the CPU of a read from the file; the limit still bounds the
// heap as before.
func setMemoryLimit(env envFunc, cacheBytes int64, log *slog.Logger) {
	if env("GOMEMLIMIT") != "" {
		return
	}
	limit := cacheBytes*5/4 + 64<<20
	debug.SetMemoryLimit(limit)
	if env("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	log.Debug("memory limit", "bytes", limit)
}

// gcPercent is serve's GOGC under its memory limit.
const gcPercent = 400
