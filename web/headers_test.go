package web_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"planmap/web"
)

func TestSecurityHeaders(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	for _, p := range []string{"/", "/?f=html", "/collections", "/collections?f=html", "/collections/xss/items?f=html", "/api.html",
		"/static/app.js", "/collections/nope?f=html", "/collections/parcels/download.geojson"} {
		r := get(t, srv.URL+p)
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" ||
			!strings.HasPrefix(csp, "default-src 'self'; img-src 'self' data:;") || !strings.Contains(csp, "frame-ancestors 'self'") ||
			strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: headers %v", p, h)
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			continue
		}
		// What the policy would block: inline scripts, handlers, styles.
		for _, bad := range []*regexp.Regexp{
			regexp.MustCompile(`<script(?: [^>]*)?>[^<]`), regexp.MustCompile(`(?i)<style`),
			regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle=`), regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+=`), regexp.MustCompile(`(?i)<[a-z][^>]*="javascript:`),
		} {
			for _, m := range bad.FindAll(r.body, -1) {
				if !bytes.HasPrefix(m, []byte(`<script type="application/json" id="config">`)) {
					t.Errorf("GET %s: the page has %q, which the Content-Security-Policy blocks", p, m)
				}
			}
		}
	}
	t.Run("TileHosts", func(t *testing.T) {
		srv, _ := newServer(t, web.Options{Tiles: "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", Attribution: "© OpenStreetMap"})
		csp := get(t, srv.URL+"/").Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "img-src 'self' data: https://a.tile.openstreetmap.org https://b.tile.openstreetmap.org https://c.tile.openstreetmap.org;") {
			t.Errorf("with {s} tiles, CSP = %s", csp)
		}
	})
}

func TestOptionsCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  web.Options
		want string
	}{
		{"OK", web.Options{BaseURL: "https://maps.example.cn/haimen", Tiles: "http://t{s}.example/{z}/{x}/{y}.png"}, ""},
		{"ErrBaseURLRelative", web.Options{BaseURL: "/haimen"}, "--base-url"},
		{"ErrBaseURLScheme", web.Options{BaseURL: "ftp://maps.example.cn"}, "--base-url"},
		{"ErrTilesNotURL", web.Options{Tiles: "tile.example/{z}/{x}/{y}.png"}, "--tiles"},
		{"ErrTilesHostPlaceholder", web.Options{Tiles: "https://{server}.tile.example/{z}/{x}/{y}.png"}, "only {s}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.opt.Check()
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("%+v.Check() = %v, want %q", c.opt, err, c.want)
			}
		})
	}
}
