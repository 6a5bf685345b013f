package geo

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// maxWKBDepth bounds the nesting of WKB collections, so that a crafted
// blob cannot recurse without end.
const maxWKBDepth = 8

var errWKB = errors.New("malformed WKB")

// DecodeGPKGXY is DecodeGPKG for blobs that may carry Z or M coordinates,
// as GDAL and QGIS write 3D data: it keeps x and y, and dropped reports
// whether there was anything else. Both ISO WKB type codes (1001 for a
// Point Z, 2001 Point M, 3001 Point ZM, …), which GeoPackage prescribes,
// and the EWKB flag bits are understood. Empty geometries decode to nil.
func DecodeGPKGXY(blob []byte) (g orb.Geometry, dropped bool, err error) {
	n, _, flags, err := gpkgHeader(blob)
	if err != nil {
		return nil, false, err
	}
	if flags&gpkgFlagEmpty != 0 {
		return nil, false, nil
	}
	flat, read, dropped, err := appendWKBXY(nil, blob[n:], 0)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrNotGPKGBlob, err)
	}
	if read != len(blob)-n {
		return nil, false, fmt.Errorf("%w: %d bytes after the geometry", ErrNotGPKGBlob, len(blob)-n-read)
	}
	g, err = wkb.Unmarshal(flat)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrNotGPKGBlob, err)
	}
	return g, dropped, nil
}

// appendWKBXY appends to dst the WKB geometry at the start of src with
// only x and y, in src's byte order. It returns how many bytes of src it
// read and whether it dropped Z or M values.
func appendWKBXY(dst, src []byte, depth int) ([]byte, int, bool, error) {
	if depth > maxWKBDepth {
		return nil, 0, false, errors.New("collections nested too deep")
	}
	if len(src) < 5 {
		return nil, 0, false, errWKB
	}
	var order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	switch src[0] {
	case 0:
		order = binary.BigEndian
	case 1:
		order = binary.LittleEndian
	default:
		return nil, 0, false, fmt.Errorf("byte order %d is neither 0 nor 1", src[0])
	}
	code := order.Uint32(src[1:])
	dims := 2
	if code&0x80000000 != 0 { // EWKB Z
		dims++
	}
	if code&0x40000000 != 0 { // EWKB M
		dims++
	}
	if code&0x20000000 != 0 {
		return nil, 0, false, errors.New("EWKB with an SRID is not GeoPackage WKB")
	}
	code &= 0x0fffffff
	switch code / 1000 {
	case 0:
	case 1, 2:
		dims++
	case 3:
		dims += 2
	default:
		return nil, 0, false, fmt.Errorf("geometry type code %d is unknown", code)
	}
	typ := code % 1000
	dropped := dims > 2
	dst = append(dst, src[0])
	dst = order.AppendUint32(dst, typ)
	off := 5
	count := func(each int) (int, error) {
		if len(src) < off+4 {
			return 0, errWKB
		}
		n := int(order.Uint32(src[off:]))
		off += 4
		// Every item takes at least each bytes: a count beyond what is
		// left is a lie, and must not size anything.
		if n < 0 || n > (len(src)-off)/each {
			return 0, errWKB
		}
		dst = order.AppendUint32(dst, uint32(n))
		return n, nil
	}
	points := func(n int) error {
		size := 8 * dims
		if len(src) < off+n*size {
			return errWKB
		}
		for i := 0; i < n; i++ {
			dst = append(dst, src[off:off+16]...)
			off += size
		}
		return nil
	}
	var err error
	switch typ {
	case 1:
		err = points(1)
	case 2:
		var n int
		if n, err = count(8 * dims); err == nil {
			err = points(n)
		}
	case 3:
		var rings int
		rings, err = count(4)
		for i := 0; i < rings && err == nil; i++ {
			var n int
			if n, err = count(8 * dims); err == nil {
				err = points(n)
			}
		}
	case 4, 5, 6, 7:
		var parts int
		parts, err = count(5)
		for i := 0; i < parts && err == nil; i++ {
			var read int
			var partDropped bool
			dst, read, partDropped, err = appendWKBXY(dst, src[off:], depth+1)
			off += read
			dropped = dropped || partDropped
		}
	default:
		return nil, 0, false, fmt.Errorf("geometry type code %d is unknown", code)
	}
	if err != nil {
		return nil, 0, false, err
	}
	return dst, off, dropped, nil
}
