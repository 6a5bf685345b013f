package layers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// This file is the vocabulary every store answers in: what a reader asks
// for (Filter, Page), what it gets back (Collection, Item, Hit), how a store
// says what changed (Change), and the one encoding of a feature as served.

// Measure properties computed from each feature's geometry on the WGS 84
// ellipsoid. Layer fields may not start with MeasurePrefix.
const (
	MeasurePrefix = "geodesic_"
	AreaM2        = "geodesic_area_m2"
	AreaHa        = "geodesic_area_ha"
	AreaMu        = "geodesic_area_mu"
	LengthM       = "geodesic_length_m"
)

// Collection is a layer as a store serves it: its declaration, how many
// features it holds, their extent and a version.
type Collection struct {
	*Layer
	Count  int
	Extent orb.Bound // of the features' bounding boxes; zero when Count is 0
	// Version changes whenever a feature of the layer or its declaration
	// does; it is the layer's ETag.
	Version string
	// Dropped is when the life of the layer this collection is of ended,
	// for one read as of a time before its drop; zero for the layer there
	// now. Nothing of a dropped life is served but as of a time.
	Dropped time.Time
}

// Expected is about how many of the collection's features lie in box,
// were they spread evenly over its extent: what a store weighs to choose
// how to read them.
func (c *Collection) Expected(box orb.Bound) float64 {
	e := c.Extent
	if c.Count == 0 || !e.Intersects(box) {
		return 0
	}
	w, h := e.Max[0]-e.Min[0], e.Max[1]-e.Min[1]
	if w <= 0 || h <= 0 {
		return float64(c.Count)
	}
	iw := min(e.Max[0], box.Max[0]) - max(e.Min[0], box.Min[0])
	ih := min(e.Max[1], box.Max[1]) - max(e.Min[1], box.Min[1])
	return float64(c.Count) * (iw / w) * (ih / h)
}

// LayerInfo is a layer with its feature count and extent, as planmap
// layers lists it; each store reads every layer's from one snapshot.
type LayerInfo struct {
	*Layer
	Count  int
	Extent [4]float64 // minx, miny, maxx, maxy; zero when the layer is empty
}

// DeclarationHash is the hash of l's declaration a collection's version
// carries: a layer redeclared with no feature changed changes version.
func DeclarationHash(l *Layer) uint64 {
	decl, _ := Marshal(l)
	h := fnv.New64a()
	h.Write(decl)
	return h.Sum64()
}

// CollectionVersion is a collection's Version: its last change seq, when
// that was made, at (so that a database put back from a backup, whose log
// may reuse a number, does not repeat an old version), and the hash of its
// declaration. Every store writes it so, so that two stores of the same
// plan answer alike.
func CollectionVersion(seq int64, at string, decl uint64) string {
	return fmt.Sprintf("%d-%s-%x", seq, at, decl)
}

// Item is a feature ready to serve. Its geometry and property map may be
// left out (an item unpacked from what a cache keeps, and an item read
// from a row: see Packed and NewRowItem), so they are read with the
// Geometry and Properties methods, and the whole feature with Feature.
type Item struct {
	ID    int64
	Bound orb.Bound
	// JSON is the whole feature as compact GeoJSON in CRS84, with the
	// computed measures among its properties.
	JSON []byte
	// Props is the JSON of its properties object alone, for encodings in
	// other coordinate systems.
	Props []byte
	// propsAt is where Props starts in JSON (NewItem writes it there).
	propsAt int
	// wkb is the geometry of an unpacked or row item, which Geometry decodes.
	wkb []byte
	// version is Version, worked out once for an unpacked item.
	version string
	// props and geom are the feature's as NewItem was given them; nil
	// where they are read back from Props and wkb.
	props map[string]any
	geom  orb.Geometry
}

// NewItem encodes feature f of layer l for serving.
func NewItem(l *Layer, f Feature) *Item {
	it := newItem(l, f.ID, f.Geometry, nil, func(_ int, fd *Field) any { return f.Properties[fd.Name] })
	it.props, it.geom = f.Properties, f.Geometry
	if f.Geometry != nil {
		it.Bound = f.Geometry.Bound()
	}
	return it
}

