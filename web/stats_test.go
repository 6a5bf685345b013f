package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/layerstest"
	"planmap/web"
)

// statsDoc is the JSON of the statistics endpoints, as a client reads it.
type statsDoc struct {
	Collection    string         `json:"collection"`
	Collections   []string       `json:"collections"`
	GroupBy       *string        `json:"groupBy"`
	BBox          [][4]float64   `json:"bbox"`
	Filter        map[string]any `json:"filter"`
	ClippedToBBox bool           `json:"clippedToBBox"`
	FeaturesCut   int            `json:"featuresCut"`
	Note          string         `json:"note"`
	Groups        []statsRow     `json:"groups"`
	Total         statsRow       `json:"total"`
	Skipped       []struct {
		Collection, Reason string
	} `json:"skipped"`
	Links []map[string]any `json:"links"`
	AsOf  *time.Time       `json:"asOf"`
}

type statsRow struct {
	Key         any          `json:"key"`
	Name        *layers.Text `json:"name"`
	Count       int          `json:"count"`
	AreaM2      *float64     `json:"geodesic_area_m2"`
	AreaHa      *float64     `json:"geodesic_area_ha"`
	AreaMu      *float64     `json:"geodesic_area_mu"`
	LengthM     *float64     `json:"geodesic_length_m"`
	Collections []string     `json:"collections"`
}

func getStats(t *testing.T, u string) statsDoc {
	t.Helper()
	r := get(t, u)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s:\n%s", u, r.StatusCode, r.Header.Get("Content-Type"), r.body)
	}
	var d statsDoc
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, r.body)
	}
	return d
}

// itemSums adds up the measures the items endpoint gives each feature of
// a layer, by the value of field: the hand-computed sums the statistics
// must agree with.
func itemSums(t *testing.T, srv, id, field, measure string) (map[any]float64, map[any]int) {
	t.Helper()
	sums, counts := map[any]float64{}, map[any]int{}
	for offset := 0; ; offset += 10000 {
		r := get(t, srv+"/collections/"+id+"/items?limit=10000&offset="+strconv.Itoa(offset))
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(r.body, &fc); err != nil || offset == 0 && len(fc.Features) == 0 {
			t.Fatalf("GET items of %s: %v, %d features", id, err, len(fc.Features))
		}
		for _, f := range fc.Features {
			k := f.Properties[field]
			sums[k] += f.Properties[measure].(float64)
			counts[k]++
		}
		if len(fc.Features) < 10000 {
			return sums, counts
		}
	}
}

// TestStatsSeeds checks the statistics of the Haimen layers against the
// sums of the measures of each feature as the items endpoint serves them.
func TestStatsSeeds(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		t.Run("OK resettlement by flanks_road", func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/resettlement/stats?groupby=flanks_road")
			sums, counts := itemSums(t, srv.URL, "resettlement", "flanks_road", layers.AreaMu)
			if d.Collection != "resettlement" || d.GroupBy == nil || *d.GroupBy != "flanks_road" || d.ClippedToBBox || d.FeaturesCut != 0 || d.Note == "" {
				t.Errorf("document = %+v", d)
			}
			var keys []string
			total, n := 0.0, 0
			for _, g := range d.Groups {
				k, _ := g.Key.(string)
				keys = append(keys, k)
				// Each feature's 亩 are rounded to 0.01: the sum of n of them
				// is within n × 0.005 of the sum unrounded.
				tol := 0.005*float64(counts[g.Key]) + 0.005
				if g.Count != counts[g.Key] || g.AreaMu == nil || math.Abs(*g.AreaMu-sums[g.Key]) > tol {
					t.Errorf("group %v: %d features, %v 亩; the items have %d, %.2f 亩", g.Key, g.Count, g.AreaMu, counts[g.Key], sums[g.Key])
				}
				if g.AreaM2 == nil || g.AreaHa == nil || math.Abs(*g.AreaHa-*g.AreaM2/1e4) > 1e-4 || math.Abs(*g.AreaMu-*g.AreaM2*15/1e4) > 0.01 || g.LengthM != nil {
					t.Errorf("group %v: %v m², %v ha, %v 亩, %v m: units disagree, or a polygon layer has a length", g.Key, g.AreaM2, g.AreaHa, g.AreaMu, g.LengthM)
				}
				total += sums[g.Key]
				n += g.Count
			}
			if want := []string{"海世路", "海华路", "港西大道"}; !slices.Equal(keys, want) || !slices.IsSorted(keys) {
				t.Errorf("groups %q, want %q, sorted", keys, want)
			}
			if d.Total.Count != 15 || n != 15 || math.Abs(*d.Total.AreaMu-total) > 0.005*15 {
				t.Errorf("total = %d features %v 亩, want 15 and %.2f", d.Total.Count, *d.Total.AreaMu, total)
			}
		})
		t.Run("OK filtered by a field", func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/resettlement/stats?groupby=status&flanks_road="+url.QueryEscape("海世路"))
			sums, counts := itemSums(t, srv.URL, "resettlement", "flanks_road", layers.AreaMu)
			if len(d.Groups) != 1 || d.Groups[0].Key != "planned" || d.Groups[0].Count != counts["海世路"] ||
				math.Abs(*d.Groups[0].AreaMu-sums["海世路"]) > 0.03 || d.Filter["flanks_road"] != "海世路" {
				t.Errorf("stats of 海世路 by status = %+v, filter %v; want planned: %d, %.2f 亩", d.Groups, d.Filter, counts["海世路"], sums["海世路"])
			}
		})
		t.Run("OK no groupby, one group", func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/industry/stats")
			sums, counts := itemSums(t, srv.URL, "industry", "none", layers.AreaM2)
			if d.GroupBy != nil || len(d.Groups) != 1 || d.Groups[0].Key != nil || d.Groups[0].Count != counts[nil] ||
				math.Abs(*d.Groups[0].AreaM2-sums[nil]) > 0.05*float64(counts[nil]) || *d.Total.AreaM2 != *d.Groups[0].AreaM2 {
				t.Errorf("industry stats = %+v, total %+v; want one group of %d, %.1f m²", d.Groups, d.Total, counts[nil], sums[nil])
			}
		})
		t.Run("OK features without a value under null, last", func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/parcels/stats?groupby=berths")
			_, counts := itemSums(t, srv.URL, "parcels", "berths", layers.AreaM2)
			last := d.Groups[len(d.Groups)-1]
			if counts[nil] == 0 || last.Key != nil || last.Count != counts[nil] {
				t.Errorf("last group %+v; the items have %d without berths", last, counts[nil])
			}
			for i := 1; i < len(d.Groups)-1; i++ {
				if d.Groups[i-1].Key.(float64) >= d.Groups[i].Key.(float64) {
					t.Errorf("groups not in order: %v before %v", d.Groups[i-1].Key, d.Groups[i].Key)
				}
			}
		})
		t.Run("OK lines have a length", func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/roads/stats?groupby=road_class")
			sums, _ := itemSums(t, srv.URL, "roads", "road_class", layers.LengthM)
			for _, g := range d.Groups {
				if g.LengthM == nil || g.AreaM2 != nil || math.Abs(*g.LengthM-sums[g.Key]) > 0.5 {
					t.Errorf("road group %v: %v m, %v m²; the items have %.1f m", g.Key, g.LengthM, g.AreaM2, sums[g.Key])
				}
			}
		})
		t.Run("OK points are counted", func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/monitoring/stats")
			if d.Total.Count != 3 || d.Total.AreaM2 != nil || d.Total.LengthM != nil {
				t.Errorf("monitoring total = %+v, want 3 and no measure", d.Total)
			}
		})
	})
}

