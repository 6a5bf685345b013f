package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"planmap/geo"
	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/layerstest"
	"planmap/web"
	"planmap/web/tiles"
)

// parcelFiles are the layer files of n synthetic parcels
// (layerstest.Parcels) and nothing else, for onEachLoaded.
func parcelFiles(n int) func(t testing.TB) []*layers.File {
	return func(t testing.TB) []*layers.File {
		t.Helper()
		f, err := layers.ParseFile("parcels.geojson", layerstest.Parcels(n))
		if err != nil {
			t.Fatal(err)
		}
		return []*layers.File{f}
	}
}

func serveStore(t testing.TB, s web.Store, opt web.Options) *httptest.Server {
	t.Helper()
	if opt.Downloads == nil {
		opt.Downloads = newCache(t, web.DefaultDownloadBudget)
	}
	srv := httptest.NewServer(web.NewRouter(s, opt, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

// tileAt is the tile of zoom z holding p.
func tileAt(p orb.Point, z int) maptile.Tile {
	return maptile.At(p, maptile.Zoom(z))
}

// tilePath is the OGC path of tile t, row before column.
func tilePath(t maptile.Tile) string {
	return strconv.Itoa(int(t.Z)) + "/" + strconv.Itoa(int(t.Y)) + "/" + strconv.Itoa(int(t.X))
}

// decode reads an MVT body into its layers, by name.
func decode(t *testing.T, body []byte) map[string]*mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("the tile does not decode as MVT: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		out[l.Name] = l
	}
	return out
}

// featureID is an MVT feature's id as orb decodes it (a float64).
func featureID(f *geojson.Feature) int64 {
	switch v := f.ID.(type) {
	case float64:
		return int64(v)
	case uint64:
		return int64(v)
	}
	return -1
}

func fids(l *mvt.Layer) []int64 {
	var out []int64
	if l == nil {
		return out
	}
	for _, f := range l.Features {
		out = append(out, featureID(f))
	}
	slices.Sort(out)
	return out
}

// haimen is a point inside the seed layers (a port terminal).
var haimen = orb.Point{121.5355, 32.1535}

func TestTileResources(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		t.Run("LandingAndConformance", func(t *testing.T) {
			ls := links(t, get(t, srv.URL+"/").json(t))
			for _, rel := range []string{"http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"} {
				if len(ls[rel]) == 0 {
					t.Errorf("GET / has no %s link: %v", rel, ls)
				}
			}
			conf := get(t, srv.URL+"/conformance").json(t)["conformsTo"].([]any)
			for _, c := range []string{"core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt", "oas30"} {
				if !slices.Contains(conf, any("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"+c)) {
					t.Errorf("GET /conformance lacks ogcapi-tiles-1 %s: %v", c, conf)
				}
			}
		})
		t.Run("TileMatrixSets", func(t *testing.T) {
			r := get(t, srv.URL+"/tileMatrixSets")
			if r.StatusCode != 200 || !strings.Contains(string(r.body), `"id":"WebMercatorQuad"`) {
				t.Errorf("GET /tileMatrixSets = %d %s, want WebMercatorQuad", r.StatusCode, r.body)
			}
			doc := get(t, srv.URL+"/tileMatrixSets/WebMercatorQuad").json(t)
			ms := doc["tileMatrices"].([]any)
			if len(ms) != tiles.MaxZoom+1 {
				t.Fatalf("WebMercatorQuad has %d tile matrices, want %d", len(ms), tiles.MaxZoom+1)
			}
			m14 := ms[14].(map[string]any)
			if m14["id"] != "14" || m14["matrixWidth"] != float64(16384) || m14["cornerOfOrigin"] != "topLeft" {
				t.Errorf("tile matrix 14 = %v", m14)
			}
			if r := get(t, srv.URL+"/tileMatrixSets/WorldCRS84Quad"); r.StatusCode != 404 {
				t.Errorf("GET /tileMatrixSets/WorldCRS84Quad = %d, want 404", r.StatusCode)
			}
		})
		t.Run("Tilesets", func(t *testing.T) {
			for _, p := range []string{"/tiles", "/collections/terminals/tiles"} {
				doc := get(t, srv.URL+p).json(t)
				sets, _ := doc["tilesets"].([]any)
				if len(sets) != 1 || sets[0].(map[string]any)["tileMatrixSetURI"] != "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad" {
					t.Errorf("GET %s = %v, want one tileset on WebMercatorQuad", p, doc)
				}
			}
			doc := get(t, srv.URL+"/collections/terminals/tiles/WebMercatorQuad").json(t)
			var item map[string]any
			for _, l := range doc["links"].([]any) {
				if l := l.(map[string]any); l["rel"] == "item" {
					item = l
				}
			}
			if item == nil || item["type"] != "application/vnd.mapbox-vector-tile" || item["templated"] != true ||
				item["href"] != srv.URL+"/collections/terminals/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}" {
				t.Errorf("tileset's item link = %v", item)
			}
			ls := doc["layers"].([]any)
			if len(ls) != 1 || ls[0].(map[string]any)["id"] != "terminals" || ls[0].(map[string]any)["minTileMatrix"] != "0" {
				t.Errorf("tileset's layers = %v, want terminals from zoom 0", ls)
			}
			if limits := doc["tileMatrixSetLimits"].([]any); len(limits) != tiles.MaxZoom+1 {
				t.Errorf("tileMatrixSetLimits has %d zooms", len(limits))
			}
			if r := get(t, srv.URL+"/collections/nosuch/tiles/WebMercatorQuad"); r.StatusCode != 404 {
				t.Errorf("GET a tileset of no collection = %d, want 404", r.StatusCode)
			}
		})
		t.Run("TileJSON", func(t *testing.T) {
			doc := get(t, srv.URL+"/tiles/WebMercatorQuad/tilejson.json").json(t)
			if doc["tilejson"] != "3.0.0" || doc["tiles"].([]any)[0] != srv.URL+"/tiles/WebMercatorQuad/{z}/{y}/{x}" {
				t.Errorf("TileJSON = %v", doc)
			}
			var ids []string
			for _, l := range doc["vector_layers"].([]any) {
				ids = append(ids, l.(map[string]any)["id"].(string))
			}
			if !slices.Contains(ids, "terminals") || !slices.Contains(ids, "parcels") {
				t.Errorf("TileJSON vector_layers = %v", ids)
			}
		})
		t.Run("CollectionPageHasXYZ", func(t *testing.T) {
			r := get(t, srv.URL+"/collections/terminals?f=html")
			want := srv.URL + "/collections/terminals/tiles/WebMercatorQuad/{z}/{y}/{x}"
			if !strings.Contains(string(r.body), want) {
				t.Errorf("the collection page does not show the XYZ URL %s:\n%s", want, r.body)
			}
		})
		t.Run("OpenAPI", func(t *testing.T) {
			paths := get(t, srv.URL+"/api").json(t)["paths"].(map[string]any)
			for _, p := range []string{"/tileMatrixSets", "/tileMatrixSets/{tileMatrixSetId}", "/tiles", "/tiles/{tileMatrixSetId}",
				"/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", "/collections/terminals/tiles",
				"/collections/terminals/tiles/{tileMatrixSetId}", "/collections/terminals/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"} {
				if paths[p] == nil {
					t.Errorf("the OpenAPI document has no path %s", p)
				}
			}
		})
	})
}

