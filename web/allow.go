package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"planmap/layers"
)

// allowed returns the methods that the caller p (nil: anonymous) may use
// on r's resource now, in the order an Allow header lists them, or nil
// when there is nothing at r's path (a route of a collection that does
// not exist included). GET, HEAD and OPTIONS are everyone's. A write
// needs p to cover it: the features of a collection (its items and each
// item) an editor of that collection, the collections themselves an admin.
// Only the methods the router routes count, so that Allow, the OPTIONS
// answer, and the 405 answers always agree.
func (s *server) allowed(r *http.Request, p *layers.Principal) []string {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	found, checked := false, false
	allow := []string{}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		rctx := chi.NewRouteContext()
		pattern := s.mux.Find(rctx, m, path)
		if pattern == "" {
			continue
		}
		found = true
		id := rctx.URLParam("collectionId")
		if id != "" && !checked {
			if !s.exists(r, id) {
				return nil
			}
			checked = true
		}
		switch {
		case m == http.MethodGet:
			allow = append(allow, http.MethodGet, http.MethodHead)
		case strings.HasPrefix(pattern, "/collections/{collectionId}/items"):
			if p.MayEdit(id) {
				allow = append(allow, m)
			}
		case p.MayAdmin():
			allow = append(allow, m)
		}
	}
	if !found {
		return nil
	}
	// OPTIONS after the reads, before the writes.
	i := 0
	for i < len(allow) && (allow[i] == http.MethodGet || allow[i] == http.MethodHead) {
		i++
	}
	return slices.Insert(allow, i, http.MethodOptions)
}

// exists reports whether collection id exists, as the catalog says; when
// the catalog cannot say, it does (the request itself will fail).
func (s *server) exists(r *http.Request, id string) bool {
	c, err := s.store.Catalog(r.Context())
	if err != nil {
		return true
	}
	_, ok := c.Collection(id)
	return ok
}

// options answers OPTIONS (except a CORS preflight, which cors answers):
// 200 with Allow listing what this caller may do now (OGC API – Features
// Part 4). QGIS turns editing on only when it sees POST there. A token
// that is not valid, or that came over a connection others may read, is
// not refused: its caller is anonymous here.
func (s *server) options(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		allow := s.allowed(r, s.caller(r))
		if allow == nil {
			s.writeError(w, r, layers.Errorf(layers.ENOTFOUND, "nothing at %s", r.URL.Path))
			return
		}
		h := w.Header()
		h.Set("Allow", strings.Join(allow, ", "))
		if slices.Contains(allow, http.MethodPatch) {
			h.Set("Accept-Patch", "application/merge-patch+json")
		}
		// The answer depends on the token; it is never stored by caches
		// (OPTIONS answers are not), but say so all the same.
		h.Add("Vary", "Authorization")
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	})
}

// methodNotAllowed answers a method the route does not have: 405 with the
// Allow of this caller, or 404 when there is nothing at the path after all
// (a collection that does not exist).
func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	allow := s.allowed(r, s.caller(r))
	if allow == nil {
		return layers.Errorf(layers.ENOTFOUND, "nothing at %s", r.URL.Path)
	}
	list := strings.Join(allow, ", ")
	w.Header().Set("Allow", list)
	return &layers.Error{Code: codeMethod, Message: r.Method + " is not allowed on " + r.URL.Path + " (for this caller: " + list + ")"}
}

// Cross-origin requests. The data is public and web maps on other sites
// may show it; writes carry a bearer token in Authorization, never a
// cookie, so opening them to any origin lends a page no one's rights.
const (
	corsMethods = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type, Content-Crs, If-Match, If-None-Match, Planmap-Note, Accept-Datetime, Range, Last-Event-ID"
	corsExpose  = "ETag, Location, Allow, Content-Crs, Content-Disposition, Link, Content-Range, Accept-Ranges, Planmap-Thinned"
)

// preflight reports whether r is a CORS preflight: an OPTIONS request with
// Origin and Access-Control-Request-Method. Browsers never send
// credentials with one.
func preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}
