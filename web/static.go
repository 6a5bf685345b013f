package web

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"planmap/layers"
)

// staticFS holds the web map: our own ES modules and CSS, and Leaflet,
// which the Makefile copies in from the npm registry (make assets).
//
//go:embed static
var staticFS embed.FS

// leafletFiles must be in the binary for the map to work.
var leafletFiles = []string{"static/vendor/leaflet/leaflet.js", "static/vendor/leaflet/leaflet.css"}

// CheckAssets reports whether the web map's files are in the binary, so
// that a build without Leaflet fails when it starts, not in the browser.
func CheckAssets() error {
	for _, f := range leafletFiles {
		if _, err := fs.Stat(staticFS, f); err != nil {
			return fmt.Errorf("the web map is incomplete: %s is not in the binary; run make assets (it copies Leaflet from npm into web/static/vendor) and build again", strings.TrimPrefix(f, "static/"))
		}
	}
	return nil
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The files change only with the binary; a day of caching spares
		// every pan a round of revalidation.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// mapPage is what the web map's page needs from the server.
type mapPage struct {
	Landing landingPage
	Config  mapConfig
}

// mapConfig is handed to the map's JavaScript as JSON.
type mapConfig struct {
	Base        string `json:"base"`
	Tiles       string `json:"tiles,omitempty"`
	Attribution string `json:"attribution,omitempty"`
}

// search answers /search?q=…: features of any layer whose name contains q.
func (s *server) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, "q", "limit", "f"); err != nil {
		return err
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return layers.Errorf(layers.EINVALID, "limit=%s is not a whole number of 1 or more", v)
		}
		limit = min(n, 100)
	}
	text := q.Get("q")
	if strings.TrimSpace(text) == "" {
		return layers.Errorf(layers.EINVALID, "q is empty: give a name, or part of one, in Chinese or English")
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	hits := cat.Search(text, limit)
	w.Header().Set("Content-Type", mediaGeoJSON)
	buf := []byte(`{"type":"FeatureCollection","numberReturned":` + strconv.Itoa(len(hits)) + `,"features":[`)
	for i, h := range hits {
		if i > 0 {
			buf = append(buf, ',')
		}
		// The feature, with the collection it belongs to as a foreign member.
		buf = append(buf, h.Item.JSON[:len(h.Item.JSON)-1]...)
		buf = append(buf, `,"collection":`...)
		buf = strconv.AppendQuote(buf, h.Collection.ID)
		buf = append(buf, '}')
	}
	buf = append(buf, "]}\n"...)
	_, err = w.Write(buf)
	return err
}