func TestTileStatuses(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		at14 := tilePath(tileAt(haimen, 14))
		for _, c := range []struct {
			name, path string
			want       int
		}{
			{"OK", "/tiles/WebMercatorQuad/" + at14, 200},
			{"OKCollection", "/collections/terminals/tiles/WebMercatorQuad/" + at14, 200},
			{"Empty", "/collections/terminals/tiles/WebMercatorQuad/10/0/0", 204},
			{"EmptyFarAway", "/tiles/WebMercatorQuad/14/8000/100", 204},
			{"ErrLetters", "/tiles/WebMercatorQuad/14/abc/3", 400},
			{"ErrNegative", "/tiles/WebMercatorQuad/14/-1/3", 400},
			{"ErrFraction", "/tiles/WebMercatorQuad/1.5/0/0", 400},
			{"ErrQuery", "/tiles/WebMercatorQuad/0/0/0?f=json", 400},
			{"ErrZoomTooDeep", "/tiles/WebMercatorQuad/23/0/0", 404},
			{"ErrRowOutside", "/tiles/WebMercatorQuad/2/4/0", 404},
			{"ErrColOutside", "/tiles/WebMercatorQuad/2/0/4", 404},
			{"ErrHuge", "/tiles/WebMercatorQuad/99999999999999999999/0/0", 404},
			{"ErrMatrixSet", "/tiles/WorldCRS84Quad/0/0/0", 404},
			{"ErrCollection", "/collections/nosuch/tiles/WebMercatorQuad/0/0/0", 404},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := get(t, srv.URL+c.path)
				if r.StatusCode != c.want {
					t.Fatalf("GET %s = %d %s, want %d", c.path, r.StatusCode, r.body, c.want)
				}
				switch c.want {
				case 200:
					if ct := r.Header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
						t.Errorf("Content-Type = %q", ct)
					}
					if len(decode(t, r.body)) == 0 {
						t.Errorf("GET %s: a tile without layers", c.path)
					}
					gz := get(t, srv.URL+c.path, "Accept-Encoding", "gzip")
					if gz.Header.Get("Content-Encoding") != "gzip" {
						t.Errorf("GET %s with Accept-Encoding: gzip: Content-Encoding %q", c.path, gz.Header.Get("Content-Encoding"))
					} else if zr, err := gzip.NewReader(bytes.NewReader(gz.body)); err != nil {
						t.Error(err)
					} else if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, r.body) {
						t.Errorf("GET %s gzipped: %d bytes, %v; unzipped %d bytes, want the %d of the plain tile", c.path, len(gz.body), err, len(plain), len(r.body))
					}
					etag := r.Header.Get("ETag")
					if r2 := get(t, srv.URL+c.path, "If-None-Match", etag); etag == "" || r2.StatusCode != 304 || len(r2.body) != 0 {
						t.Errorf("GET %s with If-None-Match %s = %d (%d bytes), want 304", c.path, etag, r2.StatusCode, len(r2.body))
					}
				case 204:
					if len(r.body) != 0 {
						t.Errorf("204 with a body of %d bytes", len(r.body))
					}
				default:
					if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type = %q, want a problem document", ct)
					}
				}
			})
		}
	})
}

