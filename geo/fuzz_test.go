package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// geoErrors are the errors DecodeGeoJSON and Validate may return, wrapped.
var geoErrors = []error{
	ErrNotObject, ErrUnknownType, ErrNoCoordinates, ErrBadPosition, ErrBadNesting, ErrCollection,
	ErrEmptyGeometry, ErrNonFinite, ErrOutOfRange, ErrRingNotClosed, ErrRingTooShort, ErrLineTooShort,
	ErrSelfIntersects, ErrRingsCross, ErrHoleOutside, ErrHoleInHole, ErrDisconnected, ErrPolygonsOverlap,
}

func isGeoError(err error) bool {
	for _, e := range geoErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// seedGeometries returns the geometries of the test data: some WKT of
// testdata/geos_validity.tsv and every feature's geometry in ../seeds and
// ../layers/testdata, as GeoJSON.
func seedGeometries(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	tsv, err := os.ReadFile("testdata/geos_validity.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	// Every 25th shape is variety enough, and keeps the fuzzers' start
	// (which runs every seed) short.
	for i, line := range strings.Split(string(tsv), "\n") {
		if i%25 != 1 {
			continue
		}
		text, _, _ := strings.Cut(line, "\t")
		if g, err := wkt.Unmarshal(text); err == nil {
			out = append(out, AppendGeoJSON(nil, g))
		}
	}
	var names []string
	for _, pattern := range []string{"../seeds/*.geojson", "../layers/testdata/*.geojson"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		names = append(names, m...)
	}
	if len(names) == 0 {
		tb.Fatal("no seed files in ../seeds and ../layers/testdata")
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		var fc struct {
			Features []struct {
				Geometry json.RawMessage `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(data, &fc); err != nil {
			continue // a broken file is someone else's test case
		}
		for _, f := range fc.Features {
			out = append(out, f.Geometry)
		}
	}
	return out
}

// FuzzDecodeGeoJSON: what decodes writes back and decodes again to the
// same geometry; what does not is refused with one of the package's
// errors; Validate and Normalize hold on whatever decodes.
func FuzzDecodeGeoJSON(f *testing.F) {
	for _, g := range seedGeometries(f) {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, _, err := DecodeGeoJSON(data)
		if err != nil {
			if g != nil || !isGeoError(err) {
				t.Fatalf("DecodeGeoJSON(%q) = %v, %v; want no geometry and an error of this package", data, g, err)
			}
			return
		}
		if g == nil {
			return
		}
		out := AppendGeoJSON(nil, g)
		back, hasZ, err := DecodeGeoJSON(out)
		if err != nil || hasZ || back == nil {
			t.Fatalf("DecodeGeoJSON(AppendGeoJSON(g)) of %q = %v, %v, %v", data, back, hasZ, err)
		}
		if again := AppendGeoJSON(nil, back); !bytes.Equal(again, out) {
			t.Fatalf("round trip of %q changed the geometry:\n%s\n%s", data, out, again)
		}
		if err := Validate(g); err != nil {
			if !isGeoError(err) {
				t.Fatalf("Validate(%s) = %v, not an error of this package", out, err)
			}
			return
		}
		multi := len(data)%2 == 0 // both ways, as a layer's type decides
		n := Normalize(g, multi)
		if Validate(n) != nil {
			return // rounding may break a shape; Check reports that
		}
		if nn := Normalize(n, multi); !bytes.Equal(AppendGeoJSON(nil, nn), AppendGeoJSON(nil, n)) {
			t.Fatalf("Normalize is not idempotent on %s:\n%s\n%s", out, AppendGeoJSON(nil, n), AppendGeoJSON(nil, nn))
		}
	})
}

// FuzzDecodeGPKG: a blob that decodes re-encodes to a blob that decodes
// to the same geometry, with the geometry's bounds as its envelope; a blob
// that does not is refused with ErrNotGPKGBlob; GPKGEnvelope, which the
// R-tree triggers call on whatever is in a table, never fails on a blob
// DecodeGPKG takes.
func FuzzDecodeGPKG(f *testing.F) {
	for _, data := range seedGeometries(f) {
		g, _, err := DecodeGeoJSON(data)
		if err != nil || g == nil {
			continue
		}
		blob, err := EncodeGPKG(g, 4326)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(blob)
		f.Add(blob[:len(blob)/2]) // cut short
	}
	f.Add([]byte("GP\x00\x11\xe6\x10\x00\x00")) // the empty flag
	f.Fuzz(func(t *testing.T, blob []byte) {
		g, err := DecodeGPKG(blob)
		if err != nil {
			if g != nil || !errors.Is(err, ErrNotGPKGBlob) {
				t.Fatalf("DecodeGPKG(% x) = %v, %v; want nil and ErrNotGPKGBlob", blob, g, err)
			}
			return
		}
		if _, _, err := GPKGEnvelope(blob); err != nil {
			t.Fatalf("GPKGEnvelope(% x) = %v, but DecodeGPKG took it", blob, err)
		}
		if g == nil {
			return
		}
		re, err := EncodeGPKG(g, 4326)
		if err != nil {
			t.Fatalf("EncodeGPKG(DecodeGPKG(% x)) = %v", blob, err)
		}
		back, err := DecodeGPKG(re)
		if err != nil || back == nil {
			t.Fatalf("DecodeGPKG(EncodeGPKG(g)) = %v, %v; g from % x", back, err, blob)
		}
		if again, err := EncodeGPKG(back, 4326); err != nil || !bytes.Equal(again, re) {
			t.Fatalf("round trip of % x changed the geometry:\n% x\n% x (%v)", blob, re, again, err)
		}
		b, empty, err := GPKGEnvelope(re)
		if err != nil {
			t.Fatalf("GPKGEnvelope(EncodeGPKG(g)) = %v; g from % x", err, blob)
		}
		if want := g.Bound(); !empty && !hasNaN(want) && !b.Equal(want) {
			t.Fatalf("GPKGEnvelope(EncodeGPKG(g)) = %v, want %v; g from % x", b, want, blob)
		}
	})
}

func hasNaN(b orb.Bound) bool {
	return math.IsNaN(b.Min[0]) || math.IsNaN(b.Min[1]) || math.IsNaN(b.Max[0]) || math.IsNaN(b.Max[1])
}
