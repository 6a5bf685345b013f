package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/web"
)

// runTool runs a GIS tool and returns its stdout, failing the test on an
// error exit; stderr is returned too, for the warnings it may hold.
func runTool(t *testing.T, name string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String()
}

// ourIDs asks our own API for the ids a query selects.
func ourIDs(t *testing.T, url string) []int {
	t.Helper()
	var ids []int
	for url != "" {
		v, _ := getFC(t, url)
		for _, f := range v.Features {
			ids = append(ids, int(f.ID.(float64)))
		}
		url = v.link("next")
	}
	sort.Ints(ids)
	return ids
}

// fileIDs reads the feature ids of a GeoJSON file GDAL wrote.
func fileIDs(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Features []struct{ ID int } }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var ids []int
	for _, f := range v.Features {
		ids = append(ids, f.ID)
	}
	sort.Ints(ids)
	return ids
}

// layerCount is a layer of testFiles and how many features it has.
type layerCount struct {
	ID    string
	Count int
}

// fileCounts are the layers newStore and openPostGIS load, with their
// feature counts as the files give them.
func fileCounts(t *testing.T) []layerCount {
	t.Helper()
	var out []layerCount
	for _, f := range testFiles(t) {
		out = append(out, layerCount{f.LayerID, f.Len()})
	}
	return out
}

// GDAL's OAPIF driver is a real client of the API (TESTING.md §1).
func TestGDALReadsTheAPI(t *testing.T) {
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	ogr2ogr := layerstest.RequireTool(t, "ogr2ogr")
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			var mu sync.Mutex
			var requests []string
			router := web.NewRouter(store, web.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests = append(requests, r.URL.RequestURI())
				mu.Unlock()
				router.ServeHTTP(w, r)
			}))
			defer srv.Close()
			// sent reports whether GDAL sent a request whose URI holds s: a filter
			// GDAL applied on its side alone would pass the comparisons below too.
			sent := func(s string) bool {
				mu.Lock()
				defer mu.Unlock()
				for _, r := range requests {
					if strings.Contains(r, s) {
						return true
					}
				}
				return false
			}
			oapif := "OAPIF:" + srv.URL
			info := fileCounts(t)
			// The GeoPackage counts its layers itself: it must agree with
			// the files, which are the counts for every store.
			if g, ok := store.(*gpkg.Store); ok {
				li, err := g.Info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var got []layerCount
				for _, l := range li {
					got = append(got, layerCount{l.ID, l.Count})
				}
				slices.SortFunc(got, func(a, b layerCount) int { return strings.Compare(a.ID, b.ID) })
				want := slices.SortedFunc(slices.Values(info), func(a, b layerCount) int { return strings.Compare(a.ID, b.ID) })
				if !slices.Equal(got, want) {
					t.Fatalf("the GeoPackage holds %v, the files %v", got, want)
				}
			}

			out, stderr := runTool(t, ogrinfo, "-ro", "-so", oapif)
			if strings.Contains(stderr, "ERROR") {
				t.Errorf("ogrinfo: %s", stderr)
			}
			for _, l := range info {
				if !strings.Contains(out, ": "+l.ID+" (title:") {
					t.Errorf("ogrinfo does not list %s:\n%s", l.ID, out)
				}
			}

			t.Run("CountsAndFields", func(t *testing.T) {
				out, stderr := runTool(t, ogrinfo, "-ro", "-so", "-al", oapif)
				if strings.Contains(stderr, "ERROR") || strings.Contains(stderr, "Warning") {
					t.Errorf("ogrinfo -al: %s", stderr)
				}
				for _, l := range info {
					block := regexp.MustCompile(`(?s)Layer name: ` + l.ID + `\n.*?(?:\nLayer name:|$)`).FindString(out)
					if !strings.Contains(block, "Feature Count: "+strconv.Itoa(l.Count)+"\n") {
						t.Errorf("ogrinfo: %s does not have Feature Count %d:\n%s", l.ID, l.Count, block)
					}
				}
				for _, want := range []string{"berths: Integer", "area_mu: Real", "opened: Date", "public: Integer(Boolean)", "surveyed: DateTime", "geodesic_area_ha: Real"} {
					if !strings.Contains(out, want) {
						t.Errorf("ogrinfo does not type parcels' %q", want)
					}
				}
			})

			t.Run("CopyWithSmallPages", func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), "copy.gpkg")
				runTool(t, ogr2ogr, "-f", "GPKG", dst, oapif, "-oo", "PAGE_SIZE=2")
				out, _ := runTool(t, ogrinfo, "-ro", "-so", "-al", dst)
				for _, l := range info {
					block := regexp.MustCompile(`(?s)Layer name: ` + l.ID + `\n.*?(?:\nLayer name:|$)`).FindString(out)
					if !strings.Contains(block, "Feature Count: "+strconv.Itoa(l.Count)+"\n") {
						t.Errorf("ogr2ogr with PAGE_SIZE=2 copied %s wrong; want %d features:\n%s", l.ID, l.Count, block)
					}
				}
			})

			t.Run("SpatialFilter", func(t *testing.T) {
				for _, box := range [][4]float64{{121.47, 32.10, 121.48, 32.115}, {121.40, 32.0, 121.60, 32.2}, {121.485, 32.115, 121.486, 32.116}} {
					dst := filepath.Join(t.TempDir(), "spat.geojson")
					args := []string{"-f", "GeoJSON", "-preserve_fid", dst, oapif, "resettlement", "-oo", "PAGE_SIZE=3", "-spat"}
					for _, v := range box {
						args = append(args, strconv.FormatFloat(v, 'f', -1, 64))
					}
					runTool(t, ogr2ogr, args...)
					got := fileIDs(t, dst)
					want := ourIDs(t, fmt.Sprintf("%s/collections/resettlement/items?limit=4&bbox=%g,%g,%g,%g", srv.URL, box[0], box[1], box[2], box[3]))
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("-spat %v: GDAL got %v, our bbox gives %v", box, got, want)
					}
					if !sent(fmt.Sprintf("bbox=%s,", strconv.FormatFloat(box[0], 'f', -1, 64))) {
						t.Errorf("-spat %v: GDAL did not send the bbox to the server", box)
					}
				}
			})

			t.Run("AttributeFilter", func(t *testing.T) {
				for _, c := range []struct{ layer, where, query string }{
					{"resettlement", "flanks_road = '海华路'", "flanks_road=%E6%B5%B7%E5%8D%8E%E8%B7%AF"},
					{"parcels", "status = 'signed'", "status=signed"},
					{"parcels", "berths = 8", "berths=8"},
				} {
					dst := filepath.Join(t.TempDir(), "where.geojson")
					_, stderr := runTool(t, ogr2ogr, "-f", "GeoJSON", "-preserve_fid", dst, oapif, c.layer, "-where", c.where)
					if strings.Contains(stderr, "ERROR") {
						t.Errorf("-where %s: %s", c.where, stderr)
					}
					got := fileIDs(t, dst)
					want := ourIDs(t, srv.URL+"/collections/"+c.layer+"/items?"+c.query)
					if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("-where %s: GDAL got %v, our filter gives %v", c.where, got, want)
					}
					if !sent("&" + c.query) {
						t.Errorf("-where %s: GDAL did not send %s to the server", c.where, c.query)
					}
				}
			})
		})
	}
}
