package web_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/web"
	"planmap/web/filecache"
)

// newCache is a download cache in a temporary folder.
func newCache(t testing.TB, budget int64) *filecache.Cache {
	t.Helper()
	c, err := filecache.Open(filepath.Join(t.TempDir(), "cache"), budget)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// queryFile runs a query that returns one text column on the SQLite file
// at path.
func queryFile(t *testing.T, path, q string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s on %s: %v", q, filepath.Base(path), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// fileLayers lists the layers a GeoPackage planmap made declares.
func fileLayers(t *testing.T, path string) []string {
	return queryFile(t, path, `SELECT id FROM planmap_layers ORDER BY id`)
}

func do(t *testing.T, method, url string, header ...string) response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return response{r, body}
}

// The download carries the layers, their declarations and styles and the
// GeoPackage's own tables, and nothing else the database holds: not the
// tokens (planmap_tokens), nor internal tables to come.
func TestDownloadCarriesOnlyPublicTables(t *testing.T) {
	srv, store := newServer(t, web.Options{})
	token, err := store.AddToken(ctx, "secret-holder", layers.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE change_log (at TEXT, what TEXT)`, `INSERT INTO change_log VALUES ('now', 'secret edit')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	info, err := store.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// sqlite_sequence is SQLite's own, made with the AUTOINCREMENT feature
	// tables; the history, the change log and planmap_context stay behind.
	want := []string{"gpkg_contents", "gpkg_extensions", "gpkg_geometry_columns", "gpkg_spatial_ref_sys", "layer_styles", "planmap_layers", "sqlite_sequence"}
	for _, l := range info {
		want = append(want, l.ID, "rtree_"+l.ID+"_geom")
	}
	sort.Strings(want)
	r := get(t, srv.URL+"/download/planmap.gpkg")
	path := filepath.Join(t.TempDir(), "planmap.gpkg")
	os.WriteFile(path, r.body, 0o644)
	tables := queryFile(t, path, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'rtree\_%\_geom\_%' ESCAPE '\' ORDER BY name`)
	if strings.Join(tables, " ") != strings.Join(want, " ") {
		t.Errorf("tables of the download:\n%v\nwant\n%v", tables, want)
	}
	if bytes.Contains(r.body, []byte("secret")) || bytes.Contains(r.body, layers.HashToken(token)) {
		t.Error("the download holds the bytes of an internal table")
	}
	one := get(t, srv.URL+"/collections/parks/download.gpkg")
	if one.StatusCode != 200 || bytes.Contains(one.body, []byte("secret")) || bytes.Contains(one.body, layers.HashToken(token)) {
		t.Errorf("GET parks/download.gpkg = %d, or it holds the bytes of an internal table", one.StatusCode)
	}
	if got := queryFile(t, path, `SELECT f_table_name FROM layer_styles ORDER BY 1`); len(got) != len(info) {
		t.Errorf("layer_styles of the download: %v, want one per layer", got)
	}
}

func TestDownloadCache(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			const budget = 8 << 20
			cache := newCache(t, budget)
			store := st.open(t)
			srv := newServerOn(t, store, web.Options{Downloads: cache})
			for _, path := range []string{"/download/planmap.gpkg", "/collections/parcels/download.gpkg", "/collections/parcels/download.geojson"} {
				t.Run(strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
					url := srv.URL + path
					before := cache.Builds()
					var wg sync.WaitGroup
					bodies := make([]response, 20)
					for i := range bodies {
						wg.Add(1)
						go func() {
							defer wg.Done()
							bodies[i] = do(t, "GET", url, "Accept-Encoding", "gzip")
						}()
					}
					wg.Wait()
					if n := cache.Builds() - before; n != 1 {
						t.Errorf("20 concurrent GETs built %d files, want 1", n)
					}
					full := bodies[0]
					etag := full.Header.Get("ETag")
					for i, b := range bodies {
						if b.StatusCode != 200 || !bytes.Equal(b.body, full.body) || b.Header.Get("ETag") != etag {
							t.Fatalf("GET %d = %d, %d bytes, ETag %s; want 200 and the same %d bytes, ETag %s", i, b.StatusCode, len(b.body), b.Header.Get("ETag"), len(full.body), etag)
						}
					}
					if enc := full.Header.Get("Content-Encoding"); enc != "" || !strings.HasPrefix(etag, `"`) || full.Header.Get("Accept-Ranges") != "bytes" {
						t.Errorf("GET: Content-Encoding %q, ETag %s, Accept-Ranges %q; want no encoding, a strong ETag, bytes", enc, etag, full.Header.Get("Accept-Ranges"))
					}

					builds := cache.Builds()
					head := do(t, "HEAD", url)
					if head.StatusCode != 200 || head.Header.Get("Content-Length") != fmt.Sprint(len(full.body)) || len(head.body) != 0 {
						t.Errorf("HEAD = %d, Content-Length %s, %d bytes of body; want 200, %d, none", head.StatusCode, head.Header.Get("Content-Length"), len(head.body), len(full.body))
					}
					if cache.Builds() != builds {
						t.Error("HEAD built the file again")
					}

					part := do(t, "GET", url, "Range", "bytes=100-199", "Accept-Encoding", "gzip")
					if part.StatusCode != http.StatusPartialContent || !bytes.Equal(part.body, full.body[100:200]) ||
						part.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(full.body)) {
						t.Errorf("Range: bytes=100-199 = %d %s, %d bytes; want 206 and bytes 100-199", part.StatusCode, part.Header.Get("Content-Range"), len(part.body))
					}
					same := do(t, "GET", url, "Range", "bytes=100-199", "If-Range", etag)
					if same.StatusCode != http.StatusPartialContent || !bytes.Equal(same.body, full.body[100:200]) {
						t.Errorf("If-Range with the current ETag = %d, want 206", same.StatusCode)
					}
					stale := do(t, "GET", url, "Range", "bytes=100-199", "If-Range", `"stale"`)
					if stale.StatusCode != 200 || !bytes.Equal(stale.body, full.body) {
						t.Errorf("If-Range with a stale ETag = %d, %d bytes; want 200 and the whole file", stale.StatusCode, len(stale.body))
					}
					if nm := do(t, "GET", url, "If-None-Match", etag); nm.StatusCode != http.StatusNotModified {
						t.Errorf("If-None-Match with the current ETag = %d, want 304", nm.StatusCode)
					}
					if cache.Builds() != builds {
						t.Errorf("ranges and revalidations built the file again")
					}
				})
			}

			t.Run("DataChanges", func(t *testing.T) {
				url := srv.URL + "/collections/parcels/download.gpkg"
				old := get(t, url).Header.Get("ETag")
				all := get(t, srv.URL+"/download/planmap.gpkg").Header.Get("ETag")
				update := `{"type": "FeatureCollection", "name": "parcels", "features": [
		  {"type": "Feature", "id": 7, "properties": {"name_zh": "七号地块", "status": "planned"},
		   "geometry": {"type": "Polygon", "coordinates": [[[121.2, 32.0], [121.3, 32.0], [121.3, 32.1], [121.2, 32.0]]]}}]}`
				f, err := layers.ParseFile("update.geojson", []byte(update))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := store.(importer).Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				r := get(t, url)
				if r.Header.Get("ETag") == old || r.StatusCode != 200 {
					t.Errorf("after an import the ETag is still %s", old)
				}
				if stale := do(t, "GET", url, "Range", "bytes=0-99", "If-Range", old); stale.StatusCode != 200 || !bytes.Equal(stale.body, r.body) {
					t.Errorf("If-Range with the ETag from before the import = %d, want 200 and the new file", stale.StatusCode)
				}
				if get(t, srv.URL+"/download/planmap.gpkg").Header.Get("ETag") == all {
					t.Error("after an import the ETag of every layer's GeoPackage did not change")
				}
			})

			var size int64
			entries, _ := os.ReadDir(cache.Dir())
			for _, e := range entries {
				if fi, err := e.Info(); err == nil {
					size += fi.Size()
				}
			}
			if size > budget || cache.Size() > budget {
				t.Errorf("the cache directory holds %d bytes (cache says %d), over its budget %d", size, cache.Size(), budget)
			}
		})
	}
}

