package web

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"planmap/layers/layerstest"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// streamServer serves h through handle and the router's own logging and
// recovering middleware: downloads are built before they are sent, so no
// route of NewRouter streams from the store any more, yet handle must
// still never append a problem to a response that began.
func streamServer(t *testing.T, h func(http.ResponseWriter, *http.Request) error) (*httptest.Server, *layerstest.SyncBuffer) {
	t.Helper()
	logs := &layerstest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &server{log: log}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestLogger(log), middleware.Recoverer)
	r.Get("/stream", s.handle(h))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, logs
}

func waitFor(t *testing.T, logs *layerstest.SyncBuffer, re string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if l := logs.String(); regexp.MustCompile(re).MatchString(l) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %s in 10 s:\n%s", re, logs)
		}
	}
}

func TestErrorsAfterTheResponseBegan(t *testing.T) {
	half := bytes.Repeat([]byte(`{"type":"Feature","properties":{}},`), 2000)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Run("ErrMidStream", func(t *testing.T) {
		srv, logs := streamServer(t, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", mediaGeoJSON)
			w.Write(half)
			http.NewResponseController(w).Flush()
			return errors.New("disk on fire")
		})
		res, err := client.Get(srv.URL + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading a response that failed half way: %v, want io.ErrUnexpectedEOF (a cut connection)", err)
		}
		if res.StatusCode != 200 || !bytes.Equal(body, half) {
			t.Errorf("a response that failed half way = %d, %d bytes, want 200 and exactly the %d bytes sent, no problem appended:\n%s",
				res.StatusCode, len(body), len(half), body[max(0, len(body)-300):])
		}
		l := waitFor(t, logs, `msg=request .*path=/stream`)
		if !regexp.MustCompile(`level=ERROR msg="response aborted" .*err="disk on fire"`).MatchString(l) || strings.Contains(l, "panic") ||
			!regexp.MustCompile(`msg=request .*aborted=true`).MatchString(l) {
			t.Errorf("the failure is not logged as an error of a request marked aborted, or is logged as a panic:\n%s", l)
		}
	})
	t.Run("ClientHangsUp", func(t *testing.T) {
		sent := make(chan struct{})
		srv, logs := streamServer(t, func(w http.ResponseWriter, r *http.Request) error {
			w.Write(half)
			http.NewResponseController(w).Flush()
			close(sent)
			<-r.Context().Done()
			if _, err := w.Write(half); err != nil {
				return err
			}
			return r.Context().Err()
		})
		res, err := client.Get(srv.URL + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		<-sent
		if _, err := io.ReadFull(res.Body, make([]byte, 100)); err != nil {
			t.Fatalf("read the beginning of the response: %v", err)
		}
		res.Body.Close() // before the end: the connection is closed
		l := waitFor(t, logs, `msg=request .*path=/stream`)
		if strings.Contains(l, "level=ERROR") || !strings.Contains(l, `level=DEBUG msg="client went away"`) ||
			!regexp.MustCompile(`msg=request .*aborted=true`).MatchString(l) {
			t.Errorf("a client that hung up is logged as our error, or not at debug level, or its request is not marked aborted:\n%s", l)
		}
	})
}
