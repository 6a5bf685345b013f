package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"planmap/layers/layerstest"
)

// TestPeersOnPostGIS: two planmap serve processes on one PostgreSQL
// database, the second with the streaming standby as its read replica.
// An edit through the first is served by the second (heard of by its
// NOTIFY), and both answer byte for byte alike apart from time stamps;
// an editor's read through the second, right after its write through the
// first, has the write; /healthz shows the replica and its lag.
func TestPeersOnPostGIS(t *testing.T) {
	url := layerstest.PostgresDB(t)
	standby := layerstest.PostgresReplica(t, url)
	a, stopA := startServeProcess(t, url)
	defer stopA()
	b, stopB := startServe(t, url, "--db-replica", standby)
	defer stopB()
	token, stderr, err := planmap(t, "token", "add", "--db", url, "--name", "alice", "--role", "editor", "--layers", "parks")
	if err != nil {
		t.Fatalf("token add: %v\n%s", err, stderr)
	}
	token = strings.TrimSpace(token)

	get := func(url, token string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", url, res.StatusCode, body)
		}
		return string(body), res.Header.Get("ETag")
	}
	var parks struct{ Features []struct{ ID int64 } }
	body, _ := get(a+"/collections/parks/items?limit=1", "")
	if err := json.Unmarshal([]byte(body), &parks); err != nil || len(parks.Features) == 0 {
		t.Fatalf("parks: %v %s", err, body)
	}
	path := fmt.Sprintf("/collections/parks/items/%d", parks.Features[0].ID)
	body, etag := get(a+path, "")
	var f map[string]any
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	delete(f, "links")

	for i, name := range []string{"Renamed through the first process", "Renamed again"} {
		f["properties"].(map[string]any)["name_en"] = name
		put, _ := json.Marshal(f)
		req, _ := http.NewRequest(http.MethodPut, a+path, bytes.NewReader(put))
		req.Header.Set("Content-Type", "application/geo+json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("If-Match", etag)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s = %d %s", path, res.StatusCode, out)
		}
		etag = res.Header.Get("ETag")
		start := time.Now()
		if i == 1 {
			// The editor reads back through the other process at once.
			if got, tag := get(b+path, token); !strings.Contains(got, name) || tag != etag {
				t.Errorf("the editor's read through the second process right after its write: ETag %s (want %s)\n%s", tag, etag, got)
			}
		}
		for {
			got, tag := get(b+path, "")
			if strings.Contains(got, name) && tag == etag {
				break
			}
			if time.Since(start) > time.Minute {
				t.Fatalf("the second process still serves the feature before the edit after a minute:\n%s", got)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("the second process served edit %d %v after the first answered the PUT", i+1, time.Since(start).Round(time.Millisecond))
	}

	// Alike, apart from time stamps.
	stamp := regexp.MustCompile(`"timeStamp":"[^"]*"`)
	for _, p := range []string{"/collections", "/collections/parks", "/collections/parks/items?limit=100", path, path + "/versions", "/collections/parks/items?bbox=121.4,31.9,121.8,32.2", "/search?q=Park", "/changes?since=0"} {
		// The second process may have served this page from before the
		// edits' last change reached it: it is the same once it has.
		var x, y string
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			x, _ = get(a+p, "")
			y, _ = get(b+p, "")
			// Each names itself in its links.
			x = strings.ReplaceAll(stamp.ReplaceAllString(x, ""), a, "BASE")
			y = strings.ReplaceAll(stamp.ReplaceAllString(y, ""), b, "BASE")
			if x == y || time.Since(start) > 10*time.Second {
				break
			}
		}
		if x != y {
			t.Errorf("GET %s differs between the two processes:\n%s\n%s", p, x, y)
		}
	}

	var health struct {
		Replication struct {
			PrimaryReads int64
			Replicas     []struct {
				Name      string
				Up        bool
				ReplayLSN string
				LagBytes  int64
				Reads     int64
			}
		}
	}
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		// A search: the feature cache holds pages, not searches, so it
		// reaches the store.
		get(b+"/search?q=Park", "")
		h, _ := get(b+"/healthz", "")
		if err := json.Unmarshal([]byte(h), &health); err != nil {
			t.Fatal(err)
		}
		r := health.Replication.Replicas
		if len(r) == 1 && r[0].Up && r[0].Reads > 0 && r[0].ReplayLSN != "" && r[0].LagBytes >= 0 {
			if !strings.HasPrefix(standby, "postgres://"+strings.TrimPrefix(r[0].Name, "postgres://")) {
				t.Errorf("/healthz names the replica %q; want the URL %s without a password", r[0].Name, standby)
			}
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("/healthz of the second process after a minute: %s", h)
		}
	}
	if health.Replication.PrimaryReads == 0 {
		t.Errorf("no read went to the primary, not even the editor's: %+v", health.Replication)
	}
	if h, _ := get(a+"/healthz", ""); strings.Contains(h, "replication") {
		t.Errorf("/healthz of the process without replicas shows replication: %s", h)
	}
}

// TestReplicaNeedsPostGIS: --db-replica (and PLANMAP_DB_REPLICA) with a
// GeoPackage file is a usage error, not a flag quietly ignored.
func TestReplicaNeedsPostGIS(t *testing.T) {
	db := t.TempDir() + "/planmap.gpkg"
	if _, _, err := planmap(t, "serve", "--db", db, "--db-replica", "postgres://postgres@127.0.0.1:1/x"); err == nil || !strings.Contains(err.Error(), "--db-replica needs a PostgreSQL --db") {
		t.Errorf("serve --db FILE --db-replica URL = %v; want a usage error", err)
	}
	env := func(k string) string {
		if k == "PLANMAP_DB_REPLICA" {
			return "postgres://postgres@127.0.0.1:1/x, postgres://postgres@127.0.0.1:2/x"
		}
		return ""
	}
	if err := run(t.Context(), []string{"serve", "--db", db}, env, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--db-replica needs a PostgreSQL --db") {
		t.Errorf("serve --db FILE with PLANMAP_DB_REPLICA = %v; want a usage error", err)
	}
}