// GDAL reads a download in place over HTTP, in byte ranges.
func TestGDALReadsDownloadOverHTTP(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			ogrinfo := layerstest.RequireTool(t, "ogrinfo")
			store := st.open(t)
			router := web.NewRouter(store, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			var mu sync.Mutex
			statuses := map[int]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := &statusRecorder{ResponseWriter: w, status: 200}
				router.ServeHTTP(rec, r)
				mu.Lock()
				statuses[rec.status]++
				mu.Unlock()
			}))
			defer srv.Close()
			info := storeLayers(t, store)
			cmd := exec.Command(ogrinfo, "-ro", "-so", "-al", "/vsicurl/"+srv.URL+"/download/planmap.gpkg")
			// No directory listing, no caching between runs: only the file itself.
			cmd.Env = append(os.Environ(), "GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR", "CPL_VSIL_CURL_NON_CACHED=/vsicurl/"+srv.URL)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			if err := cmd.Run(); err != nil {
				t.Fatalf("ogrinfo /vsicurl/: %v\n%s", err, e.String())
			}
			for _, line := range strings.Split(o.String()+e.String(), "\n") {
				if strings.Contains(line, "Warning") || strings.Contains(line, "ERROR") {
					t.Errorf("ogrinfo /vsicurl/: %s", line)
				}
			}
			for _, l := range info {
				if !strings.Contains(o.String(), "Layer name: "+l.ID+"\n") {
					t.Errorf("ogrinfo /vsicurl/ does not list %s", l.ID)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if statuses[http.StatusPartialContent] == 0 {
				t.Errorf("GDAL read the file with statuses %v, want byte ranges (206)", statuses)
			}
		})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// QGIS opens the database itself and a downloaded GeoPackage without a
