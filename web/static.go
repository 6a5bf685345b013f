package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"planmap/layers"
)

// staticFS holds the web map: our own ES modules and CSS, and Leaflet,
// which the Makefile copies in from the npm registry (make assets).
//
//go:embed static
var staticFS embed.FS

// leafletFiles must be in the binary for the map to work: Leaflet;
// protomaps-leaflet, which draws vector tiles; Leaflet-Geoman, which
// draws and edits shapes for editors; and modern-screenshot for the
// sheets' Save as PNG (png.js imports it, so a missing copy also fails
// the module check below).
var leafletFiles = []string{
	"static/vendor/leaflet/leaflet.js", "static/vendor/leaflet/leaflet.css",
	"static/vendor/protomaps-leaflet/protomaps-leaflet.js",
	"static/vendor/leaflet-geoman/leaflet-geoman.js", "static/vendor/leaflet-geoman/leaflet-geoman.css",
	"static/vendor/modern-screenshot/modern-screenshot.js",
}

// CheckAssets reports whether the web map's files are in the binary, so
// that a build without Leaflet fails when it starts, not in the browser.
func CheckAssets() error {
	for _, f := range leafletFiles {
		if _, err := fs.Stat(staticFS, f); err != nil {
			return fmt.Errorf("the web map is incomplete: %s is not in the binary; run make assets (it copies Leaflet, protomaps-leaflet and modern-screenshot from npm into web/static/vendor) and build again", strings.TrimPrefix(f, "static/"))
		}
	}
	// A module importing one that is not there fails here, at start,
	// not in a browser.
	if _, err := assets(); err != nil {
		return fmt.Errorf("the web map is broken: %w", err)
	}
	return nil
}

// asset is one file of the web map as served: its bytes (for our own
// modules, with their imports pointed at content-hashed names), their
// gzip when that is smaller, and its content-hashed name.
type asset struct {
	name   string // as in the folder: "app.js"
	hashed string // "app.3f2a1b4c5d.js"
	body   []byte
	gz     []byte // nil when gzip does not pay
	etag   string
	// imports are the modules it imports statically, by their names in
	// the folder, in the order they appear.
	imports []string
	// preloads are the hashed names of every module it imports
	// statically, directly or through others (modulePreloads).
	preloads []string
}

// assetIndex holds every file of the web map under both its names.
type assetIndex struct {
	byName   map[string]*asset // "app.js" and "app.3f2a1b4c5d.js"
	toHashed map[string]string
}

// moduleImport matches the relative imports of our ES modules
// (import … from './x.js', import './x.js', import('./x.js'), and the
// same of a vendored module, './vendor/lib/x.js'), which are rewritten to
// the hashed names so that a page never mixes modules of two versions.
var moduleImport = regexp.MustCompile(`((?:from|import)\s*\(?\s*['"])\./((?:vendor/[A-Za-z0-9_-]+/)?[A-Za-z0-9_-]+\.js)(['"])`)

