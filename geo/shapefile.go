package geo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// This file reads ESRI shapefiles (the .shp geometry and the .dbf
// attribute table) as the ESRI Shapefile Technical Description (July 1998)
// and the dBase III file format define them. Every length and count in the
// files is checked against the bytes there are before it is used: a
// shapefile is user input.

// ShapeType is the type of the shapes in a shapefile.
type ShapeType int32

// The shape types; each has a variant with Z (+10) and one with M (+20),
// whose extra values are read past. MultiPatch (31) is not read.
const (
	ShapeNull       ShapeType = 0
	ShapePoint      ShapeType = 1
	ShapePolyLine   ShapeType = 3
	ShapePolygon    ShapeType = 5
	ShapeMultiPoint ShapeType = 8
)

// Base returns the two-dimensional type of a Z or M type (PointZ → Point).
func (t ShapeType) Base() ShapeType {
	if t > 10 && t < 30 {
		return t % 10
	}
	return t
}

// HasZ reports whether the type carries heights.
func (t ShapeType) HasZ() bool { return t > 10 && t < 20 }

// GeometryType is the GeoJSON type of a layer of this shape type: lines
// and polygons are multi, since any record may have several parts.
func (t ShapeType) GeometryType() string {
	switch t.Base() {
	case ShapePoint:
		return "Point"
	case ShapeMultiPoint:
		return "MultiPoint"
	case ShapePolyLine:
		return "MultiLineString"
	case ShapePolygon:
		return "MultiPolygon"
	}
	return ""
}

// ErrShapefile is wrapped by every error about the bytes of a shapefile.
var ErrShapefile = errors.New("geo: not a valid shapefile")

func shpErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrShapefile, fmt.Sprintf(format, args...))
}

// DecodeShp decodes the main file (.shp) of a shapefile: its shape type
// and the geometry of each record in file order, nil for a null shape.
// Points are orb.Point, multipoints orb.MultiPoint, polylines a LineString
// or, with several parts, a MultiLineString; polygons a Polygon or, with
// several outer rings, a MultiPolygon. Holes are the counter-clockwise
// rings and go to the smallest outer ring that holds them; a hole that no
// outer ring holds, and every ring of a record with no clockwise ring, is
// taken by how rings nest instead. Z and M values are dropped. Coordinates
// are whatever the .prj says; rings are returned as stored, not checked.
func DecodeShp(data []byte) (ShapeType, []orb.Geometry, error) {
	if len(data) < 100 {
		return 0, nil, shpErr("the .shp is %d bytes, shorter than its 100-byte header", len(data))
	}
	if code := binary.BigEndian.Uint32(data); code != 9994 {
		return 0, nil, shpErr("the .shp does not start with the file code 9994")
	}
	typ := ShapeType(binary.LittleEndian.Uint32(data[32:]))
	if typ != ShapeNull && typ.GeometryType() == "" {
		return 0, nil, shpErr("shape type %d is not one planmap reads (points, multipoints, polylines, polygons)", typ)
	}
	var geoms []orb.Geometry
	for off, n := 100, 1; off < len(data); n++ {
		if len(data)-off < 8 {
			return 0, nil, shpErr("record %d: header is cut off", n)
		}
		size := int64(binary.BigEndian.Uint32(data[off+4:])) * 2
		off += 8
		if size > int64(len(data)-off) {
			return 0, nil, shpErr("record %d: %d bytes long, but the file ends after %d", n, size, len(data)-off)
		}
		g, err := decodeShape(data[off:off+int(size)], typ)
		if err != nil {
			return 0, nil, shpErr("record %d: %v", n, err)
		}
		geoms = append(geoms, g)
		off += int(size)
	}
	return typ, geoms, nil
}