// TestDistrictStats checks /stats against the per-layer statistics.
func TestDistrictStats(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		d := getStats(t, srv.URL+"/stats")
		if d.GroupBy == nil || *d.GroupBy != layers.ClassField || d.ClippedToBBox {
			t.Errorf("groupBy %v, clipped %v", d.GroupBy, d.ClippedToBBox)
		}
		// Every polygon layer with a class field, and only those.
		for _, id := range []string{"resettlement", "facilities", "industry", "parks", "stations", "terminals", "water", "boundary"} {
			if !slices.Contains(d.Collections, id) {
				t.Errorf("collections %v lack %s", d.Collections, id)
			}
		}
		for _, id := range []string{"roads", "rivers", "monitoring", "parcels"} {
			if slices.Contains(d.Collections, id) {
				t.Errorf("collections %v hold %s", d.Collections, id)
			}
		}
		if len(d.Skipped) != 1 || d.Skipped[0].Collection != "parcels" || !strings.Contains(d.Skipped[0].Reason, layers.ClassField) {
			t.Errorf("skipped = %+v, want parcels, for having no %s", d.Skipped, layers.ClassField)
		}
		var codes []string
		count, mu := 0, 0.0
		byKey := map[any]statsRow{}
		for _, g := range d.Groups {
			byKey[g.Key] = g
			count += g.Count
			mu += *g.AreaMu
			if c, ok := g.Key.(string); ok {
				codes = append(codes, c)
				if cl, _ := layers.ClassOf(c); g.Name == nil || *g.Name != cl.Name {
					t.Errorf("class %s is named %v, want %v", c, g.Name, cl.Name)
				}
			}
		}
		if !slices.IsSorted(codes) || count != d.Total.Count || math.Abs(mu-*d.Total.AreaMu) > 0.01*float64(len(d.Groups)) {
			t.Errorf("classes %v (sorted?), groups add up to %d features %.2f 亩, total %d %.2f", codes, count, mu, d.Total.Count, *d.Total.AreaMu)
		}
		// R: the resettlement blocks (R2) and the facilities of class R.
		res := getStats(t, srv.URL+"/collections/resettlement/stats")
		fac := getStats(t, srv.URL+"/collections/facilities/stats?groupby="+layers.ClassField)
		want, n := *res.Total.AreaMu, res.Total.Count
		for _, g := range fac.Groups {
			if c, _ := g.Key.(string); strings.HasPrefix(c, "R") {
				want += *g.AreaMu
				n += g.Count
			}
		}
		if r := byKey["R"]; r.Count != n || math.Abs(*r.AreaMu-want) > 0.02 || !slices.Equal(r.Collections, []string{"facilities", "resettlement"}) && !slices.Equal(r.Collections, []string{"resettlement", "facilities"}) {
			t.Errorf("class R = %d features %v 亩 from %v; want %d, %.2f from resettlement and facilities", r.Count, r.AreaMu, r.Collections, n, want)
		}
		// The boundary's code is no class: under null.
		if g, ok := byKey[nil]; !ok || !slices.Contains(g.Collections, "boundary") {
			t.Errorf("null group = %+v, want the boundary in it", g)
		}

		t.Run("OK lines named", func(t *testing.T) {
			d := getStats(t, srv.URL+"/stats?collections=roads,monitoring")
			if !slices.Equal(d.Collections, []string{"roads"}) || len(d.Skipped) != 1 || d.Skipped[0].Collection != "monitoring" || d.Total.LengthM == nil || *d.Total.LengthM <= 0 || d.Total.AreaM2 != nil {
				t.Errorf("stats of roads and monitoring = %+v", d)
			}
		})
		t.Run("OK bbox", func(t *testing.T) {
			// A box over the western half of the resettlement blocks.
			ext := get(t, srv.URL+"/collections/resettlement").json(t)["extent"].(map[string]any)["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
			mid := (ext[0].(float64) + ext[2].(float64)) / 2
			bbox := fmt.Sprintf("%f,%f,%f,%f", ext[0].(float64)-0.01, ext[1].(float64)-0.01, mid, ext[3].(float64)+0.01)
			col := getStats(t, srv.URL+"/collections/resettlement/stats?bbox="+bbox)
			dist := getStats(t, srv.URL+"/stats?collections=resettlement&bbox="+bbox)
			all := getStats(t, srv.URL+"/collections/resettlement/stats")
			if col.FeaturesCut == 0 || col.Total.Count >= all.Total.Count || *col.Total.AreaMu >= *all.Total.AreaMu {
				t.Errorf("stats in the western half = %+v, %d cut; of all %+v", col.Total, col.FeaturesCut, all.Total)
			}
			if !dist.ClippedToBBox || dist.Total.Count != col.Total.Count || *dist.Total.AreaMu != *col.Total.AreaMu || dist.FeaturesCut != col.FeaturesCut {
				t.Errorf("/stats with a bbox = %+v cut %d; the layer's = %+v cut %d", dist.Total, dist.FeaturesCut, col.Total, col.FeaturesCut)
			}
		})
	})
}