// warning, finds each layer's style in them and draws the layer with it.
func TestQGISOpensGeoPackages(t *testing.T) {
	layerstest.RequireQGIS(t)
	srv, store := newServer(t, web.Options{})
	info, err := store.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	download := filepath.Join(dir, "haimen-planmap.gpkg")
	if err := os.WriteFile(download, get(t, srv.URL+"/download/planmap.gpkg").body, 0o644); err != nil {
		t.Fatal(err)
	}
	// A copy of the database as serve keeps it, planmap_migrations and
	// all, so that QGIS cannot disturb the store.
	database := filepath.Join(dir, "planmap.gpkg")
	for _, sfx := range []string{"", "-wal"} {
		b, err := os.ReadFile(store.Path() + sfx)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(database+sfx, b, 0o644)
	}
	for name, path := range map[string]string{"Download": download, "Database": database} {
		t.Run(name, func(t *testing.T) { checkQGISStyles(t, path, info) })
	}
}

// checkQGISStyles opens every layer QGIS finds in the GeoPackage at path
// and checks that they are the layers of info, drawn with their styles,
// and that neither QGIS nor GDAL warned of anything.
func checkQGISStyles(t *testing.T, path string, info []gpkg.LayerInfo) {
	out, errs := layerstest.RunQGIS(t, "testdata/qgis_gpkg.py", path)
	type symbol struct {
		Color       string
		Layer       string
		DataDefined map[string]string
	}
	var res struct {
		Log    []string
		Layers map[string]struct {
			Valid        bool
			FeatureCount int
			Styles       struct {
				Related int
				Names   []string
			}
			Renderer   string
			Attr       string
			Categories []struct {
				Value  string
				Symbol symbol
			}
			Symbol   symbol
			Drawn    []struct{ Class, Color string }
			Labels   string
			Editable bool
		}
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("QGIS printed %s: %v", out, err)
	}
	// GDAL's warnings reach stderr, QGIS's own the message log.
	for _, line := range append(strings.Split(string(errs), "\n"), res.Log...) {
		if strings.Contains(line, "Warning") || strings.Contains(line, "extension") || strings.Contains(line, "ERROR") {
			t.Errorf("QGIS: %s", line)
		}
	}
	if len(res.Layers) != len(info) {
		t.Errorf("QGIS finds %d layers in the file, want the %d feature tables only", len(res.Layers), len(info))
	}
	for _, l := range info {
		got, ok := res.Layers[l.ID]
		if !ok || !got.Valid || got.FeatureCount != l.Count || !got.Editable {
			t.Errorf("QGIS: %s = %+v, want a valid, editable layer of %d features", l.ID, got, l.Count)
			continue
		}
		if got.Styles.Related < 1 || len(got.Styles.Names) == 0 || got.Styles.Names[0] != l.ID {
			t.Errorf("QGIS: listStylesInDatabase for %s = %+v, want its style first", l.ID, got.Styles)
		}
		// The colour QGIS reports for a symbol: the fill of an area or a
		// point, the stroke of a line.
		colour := func(s layers.Symbol) string {
			if l.IsLine() {
				return s.Color
			}
			return s.FillColor
		}
		if l.Field(layers.ClassField) != nil {
			subclasses := 0
			for _, c := range layers.Classes {
				subclasses += len(c.Subclasses)
			}
			if got.Renderer != "categorizedSymbol" || got.Attr != layers.ClassExpression || len(got.Categories) != len(layers.Classes)+subclasses+1 {
				t.Errorf("QGIS: %s draws with %s on %s with %d categories, want categorized on layers.ClassExpression, one per class and shaded subclass and one for the rest", l.ID, got.Renderer, got.Attr, len(got.Categories))
				continue
			}
			for i, c := range layers.Classes {
				cat := got.Categories[i]
				if cat.Value != c.Code || !strings.EqualFold(cat.Symbol.Color, colour(l.Symbol(c.Code, ""))) {
					t.Errorf("QGIS: %s category %d = %s %s, want %s %s", l.ID, i, cat.Value, cat.Symbol.Color, c.Code, colour(l.Symbol(c.Code, "")))
				}
			}
			if dd := got.Categories[0].Symbol.DataDefined; !l.IsLine() && l.Field(layers.ConfidenceField) != nil && l.Style.DashArray == "" && !strings.Contains(strings.Join(mapValues(dd), " "), layers.ConfidenceField) {
				t.Errorf("QGIS: %s does not draw its position confidence in the outline: %v", l.ID, dd)
			}
		} else if got.Renderer != "singleSymbol" || !strings.EqualFold(got.Symbol.Color, colour(l.Symbol("", ""))) {
			t.Errorf("QGIS: %s draws with %s in %s, want a single symbol in %s", l.ID, got.Renderer, got.Symbol.Color, colour(l.Symbol("", "")))
		}
		if len(got.Drawn) != l.Count {
			t.Errorf("QGIS: %s draws %d features, want %d", l.ID, len(got.Drawn), l.Count)
		}
		for i, d := range got.Drawn {
			if want := colour(l.Symbol(d.Class, "")); !strings.EqualFold(d.Color, want) {
				t.Errorf("QGIS: %s feature %d of class %q is drawn in %q, want %s as on the web map", l.ID, i, d.Class, d.Color, want)
			}
		}
		if wantLabels := l.Field("name_zh") != nil; wantLabels != (got.Labels == "name_zh") {
			t.Errorf("QGIS: %s is labelled by %q", l.ID, got.Labels)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
