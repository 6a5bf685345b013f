package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"planmap/layers/cache"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// planmap runs the program as main would, with no environment.
func planmap(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), args, func(string) string { return "" }, &o, &e)
	return o.String(), e.String(), err
}

func seedCount(t *testing.T) int {
	names, err := filepath.Glob("../../seeds/*.geojson")
	if err != nil || len(names) == 0 {
		t.Fatalf("no seed files: %v", err)
	}
	return len(names)
}

func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "planmap.gpkg")
	base, stop := startServe(t, db)

	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var health struct {
		Status string
		Cache  struct{ Budget int64 }
	}
	if err := json.Unmarshal(body, &health); err != nil || res.StatusCode != 200 || health.Status != "ok" || health.Cache.Budget != cache.DefaultBudget {
		t.Errorf("GET /healthz = %d %s, want ok and the feature cache's stats, a budget of %d bytes", res.StatusCode, body, cache.DefaultBudget)
	}
	res, err = http.Get(base + "/no/such/thing")
	if err != nil {
		t.Fatal(err)
	}
	var problem map[string]any
	json.NewDecoder(res.Body).Decode(&problem)
	res.Body.Close()
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" || problem["status"] != 404.0 {
		t.Errorf("GET /no/such/thing = %d %s %v, want a 404 problem", res.StatusCode, res.Header.Get("Content-Type"), problem)
	}
	logs := stop()
	if !regexp.MustCompile(`msg=request id=\S+ method=GET path=/healthz status=200 bytes=\d+ duration=`).MatchString(logs) {
		t.Errorf("no request log line for /healthz in:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="shutting down"`) {
		t.Errorf("the log's last lines were lost at shutdown:\n%s", logs)
	}

	out, _, err := planmap(t, "layers", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n") - 1; n != seedCount(t) {
		t.Errorf("planmap layers lists %d layers, want %d (one per seed file):\n%s", n, seedCount(t), out)
	}

	t.Run("ExistingDatabaseIsKept", func(t *testing.T) {
		dir := t.TempDir()
		edited := filepath.Join(dir, "parks.geojson")
		if _, _, err := planmap(t, "export", "--db", db, "--layer", "parks", "-o", edited); err != nil {
			t.Fatal(err)
		}
		text, _ := os.ReadFile(edited)
		changed := strings.Replace(string(text), `"name_en":"Harbour Eco-Park"`, `"name_en":"Harbour Eco-Park (edited)"`, 1)
		if changed == string(text) {
			t.Fatalf("the exported parks layer has no Harbour Eco-Park:\n%s", text)
		}
		os.WriteFile(edited, []byte(changed), 0o644)
		if _, _, err := planmap(t, "import", "--db", db, edited); err != nil {
			t.Fatal(err)
		}
		_, stop := startServe(t, db)
		logs := stop()
		if strings.Contains(logs, "created database") {
			t.Errorf("serve re-created an existing database:\n%s", logs)
		}
		out, _, _ := planmap(t, "export", "--db", db, "--layer", "parks")
		if !strings.Contains(out, "Harbour Eco-Park (edited)") {
			t.Errorf("the edit did not survive a restart")
		}
	})
}

