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
	body, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode geometry: %w", err)
	}
	_, isPoint := g.(orb.Point)
	n := 8
	if !isPoint {
		n += 32
	}
	buf := make([]byte, n, n+len(body))
	buf[0], buf[1], buf[2] = 'G', 'P', 0
	buf[3] = gpkgFlagLittleEndian
	binary.LittleEndian.PutUint32(buf[4:], uint32(srsID))
	if !isPoint {
		buf[3] |= gpkgEnvelopeXY << 1
		b := g.Bound()
		for i, v := range [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
			binary.LittleEndian.PutUint64(buf[8+8*i:], math.Float64bits(v))
		}
	}
	return append(buf, body...), nil
}

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
	envLen := map[byte]int{0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
	l, ok := envLen[(flags>>1)&0x07]
	if !ok || len(blob) < 8+l {
		return 0, nil, 0, ErrNotGPKGBlob
	}
	return 8 + l, order, flags, nil
}

// DecodeGPKG parses a GeoPackage geometry blob. Empty geometries decode to
// nil.
func DecodeGPKG(blob []byte) (orb.Geometry, error) {
	n, _, flags, err := gpkgHeader(blob)
	if err != nil {
		return nil, err
	}
	if flags&gpkgFlagEmpty != 0 {
		return nil, nil
	}
	g, err := wkb.Unmarshal(blob[n:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotGPKGBlob, err)
	}
	return g, nil
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
