package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"planmap/web"
)

// rawGet fetches a URL with the given Accept-Encoding, undecoded.
func rawGet(t *testing.T, url, encoding string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// staticImport matches a module's static imports of our modules by
// their hashed names (import … from './x.1234567890.js', import './…').
var staticImport = regexp.MustCompile(`(?:from|import)\s*['"]\./([a-z0-9_/-]+\.[0-9a-f]{10}\.js)['"]`)

var hashedModule = regexp.MustCompile(`\./((?:vendor/[a-z0-9_-]+/)?[a-z0-9_-]+)\.([0-9a-f]{10})\.js`)

// The page links its files by content-hashed names, cached as immutable
// and gzipped; each module imports the others by their hashed names, so a
// page never mixes two versions.
func TestStaticAssets(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	_, page := rawGet(t, srv.URL+"/", "", "Accept", "text/html")
	app := regexp.MustCompile(`/static/app\.[0-9a-f]{10}\.js`).Find(page)
	css := regexp.MustCompile(`/static/style\.[0-9a-f]{10}\.css`).Find(page)
	leaflet := regexp.MustCompile(`/static/vendor/leaflet/leaflet\.[0-9a-f]{10}\.js`).Find(page)
	if app == nil || css == nil || leaflet == nil {
		t.Fatalf("the map page does not link hashed files:\n%s", page)
	}

	t.Run("ImmutableAndGzipped", func(t *testing.T) {
		seen := map[string]bool{}
		queue := []string{string(app)}
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			if seen[u] {
				continue
			}
			seen[u] = true
			res, body := rawGet(t, srv.URL+u, "gzip, deflate, br")
			if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
				t.Errorf("GET %s = %d, %v", u, res.StatusCode, res.Header)
				continue
			}
			js := body
			// Gzipped when it pays: a tiny module is sent as it is.
			if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
				if len(body) > 1024 {
					t.Errorf("GET %s: %d bytes not gzipped: %v", u, len(body), res.Header)
				}
			} else {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Errorf("GET %s: not gzip: %v", u, err)
					continue
				}
				js, _ = io.ReadAll(zr)
			}
			if bytes.Contains(js, []byte(`from './api.js'`)) || regexp.MustCompile(`(?:from |import\()'\./[a-z/_-]+\.js'`).Match(js) {
				t.Errorf("%s imports a module by its plain name", u)
			}
			for _, m := range hashedModule.FindAllSubmatch(js, -1) {
				queue = append(queue, "/static/"+string(m[1])+"."+string(m[2])+".js")
			}
		}
		if len(seen) < 8 {
			t.Errorf("followed %d modules from app.js: %v", len(seen), seen)
		}
		// The sheets' Save as PNG imports its library when it is asked
		// for, by its hashed name too.
		vendored := false
		for u := range seen {
			vendored = vendored || strings.HasPrefix(u, "/static/vendor/modern-screenshot/modern-screenshot.")
		}
		if !vendored {
			t.Errorf("no module imports modern-screenshot by its hashed name: %v", seen)
		}
		res, _ := rawGet(t, srv.URL+string(css), "gzip")
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: %v", css, res.Header)
		}
	})

	// The map page names every module app.js imports, directly or not,
	// as a modulepreload, and a sheet every module sheet.js imports, so
	// the browser fetches them with the page, not one level of imports
	// after another; none imported only when asked (modern-screenshot).
	t.Run("ModulePreloads", func(t *testing.T) {
		for _, c := range []struct{ page, module string }{{"/", "app"}, {"/collections/rivers/items/1/sheet", "sheet"}} {
			_, html := rawGet(t, srv.URL+c.page, "", "Accept", "text/html")
			module := string(regexp.MustCompile(`/static/` + c.module + `\.[0-9a-f]{10}\.js`).Find(html))
			links := map[string]bool{}
			for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)">`).FindAllSubmatch(html, -1) {
				links[string(m[1])] = true
			}
			want := map[string]bool{}
			queue := []string{module}
			for len(queue) > 0 {
				u := queue[0]
				queue = queue[1:]
				_, js := rawGet(t, srv.URL+u, "")
				for _, m := range staticImport.FindAllSubmatch(js, -1) {
					if dep := "/static/" + string(m[1]); !want[dep] {
						want[dep] = true
						queue = append(queue, dep)
					}
				}
			}
			if len(want) == 0 || !maps.Equal(links, want) {
				t.Errorf("GET %s: modulepreload links %v; the modules %s imports: %v", c.page, slices.Sorted(maps.Keys(links)), module, slices.Sorted(maps.Keys(want)))
			}
		}
	})

	t.Run("PlainWithoutGzip", func(t *testing.T) {
		res, body := rawGet(t, srv.URL+string(app), "")
		if res.Header.Get("Content-Encoding") != "" || !bytes.Contains(body, []byte("import")) {
			t.Errorf("GET %s without gzip: %v %.80s", app, res.Header, body)
		}
		res, _ = rawGet(t, srv.URL+string(app), "gzip;q=0")
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("gzip;q=0 still got %s", res.Header.Get("Content-Encoding"))
		}
	})

	t.Run("PlainNameRevalidates", func(t *testing.T) {
		res, _ := rawGet(t, srv.URL+"/static/app.js", "gzip")
		if res.StatusCode != 200 || strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(res.Header.Get("Cache-Control"), "no-cache") {
			t.Errorf("GET /static/app.js: %v", res.Header)
		}
		etag := res.Header.Get("ETag")
		res, _ = rawGet(t, srv.URL+"/static/app.js", "gzip", "If-None-Match", etag)
		if etag == "" || res.StatusCode != 304 {
			t.Errorf("revalidating with %q = %d", etag, res.StatusCode)
		}
	})
}