// decodeShape decodes one record's content, which is bounded: it never
// reads past b.
func decodeShape(b []byte, fileType ShapeType) (orb.Geometry, error) {
	if len(b) < 4 {
		return nil, errors.New("shorter than its shape type")
	}
	t := ShapeType(binary.LittleEndian.Uint32(b))
	if t == ShapeNull {
		return nil, nil
	}
	if t != fileType {
		return nil, fmt.Errorf("shape type %d in a file of type %d", t, fileType)
	}
	b = b[4:]
	point := func(b []byte) (orb.Point, error) {
		p := orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(b)), math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))}
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return p, errors.New("a coordinate is not a finite number")
		}
		return p, nil
	}
	points := func(b []byte, n int) ([]orb.Point, error) {
		ps := make([]orb.Point, n)
		for i := range ps {
			p, err := point(b[16*i:])
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		return ps, nil
	}
	switch t.Base() {
	case ShapePoint:
		if len(b) < 16 {
			return nil, errors.New("point is cut off")
		}
		return point(b)
	case ShapeMultiPoint:
		if len(b) < 36 {
			return nil, errors.New("multipoint is cut off")
		}
		n := int64(binary.LittleEndian.Uint32(b[32:]))
		if n < 1 || n > int64(len(b)-36)/16 {
			return nil, fmt.Errorf("multipoint says it has %d points, which its %d bytes cannot hold", int32(n), len(b))
		}
		ps, err := points(b[36:], int(n))
		return orb.MultiPoint(ps), err
	}
	// Polyline or polygon: box, part and point counts, part starts, points.
	if len(b) < 40 {
		return nil, errors.New("shape is cut off")
	}
	nParts := int64(binary.LittleEndian.Uint32(b[32:]))
	nPoints := int64(binary.LittleEndian.Uint32(b[36:]))
	if nParts < 1 || nPoints < 1 || nParts > nPoints || 40+4*nParts+16*nPoints > int64(len(b)) {
		return nil, fmt.Errorf("%d parts of %d points do not fit in %d bytes", int32(nParts), int32(nPoints), len(b))
	}
	all, err := points(b[40+4*nParts:], int(nPoints))
	if err != nil {
		return nil, err
	}
	parts := make([][]orb.Point, nParts)
	for i := range parts {
		start := int64(binary.LittleEndian.Uint32(b[40+4*i:]))
		end := nPoints
		if i+1 < len(parts) {
			end = int64(binary.LittleEndian.Uint32(b[40+4*(i+1):]))
		}
		if (i == 0 && start != 0) || start >= end || end > nPoints {
			return nil, fmt.Errorf("part %d runs from point %d to %d of %d", i, int32(start), int32(end), nPoints)
		}
		parts[i] = all[start:end:end]
	}
	if t.Base() == ShapePolyLine {
		if len(parts) == 1 {
			return orb.LineString(parts[0]), nil
		}
		mls := make(orb.MultiLineString, len(parts))
		for i, p := range parts {
			mls[i] = p
		}
		return mls, nil
	}
	return assemblePolygons(parts), nil
}

