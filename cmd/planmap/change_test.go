package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"planmap/layers/layerstest"
)

// servedWithin is how soon planmap serve must serve a change made by
// another process (issue 10).
const servedWithin = time.Second

// TestServesOtherProcessesChanges runs planmap serve in a process of its
// own on a database of 2,000 parcels, changes one parcel from two other
// processes, the program's own import and GDAL's ogrinfo -sql UPDATE on the
// live file, and checks that serve answers with each change within a
// second of the writer's exit.
func TestServesOtherProcessesChanges(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "planmap.gpkg")
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, layerstest.Parcels(2000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := planmap(t, "import", "--db", db, parcels); err != nil {
		t.Fatalf("planmap import: %v\n%s", err, stderr)
	}
	base, stop := startServeProcess(t, db)
	defer stop()
	if got := servedName(t, base, 17); got != "17号地块" {
		t.Fatalf("parcel 17 is served with name_zh %q before any change, want 17号地块", got)
	}
	// A map revalidates the pages it has with their ETags: the pages of
	// the parcels about to change must come back changed, not 304.
	page17 := "/collections/parcels/items?limit=10&offset=10"
	page1234 := "/collections/parcels/items?limit=10&offset=1230"
	etags := map[string]string{}
	for _, p := range []string{page17, page1234} {
		_, etags[p], _ = get(t, base+p, "")
	}

	t.Run("Import", func(t *testing.T) {
		file := filepath.Join(dir, "one.geojson")
		one := `{"type": "FeatureCollection", "name": "parcels", "features": [
		  {"type": "Feature", "id": 17, "properties": {"name_zh": "另一个进程导入的", "status": "signed"},
		   "geometry": {"type": "Polygon", "coordinates": [[[121.2153, 31.9003], [121.2160, 31.9003], [121.2160, 31.9008], [121.2153, 31.9003]]]}}]}`
		if err := os.WriteFile(file, []byte(one), 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := command(context.Background(), "import", "--db", db, file)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("planmap import of one changed parcel while serve runs: %v\n%s", err, stderr.String())
		}
		waitServed(t, base, 17, "另一个进程导入的", page17, etags[page17])
	})

	t.Run("GDAL", func(t *testing.T) {
		ogrinfo := layerstest.RequireTool(t, "ogrinfo")
		var before int64
		countUpdates(t, db, 1234, &before)
		cmd := exec.Command(ogrinfo, db, "-sql", "UPDATE parcels SET name_zh = 'GDAL 改的' WHERE fid = 1234")
		out, err := cmd.CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("ERROR")) {
			t.Fatalf("ogrinfo %s -sql UPDATE: %v\n%s", db, err, out)
		}
		waitServed(t, base, 1234, "GDAL 改的", page1234, etags[page1234])
		// The change log holds GDAL's edit, so that every reader of the
		// file, not only this server, learns of it.
		var after int64
		countUpdates(t, db, 1234, &after)
		if after != before+1 {
			t.Errorf("planmap_changes has %d update rows of parcels 1234 after GDAL's UPDATE, %d before; want one more", after, before)
		}
	})

	t.Run("ReadersDuringImport", func(t *testing.T) {
		// Another process imports 20,000 parcels into the layer (2,000
		// updated, the rest new) while readers ask for pages, boxes and
		// the collections: every answer is a 200.
		n := 20000
		if raceEnabled {
			// The processes are race builds, about ten times slower.
			n = 5000
		}
		big := filepath.Join(dir, "big.geojson")
		if err := os.WriteFile(big, layerstest.Parcels(n), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := command(context.Background(), "import", "--db", db, big)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		urls := []string{
			"/collections/parcels/items?limit=50",
			"/collections/parcels/items?limit=100&bbox=" + layerstest.ParcelsBBox(10, 1, 10, 2),
			"/collections/parcels/items/5",
			"/collections",
		}
		type result struct {
			reads int
			bad   []string
		}
		done := make(chan struct{})
		results := make(chan result, 2)
		for r := 0; r < 2; r++ {
			go func() {
				var res result
				for i := 0; ; i++ {
					select {
					case <-done:
						results <- res
						return
					default:
					}
					u := base + urls[i%len(urls)]
					resp, err := http.Get(u)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					if (err != nil || resp.StatusCode != 200) && len(res.bad) < 5 {
						res.bad = append(res.bad, fmt.Sprintf("GET %s: %v %v", u, resp.StatusCode, err))
					}
					res.reads++
					time.Sleep(time.Millisecond)
				}
			}()
		}
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		close(done)
		reads := 0
		for r := 0; r < 2; r++ {
			res := <-results
			reads += res.reads
			for _, b := range res.bad {
				t.Errorf("during the import: %s", b)
			}
		}
		if err != nil {
			t.Fatalf("planmap import of %d parcels while serve runs: %v\n%s", n, err, stderr.String())
		}
		t.Logf("%d requests answered during an import of %d parcels that took %v", reads, n, took.Round(time.Millisecond))
		if reads < 10 {
			t.Errorf("only %d requests during the import: the readers did not overlap it", reads)
		}
		// Applying thousands of new parcels is ten times slower in a race
		// build, as the import was.
		within := servedWithin
		if raceEnabled {
			within *= 10
		}
		for waited := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			_, _, body := get(t, base+"/collections/parcels/items?limit=1", "")
			var page struct {
				NumberMatched int `json:"numberMatched"`
			}
			json.Unmarshal(body, &page)
			if page.NumberMatched == n {
				break
			}
			if time.Since(waited) > within {
				t.Fatalf("numberMatched is %d %v after the import, want %d", page.NumberMatched, time.Since(waited).Round(time.Millisecond), n)
			}
		}
	})
}