// serve answers from its feature cache, and an import by another
// process (planmap import, while serve runs) is served within a second,
// the feature changed and the others as they were; with --cache-mb 0 (here
// from the environment) it serves from the database alone.
func TestServeFeatureCache(t *testing.T) {
	db := filepath.Join(t.TempDir(), "planmap.gpkg")
	for _, c := range []struct {
		name  string
		env   map[string]string
		flags []string
	}{
		{"Cached", nil, []string{"--cache-mb", "16"}},
		{"Uncached", map[string]string{"PLANMAP_CACHE_MB": "0"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			base, stop := startServeEnv(t, func(k string) string { return c.env[k] }, db, c.flags...)
			defer stop()
			parks := func() map[string]string {
				t.Helper()
				res, err := http.Get(base + "/collections/parks/items?limit=100")
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var fc struct {
					Features []struct {
						ID         int64          `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"features"`
				}
				if err := json.NewDecoder(res.Body).Decode(&fc); err != nil || res.StatusCode != 200 || len(fc.Features) == 0 {
					t.Fatalf("GET /collections/parks/items = %d, %d features, %v", res.StatusCode, len(fc.Features), err)
				}
				names := map[string]string{}
				for _, f := range fc.Features {
					names[strconv.FormatInt(f.ID, 10)], _ = f.Properties["name_en"].(string)
				}
				return names
			}
			before := parks()
			// The same page again, held the second time it is read, and
			// from the cache, when there is one, the third.
			parks()
			parks()

			dir := t.TempDir()
			edited := filepath.Join(dir, "parks.geojson")
			if _, _, err := planmap(t, "export", "--db", db, "--layer", "parks", "-o", edited); err != nil {
				t.Fatal(err)
			}
			text, _ := os.ReadFile(edited)
			name := "Harbour Eco-Park (" + c.name + ")"
			changed := regexp.MustCompile(`"name_en":"Harbour Eco-Park[^"]*"`).ReplaceAllString(string(text), `"name_en":"`+name+`"`)
			if changed == string(text) {
				t.Fatalf("the exported parks layer has no Harbour Eco-Park:\n%s", text)
			}
			os.WriteFile(edited, []byte(changed), 0o644)
			if _, _, err := planmap(t, "import", "--db", db, edited); err != nil {
				t.Fatal(err)
			}
			res, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			var health struct {
				Status string
				Cache  *struct{ Hits, Items, Budget int64 }
			}
			json.NewDecoder(res.Body).Decode(&health)
			res.Body.Close()
			if c.env == nil && (health.Cache == nil || health.Cache.Hits == 0 || health.Cache.Items == 0 || health.Cache.Budget != 16<<20) {
				t.Errorf("with --cache-mb 16, after the same page three times, GET /healthz = %+v, want hits and a budget of 16 MB", health)
			} else if c.env != nil && health.Cache != nil {
				t.Errorf("with --cache-mb 0, GET /healthz = %+v, want no cache", health)
			}
			start := time.Now()
			for {
				after := parks()
				var edits []string
				for id, n := range after {
					if n != before[id] {
						edits = append(edits, id+": "+before[id]+" → "+n)
					}
				}
				if len(edits) == 1 && strings.HasSuffix(edits[0], "→ "+name) && len(after) == len(before) {
					break
				}
				if time.Since(start) > time.Second {
					t.Fatalf("a second after the import, serve's parks differ from before in %v; want only the name %q", edits, name)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// startServe runs planmap serve on a free port and returns its base URL and
// a function that stops it gracefully and returns its log.
func startServe(t *testing.T, db string, flags ...string) (string, func() string) {
	t.Helper()
	return startServeEnv(t, func(string) string { return "" }, db, flags...)
}

// startServeEnv is startServe with the environment env.
func startServeEnv(t *testing.T, env envFunc, db string, flags ...string) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var logs layerstest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)
		done <- run(ctx, args, env, io.Discard, pw)
		pw.Close()
	}()
	addr := make(chan string, 1)
	ready := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := regexp.MustCompile(`msg=listening addr=(\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			if strings.Contains(sc.Text(), "msg=ready") {
				close(ready)
			}
		}
	}()
	// Serve listens first and says when it is ready to answer.
	var base string
	for _, step := range []struct {
		what string
		done func() bool
	}{
		{"start listening", func() bool {
			select {
			case base = <-addr:
				return true
			default:
				return false
			}
		}},
		{"be ready", func() bool {
			select {
			case <-ready:
				return true
			default:
				return false
			}
		}},
	} {
		deadline := time.Now().Add(30 * time.Second)
		for !step.done() {
			select {
			case err := <-done:
				t.Fatalf("serve ended before it did %s: %v\n%s", step.what, err, logs.String())
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve did not %s in 30 s:\n%s", step.what, logs.String())
			}
		}
	}
	return base, func() string {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after a graceful stop", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("serve did not stop within 20 s")
			return logs.String()
		}
		// The log is whole once the scanner has read the last line.
		<-scanned
		return logs.String()
	}
}

func TestServeFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "planmap.gpkg")
	if _, _, err := planmap(t, "serve", "--db", db, "--tiles", "https://tile.example/{z}/{x}/{y}.png"); err == nil || !strings.Contains(err.Error(), "--tiles-attribution") {
		t.Errorf("serve --tiles without an attribution = %v, want a usage error", err)
	}
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--base-url", "maps.example.cn/haimen"}, "--base-url"},
		{[]string{"--tiles", "https://{server}.tile.example/{z}/{x}/{y}.png", "--tiles-attribution", "x"}, "only {s}"},
		{[]string{"--cache-mb", "-1"}, "--cache-mb"},
		{[]string{"--cache-mb", "lots"}, "--cache-mb"},
		{[]string{"--download-cache-mb", "0"}, "--download-cache-mb"},
		{[]string{"--tile-cache-mb", "-1"}, "--tile-cache-mb"},
		{[]string{"--tile-cache-mb", "some"}, "--tile-cache-mb"},
	} {
		args := append([]string{"serve", "--db", db}, c.flags...)
		if _, _, err := planmap(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("planmap %s = %v, want a usage error about %s", strings.Join(args, " "), err, c.want)
		}
	}
	base, stop := startServe(t, db, "--base-url", "https://maps.example.cn/haimen/")
	defer stop()
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"href":"https://maps.example.cn/haimen/collections","rel":"data"`) {
		t.Errorf("with --base-url the landing page links elsewhere:\n%s", body)
	}
}

// getHost is GET url with the request's Host set to host; it returns the
// status.
func getHost(t *testing.T, url, host string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestServeAllowedHosts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "planmap.gpkg")
	t.Run("Default", func(t *testing.T) {
		base, stop := startServe(t, db, "--base-url", "https://maps.example.cn/haimen")
		defer stop()
		for host, want := range map[string]int{strings.TrimPrefix(base, "http://"): 200, "maps.example.cn": 200, "localhost:8080": 200, "evil.example": 421} {
			if got := getHost(t, base+"/collections", host); got != want {
				t.Errorf("GET /collections with Host %s = %d, want %d", host, got, want)
			}
		}
	})
	t.Run("Env", func(t *testing.T) {
		env := func(k string) string {
			return map[string]string{"PLANMAP_ALLOWED_HOSTS": "plan.example, Other.example"}[k]
		}
		base, stop := startServeEnv(t, env, db)
		defer stop()
		for host, want := range map[string]int{"plan.example": 200, "other.example:8080": 200, strings.TrimPrefix(base, "http://"): 421} {
			if got := getHost(t, base+"/healthz", host); got != want {
				t.Errorf("PLANMAP_ALLOWED_HOSTS=plan.example,Other.example: GET /healthz with Host %s = %d, want %d (the list replaces the default)", host, got, want)
			}
		}
	})
	t.Run("Flag", func(t *testing.T) {
		base, stop := startServe(t, db, "--allowed-hosts", "*")
		defer stop()
		if got := getHost(t, base+"/healthz", "anything.example"); got != 200 {
			t.Errorf("--allowed-hosts '*': GET /healthz with Host anything.example = %d, want 200", got)
		}
	})
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"serve", "import", "export", "layers", "check"} {
		t.Run(cmd, func(t *testing.T) {
			out, _, err := planmap(t, cmd, "-h")
			if err != nil || !strings.HasPrefix(out, "usage: planmap "+cmd) || !strings.Contains(out, "-db") {
				t.Errorf("planmap %s -h = %v, %q", cmd, err, out)
			}
		})
	}
	if _, _, err := planmap(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("planmap frobnicate = %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.gpkg")
	env := func(k string) string {
		return map[string]string{"PLANMAP_DB": db}[k]
	}
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"import", "../../layers/testdata/parcels.geojson"}, env, &o, &e); err != nil {
		t.Fatalf("import with PLANMAP_DB: %v\n%s", err, e.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("PLANMAP_DB was not used: %v", err)
	}
}

func TestImportCheckExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.gpkg")
	parcels := "../../layers/testdata/parcels.geojson"

	out, _, err := planmap(t, "check", "--db", db, parcels)
	if err != nil || out != parcels+": layer parcels, 3 features, ok\n" {
		t.Errorf("check = %v, %q", err, out)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("check created the database")
	}

	bad := filepath.Join(dir, "bad.geojson")
	text, _ := os.ReadFile(parcels)
	os.WriteFile(bad, bytes.Replace(text, []byte(`"berths": 8`), []byte(`"berths": "8"`), 1), 0o644)
	_, stderr, err := planmap(t, "import", "--db", db, bad)
	if err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("import of a bad file = %v", err)
	}
	if !strings.Contains(stderr, bad+`: feature 1 (id 1): property "berths": is the string "8", want an integer`) {
		t.Errorf("stderr does not name the problem:\n%s", stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a failed import left a new database behind")
	}

	out, _, err = planmap(t, "import", "--db", db, parcels)
	if err != nil || out != "parcels: created, 3 features written\n" {
		t.Fatalf("import = %v, %q", err, out)
	}
	exported := filepath.Join(dir, "parcels.geojson")
	if _, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "-o", exported); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(exported); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("exported file mode = %v, %v; want -rw-r--r--", fi.Mode(), err)
	}
	for _, target := range []string{db, db + "-wal"} {
		if _, _, err := planmap(t, "export", "--db", db, "--layer", "parcels", "-o", target); err == nil || !strings.Contains(err.Error(), "is the database itself") {
			t.Errorf("export -o %s = %v, want refused", filepath.Base(target), err)
		}
	}

	// check compares a declared file with what the database holds.
	retyped := filepath.Join(dir, "retyped.geojson")
	os.WriteFile(retyped, bytes.Replace(text, []byte(`{"name": "area_mu", "type": "number"`), []byte(`{"name": "area_mu", "type": "integer"`), 1), 0o644)
	_, stderr, err = planmap(t, "check", "--db", db, retyped)
	if err == nil || !strings.Contains(stderr, "layer parcels is stored with another schema (field area_mu number → integer)") {
		t.Errorf("check of a retyped layer = %v\n%s", err, stderr)
	}
	// With --replace the schema change is allowed; 575.5 is still no integer.
	_, stderr, err = planmap(t, "check", "--db", db, "--replace", retyped)
	if err == nil || strings.Contains(stderr, "another schema") || !strings.Contains(stderr, `property "area_mu": is the number 575.5, want an integer`) {
		t.Errorf("check --replace = %v\n%s", err, stderr)
	}

	gpkg := filepath.Join(dir, "all.gpkg")
	if _, _, err := planmap(t, "export", "--db", db, "-o", gpkg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := planmap(t, "export", "--db", db, "--layer", "nope"); err == nil || !strings.Contains(err.Error(), `layer "nope" does not exist`) {
		t.Errorf("export of an unknown layer = %v", err)
	}
	if _, _, err := planmap(t, "export", "--db", db, "--format", "shp", "--layer", "parcels"); err == nil {
		t.Errorf("export --format shp succeeded")
	}

	// GDAL reads both exports as they are.
	ogrinfo := layerstest.RequireTool(t, "ogrinfo")
	for _, f := range []string{exported, gpkg} {
		cmd := exec.Command(ogrinfo, "-al", "-so", f)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", f, err, e.String())
		}
		for _, line := range strings.Split(o.String()+e.String(), "\n") {
			if strings.Contains(line, "Warning") || strings.Contains(line, "ERROR") {
				t.Errorf("ogrinfo %s: %s", filepath.Base(f), line)
			}
		}
		for _, want := range []string{"Layer name: parcels", "Feature Count: 3", "berths: Integer", "area_mu: Real", "opened: Date", "public: Integer(Boolean)"} {
			if !strings.Contains(o.String(), want) {
				t.Errorf("ogrinfo %s does not say %q:\n%s", filepath.Base(f), want, o.String())
			}
		}
	}
}