// signedArea is twice the planar area of ring r, positive when it runs
// counter-clockwise.
func signedArea(r []orb.Point) float64 {
	var a float64
	for i := range r {
		j := (i + 1) % len(r)
		a += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return a
}

// assemblePolygons groups the rings of a polygon record into polygons.
func assemblePolygons(rings [][]orb.Point) orb.Geometry {
	type ring struct {
		r    orb.Ring
		area float64 // signed
	}
	var outers, holes []ring
	for _, r := range rings {
		rg := ring{orb.Ring(r), signedArea(r)}
		if rg.area < 0 {
			outers = append(outers, rg)
		} else {
			holes = append(holes, rg)
		}
	}
	if len(outers) == 0 {
		// Written with the wrong orientation: go by nesting alone. A ring
		// inside an odd number of others is a hole.
		all := holes
		holes = nil
		for i, r := range all {
			depth := 0
			for j, o := range all {
				if i != j && math.Abs(o.area) > math.Abs(r.area) && planar.RingContains(o.r, r.r[0]) {
					depth++
				}
			}
			if depth%2 == 0 {
				outers = append(outers, r)
			} else {
				holes = append(holes, r)
			}
		}
	}
	// Smallest outer first, so that a hole in an island in a lake goes to
	// the island.
	sort.SliceStable(outers, func(i, j int) bool { return math.Abs(outers[i].area) < math.Abs(outers[j].area) })
	polys := make([]orb.Polygon, len(outers))
	for i, o := range outers {
		polys[i] = orb.Polygon{o.r}
	}
	for _, h := range holes {
		found := false
		for i, o := range outers {
			if math.Abs(o.area) > math.Abs(h.area) && ringInside(h.r, o.r) {
				polys[i] = append(polys[i], h.r)
				found = true
				break
			}
		}
		if !found {
			polys = append(polys, orb.Polygon{h.r})
		}
	}
	if len(polys) == 1 {
		return polys[0]
	}
	return orb.MultiPolygon(polys)
}

// ringInside reports whether inner lies in outer, judged by its first
// vertex that is not on outer's boundary.
func ringInside(inner, outer orb.Ring) bool {
	for _, p := range inner {
		in := planar.RingContains(outer, p)
		if !in || !onBoundary(outer, p) {
			return in
		}
	}
	return false
}

func onBoundary(r orb.Ring, p orb.Point) bool {
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
		if cross == 0 && p[0] >= math.Min(a[0], b[0]) && p[0] <= math.Max(a[0], b[0]) && p[1] >= math.Min(a[1], b[1]) && p[1] <= math.Max(a[1], b[1]) {
			return true
		}
	}
	return false
}

// DBFField is one column of a dBase table.
type DBFField struct {
	Name     string // as stored, decoded with the table's text decoder
	Type     byte   // C, N, F, L or D
	Length   int
	Decimals int
}

// DBF is a dBase III table, the attributes of a shapefile.
type DBF struct {
	// LanguageDriver is the code page byte at offset 29 (LDID): 0x4D is
	// GBK (CP936), 0x57 ANSI, 0 unset.
	LanguageDriver byte
	Fields         []DBFField
	rawNames       [][]byte
	records        []byte // numRecords records of recordLen bytes
	recordLen      int
}

// DecodeDBF decodes the header and field descriptors of a .dbf; the
// records are decoded one at a time by Record.
func DecodeDBF(data []byte) (*DBF, error) {
	if len(data) < 33 {
		return nil, shpErr("the .dbf is %d bytes, shorter than its header", len(data))
	}
	n := int64(binary.LittleEndian.Uint32(data[4:]))
	headerLen := int(binary.LittleEndian.Uint16(data[8:]))
	recordLen := int(binary.LittleEndian.Uint16(data[10:]))
	d := &DBF{LanguageDriver: data[29], recordLen: recordLen}
	if headerLen > len(data) || headerLen < 33 {
		return nil, shpErr("the .dbf header says it is %d bytes long; the file is %d", headerLen, len(data))
	}
	width := 1 // the deletion flag
	for off := 32; off+32 <= headerLen && data[off] != 0x0D; off += 32 {
		fd := data[off : off+32]
		name := fd[:11]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		f := DBFField{Type: fd[11], Length: int(fd[16]), Decimals: int(fd[17])}
		if !strings.ContainsRune("CNFLD", rune(f.Type)) {
			return nil, shpErr("field %d (%q) has dBase type %q; planmap reads C, N, F, L and D", len(d.Fields)+1, string(name), string(f.Type))
		}
		if f.Length == 0 {
			return nil, shpErr("field %d (%q) has length 0", len(d.Fields)+1, string(name))
		}
		width += f.Length
		d.Fields = append(d.Fields, f)
		d.rawNames = append(d.rawNames, name)
	}
	if width != recordLen {
		return nil, shpErr("the .dbf fields add up to %d bytes a record, but the header says %d", width, recordLen)
	}
	if n > int64(len(data)-headerLen)/int64(recordLen) {
		return nil, shpErr("the .dbf says it has %d records, but holds %d", n, (len(data)-headerLen)/recordLen)
	}
	d.records = data[headerLen : headerLen+int(n)*recordLen]
	return d, nil
}