// pollUntil polls fn every 20 ms for up to 5 s.
func pollUntil(t *testing.T, what string, fn func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !fn(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = http.StatusOK

// items returns the features of collection id whose geometry meets box,
// through the items API, by id.
func itemsIn(t *testing.T, srv *httptest.Server, id string, box orb.Bound) map[int64]map[string]any {
	t.Helper()
	bbox := strconv.FormatFloat(box.Min[0], 'f', -1, 64) + "," + strconv.FormatFloat(box.Min[1], 'f', -1, 64) + "," +
		strconv.FormatFloat(box.Max[0], 'f', -1, 64) + "," + strconv.FormatFloat(box.Max[1], 'f', -1, 64)
	out := map[int64]map[string]any{}
	next := srv.URL + "/collections/" + id + "/items?limit=10000&bbox=" + bbox
	for next != "" {
		doc := get(t, next).json(t)
		for _, f := range doc["features"].([]any) {
			f := f.(map[string]any)
			out[int64(f["id"].(float64))] = f
		}
		next = ""
		for _, l := range links(t, doc)["next"] {
			next = l["href"].(string)
		}
	}
	return out
}

// GDAL reads a saved tile, its place given with -oo (a file name cannot
// say it): the layers, counts and attributes it finds are ours, and its
// coordinates are the features' to within a unit of the tile's grid.
func TestTileGDAL(t *testing.T) {
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	ogr2ogr := layerstest.RequireTool(t, "ogr2ogr")
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		tl := tileAt(haimen, 15)
		r := get(t, srv.URL+"/tiles/WebMercatorQuad/"+tilePath(tl))
		if r.StatusCode != 200 {
			t.Fatalf("GET tile %s = %d", tilePath(tl), r.StatusCode)
		}
		path := filepath.Join(t.TempDir(), "tile.pbf")
		if err := os.WriteFile(path, r.body, 0o644); err != nil {
			t.Fatal(err)
		}
		// CLIP=NO: GDAL would cut the buffer off.
		oo := []string{"-oo", "CLIP=NO", "-oo", "Z=" + strconv.Itoa(int(tl.Z)), "-oo", "X=" + strconv.Itoa(int(tl.X)), "-oo", "Y=" + strconv.Itoa(int(tl.Y))}
		out, err := exec.Command(ogrinfo, append([]string{"-ro", "-so", "-al"}, append(oo, path)...)...).CombinedOutput()
		if err != nil || strings.Contains(string(out), "ERROR") || strings.Contains(string(out), "Warning") {
			t.Fatalf("ogrinfo: %v\n%s", err, out)
		}
		gdalCounts := map[string]int{}
		var layer string
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "Layer name: "); ok {
				layer = v
			}
			if v, ok := strings.CutPrefix(line, "Feature Count: "); ok {
				gdalCounts[layer], _ = strconv.Atoi(v)
			}
		}
		ours := decode(t, r.body)
		box := tiles.Bound(int(tl.Z), int(tl.X), int(tl.Y))
		if len(gdalCounts) != len(ours) || len(ours) < 2 {
			t.Errorf("GDAL reads layers %v, we wrote %d layers", gdalCounts, len(ours))
		}
		unit := (box.Max[0] - box.Min[0]) / (tiles.Extent + 2*tiles.Buffer)
		for name, l := range ours {
			want := itemsIn(t, srv, name, box)
			if gdalCounts[name] != len(l.Features) || len(want) != len(l.Features) {
				t.Errorf("layer %s: GDAL counts %d features, the tile holds %d, the items API %d in the tile's bbox and buffer",
					name, gdalCounts[name], len(l.Features), len(want))
			}
			// The features as GDAL reads them, in CRS84.
			gj := filepath.Join(t.TempDir(), name+".geojson")
			args := append([]string{"-f", "GeoJSON", "-t_srs", "EPSG:4326"}, oo...)
			if out, err := exec.Command(ogr2ogr, append(args, gj, path, name)...).CombinedOutput(); err != nil {
				t.Fatalf("ogr2ogr: %v\n%s", err, out)
			}
			var fc struct {
				Features []struct {
					Properties map[string]any
					Geometry   json.RawMessage
				}
			}
			b, _ := os.ReadFile(gj)
			if err := json.Unmarshal(b, &fc); err != nil {
				t.Fatal(err)
			}
			for _, f := range fc.Features {
				id := int64(f.Properties["mvt_id"].(float64))
				it, ok := want[id]
				if !ok {
					t.Errorf("layer %s: GDAL reads feature %d, which the items API does not have in the tile", name, id)
					continue
				}
				props := it["properties"].(map[string]any)
				for _, k := range []string{"name_zh", "status", "landuse_gb50137", "position_confidence"} {
					if props[k] != nil && f.Properties[k] != props[k] {
						t.Errorf("layer %s, feature %d: GDAL reads %s = %v, the feature has %v", name, id, k, f.Properties[k], props[k])
					}
				}
				g, _, err := geo.DecodeGeoJSON(f.Geometry)
				if err != nil {
					t.Fatal(err)
				}
				ig, _, _ := geo.DecodeGeoJSON(mustJSON(t, it["geometry"]))
				wantB := geo.Clip(ig, box).Bound()
				gotB := g.Bound()
				for i := range 2 {
					if math.Abs(gotB.Min[i]-wantB.Min[i]) > 2*unit || math.Abs(gotB.Max[i]-wantB.Max[i]) > 2*unit {
						t.Errorf("layer %s, feature %d: GDAL reads bounds %v, the feature's in the tile are %v (a grid unit is %g°)", name, id, gotB, wantB, unit)
						break
					}
				}
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// QGIS loads the tiles as an XYZ vector tile source, the URL the
// collection page gives, and draws the features of a tile from them.
func TestTileQGIS(t *testing.T) {
	layerstest.RequireQGIS(t)
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		tl := tileAt(haimen, 15)
		for _, c := range []struct {
			name, url string
			wantRed   bool
		}{
			{"Dataset", srv.URL + "/tiles/WebMercatorQuad/{z}/{y}/{x}", true},
			{"Collection", srv.URL + "/collections/terminals/tiles/WebMercatorQuad/{z}/{y}/{x}", true},
			{"Empty", srv.URL + "/collections/xss/tiles/WebMercatorQuad/{z}/{y}/{x}", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				out, _ := layerstest.RunQGIS(t, "testdata/qgis_mvt.py", c.url,
					strconv.Itoa(int(tl.Z)), strconv.Itoa(int(tl.X)), strconv.Itoa(int(tl.Y)))
				var res struct {
					Valid bool
					Red   int
					Log   []string
				}
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("QGIS printed %s: %v", out, err)
				}
				if !res.Valid {
					t.Fatalf("QGIS: the XYZ layer %s is not valid; log %v", c.url, res.Log)
				}
				t.Logf("QGIS drew %d red pixels of tile %s", res.Red, tilePath(tl))
				// The terminal, the water and the boundary cover much of the
				// tile; the XSS layer has nothing there.
				if c.wantRed && res.Red < 256*256/20 || !c.wantRed && res.Red != 0 {
					t.Errorf("QGIS drew %d red pixels of tile %s from %s (log %v); want many: %v", res.Red, tilePath(tl), c.url, res.Log, c.wantRed)
				}
			})
		}
	})
}