// NewRowItem is NewItem for a feature as a store reads it, a row: its
// id, the values of l's fields in schema order (nil where it has none),
// typed as Properties gives them, its geometry g, decoded from wkb, and
// g's box, which the caller has worked out to decide on the row. The
// item keeps the values in its JSON alone and the geometry as a copy
// of wkb, as an unpacked item does (Packed), so g may be in an arena
// the caller reuses: a page of rows is encoded without a property map
// and a geometry's slices for each, which were a third of its
// allocations, and the collector's work.
func NewRowItem(l *Layer, id int64, values []any, g orb.Geometry, box orb.Bound, wkb []byte) *Item {
	it := newItem(l, id, g, wkb, func(i int, _ *Field) any { return values[i] })
	it.Bound = box
	return it
}

// newItem writes the item of feature id of l with geometry g: its JSON,
// with the value of each field i (nil: none) and the measures as its
// properties; and wkb, if any, after the JSON in the same array.
func newItem(l *Layer, id int64, g orb.Geometry, wkb []byte, value func(i int, fd *Field) any) *Item {
	it := &Item{ID: id}
	// One buffer: Props is the part of JSON that holds the properties.
	b := make([]byte, 0, 256+24*geo.Size(g)/16+len(wkb))
	b = append(b, `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"properties":`...)
	start := len(b)
	var ms [3]Measure
	b = appendProperties(b, l, value, appendMeasures(ms[:0], g))
	end := len(b)
	b = append(b, `,"geometry":`...)
	b = geo.AppendGeoJSON(b, g)
	b = append(b, '}')
	it.JSON = b[:len(b):len(b)]
	it.Props, it.propsAt = it.JSON[start:end:end], start
	if wkb != nil {
		n := len(b)
		b = append(b, wkb...)
		it.wkb = b[n:len(b):len(b)]
	}
	return it
}

// Geometry returns the feature's geometry. An unpacked or row item decodes it on
// every call, into a new geometry the caller may keep or change.
func (it *Item) Geometry() orb.Geometry { return it.geometryIn(nil) }

// geometryIn is Geometry, decoded into a's slabs unless a is nil.
func (it *Item) geometryIn(a *geo.Arena) orb.Geometry {
	if it.wkb == nil {
		return it.geom
	}
	g, err := a.DecodeWKB(it.wkb)
	if err != nil {
		// Written from a geometry (NewRowItem's copy, or Pack's), it
		// cannot be anything but whole.
		panic(fmt.Sprintf("feature %d: kept geometry: %v", it.ID, err))
	}
	return g
}

// HasGeometry reports whether the feature has a geometry, without
// decoding it.
func (it *Item) HasGeometry() bool { return it.wkb != nil || it.geom != nil }

// Feature returns the whole feature: its id, Properties and Geometry.
func (it *Item) Feature() Feature {
	return Feature{ID: it.ID, Properties: it.Properties(), Geometry: it.Geometry()}
}

// Version identifies this state of the feature, for its ETag: a hash of
// what is served, so that it changes exactly when the feature does, and is
// the same in every process and every store that serves it.
func (it *Item) Version() string {
	if it.version != "" {
		return it.version
	}
	h := fnv.New64a()
	h.Write(it.JSON)
	return strconv.FormatUint(h.Sum64(), 36)
}

// Shape is a feature as a drawing of it needs it: its id, its geometry
// and the values of a few of its properties, without the GeoJSON and the
// measures of an Item. Stores read shapes for vector tiles (Shapes).
// The shapes of one read may share arrays (the GeoPackage store decodes
// them into one geo.Arena): a reader uses them and drops them together,
// and keeps none for long, which would keep all of them.
type Shape struct {
	ID       int64
	Geometry orb.Geometry
	// Values are the values of the fields asked for, in their order,
	// typed as Item.Properties gives them; nil where the feature has none, or
	// its layer no such field. Geometry may be shared with the Item it was
	// made from, and must not be changed.
	Values []any
}