// Len is the number of records.
func (d *DBF) Len() int { return len(d.records) / d.recordLen }

// DecodeNames decodes the field names into Fields with text, the table's
// text decoder.
func (d *DBF) DecodeNames(text func([]byte) (string, error)) error {
	for i, raw := range d.rawNames {
		s, err := text(raw)
		if err != nil {
			return fmt.Errorf("field %d: name: %w", i+1, err)
		}
		d.Fields[i].Name = strings.TrimSpace(s)
	}
	return nil
}

// EachText calls f with every non-blank character value and field name,
// as stored, until f returns false; it reports whether f held for all.
// It lets a caller guess the encoding from the text itself.
func (d *DBF) EachText(f func([]byte) bool) bool {
	for _, n := range d.rawNames {
		if !f(n) {
			return false
		}
	}
	for i := 0; i < d.Len(); i++ {
		rec := d.records[i*d.recordLen+1 : (i+1)*d.recordLen]
		for _, fd := range d.Fields {
			v := rec[:fd.Length]
			rec = rec[fd.Length:]
			if fd.Type == 'C' && !f(trimField(v)) {
				return false
			}
		}
	}
	return true
}

func trimField(b []byte) []byte {
	end := len(b)
	for end > 0 && (b[end-1] == ' ' || b[end-1] == 0) {
		end--
	}
	start := 0
	for start < end && b[start] == ' ' {
		start++
	}
	return b[start:end]
}

// Record decodes record i: deleted reports the dBase deletion flag, and
// values has one value per field, nil for a blank one: a string (C,
// decoded with text), int64 (N without decimals), float64 (N with
// decimals, F), bool (L) or a "YYYY-MM-DD" string (D).
func (d *DBF) Record(i int, text func([]byte) (string, error)) (deleted bool, values []any, err error) {
	if i < 0 || i >= d.Len() {
		return false, nil, fmt.Errorf("record %d of %d", i+1, d.Len())
	}
	rec := d.records[i*d.recordLen : (i+1)*d.recordLen]
	deleted = rec[0] == '*'
	rec = rec[1:]
	values = make([]any, len(d.Fields))
	for k, fd := range d.Fields {
		raw := trimField(rec[:fd.Length])
		rec = rec[fd.Length:]
		v, err := dbfValue(fd, raw, text)
		if err != nil {
			return deleted, nil, fmt.Errorf("field %s: %w", fd.Name, err)
		}
		values[k] = v
	}
	return deleted, values, nil
}

func dbfValue(fd DBFField, raw []byte, text func([]byte) (string, error)) (any, error) {
	s := string(raw)
	switch fd.Type {
	case 'C':
		if len(raw) == 0 {
			return nil, nil
		}
		return text(raw)
	case 'N', 'F':
		// GDAL writes a null number as blanks, others as stars.
		if s == "" || strings.Trim(s, "*") == "" {
			return nil, nil
		}
		if fd.Type == 'N' && fd.Decimals == 0 {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return x, nil
	case 'L':
		switch s {
		case "T", "t", "Y", "y":
			return true, nil
		case "F", "f", "N", "n":
			return false, nil
		case "", "?":
			return nil, nil
		}
		return nil, fmt.Errorf("%q is not a logical value (T, F, ?)", s)
	case 'D':
		if s == "" || strings.Trim(s, "0") == "" {
			return nil, nil
		}
		if len(s) != 8 {
			return nil, fmt.Errorf("%q is not a date (YYYYMMDD)", s)
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("%q is not a date (YYYYMMDD)", s)
			}
		}
		return s[:4] + "-" + s[4:6] + "-" + s[6:], nil
	}
	return nil, fmt.Errorf("dBase type %q is not read", string(fd.Type))
}
