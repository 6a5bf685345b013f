package geo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// wkbWriter builds WKB by hand, with Z and M values orb cannot write.
type wkbWriter struct {
	b     []byte
	order binary.AppendByteOrder
}

func newWKB(big bool) *wkbWriter {
	if big {
		return &wkbWriter{order: binary.BigEndian}
	}
	return &wkbWriter{order: binary.LittleEndian}
}

func (w *wkbWriter) geom(code uint32) *wkbWriter {
	if w.order == binary.BigEndian {
		w.b = append(w.b, 0)
	} else {
		w.b = append(w.b, 1)
	}
	return w.n(int(code))
}

func (w *wkbWriter) n(n int) *wkbWriter {
	w.b = w.order.AppendUint32(w.b, uint32(n))
	return w
}

func (w *wkbWriter) pt(vals ...float64) *wkbWriter {
	for _, v := range vals {
		w.b = w.order.AppendUint64(w.b, math.Float64bits(v))
	}
	return w
}

// blob wraps the WKB in a GeoPackage header without an envelope.
func (w *wkbWriter) blob() []byte {
	return append([]byte{'G', 'P', 0, 1, 0xe6, 0x10, 0, 0}, w.b...)
}

func TestDecodeGPKGXY(t *testing.T) {
	ring := func(w *wkbWriter, dims int) *wkbWriter {
		w.n(4)
		for _, p := range [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 0}} {
			vals := []float64{p[0], p[1], 5, 6}
			w.pt(vals[:dims]...)
		}
		return w
	}
	square := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	tests := []struct {
		name    string
		blob    []byte
		want    orb.Geometry
		dropped bool
		err     error
	}{
		{"Point", newWKB(false).geom(1).pt(121.5, 32.1).blob(), orb.Point{121.5, 32.1}, false, nil},
		{"PointZ", newWKB(false).geom(1001).pt(121.5, 32.1, 4).blob(), orb.Point{121.5, 32.1}, true, nil},
		{"PointEWKBZ", newWKB(true).geom(0x80000001).pt(121.5, 32.1, 4).blob(), orb.Point{121.5, 32.1}, true, nil},
		{"LineStringZMBigEndian", newWKB(true).geom(3002).n(2).pt(0, 0, 1, 2).pt(1, 1, 3, 4).blob(),
			orb.LineString{{0, 0}, {1, 1}}, true, nil},
		{"PolygonM", ring(newWKB(false).geom(2003).n(1), 3).blob(), orb.Polygon{square}, true, nil},
		{"MultiPolygonZ", ring(newWKB(false).geom(1006).n(1).geom(1003).n(1), 3).blob(),
			orb.MultiPolygon{{square}}, true, nil},
		{"MultiPoint", newWKB(false).geom(4).n(2).geom(1).pt(1, 2).geom(1).pt(3, 4).blob(),
			orb.MultiPoint{{1, 2}, {3, 4}}, false, nil},
		{"Empty", []byte{'G', 'P', 0, 0x11, 0xe6, 0x10, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0}, nil, false, nil},
		{"ErrTruncated", newWKB(false).geom(1002).n(2).pt(0, 0, 1).blob(), nil, false, ErrNotGPKGBlob},
		{"ErrHugeCount", newWKB(false).geom(2).n(1<<30).pt(0, 0).blob(), nil, false, ErrNotGPKGBlob},
		{"ErrTrailingBytes", newWKB(false).geom(1).pt(1, 2, 3).blob(), nil, false, ErrNotGPKGBlob},
		{"ErrUnknownType", newWKB(false).geom(17).pt(1, 2).blob(), nil, false, ErrNotGPKGBlob},
		{"ErrNotBlob", []byte{1, 1, 0, 0, 0}, nil, false, ErrNotGPKGBlob},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, dropped, err := DecodeGPKGXY(tt.blob)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("DecodeGPKGXY error = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if dropped != tt.dropped || (g == nil) != (tt.want == nil) || (g != nil && !orb.Equal(g, tt.want)) {
				t.Errorf("DecodeGPKGXY = %v, dropped %t; want %v, %t", g, dropped, tt.want, tt.dropped)
			}
		})
	}
}

func FuzzDecodeGPKGXY(f *testing.F) {
	f.Add(newWKB(false).geom(1006).n(1).geom(1003).n(1).n(4).pt(0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1).blob())
	f.Add(newWKB(true).geom(3002).n(2).pt(0, 0, 1, 2).pt(1, 1, 3, 4).blob())
	f.Fuzz(func(t *testing.T, blob []byte) {
		g, _, err := DecodeGPKGXY(blob)
		if err != nil || g == nil {
			return
		}
		// What decodes encodes as a 2D blob that decodes to the same
		// geometry (compared as bytes: positions may be NaN).
		flat, err := EncodeGPKG(g, 4326)
		if err != nil {
			t.Fatalf("EncodeGPKG(%v): %v", g, err)
		}
		back, err := DecodeGPKG(flat)
		if err != nil {
			t.Fatalf("DecodeGPKG(EncodeGPKG(%v)): %v", g, err)
		}
		if again, _ := EncodeGPKG(back, 4326); !bytes.Equal(again, flat) {
			t.Errorf("round trip of %v = %v", g, back)
		}
	})
}