// At a high zoom a tile holds exactly the features the items API finds in
// the tile's bounds and buffer, with their names and statuses.
func TestTileMatchesItems(t *testing.T) {
	onEachLoaded(t, parcelFiles(20000), func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		for _, z := range []int{15, 16, 18} {
			// A tile in the middle of the grid (columns 0–599, rows 0–33).
			tl := tileAt(orb.Point{layerstest.ParcelsWest + 300.5*layerstest.ParcelsCell, layerstest.ParcelsSouth + 16.5*layerstest.ParcelsCell}, z)
			r := get(t, srv.URL+"/collections/parcels/tiles/WebMercatorQuad/"+tilePath(tl))
			if r.StatusCode != 200 {
				t.Fatalf("GET tile %s = %d", tilePath(tl), r.StatusCode)
			}
			l := decode(t, r.body)["parcels"]
			want := itemsIn(t, srv, "parcels", tiles.Bound(z, int(tl.X), int(tl.Y)))
			got := fids(l)
			if len(got) != len(want) || len(got) == 0 {
				t.Errorf("z%d: the tile holds %d parcels, the items API %d in its bbox and buffer", z, len(got), len(want))
			}
			for _, f := range l.Features {
				it := want[featureID(f)]
				if it == nil {
					t.Errorf("z%d: the tile holds parcel %v, the items API not", z, f.ID)
					continue
				}
				p := it["properties"].(map[string]any)
				if f.Properties["name_zh"] != p["name_zh"] || f.Properties["status"] != p["status"] {
					t.Errorf("z%d: parcel %v in the tile %v, from the items API %v", z, f.ID, f.Properties, p)
				}
			}
			t.Logf("z%d tile %s: %d parcels, %d bytes", z, tilePath(tl), len(got), len(r.body))
		}
	})
}

