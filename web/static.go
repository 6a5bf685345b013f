package web

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
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
	// Base is the path of the service root: the map fetches from the
	// origin that served it.
	Base        string `json:"base"`
	Tiles       string `json:"tiles,omitempty"`
	Attribution string `json:"attribution,omitempty"`
	// Classes are the land-use classes and their colours, from the one
	// table in layers that also styles QGIS and KML downloads.
	Classes []layers.Class `json:"classes"`
}
