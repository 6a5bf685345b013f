package postgis_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// asOfStore is what TestWriteGeoJSONAsOf needs of both stores.
type asOfStore interface {
	Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error)
	Item(ctx context.Context, id string, fid int64) (*layers.Item, error)
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
	WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error
	WriteGeoJSONAsOf(ctx context.Context, w io.Writer, id string, t time.Time, progress func(done, total int)) error
}

// TestWriteGeoJSONAsOf: the layer file of parcels as of a time is the one
// exported then, byte for byte, and the GeoPackage store's of the same
// history.
func TestWriteGeoJSONAsOf(t *testing.T) {
	t.Parallel()
	pg, _ := mustOpen(t)
	gp := layerstest.MustOpen(t)
	data, err := os.ReadFile("../storetest/testdata/parcels.geojson")
	if err != nil {
		t.Fatal(err)
	}
	export := func(s asOfStore, at time.Time) []byte {
		t.Helper()
		var b bytes.Buffer
		if at.IsZero() {
			err = s.WriteGeoJSON(ctx, &b, "parcels", nil)
		} else {
			err = s.WriteGeoJSONAsOf(ctx, &b, "parcels", at, nil)
		}
		if err != nil {
			t.Fatalf("%T export of parcels as of %v: %v", s, at, err)
		}
		return b.Bytes()
	}
	var then [2][]byte
	var at [2]time.Time
	for i, s := range []asOfStore{pg, gp} {
		if _, err := s.Import(ctx, []*layers.File{parse(t, "parcels.geojson", data)}, layers.ImportOptions{}); err != nil {
			t.Fatalf("%T Import: %v", s, err)
		}
		then[i] = export(s, time.Time{})
		time.Sleep(3 * time.Millisecond)
		at[i] = time.Now()
		time.Sleep(3 * time.Millisecond)
		it, err := s.Item(ctx, "parcels", 7)
		if err != nil {
			t.Fatal(err)
		}
		props := maps.Clone(it.Properties())
		props["status"] = "under_construction"
		if _, err := s.Replace(ctx, "parcels", 7, layers.Feature{Properties: props, Geometry: it.Geometry()}, "", layers.Edit{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "parcels", 3, "", layers.Edit{}); err != nil {
			t.Fatal(err)
		}
	}
	got := export(pg, at[0])
	if bytes.Equal(got, export(pg, time.Time{})) {
		t.Fatal("the edits did not change the export")
	}
	if !bytes.Equal(got, then[0]) {
		t.Errorf("PostGIS WriteGeoJSONAsOf differs from the export then at byte %d:\n got  %s\n want %s", firstDiff(got, then[0]), around(got, then[0]), around(then[0], got))
	}
	if want := export(gp, at[1]); !bytes.Equal(got, want) {
		t.Errorf("PostGIS WriteGeoJSONAsOf differs from the GeoPackage store's at byte %d:\n got  %s\n want %s", firstDiff(got, want), around(got, want), around(want, got))
	}
}