// An edit by another writer of the file or database (a store of its own,
// as planmap import runs) changes the ETag and the content of the tiles that show the feature, and of no other tile: the
// tile cache drops exactly those.
func TestTileEdit(t *testing.T) {
	onEachLoaded(t, parcelFiles(2000), func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		// Parcel 1 is in the south-west corner of the grid; a tile far from it
		// stays as it was.
		p1 := orb.Point{layerstest.ParcelsWest + 0.5*layerstest.ParcelsCell, layerstest.ParcelsSouth + 0.5*layerstest.ParcelsCell}
		near := "/collections/parcels/tiles/WebMercatorQuad/" + tilePath(tileAt(p1, 16))
		far := "/collections/parcels/tiles/WebMercatorQuad/" + tilePath(tileAt(orb.Point{p1[0] + 0.36, p1[1]}, 16))
		before, farBefore := get(t, srv.URL+near), get(t, srv.URL+far)
		if before.StatusCode != 200 || farBefore.StatusCode != 200 {
			t.Fatalf("GET the tiles = %d, %d", before.StatusCode, farBefore.StatusCode)
		}
		name := func(body []byte) any {
			for _, f := range decode(t, body)["parcels"].Features {
				if featureID(f) == 1 {
					return f.Properties["name_zh"]
				}
			}
			return nil
		}
		if name(before.body) != "1号地块" {
			t.Fatalf("parcel 1 in its tile is named %v", name(before.body))
		}
		// Another connection renames parcel 1, as planmap import would.
		other := otherStore(t, store)
		text := strings.Replace(string(layerstest.Parcels(1)), "1号地块", "改名地块", 1)
		f, err := layers.ParseFile("parcels.geojson", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		var after response
		pollUntil(t, "the tile of parcel 1 changes", func() bool {
			after = get(t, srv.URL+near, "If-None-Match", before.Header.Get("ETag"))
			return after.StatusCode != 304
		})
		if after.StatusCode != 200 || after.Header.Get("ETag") == before.Header.Get("ETag") || name(after.body) != "改名地块" {
			t.Errorf("after the edit, the tile is %d, ETag %s (was %s), parcel 1 named %v", after.StatusCode, after.Header.Get("ETag"), before.Header.Get("ETag"), name(after.body))
		}
		if r := get(t, srv.URL+far, "If-None-Match", farBefore.Header.Get("ETag")); r.StatusCode != 304 {
			t.Errorf("a tile far from the edit answers %d to its old ETag, want 304", r.StatusCode)
		}
		// Moving a parcel into the far tile changes that one too: where it is
		// now counts, not only where it was.
		moved := strings.Replace(string(layerstest.Parcels(1)), "[121.2", "[121.56", -1)
		if f, err = layers.ParseFile("parcels.geojson", []byte(moved)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "the far tile changes when parcel 1 moves into it", func() bool {
			return get(t, srv.URL+far, "If-None-Match", farBefore.Header.Get("ETag")).StatusCode == 200
		})
		pollUntil(t, "parcel 1 leaves its old tile", func() bool {
			return name(get(t, srv.URL+near).body) == nil
		})
	})
}

