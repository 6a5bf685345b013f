package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeChangeStream opens /changes/stream on planmap serve, imports a
// changed layer file from another process, and checks that the change
// arrives on the stream within a second; then stops serve, which must end
// the open stream cleanly rather than wait for its client.
func TestServeChangeStream(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "planmap.gpkg")
	base, stop := startServe(t, db)

	// The layer file that will change one resettlement block.
	out, stderr, err := planmap(t, "export", "--db", db, "--layer", "resettlement")
	if err != nil {
		t.Fatalf("planmap export: %v\n%s", err, stderr)
	}
	var layer map[string]any
	if err := json.Unmarshal([]byte(out), &layer); err != nil {
		t.Fatal(err)
	}
	features := layer["features"].([]any)
	one := features[0].(map[string]any)
	one["properties"].(map[string]any)["name_zh"] = "另一个进程改的"
	layer["features"] = features[:1]
	file := filepath.Join(dir, "resettlement.geojson")
	b, _ := json.Marshal(layer)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/changes/stream", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := make(chan string, 100)
	ended := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		ended <- sc.Err()
	}()
	waitLine := func(prefix string, within time.Duration) string {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case l := <-lines:
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-deadline:
				t.Fatalf("no line %q on the stream within %v", prefix, within)
			}
		}
	}
	waitLine("event: ready", 5*time.Second)

	cmd := command(context.Background(), "import", "--db", db, file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("planmap import in another process: %v\n%s", err, out)
	}
	written := time.Now()
	waitLine("event: change", time.Second)
	data := waitLine("data: ", time.Second)
	if !strings.Contains(data, `"collection":"resettlement"`) || !strings.Contains(data, `"op":"update"`) {
		t.Errorf("the import's change on the stream: %s", data)
	}
	t.Logf("the change arrived %v after the import ended", time.Since(written).Round(time.Millisecond))

	// Shutting down ends the stream: serve stops well before its 15 s
	// grace period for requests in flight, and the stream ends whole (a
	// clean end of the chunked body, no error).
	start := time.Now()
	stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("serve took %v to stop with a change stream open", took)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("the stream ended with %v, want a clean end", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the stream did not end when serve stopped")
	}
}
