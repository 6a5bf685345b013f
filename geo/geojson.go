package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"

	"planmap/geo/jsonscan"
)

// Errors returned while decoding a GeoJSON geometry. They are wrapped with
// the place in the geometry where they occurred.
var (
	ErrNotObject       = errors.New("geometry is not a JSON object")
	ErrUnknownType     = errors.New("unknown geometry type")
	ErrNoCoordinates   = errors.New("geometry has no coordinates member")
	ErrBadPosition     = errors.New("position must be an array of 2 or 3 numbers")
	ErrBadNesting      = errors.New("coordinates are not nested as the geometry type requires")
	ErrCollection      = errors.New("GeometryCollection is not supported: a layer has a single geometry type")
	ErrEmptyGeometry   = errors.New("geometry is empty")
	ErrNonFinite       = errors.New("coordinate is not a finite number")
	ErrOutOfRange      = errors.New("coordinate is outside longitude -180..180 / latitude -90..90")
	ErrRingNotClosed   = errors.New("ring is not closed (first and last positions differ)")
	ErrRingTooShort    = errors.New("ring has fewer than 4 positions")
	ErrLineTooShort    = errors.New("line has fewer than 2 distinct positions")
	ErrSelfIntersects  = errors.New("ring intersects itself")
	ErrRingsCross      = errors.New("rings cross each other")
	ErrHoleOutside     = errors.New("hole is not inside its exterior ring")
	ErrHoleInHole      = errors.New("hole overlaps another hole")
	ErrDisconnected    = errors.New("rings touch so that they cut the polygon's interior in two")
	ErrPolygonsOverlap = errors.New("polygons of the multipolygon overlap")
)

// DecodeGeoJSON parses an RFC 7946 geometry object. It checks the structure
// strictly (type, nesting, 2 or 3 numbers per position) but not the shape:
// use Validate for that. hasZ reports whether any position had a third
// coordinate; it is dropped, since planmap layers are two-dimensional.
//
// A JSON null decodes to a nil geometry and no error.
func DecodeGeoJSON(data []byte) (g orb.Geometry, hasZ bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, false, nil
	}
	var obj struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if data[0] != '{' {
		return nil, false, ErrNotObject
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	return DecodeGeoJSONMembers(obj.Type, obj.Coordinates)
}

// DecodeGeoJSONMembers is DecodeGeoJSON for a geometry object that the
// caller has decoded into its type and coordinates members already, as
// part of a larger value: it saves decoding the geometry's JSON twice.
func DecodeGeoJSONMembers(typ string, coordinates json.RawMessage) (g orb.Geometry, hasZ bool, err error) {
	obj := struct {
		Type        string
		Coordinates json.RawMessage
	}{typ, coordinates}
	if obj.Type == "GeometryCollection" {
		return nil, false, ErrCollection
	}
	depth, ok := nestingDepth[obj.Type]
	if !ok {
		return nil, false, fmt.Errorf("%w %q", ErrUnknownType, obj.Type)
	}
	if len(obj.Coordinates) == 0 || string(obj.Coordinates) == "null" {
		return nil, false, ErrNoCoordinates
	}
	d := decoder{}
	tree, err := d.parse(obj.Coordinates, depth)
	if err != nil {
		return nil, false, err
	}
	switch obj.Type {
	case "Point":
		return tree.point(), d.hasZ, nil
	case "MultiPoint":
		return orb.MultiPoint(tree.points()), d.hasZ, nil
	case "LineString":
		return orb.LineString(tree.points()), d.hasZ, nil
	case "MultiLineString":
		mls := make(orb.MultiLineString, len(tree.kids))
		for i, k := range tree.kids {
			mls[i] = orb.LineString(k.points())
		}
		return mls, d.hasZ, nil
	case "Polygon":
		return tree.polygon(), d.hasZ, nil
	default: // MultiPolygon
		mp := make(orb.MultiPolygon, len(tree.kids))
		for i, k := range tree.kids {
			mp[i] = k.polygon()
		}
		return mp, d.hasZ, nil
	}
}

// nestingDepth is how many array levels stand above a position.
var nestingDepth = map[string]int{
	"Point": 0, "MultiPoint": 1, "LineString": 1,
	"MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3,
}

type node struct {
	pos  orb.Point
	kids []node
}

func (n node) point() orb.Point { return n.pos }

func (n node) points() []orb.Point {
	ps := make([]orb.Point, len(n.kids))
	for i, k := range n.kids {
		ps[i] = k.pos
	}
	return ps
}

func (n node) polygon() orb.Polygon {
	p := make(orb.Polygon, len(n.kids))
	for i, k := range n.kids {
		p[i] = orb.Ring(k.points())
	}
	return p
}

type decoder struct{ hasZ bool }

// split returns the elements of raw, a JSON value whose syntax has been
// checked, as json.Unmarshal into a []json.RawMessage would: ok is false
// when raw is neither an array nor null, and null has no elements. It
// scans raw once instead of decoding it, which is most of the cost of a
// layer file's geometries.
func (d *decoder) split(raw []byte) (elems [][]byte, ok bool) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, true
	}
	if len(raw) < 2 || raw[0] != '[' {
		return nil, false
	}
	var a jsonscan.Array
	rest := raw[1:]
	for {
		i, c := a.Next(rest)
		if i < 0 {
			// No closing bracket: not in a value whose syntax has been
			// checked.
			i = len(rest)
		}
		v := bytes.TrimSpace(rest[:i])
		if c != ',' {
			if len(v) > 0 || len(elems) > 0 {
				elems = append(elems, v)
			}
			return elems, true
		}
		elems = append(elems, v)
		rest = rest[i+1:]
	}
}

func (d *decoder) parse(raw json.RawMessage, depth int) (node, error) {
	if depth == 0 {
		p, err := d.position(raw)
		return node{pos: p}, err
	}
	items, ok := d.split(raw)
	if !ok {
		return node{}, ErrBadNesting
	}
	n := node{kids: make([]node, len(items))}
	for i, it := range items {
		k, err := d.parse(it, depth-1)
		if err != nil {
			return node{}, err
		}
		n.kids[i] = k
	}
	return n, nil
}

func (d *decoder) position(raw json.RawMessage) (orb.Point, error) {
	nums, ok := d.split(raw)
	if !ok {
		return orb.Point{}, ErrBadNesting
	}
	if len(nums) < 2 || len(nums) > 3 {
		return orb.Point{}, ErrBadPosition
	}
	if len(nums) == 3 {
		d.hasZ = true
	}
	var p orb.Point
	for i, n := range nums {
		// A JSON string such as "121.5" would unmarshal into json.Number;
		// only a bare number is a coordinate.
		if len(n) > 0 && n[0] == '[' {
			return orb.Point{}, ErrBadNesting
		}
		if len(n) == 0 || (n[0] != '-' && (n[0] < '0' || n[0] > '9')) {
			return orb.Point{}, ErrBadPosition
		}
		v, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return orb.Point{}, fmt.Errorf("%w: %s", ErrNonFinite, n)
		}
		if i < 2 {
			p[i] = v
		}
	}
	return p, nil
}
