package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the HTML views of every resource, for people with a browser.
// html/template escapes everything a layer file brings: names drawn by
// hand are data, never markup.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	// prop is a property's value, empty where there is none; the map is
	// a row's Properties, read once: a cached item reads them from JSON.
	"prop": func(props map[string]any, name string) any {
		if v := props[name]; v != nil {
			return v
		}
		return ""
	},
	"add": func(a, b int) int { return a + b },
	// asset is a web map file's content-hashed name (static.go).
	"asset": assetPath,
	// preloads are the modules a module imports (static.go).
	"preloads": modulePreloads,
}).ParseFS(templateFS, "templates/*.html"))

func (s *server) render(w http.ResponseWriter, r *http.Request, name, title string, data any) error {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, page{Title: title, Base: s.basePath, Data: data}); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := b.WriteTo(w)
	return err
}

type page struct {
	Title string
	// Base is the path of the service root, for the page's own links and
	// assets, which so never depend on the Host header.
	Base string
	Data any
}

func renderError(w io.Writer, base string, status int, msg string) {
	pages.ExecuteTemplate(w, "error", page{Title: http.StatusText(status), Base: base, Data: struct {
		Status  int
		Message string
	}{status, msg}})
}
