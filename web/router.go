package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"planmap/layers"
)

// Store is what the web layer needs from the layer store.
type Store interface {
	Ping(ctx context.Context) error
}

// NewRouter returns the HTTP handler of planmap:
//
//	GET /healthz   {"status":"ok"} while the database answers, 503 otherwise
func NewRouter(store Store, log *slog.Logger) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(requestLogger(log))
	r.Use(middleware.Recoverer)

	r.Get("/healthz", handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if err := store.Ping(r.Context()); err != nil {
			log.Error("health check", "request_id", middleware.GetReqID(r.Context()), "err", err)
			return &layers.Error{Code: codeUnavailable, Message: "the database does not answer"}
		}
		return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	r.NotFound(handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return layers.Errorf(layers.ENOTFOUND, "nothing at %s", r.URL.Path)
	}))
	r.MethodNotAllowed(handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return &layers.Error{Code: codeMethod, Message: r.Method + " is not allowed on " + r.URL.Path}
	}))
	return r
}

// handle turns a handler that returns an error into an http.HandlerFunc
// that writes the error in one place.
func handle(log *slog.Logger, h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, log, err)
		}
	}
}

// Error codes of the web layer's own, beside the store's.
const (
	codeMethod      = "method"      // the route exists, not for this method
	codeUnavailable = "unavailable" // the database does not answer
)

var statuses = map[string]int{
	layers.EINVALID:  http.StatusBadRequest,
	layers.ENOTFOUND: http.StatusNotFound,
	layers.ECONFLICT: http.StatusConflict,
	codeMethod:       http.StatusMethodNotAllowed,
	codeUnavailable:  http.StatusServiceUnavailable,
}

// writeError writes err as RFC 9457 problem details. Internal errors are
// logged with the request id and shown only as "internal error".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := layers.ErrorCode(err)
	status, ok := statuses[code]
	msg := err.Error()
	if !ok {
		status = http.StatusInternalServerError
		msg = "internal error"
		log.Error("internal error", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": msg,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// requestLogger logs one line per request with its id, status and
// duration.
func requestLogger(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			log.Info("request",
				"id", middleware.GetReqID(r.Context()),
				"method", r.Method,
				"path", r.URL.RequestURI(),
				"status", status,
				"bytes", ww.BytesWritten(),
				"duration", time.Since(start),
			)
		})
	}
}