// plotsLayer is a layer of three 0.01° square parcels: A at 121.50°E, B
// at 121.52°E and C at 121.70°E, all from 32.08°N to 32.09°N.
const plotsLayer = `{"type": "FeatureCollection", "id": "plots", "title": {"zh": "测试方块", "en": "Square plots"}, "order": 60,
 "geometryType": "MultiPolygon", "style": {},
 "schema": [{"name": "name_zh", "type": "string", "description": {"zh": "名", "en": "name"}},
            {"name": "kind", "type": "string", "description": {"zh": "类", "en": "kind"}},
            {"name": "landuse_gb50137", "type": "string", "description": {"zh": "用地", "en": "land use"}}],
 "features": [
  {"type": "Feature", "id": 1, "properties": {"name_zh": "A", "kind": "=1+1", "landuse_gb50137": "M1"}, "geometry": {"type": "Polygon", "coordinates": [[[121.50, 32.08], [121.51, 32.08], [121.51, 32.09], [121.50, 32.09], [121.50, 32.08]]]}},
  {"type": "Feature", "id": 2, "properties": {"name_zh": "B", "kind": "工业", "landuse_gb50137": "M2"}, "geometry": {"type": "Polygon", "coordinates": [[[121.52, 32.08], [121.53, 32.08], [121.53, 32.09], [121.52, 32.09], [121.52, 32.08]]]}},
  {"type": "Feature", "id": 3, "properties": {"name_zh": "C", "kind": "工业", "landuse_gb50137": "R2"}, "geometry": {"type": "Polygon", "coordinates": [[[121.70, 32.08], [121.71, 32.08], [121.71, 32.09], [121.70, 32.09], [121.70, 32.08]]]}}
 ]}`

func plotsServer(t *testing.T) *httptest.Server {
	t.Helper()
	return plotsServerWith(t, func(s web.Store) web.Store { return s })
}