func TestImportGeoPackage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.gpkg")
	gdal := "../../layers/testdata/gdal_layers.gpkg"

	out, _, err := planmap(t, "check", "--db", db, gdal)
	want := gdal + ":industry: layer industry, 10 features, ok\n" +
		gdal + ":monitoring: layer monitoring, 3 features, ok\n" +
		gdal + ":parcels: layer parcels, 3 features, ok\n" +
		gdal + ":railways: layer railways, 1 feature, ok\n"
	if err != nil || out != want {
		t.Errorf("check %s = %v\n%s\nwant\n%s", gdal, err, out, want)
	}

	_, stderr, err := planmap(t, "import", "--db", db, "../../layers/testdata/epsg32651.gpkg")
	if err == nil || !strings.Contains(stderr, "epsg32651.gpkg:parcels: EPSG:32651 is not supported") {
		t.Errorf("import of a GeoPackage in UTM = %v\n%s", err, stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a failed import left a new database behind")
	}

	out, _, err = planmap(t, "import", "--db", db, "--declare", "../../seeds/industry.geojson", gdal)
	if err != nil || !strings.Contains(out, "industry: created, 10 features written\n") {
		t.Fatalf("import --declare = %v\n%s", err, out)
	}
	out, _, _ = planmap(t, "layers", "--db", db)
	if !regexp.MustCompile(`industry +MultiPolygon +10 +工业项目 / Industry`).MatchString(out) || !strings.Contains(out, "monitoring / monitoring") {
		t.Errorf("layers after import --declare:\n%s", out)
	}
}

func TestNotOurDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(db, []byte("hello"), 0o644)
	_, _, err := planmap(t, "serve", "--db", db, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "is not an SQLite database") {
		t.Errorf("serve on a text file = %v", err)
	}
	if b, _ := os.ReadFile(db); string(b) != "hello" {
		t.Errorf("the file was modified: %q", b)
	}

	empty := filepath.Join(t.TempDir(), "empty.gpkg")
	os.WriteFile(empty, nil, 0o644)
	// Without the refusal serve would seed the file and serve until
	// stopped: the timeout turns that into a failure, not a hang.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = run(sctx, []string{"serve", "--db", empty, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), empty+" is an empty file, not a planmap database") {
		t.Errorf("serve on an empty file = %v, want it refused", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(empty)); len(entries) != 1 {
		t.Errorf("serve left %d files beside the empty one, want none", len(entries)-1)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Errorf("the empty file now has %d bytes", fi.Size())
	}
}

func TestSeedsAreEmbedded(t *testing.T) {
	entries, err := seeds.FS.ReadDir(".")
	if err != nil || len(entries) != seedCount(t) {
		t.Errorf("seeds.FS has %d entries (%v), want %d", len(entries), err, seedCount(t))
	}
}

// serve empties its download cache at start (what a killed server left)
// and keeps the downloads there; a folder that is not a cache is refused.
func TestServeDownloadCache(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "planmap.gpkg")
	cache := filepath.Join(dir, "cache")
	base, stop := startServe(t, db, "--cache-dir", cache, "--download-cache-mb", "64")
	left := filepath.Join(cache, "3-gpkg.part")
	os.WriteFile(left, []byte("half a download"), 0o644)
	stop()
	base, stop = startServe(t, db, "--cache-dir", cache, "--download-cache-mb", "64")
	defer stop()
	if _, err := os.Stat(left); err == nil {
		t.Error("serve left the last server's half download in its cache")
	}
	resp, err := http.Get(base + "/download/planmap.gpkg")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	entries, _ := os.ReadDir(cache)
	var held int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && !strings.HasPrefix(e.Name(), ".") {
			held += fi.Size()
		}
	}
	if resp.StatusCode != 200 || held != int64(len(body)) {
		t.Errorf("GET /download/planmap.gpkg = %d, %d bytes; the cache holds %d bytes, want the one file", resp.StatusCode, len(body), held)
	}

	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644)
	if _, _, err := planmap(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--cache-dir", foreign); err == nil || !strings.Contains(err.Error(), "not a planmap cache") {
		t.Errorf("serve --cache-dir with someone's files = %v, want a refusal", err)
	}
	if _, _, err := planmap(t, "serve", "--db", db, "--download-cache-mb", "0"); err == nil {
		t.Error("serve --download-cache-mb 0 succeeded")
	}
}

