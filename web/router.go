package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"planmap/layers"
	"planmap/web/filecache"
	"planmap/web/tiles"
)

// Store is what the web layer needs of a store of layers: the GeoPackage
// store, and a cache in front of any store, implement it, and pass the
// contract tests of layers/storetest.
type Store interface {
	Ping(ctx context.Context) error
	// Catalog returns every layer, with its count, extent and version,
	// as of the store's latest change. It is called on every request and
	// must not wait on I/O once the store is ready.
	Catalog(ctx context.Context) (*layers.Catalog, error)
	// Items returns page p of the features of layer id that f selects, in
	// id order, and how many match in all (exactly).
	Items(ctx context.Context, id string, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	// Item returns one feature, or an ENOTFOUND error.
	Item(ctx context.Context, id string, fid int64) (*layers.Item, error)
	// Shapes is Items for drawing (vector tiles): the same features, each
	// only its geometry and the values of fields.
	Shapes(ctx context.Context, id string, f layers.Filter, p layers.Page, fields []string) ([]layers.Shape, int, error)
	// Search finds features by name (Store.Search of layers/gpkg says how).
	Search(ctx context.Context, q string, limit int) ([]layers.Hit, error)
	// Changes returns the entries of the store's change log after seq
	// after, oldest first, at most limit: what changed since a Catalog
	// whose Seq was after.
	Changes(ctx context.Context, after int64, limit int) ([]layers.Change, error)
	WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error
	ExportGPKG(ctx context.Context, path string, ids ...string) error
	WriteKML(ctx context.Context, w io.Writer, id string) error
	WriteAllKML(ctx context.Context, w io.Writer) error
}

// Editor is what the web layer needs of a store to change it; a store
// that does not implement it is served read-only. Each write checks the
// feature as an import does (Layer.CheckFeature) and against the layer's
// planning rules, stores it whole or not at all, and records e with the
// version it begins.
type Editor interface {
	// Create stores f in layer id under a new id, never one used
	// before, and returns it as stored.
	Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
	// Replace stores f as feature fid of layer id if the feature's
	// current version is ifMatch ("" accepts any), and an EPRECONDITION
	// error if it is not. A deleted fid comes back under the same id.
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	// Delete removes feature fid of layer id if its current version is
	// ifMatch ("" accepts any). Its id stays retired.
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
	// Versions returns the history of feature fid of layer id, newest
	// first, or an ENOTFOUND error if it never existed.
	Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error)
}

// LayerEditor is what the web layer needs of a store for admins to
// change the layers themselves (POST /collections, PUT and DELETE
// /collections/{id}); an Editor that is not one serves none of those.
// Each is one transaction, recording e as a feature edit does.
type LayerEditor interface {
	// DeclareLayer creates layer l.ID, empty, from its declaration,
	// checked as an import checks a layer file's; ECONFLICT if it exists.
	DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	// RedeclareLayer gives layer l.ID the declaration l, as an import of
	// a layer file with that declaration and no features would; refused
	// (EINVALID), naming the features, when a stored feature breaks it.
	RedeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	// DropLayer removes layer id and its features; the history keeps
	// their versions and records the drop.
	DropLayer(ctx context.Context, id string, e layers.Edit) error
}

// Tokens finds who a bearer token speaks for.
type Tokens interface {
	// Principal returns the principal of token, or nil if the token is
	// unknown or revoked.
	Principal(ctx context.Context, token string) (*layers.Principal, error)
}