// plotsServerWith serves the Haimen layers and the plots through the
// store wrap makes of the GeoPackage store.
func plotsServerWith(t *testing.T, wrap func(web.Store) web.Store) *httptest.Server {
	t.Helper()
	s := newStore(t)
	f, err := layers.ParseFile("plots.geojson", []byte(plotsLayer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewRouter(wrap(s), web.Options{Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

// TestStatsThroughCache: with the feature cache in front of the store, as
// serve runs, the features are shared between requests, and clipping
// them for one must not change them for the next.
func TestStatsThroughCache(t *testing.T) {
	srv := plotsServerWith(t, func(s web.Store) web.Store { return cache.New(s.(cache.Store), cache.DefaultBudget) })
	before := get(t, srv.URL+"/collections/plots/items/1").json(t)["geometry"]
	const q = "/collections/plots/stats?bbox=121.505,32.0,121.6,32.2"
	// Three times: the features are held at the second, shared from the
	// cache at the third.
	first := getStats(t, srv.URL+q)
	second := getStats(t, srv.URL+q)
	third := getStats(t, srv.URL+q)
	want := cell(121.50)/2 + cell(121.52)
	for i, d := range []statsDoc{first, second, third} {
		if d.Total.Count != 2 || math.Abs(*d.Total.AreaM2-want) > 0.05 || d.FeaturesCut != 1 {
			t.Errorf("request %d through the cache = %d features %v m², %d cut; want 2, %.1f m², 1 cut", i+1, d.Total.Count, *d.Total.AreaM2, d.FeaturesCut, want)
		}
	}
	if after := get(t, srv.URL+"/collections/plots/items/1").json(t)["geometry"]; fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("plot 1 after the statistics = %v, was %v", after, before)
	}
	if d := getStats(t, srv.URL+"/collections/plots/stats"); math.Abs(*d.Total.AreaM2-(cell(121.50)+cell(121.52)+cell(121.70))) > 0.05 {
		t.Errorf("all plots after the bbox statistics = %v m², want %.1f", *d.Total.AreaM2, cell(121.50)+cell(121.52)+cell(121.70))
	}
}

func cell(lon float64) float64 {
	return geo.Area(orb.Polygon{{{lon, 32.08}, {lon + 0.01, 32.08}, {lon + 0.01, 32.09}, {lon, 32.09}, {lon, 32.08}}})
}

// TestStatsBBoxSplit cuts the square plots with a bbox: A, half inside,
// counts half its area; B, wholly inside, all of it; C, outside, nothing.
func TestStatsBBoxSplit(t *testing.T) {
	srv := plotsServer(t)
	want := cell(121.50)/2 + cell(121.52)
	for _, tc := range []struct{ name, query string }{
		{"CRS84", "bbox=121.505,32.0,121.6,32.2"},
		{"EPSG:4326, latitude first", "bbox=32.0,121.505,32.2,121.6&bbox-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326")},
		{"with heights", "bbox=121.505,32.0,0,121.6,32.2,10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := getStats(t, srv.URL+"/collections/plots/stats?"+tc.query)
			if d.Total.Count != 2 || math.Abs(*d.Total.AreaM2-want) > 0.05 || !d.ClippedToBBox || d.FeaturesCut != 1 ||
				!strings.Contains(d.Note, "bbox") || len(d.BBox) != 1 || math.Abs(d.BBox[0][0]-121.505) > 1e-9 {
				t.Errorf("stats with %s = %d features %v m², clipped %v, %d cut, bbox %v, note %q; want 2, %.1f m², clipped, 1 cut",
					tc.query, d.Total.Count, *d.Total.AreaM2, d.ClippedToBBox, d.FeaturesCut, d.BBox, d.Note, want)
			}
		})
	}
	t.Run("by class", func(t *testing.T) {
		d := getStats(t, srv.URL+"/stats?collections=plots&bbox=121.505,32.0,121.8,32.2")
		if len(d.Groups) != 2 || d.Groups[0].Key != "M" || math.Abs(*d.Groups[0].AreaM2-want) > 0.05 || d.Groups[0].Count != 2 ||
			d.Groups[1].Key != "R" || math.Abs(*d.Groups[1].AreaM2-cell(121.70)) > 0.05 {
			t.Errorf("/stats of the plots = %+v; want M %.1f m² of 2, R %.1f m²", d.Groups, want, cell(121.70))
		}
	})
}

func TestStatsCSV(t *testing.T) {
	srv := plotsServer(t)
	for _, tc := range []struct {
		name, path, file string
		header           []string
		rows             [][]string // leading cells of each row
	}{
		{"layer", "/collections/plots/stats?groupby=kind&f=csv", "plots-stats.csv",
			[]string{"kind", "count 个数", "area (m²) 面积（平方米）", "area (ha) 面积（公顷）", "area (亩) 面积（亩）"},
			[][]string{{"'=1+1", "1"}, {"工业", "2"}, {"total 合计", "3"}}},
		{"layer by two fields", "/collections/plots/stats?groupby=kind,landuse_gb50137&f=csv", "plots-stats.csv",
			[]string{"kind", "landuse_gb50137", "count 个数", "area (m²) 面积（平方米）", "area (ha) 面积（公顷）", "area (亩) 面积（亩）"},
			[][]string{{"'=1+1", "M1", "1"}, {"工业", "M2", "1"}, {"工业", "R2", "1"}, {"total 合计", "", "3"}}},
		{"layer in a bbox", "/collections/plots/stats?f=csv&bbox=121.505,32.0,121.6,32.2", "plots-stats.csv",
			[]string{"group 分组", "count 个数", "area (m²) 面积（平方米）", "area (ha) 面积（公顷）", "area (亩) 面积（亩）"},
			[][]string{{"all 全部", "2"}, {"total inside bbox 范围框内合计", "2"}}},
		{"district", "/stats?collections=plots&f=csv", "planmap-stats.csv",
			[]string{"class 用地大类", "name 名称", "name (en)", "count 个数", "area (m²) 面积（平方米）", "area (ha) 面积（公顷）", "area (亩) 面积（亩）", "collections 图层"},
			[][]string{{"M", "工业用地", "Industrial", "2"}, {"R", "居住用地", "Residential", "1"}, {"total 合计", "", "", "3"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, srv.URL+tc.path)
			if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				r.Header.Get("Content-Disposition") != `attachment; filename="`+tc.file+`"` {
				t.Fatalf("GET %s = %d %s %s:\n%s", tc.path, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"), r.body)
			}
			body, ok := bytes.CutPrefix(r.body, []byte("\xef\xbb\xbf"))
			if !ok {
				t.Errorf("GET %s does not begin with a UTF-8 BOM: % x", tc.path, r.body[:min(8, len(r.body))])
			}
			if lines := bytes.Count(body, []byte("\r\n")); lines != len(tc.rows)+1 || bytes.Count(body, []byte("\n")) != lines {
				t.Errorf("GET %s: %d CRLF line ends of %d lines, want %d CRLF", tc.path, lines, bytes.Count(body, []byte("\n")), len(tc.rows)+1)
			}
			recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("GET %s is not CSV: %v\n%s", tc.path, err, body)
			}
			if !slices.Equal(recs[0], tc.header) {
				t.Errorf("header = %q, want %q", recs[0], tc.header)
			}
			if len(recs) != len(tc.rows)+1 {
				t.Fatalf("%d rows, want %d:\n%s", len(recs)-1, len(tc.rows), body)
			}
			for i, want := range tc.rows {
				rec := recs[i+1]
				if len(rec) != len(tc.header) || !slices.Equal(rec[:len(want)], want) {
					t.Errorf("row %d = %q, want it to begin %q", i+1, rec, want)
				}
			}
			// The numbers are those of the JSON.
			jsonURL := strings.Replace(srv.URL+tc.path, "f=csv", "f=json", 1)
			d := getStats(t, jsonURL)
			total := recs[len(recs)-1]
			mu, err := strconv.ParseFloat(total[len(tc.header)-1-boolInt(tc.name == "district")], 64)
			if err != nil || mu != *d.Total.AreaMu {
				t.Errorf("total 亩 in CSV %q, in JSON %v", total, *d.Total.AreaMu)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestStatsErrors(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		for _, tc := range []struct {
			path   string
			status int
			says   []string
		}{
			{"/collections/resettlement/stats?groupby=nope", 400, []string{"groupby=nope", "name_zh", "flanks_road", "status"}},
			{"/collections/parcels/stats?groupby=area_mu", 400, []string{"number field", "berths", "public"}},
			{"/collections/parcels/stats?groupby=opened", 400, []string{"date field"}},
			{"/collections/parcels/stats?groupby=", 400, []string{"groupby is empty"}},
			{"/collections/parcels/stats?f=kml", 400, []string{"f=json or f=csv"}},
			{"/collections/parcels/stats?limit=10", 400, []string{"unknown query parameter", "limit", "takes f, bbox, bbox-crs, groupby, as-of, compare, name_zh"}},
			{"/collections/parcels/stats?as-of=yesterday", 400, []string{"as-of=yesterday", "RFC 3339"}},
			{"/collections/parcels/stats?compare=2026-01-01&as-of=2025-01-01", 400, []string{"compare=2026-01-01", "not before"}},
			{"/collections/parcels/stats?bbox=1,2,3", 400, []string{"bbox"}},
			{"/collections/parcels/stats?status=bogus", 400, []string{"status is one of"}},
			{"/collections/parcels/stats?groupby=status&groupby=berths", 400, []string{"given 2 times"}},
			{"/collections/parcels/stats?groupby=status,status", 400, []string{"status is named twice"}},
			{"/collections/parcels/stats?groupby=status,berths,public", 400, []string{"3 fields", "at most 2"}},
			{"/collections/parcels/stats?groupby=status,", 400, []string{"empty field"}},
			{"/collections/parcels/stats?groupby=status,area_mu", 400, []string{"groupby=status,area_mu", "number field"}},
			{"/collections/nope/stats", 404, []string{"nope"}},
			{"/stats?collections=resettlement,nope", 400, []string{"there is no collection", "nope"}},
			{"/stats?groupby=status", 400, []string{"unknown query parameter", "takes f, bbox, bbox-crs, collections"}},
			{"/stats?f=xml", 400, []string{"f=json or f=csv"}},
			{"/stats?f=csv&f=json", 400, []string{"f is given 2 times"}},
			{"/stats?bbox=121,33,122,32", 400, []string{"southern edge"}},
		} {
			r := get(t, srv.URL+tc.path, "Accept", "application/json")
			ok := r.StatusCode == tc.status && r.Header.Get("Content-Type") == "application/problem+json" && r.Header.Get("Content-Disposition") == ""
			for _, s := range tc.says {
				ok = ok && bytes.Contains(r.body, []byte(s))
			}
			if !ok {
				t.Errorf("GET %s = %d %s:\n%s\nwant %d problem saying %q", tc.path, r.StatusCode, r.Header.Get("Content-Type"), r.body, tc.status, tc.says)
			}
		}
	})
}

// TestStatsHTMLError: f=html is no format of the statistics, and a
// browser that asks for it gets the error as a page, as on every route.
func TestStatsHTMLError(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		r := get(t, srv.URL+"/collections/parcels/stats?f=html")
		if r.StatusCode != 400 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !bytes.Contains(r.body, []byte("f=json or f=csv")) {
			t.Errorf("GET stats?f=html = %d %s:\n%s", r.StatusCode, r.Header.Get("Content-Type"), r.body)
		}
	})
}

func TestStatsETagAndLinks(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		for _, path := range []string{"/collections/resettlement/stats?groupby=status", "/stats", "/stats?f=csv"} {
			r := get(t, srv.URL+path)
			tag := r.Header.Get("ETag")
			if r.StatusCode != 200 || tag == "" {
				t.Fatalf("GET %s = %d, ETag %q", path, r.StatusCode, tag)
			}
			if r2 := get(t, srv.URL+path, "If-None-Match", tag); r2.StatusCode != 304 {
				t.Errorf("GET %s with If-None-Match %s = %d, want 304", path, tag, r2.StatusCode)
			}
			if other := get(t, srv.URL+path+"&bbox=121,32,122,33"); strings.HasPrefix(path, "/collections") && other.Header.Get("ETag") == tag {
				t.Errorf("GET %s with a bbox has the same ETag", path)
			}
		}
		for _, page := range []string{"/", "/collections/resettlement"} {
			ls := links(t, get(t, srv.URL+page, "Accept", "application/json").json(t))
			found := false
			for _, l := range ls["urn:planmap:rel:statistics"] {
				href, _ := l["href"].(string)
				found = found || l["type"] == "application/json" && strings.HasSuffix(href, "/stats")
			}
			if !found {
				t.Errorf("GET %s has no statistics link: %v", page, ls["urn:planmap:rel:statistics"])
			}
		}
		d := getStats(t, srv.URL+"/collections/resettlement/stats?groupby=status")
		rels := map[string]string{}
		for _, l := range d.Links {
			rels[fmt.Sprint(l["rel"])] = fmt.Sprint(l["href"])
		}
		if !strings.Contains(rels["alternate"], "f=csv") || !strings.Contains(rels["self"], "groupby=status") || !strings.HasSuffix(rels["collection"], "/collections/resettlement") {
			t.Errorf("links = %v", rels)
		}
	})
}

// TestStatsPages adds up more features than the statistics read from the
// store at a time (the largest page of items, 10,000), with and without a
// bbox, and checks the sums against the items.
func TestStatsPages(t *testing.T) {
	const n = 10300
	s := layerstest.MustOpen(t)
	f, err := layers.ParseFile("parcels.geojson", layerstest.Parcels(n))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewRouter(s, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	sums, counts := itemSums(t, srv.URL, "parcels", "status", layers.AreaMu)
	d := getStats(t, srv.URL+"/collections/parcels/stats?groupby=status")
	if d.Total.Count != n || len(d.Groups) != len(layerstest.ParcelsStatuses) {
		t.Fatalf("stats of %d parcels = %+v, %d groups", n, d.Total, len(d.Groups))
	}
	for _, g := range d.Groups {
		if g.Count != counts[g.Key] || math.Abs(*g.AreaMu-sums[g.Key]) > 0.005*float64(g.Count)+0.005 {
			t.Errorf("status %v: %d parcels %.2f 亩; the items have %d, %.2f 亩", g.Key, g.Count, *g.AreaMu, counts[g.Key], sums[g.Key])
		}
	}
	// Seventeen rows of 600 along cell edges: 10,200 whole parcels, none
	// cut, ids 1 to 10,200.
	d = getStats(t, srv.URL+"/collections/parcels/stats?bbox="+layerstest.ParcelsBBox(0, 0, 600, 17))
	want := 0.0
	for offset := 0; offset < 10200; offset += 600 {
		r := get(t, srv.URL+"/collections/parcels/items?limit=600&offset="+strconv.Itoa(offset))
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		json.Unmarshal(r.body, &fc)
		for _, f := range fc.Features {
			want += f.Properties[layers.AreaMu].(float64)
		}
	}
	if d.Total.Count != 10200 || d.FeaturesCut != 0 || math.Abs(*d.Total.AreaMu-want) > 0.005*10200 {
		t.Errorf("stats of seventeen rows = %d parcels %.2f 亩, %d cut; want 10200, %.2f 亩, none cut", d.Total.Count, *d.Total.AreaMu, d.FeaturesCut, want)
	}
}

// TestStatsOpenAPI: the document declares both statistics paths, with
// the fields one may group by and the formats.
func TestStatsOpenAPI(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		var doc struct {
			Paths map[string]struct {
				Get struct {
					Parameters []map[string]any `json:"parameters"`
					Responses  map[string]struct {
						Content map[string]any `json:"content"`
					} `json:"responses"`
				} `json:"get"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(get(t, srv.URL+"/api").body, &doc); err != nil {
			t.Fatal(err)
		}
		op, ok := doc.Paths["/collections/parcels/stats"]
		if !ok {
			t.Fatal("no /collections/parcels/stats in the OpenAPI document")
		}
		names := map[string]map[string]any{}
		for _, p := range op.Get.Parameters {
			if n, ok := p["name"].(string); ok {
				names[n] = p
			}
		}
		enum := fmt.Sprint(names["groupby"]["schema"].(map[string]any)["items"].(map[string]any)["enum"])
		if enum != "[name_zh name_en status berths public]" || names["status"] == nil || names["limit"] != nil {
			t.Errorf("parameters of the parcels' stats: groupby enum %s, status %v, limit %v", enum, names["status"], names["limit"])
		}
		for _, path := range []string{"/collections/parcels/stats", "/stats"} {
			c := doc.Paths[path].Get.Responses["200"].Content
			if c["application/json"] == nil || c["text/csv"] == nil {
				t.Errorf("GET %s 200 content = %v, want JSON and CSV", path, c)
			}
		}
	})
}

// benchStatsRouter is the router of benchRouter without the cache of
// statistics answers, which would answer every request after the first:
// what is measured is the read of the layer.
var benchStatsRouter = sync.OnceValue(func() http.Handler {
	return web.NewRouter(benchStore.store, web.Options{AllowedHosts: []string{"example.com"}, StatsCacheBytes: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
})

// benchStats asks the router over the benchmarks' parcels for statistics,
// without the cache of answers; count < 0 takes the first answer's.
func benchStats(b *testing.B, target string, count int) {
	benchRouter(b) // the store
	h := benchStatsRouter()
	var buf bytes.Buffer
	b.ResetTimer()
	cpu := processCPU()
	defer reportCPU(b, cpu)
	for b.Loop() {
		rec := benchRequest(h, httptest.NewRequest("GET", target, nil), &buf)
		if rec.Code != 200 {
			b.Fatalf("GET %s = %d: %s", target, rec.Code, rec.Body)
		}
		var d statsDoc
		err := json.Unmarshal(rec.Body.Bytes(), &d)
		if err == nil && count < 0 && d.Total.Count > 0 {
			count = d.Total.Count
		}
		if err != nil || d.Total.Count != count {
			b.Fatalf("GET %s: %v, %d features, want %d", target, err, d.Total.Count, count)
		}
	}
}

// BenchmarkStatsAll adds up every parcel by status.
func BenchmarkStatsAll(b *testing.B) {
	benchStats(b, "/collections/parcels/stats?groupby=status", benchParcelsNow(b))
}

// BenchmarkStatsFiltered adds up the planned parcels, about a quarter of
// them, by berths: 5 pages of a filter.
func BenchmarkStatsFiltered(b *testing.B) {
	benchStats(b, "/collections/parcels/stats?groupby=berths&status=planned", -1)
}

// BenchmarkStatsWideBBox adds up the 120,000 parcels of a box 600 × 200
// cells, 12 pages, whose edges cut the parcels along them.
func BenchmarkStatsWideBBox(b *testing.B) {
	half := layerstest.ParcelsCell / 2
	w, s := layerstest.ParcelsWest-half, layerstest.ParcelsSouth-half
	target := fmt.Sprintf("/collections/parcels/stats?bbox=%.7f,%.7f,%.7f,%.7f", w, s, w+600*layerstest.ParcelsCell, s+200*layerstest.ParcelsCell)
	benchStats(b, target, 600*200)
}

// BenchmarkStatsBBox adds up the 10,000 parcels of a box that follows
// cell edges, plus those its edges cut.
func BenchmarkStatsBBox(b *testing.B) {
	// 100 × 100 cells, shifted by half a cell: every parcel along the
	// edges is cut.
	half := layerstest.ParcelsCell / 2
	w, s := layerstest.ParcelsWest+200*layerstest.ParcelsCell+half, layerstest.ParcelsSouth+100*layerstest.ParcelsCell+half
	target := fmt.Sprintf("/collections/parcels/stats?bbox=%.7f,%.7f,%.7f,%.7f", w, s, w+100*layerstest.ParcelsCell, s+100*layerstest.ParcelsCell)
	benchStats(b, target, 101*101)
}

// TestStatsTwoFields groups by two fields in one request: each group is a
// pair of values, and the pairs add up, per value of either field, to
// what grouping by that field alone gives.
func TestStatsTwoFields(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, _ cache.Store) {
		for _, fields := range [][2]string{{"status", "public"}, {"public", "status"}, {"status", "berths"}} {
			q := "/collections/parcels/stats?groupby=" + fields[0] + "," + fields[1]
			d := getStats(t, srv.URL+q)
			if d.GroupBy == nil || *d.GroupBy != fields[0]+","+fields[1] {
				t.Errorf("GET %s: groupBy %v", q, d.GroupBy)
			}
			seen := map[string]bool{}
			for i, field := range fields {
				one := getStats(t, srv.URL+"/collections/parcels/stats?groupby="+field)
				if d.Total.Count != one.Total.Count || math.Abs(*d.Total.AreaM2-*one.Total.AreaM2) > 0.05 {
					t.Errorf("GET %s: total %d, %v m²; by %s alone %d, %v m²", q, d.Total.Count, *d.Total.AreaM2, field, one.Total.Count, *one.Total.AreaM2)
				}
				counts, areas, pairs := map[string]int{}, map[string]float64{}, map[string]int{}
				for _, g := range d.Groups {
					key, ok := g.Key.([]any)
					if !ok || len(key) != 2 {
						t.Fatalf("GET %s: group key %#v, want a pair", q, g.Key)
					}
					seen[fmt.Sprint(key)] = true
					k := fmt.Sprint(key[i])
					counts[k] += g.Count
					areas[k] += *g.AreaM2
					pairs[k]++
				}
				if len(counts) != len(one.Groups) {
					t.Errorf("GET %s: %d values of %s among the pairs, %d grouping by it alone", q, len(counts), field, len(one.Groups))
				}
				for _, g := range one.Groups {
					k := fmt.Sprint(g.Key)
					// Each group's m² are rounded to 0.1.
					if counts[k] != g.Count || math.Abs(areas[k]-*g.AreaM2) > 0.05*float64(pairs[k]+1) {
						t.Errorf("GET %s: %s=%s adds up to %d, %.1f m²; by %s alone %d, %v m²", q, field, k, counts[k], areas[k], field, g.Count, *g.AreaM2)
					}
				}
			}
			if len(seen) != len(d.Groups) || len(d.Groups) < 2 {
				t.Errorf("GET %s: %d groups, %d distinct keys", q, len(d.Groups), len(seen))
			}
		}
	})
}

// TestStatsETagEdit: the statistics of a layer are validated by its
// version: asked again they are 304, and kept (the cache answers), until
// an edit, after which they are counted again, with another ETag.
func TestStatsETagEdit(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, store cache.Store) {
		const q = "/collections/parcels/stats?groupby=status,berths"
		first := get(t, srv.URL+q)
		tag := first.Header.Get("ETag")
		if first.StatusCode != 200 || tag == "" {
			t.Fatalf("GET %s = %d, ETag %q", q, first.StatusCode, tag)
		}
		if r := get(t, srv.URL+q, "If-None-Match", tag); r.StatusCode != 304 || len(r.body) != 0 {
			t.Errorf("GET %s with If-None-Match %s = %d, want 304", q, tag, r.StatusCode)
		}
		again := get(t, srv.URL+q)
		if again.StatusCode != 200 || !bytes.Equal(again.body, first.body) || again.Header.Get("ETag") != tag || again.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s again = %d %s, ETag %s, same body %v", q, again.StatusCode, again.Header.Get("Content-Type"), again.Header.Get("ETag"), bytes.Equal(again.body, first.body))
		}
		cacheStats := func() map[string]any {
			return get(t, srv.URL+"/healthz").json(t)["statsCache"].(map[string]any)
		}
		if c := cacheStats(); c["hits"].(float64) < 1 || c["answers"].(float64) != 1 {
			t.Errorf("statistics cache after the same question twice: %v, want 1 answer and a hit", c)
		}
		var d statsDoc
		json.Unmarshal(first.body, &d)
		if err := store.(web.Editor).Delete(ctx, "parcels", 1, "", layers.Edit{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		after := get(t, srv.URL+q, "If-None-Match", tag)
		var d2 statsDoc
		if after.StatusCode != 200 || after.Header.Get("ETag") == tag || json.Unmarshal(after.body, &d2) != nil || d2.Total.Count != d.Total.Count-1 {
			t.Errorf("GET %s after a parcel is deleted, with the ETag from before = %d, ETag %s (was %s), %d parcels (were %d)",
				q, after.StatusCode, after.Header.Get("ETag"), tag, d2.Total.Count, d.Total.Count)
		}
		// CSV is another answer, kept apart.
		csv := get(t, srv.URL+q+"&f=csv")
		if csv.StatusCode != 200 || csv.Header.Get("Content-Type") != "text/csv; charset=utf-8" || csv.Header.Get("ETag") == after.Header.Get("ETag") {
			t.Errorf("GET %s&f=csv = %d %s, ETag %s", q, csv.StatusCode, csv.Header.Get("Content-Type"), csv.Header.Get("ETag"))
		}
	})
}

// BenchmarkStatsMapOpen is what a map opening asks of the statistics of
// a big layer, to count its features by stage and by a second field (the
// land-use code on the map; berths here, as the benchmark parcels have
// no code): "per stage" as the map asked before two-field groupby, by
// status and then by the second field once per stage, each request a
// read of the whole layer; "two fields" in one request; "two fields,
// kept" as a map opening after another finds it, in the cache.
func BenchmarkStatsMapOpen(b *testing.B) {
	benchRouter(b)
	var buf bytes.Buffer
	ask := func(b *testing.B, h http.Handler, target string) statsDoc {
		rec := benchRequest(h, httptest.NewRequest("GET", target, nil), &buf)
		var d statsDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &d); rec.Code != 200 || err != nil {
			b.Fatalf("GET %s = %d %v: %s", target, rec.Code, err, rec.Body)
		}
		return d
	}
	const layer = "/collections/parcels/stats?"
	want := benchParcelsNow(b)
	b.Run("per stage", func(b *testing.B) {
		h := benchStatsRouter()
		for b.Loop() {
			n := 0
			for _, g := range ask(b, h, layer+"groupby=status").Groups {
				n += ask(b, h, layer+"groupby=berths&status="+url.QueryEscape(fmt.Sprint(g.Key))).Total.Count
			}
			if n != want {
				b.Fatalf("%d parcels counted, want %d", n, want)
			}
		}
	})
	b.Run("two fields", func(b *testing.B) {
		h := benchStatsRouter()
		for b.Loop() {
			if d := ask(b, h, layer+"groupby=status,berths"); d.Total.Count != want {
				b.Fatalf("%d parcels counted, want %d", d.Total.Count, want)
			}
		}
	})
	b.Run("two fields, kept", func(b *testing.B) {
		h := benchRouter(b)
		ask(b, h, layer+"groupby=status,berths")
		for b.Loop() {
			if d := ask(b, h, layer+"groupby=status,berths"); d.Total.Count != want {
				b.Fatalf("%d parcels counted, want %d", d.Total.Count, want)
			}
		}
	})
}