// countUpdates reads how many update rows of parcel fid the change log has.
func countUpdates(t *testing.T, db string, fid int64, n *int64) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRow(`SELECT count(*) FROM planmap_changes WHERE layer = 'parcels' AND fid = ? AND op = 'update'`, fid).Scan(n); err != nil {
		t.Fatalf("reading planmap_changes: %v", err)
	}
}

// get requests url, with If-None-Match etag unless it is empty, and
// returns the status, the ETag and the body of the answer.
func get(t *testing.T, url, etag string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || (res.StatusCode != 200 && res.StatusCode != 304) {
		t.Fatalf("GET %s (If-None-Match %s) = %d, %v\n%s", url, etag, res.StatusCode, err, body)
	}
	return res.StatusCode, res.Header.Get("ETag"), body
}

// servedName returns the name_zh of parcel fid as serve answers it.
func servedName(t *testing.T, base string, fid int64) string {
	t.Helper()
	_, _, body := get(t, fmt.Sprintf("%s/collections/parcels/items/%d", base, fid), "")
	var f struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatalf("parcel %d: %v\n%s", fid, err, body)
	}
	name, _ := f.Properties["name_zh"].(string)
	return name
}

// waitServed polls parcel fid, and the page of items that holds it with
// the ETag it had before the change, until serve answers both with name
// want, and fails unless it did within servedWithin. It keeps polling a
// while longer, so that a failure says how late the change came, if at
// all.
func waitServed(t *testing.T, base string, fid int64, want, page, etag string) {
	t.Helper()
	start := time.Now()
	for {
		got := servedName(t, base, fid)
		status, _, body := get(t, base+page, etag)
		took := time.Since(start)
		if got == want && status == 200 && bytes.Contains(body, []byte(want)) {
			if took > servedWithin {
				t.Errorf("parcel %d was served changed %v after the other process wrote it; want within %v", fid, took.Round(time.Millisecond), servedWithin)
			}
			t.Logf("parcel %d and its page served changed %v after the other process wrote it", fid, took.Round(time.Millisecond))
			return
		}
		if took > 3*servedWithin {
			t.Fatalf("%v after another process changed parcel %d to %q: served with name_zh %q, its page %s revalidated: %d", took.Round(time.Millisecond), fid, want, got, page, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