// AppendShapes appends the shapes of items of layer l, with the values of
// fields, to dst. Only the fields l has are looked up; the values of all
// the shapes share one allocation.
func AppendShapes(dst []Shape, l *Layer, items []*Item, fields []string) []Shape {
	var has []int // the indexes of the fields l has
	for j, name := range fields {
		if l.Field(name) != nil {
			has = append(has, j)
		}
	}
	n := len(fields)
	vals := make([]any, len(items)*n)
	seen := newValueMemo(n)
	var arena geo.Arena // for the geometries of unpacked and row items
	for i, it := range items {
		v := vals[i*n : (i+1)*n : (i+1)*n]
		it.values(fields, has, v, seen)
		dst = append(dst, Shape{ID: it.ID, Geometry: it.geometryIn(&arena), Values: v})
	}
	return dst
}

// Catalog is the state of every layer of a store as of one change.
type Catalog struct {
	Collections []*Collection // in drawing order
	// Seq is the last change of the store's change log the catalog
	// includes: ask the store for the changes after it to learn what
	// changed since.
	Seq int64
}

// Collection returns the collection of layer id.
func (c *Catalog) Collection(id string) (*Collection, bool) {
	for _, col := range c.Collections {
		if col.ID == id {
			return col, true
		}
	}
	return nil, false
}

// Filter selects features: by bounding boxes in CRS84 (a feature matches if
// its geometry intersects any; none means no spatial filter) and by
// property values that must be equal.
type Filter struct {
	BBoxes []orb.Bound
	Equals map[string]any
}

// Page says which of the matching features a reader wants, in id order:
// those with an id above After, of them all after skipping Offset, at most
// Limit. After is how a client pages by key, which costs the same on every
// page; Offset is for clients that send it.
type Page struct {
	After  int64
	Offset int
	Limit  int
	// Uncounted says the reader needs the page only, not how many match
	// in all: a store that must read every feature to count them (the
	// past, read without an index) may then read from After on and stop
	// once the page is full, and answer matched 0.
	Uncounted bool
}

// MatchesProperties reports whether props hold every value f asks for.
func (f Filter) MatchesProperties(props map[string]any) bool {
	for name, want := range f.Equals {
		if props[name] != want {
			return false
		}
	}
	return true
}

// Spatial is how a feature with bounding box b stands to the filter's
// boxes: Outside (it cannot match), Inside (it matches whatever its
// geometry, being wholly inside a box) or Crossing (its geometry decides).
// Every store narrows a bbox query this way, through its own index, and
// settles the Crossing ones with MatchesGeometry: one bbox rule for all.
func (f Filter) Spatial(b orb.Bound) Placement {
	if len(f.BBoxes) == 0 {
		return Inside
	}
	p := Outside
	for _, box := range f.BBoxes {
		switch {
		case !b.Intersects(box):
		case boundWithin(b, box):
			return Inside
		default:
			p = Crossing
		}
	}
	return p
}

// MatchesGeometry reports whether g, whose bounding box is b, intersects
// one of the filter's boxes (or there are none).
func (f Filter) MatchesGeometry(g orb.Geometry, b orb.Bound) bool {
	switch f.Spatial(b) {
	case Inside:
		return true
	case Outside:
		return false
	}
	for _, box := range f.BBoxes {
		if b.Intersects(box) && geo.IntersectsBound(g, box) {
			return true
		}
	}
	return false
}

// Placement is where a bounding box lies against a filter's boxes.
type Placement int8

const (
	Outside Placement = iota
	Crossing
	Inside
)

func boundWithin(inner, outer orb.Bound) bool {
	return inner.Min[0] >= outer.Min[0] && inner.Max[0] <= outer.Max[0] &&
		inner.Min[1] >= outer.Min[1] && inner.Max[1] <= outer.Max[1]
}

// Hit is a search result: a feature and the layer it is in.
type Hit struct {
	Layer string
	Item  *Item
}

// Op is what a change did to a feature.
type Op string

const (
	OpInsert Op = "insert"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
	// OpLayer: the layer was created, redeclared, replaced whole or
	// dropped; FID is 0 and any feature of it may have changed.
	OpLayer Op = "layer"
)

// Change is one entry of a store's change log. Seq grows with every
// change a store records, so a reader asks for what came after the last
// Seq it saw.
type Change struct {
	Seq   int64
	Layer string
	FID   int64
	Op    Op
	// At is when the change was committed, to the millisecond, in UTC;
	// zero when the store does not know.
	At time.Time
}

