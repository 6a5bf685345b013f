package web_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"planmap/web"
)

func TestStatic(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	t.Run("OK", func(t *testing.T) {
		r := get(t, srv.URL+"/static/app.js")
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") || !bytes.Contains(r.body, []byte("import")) {
			t.Errorf("GET /static/app.js = %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		res, err := http.Head(srv.URL + "/static/vendor/leaflet/leaflet.css")
		if err != nil || res.StatusCode != 200 || res.ContentLength <= 0 {
			t.Errorf("HEAD leaflet.css = %v %v", res, err)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		for _, method := range []string{"DELETE", "POST", "PUT", "PATCH"} {
			req, _ := http.NewRequest(method, srv.URL+"/static/app.js", strings.NewReader("x"))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 405 || !strings.Contains(res.Header.Get("Allow"), "GET") ||
				res.Header.Get("Content-Type") != "application/problem+json" || bytes.Contains(body, []byte("import")) {
				t.Errorf("%s /static/app.js = %d, Allow %q, %s, want a 405 problem:\n%.200s", method, res.StatusCode, res.Header.Get("Allow"), res.Header.Get("Content-Type"), body)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, p := range []string{"/static/", "/static/vendor", "/static/vendor/", "/static/vendor/leaflet/", "/static/nope.js", "/static/../go.mod", "/static/%2e%2e/router.go"} {
			r := get(t, srv.URL+p)
			if r.StatusCode != 404 || r.Header.Get("Content-Type") != "application/problem+json" || bytes.Contains(r.body, []byte("<a href")) {
				t.Errorf("GET %s = %d %s, want a 404 problem and no listing:\n%.300s", p, r.StatusCode, r.Header.Get("Content-Type"), r.body)
			}
		}
	})
}
