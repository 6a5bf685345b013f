package web

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

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

// staticHandler serves the web map's files, and nothing else: a folder or
// a missing file is a 404 like any other, with no listing.
func staticHandler() func(http.ResponseWriter, *http.Request) error {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		notFound := layers.Errorf(layers.ENOTFOUND, "nothing at %s", r.URL.Path)
		name := chi.URLParam(r, "*")
		if !fs.ValidPath(name) {
			return notFound
		}
		f, err := sub.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return notFound
		} else if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		content, ok := f.(io.ReadSeeker)
		if fi.IsDir() || !ok {
			return notFound
		}
		// The files change only with the binary; a day of caching spares
		// every pan a round of revalidation.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeContent(w, r, name, fi.ModTime(), content)
		return nil
	}
}

// mapPage is what the web map's page needs from the server.
type mapPage struct {
	Landing landingPage
	Config  mapConfig
}

// mapConfig is handed to the map's JavaScript as JSON.
type mapConfig struct {
	// Base is the path of the service root: the map fetches from the
	// origin that served it.
	Base        string `json:"base"`
	Tiles       string `json:"tiles,omitempty"`
	Attribution string `json:"attribution,omitempty"`
	// Classes are the land-use classes and their colours, from the one
	// table in layers that also styles QGIS and KML downloads.
	Classes []layers.Class `json:"classes"`
	// Statuses are how a project's stage shows on its shape, and Dashes
	// how its position confidence shows in its outline (layers/style.go).
	Statuses []layers.Status   `json:"statuses"`
	Dashes   map[string]string `json:"dashes"`
}

// newMapConfig is the map's configuration for a service at base.
func newMapConfig(base string, opt Options) mapConfig {
	return mapConfig{
		Base: base, Tiles: opt.Tiles, Attribution: opt.Attribution,
		Classes: layers.Classes, Statuses: layers.Statuses, Dashes: layers.ConfidenceDash,
	}
}