// Options configure the router.
type Options struct {
	// BaseURL is the public URL of the service root, as clients reach it
	// (behind a proxy, say). Empty: taken from each request.
	BaseURL string
	// AllowPlainHTTPTokens accepts bearer tokens over plain HTTP from
	// anywhere. Off, a token is accepted only over TLS, from a client on
	// this machine, or through a proxy on it when BaseURL is https
	// (tokenTransport in auth.go).
	AllowPlainHTTPTokens bool
	// Tiles is a tile URL template ({z}/{x}/{y}) for a base map under the
	// layers, with its Attribution. Empty: the district's own layers are
	// the base map, and the map loads nothing from elsewhere.
	Tiles       string
	Attribution string
	// ListenAddr is the address the server listens on; requests to it
	// are answered (see DefaultAllowedHosts).
	ListenAddr string
	// AllowedHosts are the host names (ports ignored, "*" for any) the
	// service answers to; another Host gets 421 Misdirected Request.
	// Empty: DefaultAllowedHosts(BaseURL, ListenAddr).
	AllowedHosts []string
	// Downloads is the cache the downloads are built into, once per
	// version of the data. Nil: one in the OS's temporary folder.
	Downloads *filecache.Cache
	// Ready reports whether the store has loaded what it serves from;
	// until it has, /healthz answers 503 "starting". Nil: always ready.
	Ready func() bool
	// CacheStats, when set, says how the cache in front of the store is
	// doing; /healthz shows it, as JSON, under "cache".
	CacheStats func() any
	// Replication, when set, says how the store's read replicas do: each
	// one's state and lag behind the primary; /healthz shows it under
	// "replication".
	Replication func(context.Context) layers.Replication
	// Tokens checks the bearer tokens of writes. Nil: nobody may write.
	Tokens Tokens
	// Stop, when closed, ends the open change streams (/changes/stream),
	// which otherwise last as long as their clients: close it when the
	// server begins to shut down (http.Server.RegisterOnShutdown), so
	// that Shutdown does not wait for them. Nil: they end with their
	// clients.
	Stop <-chan struct{}
	// Heartbeat is how often an idle change stream sends a comment to
	// keep proxies from closing it. Zero: DefaultHeartbeat.
	Heartbeat time.Duration
	// TileCacheBytes is the byte budget of the vector tile cache; 0:
	// tiles.DefaultBudget; negative: none.
	TileCacheBytes int64
	// StatsCacheBytes is the byte budget of the cache of statistics
	// answers about whole layers (statscache.go); 0:
	// DefaultStatsCacheBytes; negative: none.
	StatsCacheBytes int64
}

type server struct {
	store Store
	log   *slog.Logger
	opt   Options
	hosts hostSet
	mux   *chi.Mux // to learn which methods a path has (allowed)
	// basePath is the path of the base URL ("" at the root): pages load
	// their own scripts and styles by path, never through the Host.
	basePath string

	collectionsJSON atomic.Pointer[encoded]

	feed *feed // the change log, fanned out to the change streams

	// tileCache holds the vector tiles made (tiles.go); /healthz shows
	// how it does.
	tileCache *tiles.Cache
	// statsCache holds statistics answers about whole layers
	// (statscache.go); nil: none.
	statsCache *statsCache

	downloadsOnce  sync.Once
	downloadsCache *filecache.Cache
	downloadsErr   error
}

