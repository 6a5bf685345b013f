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
	"testing"
	"time"

	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/web"
)

// newLoggedServer is newServer over store, with its log at debug level
// kept for the test to read.
func newLoggedServer(t *testing.T, store web.Store, opt web.Options) (*httptest.Server, *layerstest.SyncBuffer) {
	t.Helper()
	logs := &layerstest.SyncBuffer{}
	srv := httptest.NewServer(web.NewRouter(store, opt, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(srv.Close)
	return srv, logs
}

// brokenStore fails to write a layer file half way, as a full disk would.
type brokenStore struct{ *gpkg.Store }

func (s brokenStore) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	var b bytes.Buffer
	if err := s.Store.WriteGeoJSON(ctx, &b, id, progress); err != nil {
		return err
	}
	w.Write(b.Bytes()[:b.Len()/2])
	return errors.New("disk on fire")
}

// waitLog waits until the log has a line matching re.
func waitLog(t *testing.T, logs *layerstest.SyncBuffer, re string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !regexp.MustCompile(re).MatchString(logs.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %s in 10 s:\n%s", re, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A download is built into the cache before its response begins, so a
// failed build is a whole problem document, never a truncated file with
// one appended; errors after a response began are abort_internal_test.go's.
func TestDownloadBuildFails(t *testing.T) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	srv, logs := newLoggedServer(t, brokenStore{newStore(t)}, web.Options{})
	res, err := client.Get(srv.URL + "/collections/parcels/download.geojson")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 500 || res.Header.Get("Content-Type") != "application/problem+json" || bytes.Contains(body, []byte(`"FeatureCollection"`)) {
		t.Errorf("a download whose build failed = %d %s, want a 500 problem and no part of the file:\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	waitLog(t, logs, `msg=request .*path=/collections/parcels/download.geojson`)
	if l := logs.String(); !regexp.MustCompile(`level=ERROR msg="internal error" .*disk on fire`).MatchString(l) {
		t.Errorf("the failed build is not logged as an internal error:\n%s", l)
	}
}