func TestImportShapefiles(t *testing.T) {
	const shp = "../../layers/testdata/shp/"
	db := filepath.Join(t.TempDir(), "planmap.gpkg")

	out, stderr, err := planmap(t, "check", "--db", db, shp+"plan.zip")
	want := shp + "plan.zip:stations.shp: layer stations, 2 features, ok\n" + shp + "plan.zip:roads_utf8.shp: layer roads_utf8, 6 features, ok\n"
	if err != nil || out != want {
		t.Errorf("check plan.zip = %v, %q, want %q\n%s", err, out, want, stderr)
	}
	_, stderr, err = planmap(t, "import", "--db", db, shp+"roads_utm.shp")
	if err == nil || !strings.Contains(stderr, `roads_utm.shp: .prj: CRS "WGS_1984_UTM_Zone_51N" is not supported`) {
		t.Errorf("import of a shapefile in UTM = %v\n%s", err, stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a failed import left a new database behind")
	}
	out, stderr, err = planmap(t, "import", "--db", db, shp+"resettlement_gbk.shp", shp+"plan.zip")
	if err != nil || out != "resettlement_gbk: created, 15 features written\nstations: created, 2 features written\nroads_utf8: created, 6 features written\n" {
		t.Errorf("import = %v, %q\n%s", err, out, stderr)
	}
	if !strings.Contains(stderr, "warning: "+shp+"resettlement_gbk.shp: no id field; all 15 features get new ids") {
		t.Errorf("import stderr has no warning about new ids:\n%s", stderr)
	}
	out, _, err = planmap(t, "export", "--db", db, "--layer", "resettlement_gbk")
	if err != nil || !strings.Contains(out, `"flanks_roa":"港西大道"`) {
		t.Errorf("export = %v, want 港西大道 in it:\n%.1000s", err, out)
	}
}