// A layer too dense for a zoom is left out of its tiles there, and both
// the tile (Planmap-Thinned) and the metadata (minTileMatrix, TileJSON's
// minzoom) say so, for the map to ask to zoom in.
func TestTileThinned(t *testing.T) {
	onEachLoaded(t, parcelFiles(25000), func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		ts := get(t, srv.URL+"/collections/parcels/tiles/WebMercatorQuad").json(t)
		l := ts["layers"].([]any)[0].(map[string]any)
		mz, _ := strconv.Atoi(l["minTileMatrix"].(string))
		if mz < 1 || l["planmap:thinnedBelowMinTileMatrix"] != true {
			t.Fatalf("tileset layer = %v, want the parcels thinned below some zoom", l)
		}
		tj := get(t, srv.URL+"/collections/parcels/tiles/WebMercatorQuad/tilejson.json").json(t)
		if got := tj["vector_layers"].([]any)[0].(map[string]any)["minzoom"]; got != float64(mz) {
			t.Errorf("TileJSON minzoom = %v, want %d", got, mz)
		}
		p := orb.Point{layerstest.ParcelsWest + 100*layerstest.ParcelsCell, layerstest.ParcelsSouth + 20*layerstest.ParcelsCell}
		below := get(t, srv.URL+"/collections/parcels/tiles/WebMercatorQuad/"+tilePath(tileAt(p, mz-1)))
		if below.StatusCode != 204 || below.Header.Get("Planmap-Thinned") != "parcels" {
			t.Errorf("a tile below minTileMatrix = %d, Planmap-Thinned %q; want 204 and parcels", below.StatusCode, below.Header.Get("Planmap-Thinned"))
		}
		at := get(t, srv.URL+"/collections/parcels/tiles/WebMercatorQuad/"+tilePath(tileAt(p, mz)))
		if at.StatusCode != 200 || at.Header.Get("Planmap-Thinned") != "" || len(decode(t, at.body)["parcels"].Features) < 1000 {
			t.Errorf("a tile at minTileMatrix = %d, Planmap-Thinned %q", at.StatusCode, at.Header.Get("Planmap-Thinned"))
		}
	})
}

