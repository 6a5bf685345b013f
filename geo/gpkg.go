package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// ErrNotGPKGBlob is returned for a blob that does not start with a valid
// GeoPackage geometry header.
var ErrNotGPKGBlob = errors.New("not a GeoPackage geometry blob")

const (
	gpkgFlagLittleEndian = 0x01
	gpkgFlagEmpty        = 0x10
	gpkgEnvelopeXY       = 1 // envelope code in flag bits 1-3: minx, maxx, miny, maxy
)

// EncodeGPKG returns g as a GeoPackage geometry blob (GeoPackage 1.4 §2.1.3):
// the "GP" header with the given SRS id and, except for points, the xy
// envelope in the order minx, maxx, miny, maxy; then little-endian WKB.
func EncodeGPKG(g orb.Geometry, srsID int32) ([]byte, error) {
	return AppendGPKG(nil, g, srsID)
}

// AppendGPKG appends the GeoPackage geometry blob of g, as EncodeGPKG
// returns it, to dst. A bulk writer passes the same buffer for every
// feature, so that encoding allocates nothing once it has grown.
func AppendGPKG(dst []byte, g orb.Geometry, srsID int32) ([]byte, error) {
	_, isPoint := g.(orb.Point)
	n := len(dst)
	dst = append(dst, 'G', 'P', 0, gpkgFlagLittleEndian, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(dst[n+4:], uint32(srsID))
	if !isPoint {
		dst[n+3] |= gpkgEnvelopeXY << 1
		b := g.Bound()
		for _, v := range [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	return AppendWKB(dst, g)
}

// AppendWKB appends the little-endian WKB of g to dst.
func AppendWKB(dst []byte, g orb.Geometry) ([]byte, error) {
	if out, ok := appendWKB(dst, g); ok {
		return out, nil
	}
	body, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode geometry: %w", err)
	}
	return append(dst, body...), nil
}

// DecodeWKB decodes a WKB geometry.
func DecodeWKB(b []byte) (orb.Geometry, error) { return decodeWKBAny(b, nil) }

// decodeWKBAny is DecodeWKB, into a's slabs unless a is nil: what our own
// decoder reads, else orb's.
func decodeWKBAny(b []byte, a *Arena) (orb.Geometry, error) {
	if g, ok := decodeWKB(b, a); ok {
		return g, nil
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotGPKGBlob, err)
	}
	return g, nil
}

// appendWKB appends the little-endian WKB of the geometry types a layer
// holds, byte for byte as orb's wkb.Marshal writes them; ok is false for
// any other type, which the caller leaves to wkb.Marshal.
func appendWKB(dst []byte, g orb.Geometry) (_ []byte, ok bool) {
	head := func(dst []byte, typ uint32) []byte {
		return binary.LittleEndian.AppendUint32(append(dst, 1), typ)
	}
	count := func(dst []byte, n int) []byte { return binary.LittleEndian.AppendUint32(dst, uint32(n)) }
	point := func(dst []byte, p orb.Point) []byte {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p[0]))
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(p[1]))
	}
	points := func(dst []byte, ps []orb.Point) []byte {
		dst = count(dst, len(ps))
		for _, p := range ps {
			dst = point(dst, p)
		}
		return dst
	}
	polygon := func(dst []byte, p orb.Polygon) []byte {
		dst = count(head(dst, 3), len(p))
		for _, r := range p {
			dst = points(dst, r)
		}
		return dst
	}
	switch g := g.(type) {
	case orb.Point:
		return point(head(dst, 1), g), true
	case orb.LineString:
		return points(head(dst, 2), g), true
	case orb.Polygon:
		return polygon(dst, g), true
	case orb.MultiPoint:
		dst = count(head(dst, 4), len(g))
		for _, p := range g {
			dst = point(head(dst, 1), p)
		}
		return dst, true
	case orb.MultiLineString:
		dst = count(head(dst, 5), len(g))
		for _, l := range g {
			dst = points(head(dst, 2), l)
		}
		return dst, true
	case orb.MultiPolygon:
		dst = count(head(dst, 6), len(g))
		for _, p := range g {
			dst = polygon(dst, p)
		}
		return dst, true
	}
	return dst, false
}

// envelopeLen is the length of the envelope of each envelope code, 0 to
// 4 (none, xy, xyz, xym, xyzm); codes 5 to 7 are invalid.
var envelopeLen = [...]int{0, 32, 48, 48, 64}

// gpkgHeader returns the header length, the byte order and the flags.
func gpkgHeader(blob []byte) (int, binary.ByteOrder, byte, error) {
	if len(blob) < 8 || blob[0] != 'G' || blob[1] != 'P' {
		return 0, nil, 0, ErrNotGPKGBlob
	}
	flags := blob[3]
	var order binary.ByteOrder = binary.BigEndian
	if flags&gpkgFlagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	code := (flags >> 1) & 0x07
	if code >= byte(len(envelopeLen)) {
		return 0, nil, 0, ErrNotGPKGBlob
	}
	l := envelopeLen[code]
	if len(blob) < 8+l {
		return 0, nil, 0, ErrNotGPKGBlob
	}
	return 8 + l, order, flags, nil
}

// DecodeGPKG parses a GeoPackage geometry blob. Empty geometries decode to
// nil.
func DecodeGPKG(blob []byte) (orb.Geometry, error) {
	return decodeGPKG(blob, nil)
}

// decodeGPKG is DecodeGPKG, into a's slabs unless a is nil.
func decodeGPKG(blob []byte, a *Arena) (orb.Geometry, error) {
	w, err := GPKGWKB(blob)
	if err != nil || w == nil {
		return nil, err
	}
	return decodeWKBAny(w, a)
}

// GPKGWKB returns the WKB of a GeoPackage geometry blob: the blob after
// its header, which DecodeWKB decodes as DecodeGPKG decodes the blob; nil
// for an empty geometry.
func GPKGWKB(blob []byte) ([]byte, error) {
	n, _, flags, err := gpkgHeader(blob)
	if err != nil || flags&gpkgFlagEmpty != 0 {
		return nil, err
	}
	return blob[n:], nil
}

// GPKGEnvelope returns the bounds of a GeoPackage geometry blob, read from
// its header when it has an envelope and from the geometry otherwise.
// empty is true for an empty geometry. These back the ST_MinX, ST_MaxX,
// ST_MinY, ST_MaxY and ST_IsEmpty SQL functions that the GeoPackage R-tree
// triggers call.
func GPKGEnvelope(blob []byte) (b orb.Bound, empty bool, err error) {
	n, order, flags, err := gpkgHeader(blob)
	if err != nil {
		return b, false, err
	}
	if flags&gpkgFlagEmpty != 0 {
		return b, true, nil
	}
	if n >= 40 {
		f := func(i int) float64 { return math.Float64frombits(order.Uint64(blob[8+8*i:])) }
		return orb.Bound{Min: orb.Point{f(0), f(2)}, Max: orb.Point{f(1), f(3)}}, false, nil
	}
	g, err := DecodeGPKG(blob)
	if err != nil {
		return b, false, err
	}
	if g == nil {
		return b, true, nil
	}
	return g.Bound(), false, nil
}