// Measure is a computed property: its name, value, and the decimals it is
// rounded to.
type Measure struct {
	Name  string
	Value float64
	Prec  int
}

// Measures returns the measures of a geometry: area in m², ha and 亩 of
// an area, length in metres of a line, none of a point.
func Measures(g orb.Geometry) []Measure {
	return appendMeasures(nil, g)
}

// appendMeasures appends the measures of g to dst: NewItem passes an
// array on its stack, so that a feature's measures allocate nothing.
func appendMeasures(dst []Measure, g orb.Geometry) []Measure {
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		a := geo.Area(g)
		return append(dst, Measure{AreaM2, a, 1}, Measure{AreaHa, a / 1e4, 4}, Measure{AreaMu, a / geo.SquareMetresPerMu, 2})
	case orb.LineString, orb.MultiLineString:
		return append(dst, Measure{LengthM, geo.Length(g), 1})
	}
	return dst
}

// appendProperties appends the properties object: the layer's fields in
// schema order, each with its value (nil: left out), then the measures.
func appendProperties(dst []byte, l *Layer, value func(i int, fd *Field) any, ms []Measure) []byte {
	dst = append(dst, '{')
	n := 0
	for i := range l.Schema {
		fd := &l.Schema[i]
		v := value(i, fd)
		if v == nil {
			continue
		}
		dst = appendKey(dst, n, fd.Name)
		n++
		dst = appendValue(dst, v)
	}
	for _, m := range ms {
		dst = appendKey(dst, n, m.Name)
		n++
		p := pow10[m.Prec]
		dst = appendNumber(dst, math.Round(m.Value*p)/p)
	}
	return append(dst, '}')
}

// appendKey appends the n-th member's name of an object. Names are field
// names, checked identifiers (ValidIdent), or the measures' own: nothing in
// them needs escaping.
func appendKey(dst []byte, n int, name string) []byte {
	if n > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// pow10 are the scales the measures are rounded with.
var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return AppendJSONString(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case float64:
		return appendNumber(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	}
	b, _ := Marshal(v)
	return append(dst, b...)
}

// floatMarks are the bytes of which a written number holds one if and
// only if it is a float (NaN and ±Inf too): what tells an integer from a
// number when an unpacked item's properties are read back (propValue).
const floatMarks = ".eEnN"

// appendNumber writes a float so that it reads back as one: 12 is written
// 12.0, so that GDAL and QGIS type the field Real for every feature, not
// Integer for some.
func appendNumber(dst []byte, v float64) []byte {
	start := len(dst)
	if a := math.Abs(v); a >= 1e-3 && a < 1e6 {
		// Here 'g' writes what 'f' does (it turns to exponents below
		// 1e-4 and from 1e6), and geo.AppendShortest writes that faster.
		dst = geo.AppendShortest(dst, v)
	} else {
		dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	if bytes.IndexAny(dst[start:], floatMarks) >= 0 {
		return dst
	}
	return append(dst, '.', '0')
}

func appendFeatureJSON(dst []byte, id int64, props []byte, g orb.Geometry) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, `,"properties":`...)
	dst = append(dst, props...)
	dst = append(dst, `,"geometry":`...)
	dst = geo.AppendGeoJSON(dst, g)
	return append(dst, '}')
}

// AppendIn appends the item as GeoJSON with its geometry passed through
// transform, for coordinate systems other than CRS84.
func (it *Item) AppendIn(dst []byte, transform func(orb.Geometry) orb.Geometry) []byte {
	return appendFeatureJSON(dst, it.ID, it.Props, transform(it.Geometry()))
}

// Marshal is json.Marshal without HTML escaping: the output is a data
// file, and <, > and & read better as themselves.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// AppendFeature appends f as a compact GeoJSON Feature with its properties
// in schema order.
func AppendFeature(dst []byte, l *Layer, f Feature) []byte {
	return appendFeatureJSON(dst, f.ID, appendProperties(nil, l, func(_ int, fd *Field) any { return f.Properties[fd.Name] }, nil), f.Geometry)
}

// AppendJSONString appends s as a JSON string, escaping only what JSON
// requires (and U+2028/2029, which break JavaScript).
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[s[i+2]&0xf])
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
