package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"planmap/layers/layerstest"
	"planmap/web"
)

type downStore struct{}

func (downStore) Ping(context.Context) error { return errors.New("disk on fire") }

func get(t *testing.T, h http.Handler, path string) (*http.Response, map[string]any) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: body is not JSON: %s", path, body)
	}
	return res, v
}

func TestHealthz(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		res, v := get(t, web.NewRouter(layerstest.MustOpen(t), slog.New(slog.NewTextHandler(io.Discard, nil))), "/healthz")
		if res.StatusCode != 200 || v["status"] != "ok" {
			t.Errorf("GET /healthz = %d %v, want 200 ok", res.StatusCode, v)
		}
	})
	t.Run("ErrDatabaseDown", func(t *testing.T) {
		var logs bytes.Buffer
		res, v := get(t, web.NewRouter(downStore{}, slog.New(slog.NewTextHandler(&logs, nil))), "/healthz")
		if res.StatusCode != 503 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /healthz = %d %s, want a 503 problem", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if d, _ := v["detail"].(string); strings.Contains(d, "fire") {
			t.Errorf("the problem shows the internal error: %v", v)
		}
		if !strings.Contains(logs.String(), "disk on fire") {
			t.Errorf("the cause is not logged:\n%s", logs.String())
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		srv := httptest.NewServer(web.NewRouter(downStore{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
		defer srv.Close()
		res, err := http.Post(srv.URL+"/healthz", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 {
			t.Errorf("POST /healthz = %d, want 405", res.StatusCode)
		}
	})
}
