package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"planmap/layers"
	"planmap/web"
)

// logBuffer collects a server's log lines; the server writes from its own
// goroutines while the test reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLoggedServer is newServer over store, with its log at debug level
// kept for the test to read.
func newLoggedServer(t *testing.T, store web.Store, opt web.Options) (*httptest.Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	srv := httptest.NewServer(web.NewRouter(store, opt, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(srv.Close)
	return srv, logs
}

// brokenStore sends the first half of a real layer file, then fails.
type brokenStore struct{ *layers.Store }

func (s brokenStore) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	var b bytes.Buffer
	if err := s.Store.WriteGeoJSON(ctx, &b, id, progress); err != nil {
		return err
	}
	w.Write(b.Bytes()[:b.Len()/2])
	// On its way to the client, as a long download's beginning would be.
	http.NewResponseController(w.(http.ResponseWriter)).Flush()
	return errors.New("disk on fire")
}

// stallingStore sends the first half of a real layer file and waits for
// the client to go, as a slow disk would, then sends the rest.
type stallingStore struct {
	*layers.Store
	sent chan struct{}
}

func (s stallingStore) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	var b bytes.Buffer
	if err := s.Store.WriteGeoJSON(ctx, &b, id, progress); err != nil {
		return err
	}
	half := b.Len() / 2
	if _, err := w.Write(b.Bytes()[:half]); err != nil {
		return err
	}
	http.NewResponseController(w.(http.ResponseWriter)).Flush()
	close(s.sent)
	<-ctx.Done()
	if _, err := w.Write(b.Bytes()[half:]); err != nil {
		return err
	}
	return ctx.Err()
}

// waitLog waits until the log has a line matching re.
func waitLog(t *testing.T, logs *logBuffer, re string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !regexp.MustCompile(re).MatchString(logs.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %s in 10 s:\n%s", re, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestErrorsAfterTheResponseBegan(t *testing.T) {
	// Without gzip, so that what the server sent is what the client reads.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Run("ErrMidStream", func(t *testing.T) {
		srv, logs := newLoggedServer(t, brokenStore{newStore(t)}, web.Options{})
		res, err := client.Get(srv.URL + "/collections/parcels/download.geojson")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading a download that failed half way: %v, want io.ErrUnexpectedEOF (a cut connection)", err)
		}
		if res.StatusCode != 200 || len(body) == 0 || bytes.Contains(body, []byte("internal error")) || bytes.Contains(body, []byte("about:blank")) {
			t.Errorf("a download that failed half way = %d, want 200 and half the file with no problem document appended:\n%s", res.StatusCode, body[max(0, len(body)-300):])
		}
		waitLog(t, logs, `msg=request .*path=/collections/parcels/download.geojson`)
		if l := logs.String(); !regexp.MustCompile(`level=ERROR msg="response aborted" .*err="disk on fire"`).MatchString(l) || strings.Contains(l, "panic") ||
			!regexp.MustCompile(`msg=request .*aborted=true`).MatchString(l) {
			t.Errorf("the failure is not logged as an error of a request marked aborted, or is logged as a panic:\n%s", l)
		}
	})
	t.Run("ClientHangsUp", func(t *testing.T) {
		store := stallingStore{Store: newStore(t), sent: make(chan struct{})}
		srv, logs := newLoggedServer(t, store, web.Options{})
		res, err := client.Get(srv.URL + "/collections/parcels/download.geojson")
		if err != nil {
			t.Fatal(err)
		}
		<-store.sent
		if _, err := io.ReadFull(res.Body, make([]byte, 100)); err != nil {
			t.Fatalf("read the beginning of the download: %v", err)
		}
		res.Body.Close() // before the end: the connection is closed
		waitLog(t, logs, `msg=request .*path=/collections/parcels/download.geojson`)
		if l := logs.String(); strings.Contains(l, "level=ERROR") || !strings.Contains(l, `level=DEBUG msg="client went away"`) ||
			!regexp.MustCompile(`msg=request .*aborted=true`).MatchString(l) {
			t.Errorf("a client that hung up is logged as our error, or not at debug level, or its request is not marked aborted:\n%s", l)
		}
	})
}