// NewRouter returns the HTTP handler of planmap, an OGC API – Features
// service (Part 1 core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS; Part 3
// queryables as query parameters):
//
//	GET /                                          landing page; in a browser, the web map
//	GET /conformance                               conformance classes
//	GET /api                                       OpenAPI 3.0 document (service-desc)
//	GET /api.html                                  the same for people (service-doc)
//	GET /collections                               the layers
//	GET /collections/{collectionId}                one layer: extent, CRSs, links
//	GET /collections/{collectionId}/items          its features: bbox, bbox-crs, crs, datetime, limit, offset, ?field=value
//	GET /collections/{collectionId}/items/{fid}    one feature
//	GET /collections/{collectionId}/items/{fid}/sheet  its plot sheet (地块图则): one printable A4 page
//	GET /collections/{collectionId}/queryables     the fields one can filter on (JSON Schema)
//	GET /collections/{collectionId}/stats          count, area or length per value of groupby: bbox, bbox-crs, ?field=value, f=csv
//	GET /collections/{collectionId}/download.geojson  the whole layer as a layer file
//	GET /collections/{collectionId}/download.gpkg     the whole layer as a GeoPackage
//	GET /collections/{collectionId}/download.kml      the whole layer as KML (Google Earth, 奥维)
//	GET /download/planmap.gpkg                     every layer as one GeoPackage
//	GET /download/planmap.kml                      every layer as KML, a folder each
//	GET /search?q=…                                features whose name holds q, in any layer
//	GET /stats                                     count and area per land-use class over many layers: bbox, bbox-crs, collections, f=csv
//	GET /changes                                   the change log after a change number: since, collections, limit
//	GET /changes/stream                            the same as it happens, as server-sent events (Last-Event-ID resumes)
//	GET /static/…                                  the web map's scripts, styles and Leaflet
//	GET /healthz                                   {"status":"ok"} while the database answers, with the open change streams, the tile and statistics caches, and the read replicas' lag
//	GET /tileMatrixSets, /tiles/…, /collections/{collectionId}/tiles/…  vector tiles, OGC API – Tiles (tiles.go)
//
// Every GET answers HEAD too; reads are open to any origin (CORS). A
// request whose Host is not allowed (Options.AllowedHosts) gets 421.
func NewRouter(store Store, opt Options, log *slog.Logger) http.Handler {
	log = slog.New(redactingHandler{log.Handler()}) // no token in the log (auth.go)
	s := &server{store: store, log: log, opt: opt}
	switch {
	case opt.StatsCacheBytes == 0:
		s.statsCache = newStatsCache(DefaultStatsCacheBytes)
	case opt.StatsCacheBytes > 0:
		s.statsCache = newStatsCache(opt.StatsCacheBytes)
	}
	s.feed = &feed{store: store, subs: map[*subscriber]struct{}{}, wake: make(chan struct{}, 1), onErr: func(err error) { log.Warn("following the change log", "err", err) }}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	s.opt = opt
	if u, err := url.Parse(opt.BaseURL); err == nil {
		s.basePath = u.EscapedPath()
	}
	hosts := opt.AllowedHosts
	if len(hosts) == 0 {
		hosts = DefaultAllowedHosts(opt.BaseURL, opt.ListenAddr)
	}
	s.hosts = newHostSet(hosts)

	r := chi.NewRouter()
	s.mux = r
	r.Use(middleware.RequestID)
	r.Use(requestLogger(log))
	r.Use(middleware.Recoverer)
	r.Use(securityHeaders(contentSecurityPolicy(opt.Tiles)))
	r.Use(s.cors)
	r.Use(s.checkHost)
	r.Use(s.checkQuery, s.redirectSlash, s.options, editorReads)
	r.Use(middleware.GetHead)
	// Level 1: most of what gzip saves on JSON for a fraction of the CPU of
	// the default; pages of features are made per request.
	// Not downloads, nor the change stream (download.go, skipDownloads).
	r.Use(skipDownloads(middleware.Compress(1, "application/json", "application/geo+json", "application/schema+json",
		"application/vnd.oai.openapi+json", "application/problem+json", "text/html")))

	r.Get("/", s.handle(s.landing))
	r.Get("/conformance", s.handle(s.conformance))
	r.Get("/api", s.handle(s.api))
	r.Get("/api.html", s.handle(s.apiHTML))
	r.Get("/collections", s.handle(s.collections))
	r.Get("/collections/{collectionId}", s.handle(s.collection))
	r.Get("/collections/{collectionId}/items", s.handle(s.items))
	r.Get("/collections/{collectionId}/items/{featureId}", s.handle(s.item))
	r.Get("/collections/{collectionId}/items/{featureId}/sheet", s.handle(s.sheet))
	r.Get("/collections/{collectionId}/queryables", s.handle(s.queryables))
	r.Get("/collections/{collectionId}/stats", s.handle(s.collectionStats))
	r.Get("/collections/{collectionId}/download.geojson", s.handle(s.downloadGeoJSON))
	r.Get("/collections/{collectionId}/download.gpkg", s.handle(s.downloadGPKG))
	r.Get("/collections/{collectionId}/download.kml", s.handle(s.downloadKML))
	r.Get("/download/planmap.gpkg", s.handle(s.downloadAll))
	r.Get("/download/planmap.kml", s.handle(s.downloadAllKML))
	r.Get("/search", s.handle(s.search))
	r.Get("/stats", s.handle(s.districtStats))
	r.Get("/changes", s.handle(s.changes))
	r.Get("/changes/stream", s.handle(s.changeStream))
	r.Get("/static/*", s.handle(staticHandler()))
	r.Get("/healthz", s.handle(s.healthz))
	s.tileRoutes(r)  // /tileMatrixSets, /tiles, /collections/{collectionId}/tiles…: tiles.go
	s.editRoutes(r)  // /collections/{collectionId}/schema, the writes and /items/{featureId}/versions: edit.go
	s.adminRoutes(r) // POST /collections, PUT and DELETE /collections/{collectionId}: admin.go

	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return layers.Errorf(layers.ENOTFOUND, "nothing at %s", r.URL.Path)
	}))
	r.MethodNotAllowed(s.handle(s.methodNotAllowed))
	return r
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Ready != nil && !s.opt.Ready() {
		w.Header().Set("Retry-After", "1")
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	}
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Error("health check", "request_id", middleware.GetReqID(r.Context()), "err", err)
		return &layers.Error{Code: codeUnavailable, Message: "the database does not answer"}
	}
	doc := map[string]any{"status": "ok", "changeStreams": s.feed.subscribers()}
	if s.tileCache != nil {
		doc["tileCache"] = s.tileCache.Stats()
	}
	if s.statsCache != nil {
		doc["statsCache"] = s.statsCache.Stats()
	}
	if s.opt.CacheStats != nil {
		doc["cache"] = s.opt.CacheStats()
	}
	if s.opt.Replication != nil {
		doc["replication"] = s.opt.Replication(r.Context())
	}
	return writeJSON(w, http.StatusOK, doc)
}

