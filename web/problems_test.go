package web_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/web"
)

// bogusStatusDirectly sets the status of parcel 1 to one the layer does
// not allow, as another program writing to the file at path, and returns
// the member "invalid" the server at base then serves it with (nil if
// none within the wait).
func bogusStatusDirectly(t *testing.T, base, path string) any {
	t.Helper()
	other := layerstest.OpenOtherClient(t, path)
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'bogus' WHERE fid = 1`); err != nil {
		t.Fatal(err)
	}
	var invalid any
	for deadline := time.Now().Add(slack(2 * time.Second)); invalid == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		invalid = get(t, base+"/collections/parcels/items/1").json(t)["invalid"]
	}
	return invalid
}

// A feature another program wrote that fails the layer's checks is served
// as it is, with the member "invalid" saying why; the others without.
func TestDirectEditFlagged(t *testing.T) {
	srv, s := newServer(t, web.Options{})
	if r := get(t, srv.URL+"/collections/parcels/items/1"); r.StatusCode != 200 || r.json(t)["invalid"] != nil {
		t.Fatalf("parcel 1 before = %d %s", r.StatusCode, r.body)
	}
	invalid := bogusStatusDirectly(t, srv.URL, s.Path())
	if msg, _ := invalid.(string); !strings.Contains(msg, "status") {
		t.Errorf("parcel 1 after a direct edit to status bogus: invalid = %v, want why", invalid)
	}
	if r := get(t, srv.URL+"/collections/parcels/items/7"); r.json(t)["invalid"] != nil {
		t.Errorf("parcel 7, untouched, is flagged: %s", r.body)
	}
}

// The flag outlives a restart: a server opened again on the file serves
// it, though nothing changed the feature since.
func TestDirectEditFlagKeptAcrossRestart(t *testing.T) {
	srv, s := newServer(t, web.Options{})
	// Served once: the store follows the file from then on.
	if r := get(t, srv.URL+"/collections/parcels/items/1"); r.StatusCode != 200 {
		t.Fatalf("parcel 1 before = %d %s", r.StatusCode, r.body)
	}
	invalid := bogusStatusDirectly(t, srv.URL, s.Path())
	if invalid == nil {
		t.Fatal("parcel 1 not flagged after a direct edit to status bogus")
	}
	srv.Close()
	s.Close()

	again, err := gpkg.Open(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	stop := make(chan struct{})
	defer close(stop)
	srv = httptest.NewServer(web.NewRouter(again, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget), Stop: stop}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	r := get(t, srv.URL+"/collections/parcels/items/1")
	if got := r.json(t)["invalid"]; got != invalid {
		t.Errorf("parcel 1 after a restart: invalid = %v, want %v", got, invalid)
	}
}
