package web_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
	"planmap/web"
)

// bogusStatusDirectly sets the status of parcel 1 to one the layer does
// not allow, as another program writing to the store's file or database
// (otherConnection), and returns the member "invalid" the server at base
// then serves it with (nil if none within the wait).
func bogusStatusDirectly(t *testing.T, base string, store cache.Store) any {
	t.Helper()
	execSQL(t, otherConnection(t, store), `UPDATE parcels SET status = 'bogus' WHERE fid = 1`)
	var invalid any
	for deadline := time.Now().Add(slack(2 * time.Second)); invalid == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		invalid = get(t, base+"/collections/parcels/items/1").json(t)["invalid"]
	}
	return invalid
}

// A feature another program wrote that fails the layer's checks is served
// as it is, with the member "invalid" saying why; the others without.
func TestDirectEditFlagged(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			srv := newServerOn(t, s, web.Options{})
			if r := get(t, srv.URL+"/collections/parcels/items/1"); r.StatusCode != 200 || r.json(t)["invalid"] != nil {
				t.Fatalf("parcel 1 before = %d %s", r.StatusCode, r.body)
			}
			invalid := bogusStatusDirectly(t, srv.URL, s)
			if msg, _ := invalid.(string); !strings.Contains(msg, "status") {
				t.Errorf("parcel 1 after a direct edit to status bogus: invalid = %v, want why", invalid)
			}
			if r := get(t, srv.URL+"/collections/parcels/items/7"); r.json(t)["invalid"] != nil {
				t.Errorf("parcel 7, untouched, is flagged: %s", r.body)
			}
		})
	}
}

// The flag outlives a restart: a server opened again on the file or
// database serves it, though nothing changed the feature since.
func TestDirectEditFlagKeptAcrossRestart(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			srv := newServerOn(t, s, web.Options{})
			// Served once: the store follows the database from then on.
			if r := get(t, srv.URL+"/collections/parcels/items/1"); r.StatusCode != 200 {
				t.Fatalf("parcel 1 before = %d %s", r.StatusCode, r.body)
			}
			invalid := bogusStatusDirectly(t, srv.URL, s)
			if invalid == nil {
				t.Fatal("parcel 1 not flagged after a direct edit to status bogus")
			}
			srv.Close()
			again := reopenStore(t, s)
			stop := make(chan struct{})
			defer close(stop)
			srv = httptest.NewServer(web.NewRouter(again, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget), Stop: stop}, slog.New(slog.NewTextHandler(io.Discard, nil))))
			defer srv.Close()
			r := get(t, srv.URL+"/collections/parcels/items/1")
			if got := r.json(t)["invalid"]; got != invalid {
				t.Errorf("parcel 1 after a restart: invalid = %v, want %v", got, invalid)
			}
		})
	}
}

// reopenStore closes store and opens its file or database again, as
// planmap does when it restarts; the new store is closed when t ends.
func reopenStore(t *testing.T, store cache.Store) cache.Store {
	t.Helper()
	var again cache.Store
	switch s := store.(type) {
	case *gpkg.Store:
		s.Close()
		g, err := gpkg.Open(ctx, s.Path())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		again = g
	case *postgis.Store:
		u, ok := postgisURLs.Load(s)
		if !ok {
			t.Fatal("a PostGIS store newPostGISStore did not open")
		}
		s.Close()
		p, err := postgis.Open(ctx, u.(string))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		postgisURLs.Store(p, u)
		again = p
	default:
		t.Fatalf("cannot reopen a %T", store)
	}
	return again
}