// handle turns a handler that returns an error into an http.HandlerFunc
// that writes the error in one place. An error after the response has
// begun cannot become a problem document, which would only be appended to
// a 200 body: the connection is cut instead, so that the client sees a
// broken response, not a whole one.
func (s *server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sw := &startWriter{ResponseWriter: w}
		err := h(sw, r)
		if err == nil {
			return
		}
		if sw.started {
			s.logFailure(r, "response aborted", err)
			// net/http closes the connection without logging, and
			// middleware.Recoverer passes this one on.
			panic(http.ErrAbortHandler)
		}
		s.writeError(w, r, err)
	}
}

// startWriter notes whether a handler has begun its response.
type startWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startWriter) WriteHeader(status int) {
	w.started = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *startWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer, to
// flush it.
func (w *startWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logFailure logs an internal error, except that a client that went away
// (a reset, a broken pipe, a request context cancelled because it hung
// up) is no failure of ours and is logged at debug level.
func (s *server) logFailure(r *http.Request, msg string, err error) {
	level := slog.LevelError
	if r.Context().Err() != nil || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		level, msg = slog.LevelDebug, "client went away"
	}
	s.log.Log(r.Context(), level, msg, "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", err)
}

// Error codes of the web layer's own, beside the store's.
const (
	codeMethod        = "method"      // the route exists, not for this method
	codeUnavailable   = "unavailable" // the database does not answer
	codeNotAcceptable = "not_acceptable"
	codeMisdirected   = "misdirected"  // a Host the service does not answer to
	codeUnauthorized  = "unauthorized" // a write without a valid token
	codeForbidden     = "forbidden"    // a token that does not cover what it asks
	codeTooLarge      = "too_large"    // a request body over the limit
	codeMediaType     = "media_type"   // a request body of a type not taken
)

var statuses = map[string]int{
	layers.EINVALID:      http.StatusBadRequest,
	layers.ENOTFOUND:     http.StatusNotFound,
	layers.ECONFLICT:     http.StatusConflict,
	layers.EPRECONDITION: http.StatusPreconditionFailed,
	layers.EGONE:         http.StatusGone,
	codeUnauthorized:     http.StatusUnauthorized,
	codeForbidden:        http.StatusForbidden,
	codeTooLarge:         http.StatusRequestEntityTooLarge,
	codeMediaType:        http.StatusUnsupportedMediaType,
	codeMethod:           http.StatusMethodNotAllowed,
	codeUnavailable:      http.StatusServiceUnavailable,
	codeNotAcceptable:    http.StatusNotAcceptable,
	codeMisdirected:      http.StatusMisdirectedRequest,
}

// writeError writes err as RFC 9457 problem details, or as an HTML page
// for a browser. Internal errors are logged with the request id and shown
// only as "internal error".
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := layers.ErrorCode(err)
	status, ok := statuses[code]
	msg := err.Error()
	if !ok {
		status = http.StatusInternalServerError
		msg = "internal error"
		s.logFailure(r, "internal error", err)
	}
	h := w.Header()
	// A 412 says which version is current (ifMatch sets it).
	if status != http.StatusPreconditionFailed {
		h.Del("ETag")
	}
	h.Del("Content-Crs")
	h.Del("Content-Disposition")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="planmap"`)
	}
	le, linked := errors.AsType[*linkedError](err)
	if linked {
		h.Set("Link", linkHeader(le.links))
	}
	if wantsHTML(r) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		renderError(w, s.basePath, status, msg)
		return
	}
	problem := map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": msg,
	}
	if linked {
		problem["links"] = le.links
	}
	h.Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	return writeJSONType(w, status, "application/json", v)
}

func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// cors opens the service to every origin (allow.go says why) and answers
// CORS preflights, the same for everyone: a preflight carries no
// credentials, so its token, if any, is not looked at.
//
// Access-Control-Allow-Origin goes with every answer, so that a copy a
// cache stored for a request without an Origin still serves a web map on
// another site, even from a CDN that ignores Vary. The list of exposed
// headers goes only to requests with an Origin, which browsers send with
// every cross-origin one (QGIS, GDAL and same-origin pages send none):
// without it a small answer fits Go's small map, whose limit is 8 keys.
// net/http copies the handler's header map when it writes it, and past
// that limit both maps were grown and copied as tables, a quarter of a
// cached feature's garbage (BENCHMARKS.md, issue 10). A copy stored
// without the list still lets a script read the body; Vary: Origin says
// the answer depends on it.
func (s *server) cors(next http.Handler) http.Handler {
	// Shared, as in securityHeaders: Add appends to a full slice, which
	// copies.
	vary, star, expose := []string{"Accept, Origin"}, []string{"*"}, []string{corsExpose}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The same URL answers JSON or HTML by the Accept header.
		h["Vary"] = vary
		h["Access-Control-Allow-Origin"] = star
		if r.Header.Get("Origin") != "" {
			h["Access-Control-Expose-Headers"] = expose
		}
		if preflight(r) {
			if allow := s.allowed(r, nil); allow != nil {
				h.Set("Allow", strings.Join(allow, ", "))
			}
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "86400")
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestLogger logs one line per request with its id, status and
// duration.
func requestLogger(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			aborted := true
			// Deferred, to log also the requests whose response was cut
			// (http.ErrAbortHandler passes through here).
			defer func() {
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK // nothing written: net/http sends 200
				}
				// Attributes, not key-value arguments: the same line
				// without boxing each value.
				attrs := [7]slog.Attr{
					slog.String("id", middleware.GetReqID(r.Context())),
					slog.String("method", r.Method),
					slog.String("path", r.URL.RequestURI()),
					slog.Int("status", status),
					slog.Int("bytes", ww.BytesWritten()),
					slog.Duration("duration", time.Since(start)),
					slog.Bool("aborted", true),
				}
				n := len(attrs)
				if !aborted {
					n--
				}
				// The record made here rather than by LogAttrs, which
				// walks the stack for the caller's line, once per request,
				// for a source no handler of ours writes.
				if h := log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
					rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
					rec.AddAttrs(attrs[:n]...)
					h.Handle(r.Context(), rec)
				}
			}()
			next.ServeHTTP(ww, r)
			aborted = false
		})
	}
}
