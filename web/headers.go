package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Check reports what in the options would make a broken service: a base
// URL that is not an http(s) URL, or a tile template whose hosts the
// Content-Security-Policy cannot name.
func (o Options) Check() error {
	if o.BaseURL != "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("--base-url %q is not the http or https URL of the service root (like https://maps.example.cn/haimen)", o.BaseURL)
		}
	}
	if o.Tiles != "" {
		if _, err := tileSources(o.Tiles); err != nil {
			return err
		}
	}
	return nil
}

// tileSubdomains are what Leaflet puts for {s} in a tile URL: the map
// leaves the tile layer's subdomains at Leaflet's default.
var tileSubdomains = []string{"a", "b", "c"}

// tileSources returns the origins a tile URL template loads images from,
// one per subdomain when the host has {s}. They are listed one by one, not
// as a *.host wildcard, which would also admit every other subdomain.
func tileSources(tmpl string) ([]string, error) {
	scheme, rest, ok := strings.Cut(tmpl, "://")
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	if !ok || (scheme != "http" && scheme != "https") || host == "" {
		return nil, fmt.Errorf("--tiles %q is not an http or https URL template like https://{s}.tile.example/{z}/{x}/{y}.png", tmpl)
	}
	subs := []string{""}
	if strings.Contains(host, "{s}") {
		subs = tileSubdomains
	}
	var out []string
	for _, sub := range subs {
		h := strings.ReplaceAll(host, "{s}", sub)
		if strings.ContainsAny(h, "{}") {
			return nil, fmt.Errorf("--tiles %q: only {s} may stand in the host name (Leaflet fills it with a, b, c); the page's Content-Security-Policy has to name each host the tiles come from", tmpl)
		}
		out = append(out, scheme+"://"+h)
	}
	return out, nil
}

// contentSecurityPolicy allows the pages only their own scripts, styles,
// fetches and frames, and images from the tile server. Nothing inline
// runs: the map's configuration is a JSON data block, which is never
// executed, and Leaflet styles its elements through the CSSOM, which the
// policy does not restrict.
//
// Images may also be data: URLs, for two reasons: Leaflet points a tile
// it stops loading (zooming past it) at a blank data: GIF
// (Util.emptyImageUrl), and "Save as PNG" of a sheet (static/png.js)
// draws the sheet as a data: SVG image onto a canvas. An image cannot
// run script (an SVG drawn as an image is run without it), so this lets
// nothing execute; scripts, styles and fetches stay 'self' only.
func contentSecurityPolicy(tiles string) string {
	img := "img-src 'self' data:"
	if srcs, err := tileSources(tiles); tiles != "" && err == nil {
		img += " " + strings.Join(srcs, " ")
	}
	return "default-src 'self'; " + img + "; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
}

// securityHeaders go on every response: the policy above; nosniff, so
// that a browser never runs a download or a JSON document as a script or
// page; and no Referer leaves the site: a page's query (a search, a
// filter) is nobody else's business.
func securityHeaders(csp string) func(http.Handler) http.Handler {
	// The values are made once and shared by every response: Header.Set
	// would allocate three slices per request. Sharing is safe because
	// Set replaces a value and Add appends to a full slice, which copies.
	cspV, nosniff, sameOrigin := []string{csp}, []string{"nosniff"}, []string{"same-origin"}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Security-Policy"] = cspV
			h["X-Content-Type-Options"] = nosniff
			h["Referrer-Policy"] = sameOrigin
			next.ServeHTTP(w, r)
		})
	}
}