// /healthz says how the tile cache does: the tiles and bytes it holds,
// its budget, and how many requests it answered from memory (hits) and
// how many tiles it made (misses).
func TestHealthzTileCache(t *testing.T) {
	onEachLoaded(t, parcelFiles(2000), func(t *testing.T, store loadedStore) {
		const budget = 8 << 20
		srv := serveStore(t, store, web.Options{TileCacheBytes: budget})
		type cacheDoc struct {
			Tiles  int   `json:"tiles"`
			Bytes  int64 `json:"bytes"`
			Budget int64 `json:"budget"`
			Hits   int64 `json:"hits"`
			Misses int64 `json:"misses"`
		}
		health := func() cacheDoc {
			t.Helper()
			var doc struct {
				Status    string    `json:"status"`
				TileCache *cacheDoc `json:"tileCache"`
			}
			r := get(t, srv.URL+"/healthz")
			if err := json.Unmarshal(r.body, &doc); err != nil || r.StatusCode != 200 || doc.Status != "ok" || doc.TileCache == nil {
				t.Fatalf("GET /healthz = %d %s (%v), want ok with a tileCache", r.StatusCode, r.body, err)
			}
			return *doc.TileCache
		}
		if got := health(); got != (cacheDoc{Budget: budget}) {
			t.Errorf("/healthz tileCache before any tile = %+v, want empty with budget %d", got, budget)
		}
		p := orb.Point{layerstest.ParcelsWest + 0.5*layerstest.ParcelsCell, layerstest.ParcelsSouth + 0.5*layerstest.ParcelsCell}
		u := srv.URL + "/collections/parcels/tiles/WebMercatorQuad/" + tilePath(tileAt(p, 15))
		first := get(t, u)
		if first.StatusCode != 200 {
			t.Fatalf("GET %s = %d", u, first.StatusCode)
		}
		if got := health(); got.Tiles != 1 || got.Bytes < int64(len(first.body)) || got.Misses != 1 || got.Hits != 0 {
			t.Errorf("/healthz tileCache after one tile of %d bytes = %+v, want 1 tile of at least that, 1 miss, no hit", len(first.body), got)
		}
		get(t, u)
		if got := health(); got.Tiles != 1 || got.Misses != 1 || got.Hits != 1 || got.Budget != budget {
			t.Errorf("/healthz tileCache after the same tile again = %+v, want 1 tile, 1 miss, 1 hit, budget %d", got, budget)
		}
	})
}

// A script on another site that draws the tiles can read the header that
// says a layer is thinned: CORS exposes it.
func TestCORSExposesPlanmapThinned(t *testing.T) {
	onEachLoaded(t, parcelFiles(25000), func(t *testing.T, store loadedStore) {
		srv := serveStore(t, store, web.Options{})
		p := orb.Point{layerstest.ParcelsWest + 100*layerstest.ParcelsCell, layerstest.ParcelsSouth + 20*layerstest.ParcelsCell}
		r := get(t, srv.URL+"/collections/parcels/tiles/WebMercatorQuad/"+tilePath(tileAt(p, 5)), "Origin", "https://elsewhere.example")
		if r.Header.Get("Planmap-Thinned") != "parcels" {
			t.Fatalf("test premise: a z5 tile of 25,000 parcels says Planmap-Thinned: parcels, got %d %q", r.StatusCode, r.Header.Get("Planmap-Thinned"))
		}
		if exp := r.Header.Get("Access-Control-Expose-Headers"); !listHas(exp, "Planmap-Thinned") || !listHas(exp, "ETag") {
			t.Errorf("a tile's Access-Control-Expose-Headers = %q, want Planmap-Thinned and ETag among them", exp)
		}
	})
}
