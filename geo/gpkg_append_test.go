package geo

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// TestAppendGPKGMatchesWKB checks the hand-written WKB of AppendGPKG
// against orb's encoder for every geometry type a layer holds.
func TestAppendGPKGMatchesWKB(t *testing.T) {
	ring := orb.Ring{{121, 31}, {122, 31}, {122, 32}, {121, 31}}
	hole := orb.Ring{{121.1, 31.1}, {121.2, 31.1}, {121.2, 31.2}, {121.1, 31.1}}
	tests := []struct {
		name string
		g    orb.Geometry
	}{
		{"Point", orb.Point{121.5, 31.5}},
		{"MultiPoint", orb.MultiPoint{{121, 31}, {122, 32}}},
		{"LineString", orb.LineString{{121, 31}, {122, 32}, {121.5, 31.2}}},
		{"MultiLineString", orb.MultiLineString{{{121, 31}, {122, 32}}, {{120, 30}, {120.5, 30.5}}}},
		{"Polygon", orb.Polygon{ring, hole}},
		{"MultiPolygon", orb.MultiPolygon{{ring}, {hole}}},
		{"Collection", orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}}},
	}
	prefix := []byte("kept")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := wkb.Marshal(tt.g, binary.LittleEndian)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AppendGPKG(bytes.Clone(prefix), tt.g, 4326)
			if err != nil {
				t.Fatalf("AppendGPKG: %v", err)
			}
			if !bytes.HasPrefix(got, prefix) || !bytes.HasSuffix(got, body) {
				t.Fatalf("AppendGPKG(%s) = %x, want prefix %x and WKB %x", tt.name, got, prefix, body)
			}
			blob := got[len(prefix):]
			back, err := DecodeGPKG(blob)
			if err != nil || !orb.Equal(back, tt.g) {
				t.Errorf("DecodeGPKG(AppendGPKG(%v)) = %v, %v", tt.g, back, err)
			}
			b, _, err := GPKGEnvelope(blob)
			if want := tt.g.Bound(); err != nil || b != want {
				t.Errorf("GPKGEnvelope = %v, %v; want %v", b, err, want)
			}
		})
	}
}
