package web_test

import (
	"strings"
	"testing"
	"time"

	"planmap/layers/layerstest"
	"planmap/web"
)

// A feature another program wrote that fails the layer's checks is served
// as it is, with the member "invalid" saying why; the others without.
func TestDirectEditFlagged(t *testing.T) {
	srv, s := newServer(t, web.Options{})
	if r := get(t, srv.URL+"/collections/parcels/items/1"); r.StatusCode != 200 || r.json(t)["invalid"] != nil {
		t.Fatalf("parcel 1 before = %d %s", r.StatusCode, r.body)
	}
	other := layerstest.OpenOtherClient(t, s.Path())
	if err := other.Exec(ctx, `UPDATE parcels SET status = 'bogus' WHERE fid = 1`); err != nil {
		t.Fatal(err)
	}
	var invalid any
	for deadline := time.Now().Add(2 * time.Second); invalid == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		invalid = get(t, srv.URL+"/collections/parcels/items/1").json(t)["invalid"]
	}
	if msg, _ := invalid.(string); !strings.Contains(msg, "status") {
		t.Errorf("parcel 1 after a direct edit to status bogus: invalid = %v, want why", invalid)
	}
	if r := get(t, srv.URL+"/collections/parcels/items/7"); r.json(t)["invalid"] != nil {
		t.Errorf("parcel 7, untouched, is flagged: %s", r.body)
	}
}
