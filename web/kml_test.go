package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/layerstest"
	"planmap/seeds"
	"planmap/web"
)

// scriptName is a feature name that is markup, an entity and a quote at
// once: KML must carry it as text.
const scriptName = `<script>&"`

const scriptLayer = `{"type": "FeatureCollection", "id": "kmlxss", "title": {"zh": "标记 <b>", "en": "Markup & co"}, "order": 98,
 "geometryType": "MultiPolygon", "schema": [{"name": "name_zh", "type": "string", "description": {"zh": "名", "en": "name"}},
  {"name": "note", "type": "string", "description": {"zh": "注", "en": "<i>note</i>"}}], "style": {},
 "features": [{"type": "Feature", "id": 1, "properties": {"name_zh": "<script>&\"", "note": "</td><script>alert(1)</script>"},
  "geometry": {"type": "MultiPolygon", "coordinates": [[[[121.49, 32.08], [121.50, 32.08], [121.50, 32.09], [121.49, 32.09], [121.49, 32.08]],
   [[121.493, 32.083], [121.493, 32.086], [121.496, 32.086], [121.496, 32.083], [121.493, 32.083]]]]}}]}`

func parse(t *testing.T, name, text string) *layers.File {
	t.Helper()
	f, err := layers.ParseFile(name, []byte(text))
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return f
}

// featureReader is a store that reads a layer's features one by one, as
// both stores do.
type featureReader interface {
	Features(ctx context.Context, id string, fn func(layers.Feature) error) error
}

// seedNames returns each seed layer's features' name_zh, in id order.
func seedNames(t *testing.T, store featureReader) map[string][]string {
	t.Helper()
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string][]string{}
	for _, f := range files {
		var ns []string
		err := store.Features(ctx, f.LayerID, func(f layers.Feature) error {
			n, _ := f.Properties["name_zh"].(string)
			ns = append(ns, n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		names[f.LayerID] = ns
	}
	return names
}

// download GETs url into a file in dir and checks that it is served as KML.
func download(t *testing.T, url, dir, name string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/vnd.google-earth.kml+xml" {
		t.Fatalf("GET %s = %d %s, want 200 KML:\n%.300s", url, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") || !strings.HasSuffix(cd, `.kml"`) {
		t.Errorf("GET %s: Content-Disposition %q, want an attachment named .kml", url, cd)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// GDAL reads every seed layer's KML download with its features, named by
// name_zh, and the whole-database KML with a layer per folder.
func TestGDALReadsKMLDownloads(t *testing.T) {
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, store cache.Store) {
		if _, err := store.(importer).Import(ctx, []*layers.File{parse(t, "kmlxss.geojson", scriptLayer)}, layers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		want := seedNames(t, store.(featureReader))
		titles := map[string]string{}
		cat, err := store.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		info := cat.Collections
		for _, l := range info {
			titles[l.ID] = l.Title.Zh + " " + l.Title.En
		}

		for id, names := range want {
			t.Run(id, func(t *testing.T) {
				path := download(t, srv.URL+"/collections/"+id+"/download.kml", dir, id+".kml")
				got := layerstest.OGRInfo(t, ogrinfo, path)
				if len(got) != 1 || got[0].Name != titles[id] {
					t.Fatalf("ogrinfo finds layers %v, want one, %q", got, titles[id])
				}
				checkNames(t, got[0], names)
			})
		}

		t.Run("All", func(t *testing.T) {
			path := download(t, srv.URL+"/download/planmap.kml", dir, "planmap.kml")
			byName := map[string]layerstest.OGRLayer{}
			for _, l := range layerstest.OGRInfo(t, ogrinfo, path) {
				byName[l.Name] = l
			}
			if len(byName) != len(info) {
				t.Errorf("ogrinfo finds %d layers in planmap.kml, want %d", len(byName), len(info))
			}
			for id, names := range want {
				l, ok := byName[titles[id]]
				if !ok {
					t.Errorf("planmap.kml has no layer %q", titles[id])
					continue
				}
				checkNames(t, l, names)
			}
		})

		t.Run("MarkupIsText", func(t *testing.T) {
			path := download(t, srv.URL+"/collections/kmlxss/download.kml", dir, "kmlxss.kml")
			got := layerstest.OGRInfo(t, ogrinfo, path)
			if len(got) != 1 || got[0].Name != "标记 <b> Markup & co" || len(got[0].Features) != 1 {
				t.Fatalf("ogrinfo reads %+v, want the layer 标记 <b> Markup & co with one feature", got)
			}
			f := got[0].Features[0]
			if f["Name"] != scriptName || f["name_zh"] != scriptName {
				t.Errorf("Name = %q, name_zh = %q; want both %q as text", f["Name"], f["name_zh"], scriptName)
			}
			if f["note"] != "</td><script>alert(1)</script>" {
				t.Errorf("note = %q, want the value as it was", f["note"])
			}
			// The description is HTML that a client renders: the values in it
			// must be escaped, so that no tag of the user's survives.
			d := f["description"]
			for _, bad := range []string{"<script>", "</td><script>", "<i>"} {
				if strings.Contains(d, bad) {
					t.Errorf("description holds the markup %q:\n%s", bad, d)
				}
			}
			for _, good := range []string{"&lt;script&gt;&amp;&#34;", "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;i&gt;note&lt;/i&gt;"} {
				if !strings.Contains(d, good) {
					t.Errorf("description does not hold the escaped %q:\n%s", good, d)
				}
			}
			b, _ := os.ReadFile(path)
			if !strings.Contains(string(b), "<innerBoundaryIs>") {
				t.Errorf("the polygon's hole is not in the KML:\n%s", b)
			}
		})
	})
}

func checkNames(t *testing.T, l layerstest.OGRLayer, names []string) {
	t.Helper()
	var got []string
	for _, f := range l.Features {
		got = append(got, f["Name"])
	}
	if l.Count != len(names) || !slices.Equal(got, names) {
		t.Errorf("layer %s: ogrinfo counts %d features named %q, want %d named %q", l.Name, l.Count, got, len(names), names)
	}
}

func TestKMLDownloadErrors(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		for _, tc := range []struct {
			name, path string
			status     int
		}{
			{"ErrUnknownLayer", "/collections/nosuch/download.kml", 404},
			{"ErrUnknownParameter", "/collections/roads/download.kml?bbox=1,2,3,4", 400},
			{"ErrUnknownParameterAll", "/download/planmap.kml?f=json", 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := http.Get(srv.URL + tc.path)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != tc.status || res.Header.Get("Content-Type") != "application/problem+json" || res.Header.Get("Content-Disposition") != "" {
					t.Errorf("GET %s = %d %s (Content-Disposition %q), want %d problem details", tc.path, res.StatusCode,
						res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), tc.status)
				}
			})
		}
	})
}