// assets reads the embedded folder once: content hashes, rewritten
// imports, gzipped copies.
var assets = sync.OnceValues(func() (*assetIndex, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	raw := map[string][]byte{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw[p], err = fs.ReadFile(sub, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	idx := &assetIndex{byName: map[string]*asset{}, toHashed: map[string]string{}}
	// A module's hash covers the hashed names of its imports, so a change
	// anywhere renames every module that leads to it: hash depth first.
	var visit func(name string, seen map[string]bool) (*asset, error)
	visit = func(name string, seen map[string]bool) (*asset, error) {
		if a := idx.byName[name]; a != nil {
			return a, nil
		}
		if seen[name] {
			return nil, fmt.Errorf("static/%s imports itself through a cycle", name)
		}
		seen[name] = true
		body := raw[name]
		var imports []string
		if path.Ext(name) == ".js" && !strings.HasPrefix(name, "vendor/") {
			var failed error
			dir := path.Dir(name)
			body = moduleImport.ReplaceAllFunc(body, func(m []byte) []byte {
				g := moduleImport.FindSubmatch(m)
				dep := path.Join(dir, string(g[2]))
				if _, ok := raw[dep]; !ok {
					failed = fmt.Errorf("static/%s imports %s, which is not there", name, g[2])
					return m
				}
				d, err := visit(dep, seen)
				if err != nil {
					failed = err
					return m
				}
				if !bytes.Contains(g[1], []byte("(")) { // not import('./x.js')
					imports = append(imports, dep)
				}
				rel := d.hashed
				if dir != "." {
					rel = strings.TrimPrefix(rel, dir+"/")
				}
				return []byte(string(g[1]) + "./" + rel + string(g[3]))
			})
			if failed != nil {
				return nil, failed
			}
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(name)
		a := &asset{name: name, hashed: strings.TrimSuffix(name, ext) + "." + h + ext, body: body, etag: `"` + h + `"`, imports: imports}
		if compressible(ext) {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			if b.Len() < len(body)*9/10 {
				a.gz = b.Bytes()
			}
		}
		idx.byName[name] = a
		idx.byName[a.hashed] = a
		idx.toHashed[name] = a.hashed
		return a, nil
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := visit(name, map[string]bool{}); err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		a := idx.byName[name]
		seen := map[string]bool{name: true}
		var walk func(*asset)
		walk = func(m *asset) {
			for _, dep := range m.imports {
				if !seen[dep] {
					seen[dep] = true
					a.preloads = append(a.preloads, idx.toHashed[dep])
					walk(idx.byName[dep])
				}
			}
		}
		walk(a)
	}
	return idx, nil
})

func compressible(ext string) bool {
	switch ext {
	case ".js", ".css", ".svg", ".json", ".map", ".html", ".txt":
		return true
	}
	return false
}

// assetPath is the content-hashed name of a file of the web map, for the
// page's links: "app.js" → "app.3f2a1b4c5d.js". A name it does not know
// is returned as it is (and will be a 404).
func assetPath(name string) string {
	idx, err := assets()
	if err != nil {
		return name
	}
	if h, ok := idx.toHashed[name]; ok {
		return h
	}
	return name
}

// modulePreloads lists the content-hashed names of the modules that
// module name imports statically, directly or through others, for the
// page's modulepreload links: the browser then fetches them all with the
// page, not one level of imports after the other (app.js reaches snap.js
// only on the third). A dynamic import is left to load when it is asked
// for.
func modulePreloads(name string) []string {
	idx, err := assets()
	if err != nil || idx.byName[name] == nil {
		return nil
	}
	return idx.byName[name].preloads
}

// staticHandler serves the web map's files, and nothing else: a folder or
// a missing file is a 404 like any other, with no listing. Under its
// content-hashed name a file never changes, so it is cached for a year
// as immutable; under its plain name it is revalidated, so that an
// upgrade is never half old, half new. Browsers that take gzip get it.
func staticHandler() func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		idx, err := assets()
		if err != nil {
			return err
		}
		name := chi.URLParam(r, "*")
		a, ok := idx.byName[name]
		if !fs.ValidPath(name) || !ok {
			return layers.Errorf(layers.ENOTFOUND, "nothing at %s", r.URL.Path)
		}
		h := w.Header()
		if name == a.hashed {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, no-cache")
		}
		if ct := mime.TypeByExtension(path.Ext(a.name)); ct != "" {
			h.Set("Content-Type", ct)
		}
		h.Set("ETag", a.etag)
		body := a.body
		if a.gz != nil {
			h.Add("Vary", "Accept-Encoding")
			if acceptsGzip(r) {
				h.Set("Content-Encoding", "gzip")
				body = a.gz
			}
		}
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
		return nil
	}
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
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
	// Draw is where the drawing tools are (Leaflet-Geoman, its script and
	// its styles), under their content-hashed names: the map loads them
	// only when an editor signs in, so readers never download them.
	Draw drawAssets `json:"draw"`
}

// drawAssets are the paths of the drawing tools' files.
type drawAssets struct {
	JS  string `json:"js"`
	CSS string `json:"css"`
}

// newMapConfig is the map's configuration for a service at base.
func newMapConfig(base string, opt Options) mapConfig {
	return mapConfig{
		Base: base, Tiles: opt.Tiles, Attribution: opt.Attribution,
		Classes: layers.Classes, Statuses: layers.Statuses, Dashes: layers.ConfidenceDash,
		Draw: drawAssets{
			JS:  base + "/static/" + assetPath("vendor/leaflet-geoman/leaflet-geoman.js"),
			CSS: base + "/static/" + assetPath("vendor/leaflet-geoman/leaflet-geoman.css"),
		},
	}
}
