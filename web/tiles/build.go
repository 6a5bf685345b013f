package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"

	"planmap/geo"
	"planmap/layers"
)

// Source is what tiles read of a store; web.Store has it.
type Source interface {
	Catalog(ctx context.Context) (*layers.Catalog, error)
	// Shapes returns page p of the features of layer id that f selects,
	// in id order, and how many match in all, each with only the values
	// of fields.
	Shapes(ctx context.Context, id string, f layers.Filter, p layers.Page, fields []string) ([]layers.Shape, int, error)
}

const (
	// Extent is the size of a tile's grid, MVT's usual.
	Extent = 4096
	// Buffer is how far, in grid units, features are kept beyond the
	// tile's edges (1/64 of the tile), so that the clipped edges of
	// polygons and the strokes of lines fall outside the drawn tile.
	Buffer = 64
	// MaxZoom is the last zoom level served.
	MaxZoom = 22
	// MinDetailZoom: below it, shapes smaller than a pixel are dropped.
	MinDetailZoom = 15
	// MaxFeatures is the most features of one layer a tile reads: about
	// 30 ms of work, a few hundred KB of tile (see BENCHMARKS.md).
	MaxFeatures = 12000
	// pixel is one pixel of a tile drawn 512 pixels wide, in grid units.
	pixel = Extent / 512
	// tolerance is the Douglas–Peucker distance, in grid units: half a
	// pixel, at every zoom, so that a shape is simplified by half a pixel
	// of whatever zoom it is drawn at.
	tolerance = pixel / 2
)

// Fields are the properties a tile keeps of its features, when their
// layer has them: what the map styles by (class, status, confidence) and
// names for labels and popups. The feature's id is the MVT feature id;
// the popup fetches the rest by it.
var Fields = append(slices.Clone(styleFields[:]), "name_zh", "name_en")

// MaxNamed is the most features of a layer a tile names: in a tile of
// more, no name could be read (8,000 parcels at z12 are 3 pixels wide),
// and the names, each a string of its own, would be half of the tile. Such
// a tile keeps what the map styles by; a popup fetches the feature.
const MaxNamed = 2000

// styleFields are the Fields a tile of more than MaxNamed features of a
// layer keeps: the first of them.
var styleFields = [...]string{"landuse_code", layers.ClassField, layers.StatusField, "position_confidence"}

// Tile is one tile made: its MVT bytes (uncompressed protocol buffers),
// and what the cache and the HTTP layer need to know of it.
type Tile struct {
	Z, X, Y int
	// Data is the MVT, empty when the tile holds nothing.
	Data []byte
	// ETag is a strong entity tag of Data: a hash of the bytes, so that it
	// changes exactly when what the tile shows does.
	ETag string
	// Layers are the ids of the layers the tile was asked for.
	Layers []string
	// Thinned are the layers the tile shows only part of: left out
	// below their MinZoom, or cut at MaxFeatures.
	Thinned []string
	// Holds are, per layer, the sorted ids of the features the tile read
	// (shown or dropped as too small): an edit of any of them may change
	// the tile.
	Holds map[string][]int64
	// Seq is the change of the store's log the catalog the tile was made
	// from included.
	Seq int64

	gzipOnce sync.Once
	gzipped  []byte
}

// Gzipped returns Data compressed with gzip, made once per tile: MVT
// compresses to about half, and a tile held by the cache is sent many
// times.
func (t *Tile) Gzipped() []byte {
	t.gzipOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		zw.Write(t.Data)
		zw.Close()
		t.gzipped = b.Bytes()
	})
	return t.gzipped
}

// Size is about how many bytes the tile holds, for the cache's budget.
func (t *Tile) Size() int {
	// The gzipped bytes are counted as if made: about half of Data.
	n := 256 + cap(t.Data) + cap(t.Data)/2 + len(t.ETag)
	for id, ids := range t.Holds {
		n += 48 + len(id) + 8*cap(ids)
	}
	return n
}

// Valid reports whether z/x/y names a tile of WebMercatorQuad served here.
func Valid(z, x, y int) bool {
	return z >= 0 && z <= MaxZoom && x >= 0 && y >= 0 && x < 1<<z && y < 1<<z
}

// Bound returns the tile's bounds in CRS84, widened by the buffer.
func Bound(z, x, y int) orb.Bound {
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)).Bound(float64(Buffer) / Extent)
}

// MinZoom returns the first zoom at which a tile of col holds at most
// MaxFeatures of its features, were they spread evenly over its extent.
func MinZoom(col *layers.Collection) int {
	for z := 0; z < MaxZoom; z++ {
		if estimate(col, z) <= MaxFeatures {
			return z
		}
	}
	return MaxZoom
}

// estimate is how many features of col a tile of zoom z holds, were they
// spread evenly over the collection's extent.
func estimate(col *layers.Collection, z int) float64 {
	e := col.Extent
	w, h := e.Max[0]-e.Min[0], e.Max[1]-e.Min[1]
	lat := (e.Min[1] + e.Max[1]) / 2 * math.Pi / 180
	tw := 360 / math.Exp2(float64(z))
	th := tw * math.Cos(lat)
	// The share of the extent one tile covers, at most all of it.
	share := math.Min(tw, w) * math.Min(th, h) / (w * h)
	if w <= 0 || h <= 0 || math.IsNaN(share) {
		share = 1
	}
	return float64(col.Count) * math.Min(share, 1)
}

// Build makes tile z/x/y of the layers ids (every layer of the catalog
// when ids is nil), each an MVT layer named by its id, in drawing order.
func Build(ctx context.Context, src Source, z, x, y int, ids []string) (*Tile, error) {
	cat, err := src.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	t := &Tile{Z: z, X: x, Y: y, Seq: cat.Seq, Holds: map[string][]int64{}}
	box := Bound(z, x, y)
	p := newProjection(z, x, y)
	var mls mvt.Layers
	for _, col := range cat.Collections {
		if ids != nil && !slices.Contains(ids, col.ID) {
			continue
		}
		t.Layers = append(t.Layers, col.ID)
		if col.Count == 0 || !col.Extent.Intersects(box) {
			continue
		}
		if z < MinZoom(col) {
			t.Thinned = append(t.Thinned, col.ID)
			continue
		}
		shapes, matched, kept, err := readShapes(ctx, src, col, box)
		if err != nil {
			return nil, err
		}
		if matched > len(shapes) {
			t.Thinned = append(t.Thinned, col.ID)
		}
		fids := make([]int64, len(shapes))
		ml := &mvt.Layer{Name: col.ID, Version: 2, Extent: Extent, Features: make([]*geojson.Feature, 0, len(shapes))}
		feats := make([]geojson.Feature, len(shapes)) // in one allocation
		var sets propertySets
		for i, sh := range shapes {
			fids[i] = sh.ID
			g := p.shape(sh.Geometry, z < MinDetailZoom)
			if g == nil {
				continue
			}
			f := &feats[i]
			*f = geojson.Feature{ID: uint64(sh.ID), Geometry: g, Properties: sets.of(sh.Values[:kept])}
			ml.Features = append(ml.Features, f)
		}
		slices.Sort(fids)
		t.Holds[col.ID] = fids
		if len(ml.Features) > 0 {
			mls = append(mls, ml)
		}
	}
	if len(mls) > 0 {
		if t.Data, err = mvt.Marshal(mls); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(t.Data)
	t.ETag = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	return t, nil
}

// propertySets hands out the properties of a dense tile's features, one
// map for each distinct set of values: its thousands of parcels, which
// keep no names, share a few dozen combinations of land-use code, class,
// status and confidence, and a map of their own was a tenth of the tile's
// allocations. mvt.Marshal only reads them.
type propertySets map[[len(styleFields)]any]geojson.Properties

// maxPropertySets bounds the maps kept for sharing, so that a tile whose
// values are all distinct (a number of its own on every feature) does
// not keep an entry per feature for nothing.
const maxPropertySets = 256

// of returns the properties of vals, the values of Fields[:len(vals)],
// without the nil ones.
func (s *propertySets) of(vals []any) geojson.Properties {
	if len(vals) != len(styleFields) {
		return properties(vals) // named, each of its own
	}
	var key [len(styleFields)]any
	for i, v := range vals {
		switch v.(type) {
		case nil, string, int64, float64, bool:
			key[i] = v
		default:
			// Not comparable, or not known to be (a blob's []byte).
			return properties(vals)
		}
	}
	if p, ok := (*s)[key]; ok {
		return p
	}
	p := properties(vals)
	if *s == nil {
		*s = propertySets{}
	}
	if len(*s) < maxPropertySets {
		(*s)[key] = p
	}
	return p
}

func properties(vals []any) geojson.Properties {
	p := make(geojson.Properties, len(vals))
	for i, v := range vals {
		if v != nil {
			p[Fields[i]] = v
		}
	}
	return p
}

// readShapes reads the features of col in the tile's box, at most
// MaxFeatures, and how many there are in all, with the values of
// Fields[:kept], the fields the tile keeps of them: the names only in a
// tile of at most MaxNamed. Where the layer's density promises many more
// than that (twice: near the threshold, the tiles that hold fewer would
// each be read twice), the names are not read; should the tile hold at
// most MaxNamed after all (a sparse part of the layer), it is read again
// with them.
func readShapes(ctx context.Context, src Source, col *layers.Collection, box orb.Bound) (shapes []layers.Shape, matched, kept int, err error) {
	f, p := layers.Filter{BBoxes: []orb.Bound{box}}, layers.Page{Limit: MaxFeatures}
	named := false
	for _, name := range Fields[len(styleFields):] {
		named = named || col.Layer.Field(name) != nil
	}
	if named && col.Expected(box) > 2*MaxNamed {
		shapes, matched, err = src.Shapes(ctx, col.ID, f, p, styleFields[:])
		if err != nil || len(shapes) > MaxNamed {
			return shapes, matched, len(styleFields), err
		}
	}
	shapes, matched, err = src.Shapes(ctx, col.ID, f, p, Fields)
	kept = len(Fields)
	if len(shapes) > MaxNamed {
		kept = len(styleFields)
	}
	return shapes, matched, kept, err
}

// projection maps CRS84 to the grid of one tile. The shapes it makes
// take their positions, rings and polygons from its slabs: a tile's
// thousands of features in a few allocations rather than several each.
// The slabs live as long as the tile's features, until it is encoded,
// and so does what was cut from them only to be dropped (a line before
// it is clipped, a simplified ring found invalid).
type projection struct {
	scale, x0, y0 float64 // grid units per world, and the tile's origin
	worldY        geo.WorldYNear
	pointSlab     geo.Slab[orb.Point]
	ringSlab      geo.Slab[orb.Ring]
	polygonSlab   geo.Slab[orb.Polygon]
}

func newProjection(z, x, y int) *projection {
	n := math.Exp2(float64(z)) * Extent
	b := Bound(z, x, y)
	// Within a millionth of a grid unit of the exact formula, whose own
	// rounding errors are of that order at the highest zooms: rounding to
	// the grid can tell them apart only for a position that far from
	// halfway between two grid points.
	return &projection{scale: n, x0: float64(x) * Extent, y0: float64(y) * Extent,
		worldY: geo.NewWorldYNear(b.Min[1], b.Max[1], 1e-6/n)}
}

func (p *projection) point(q orb.Point) orb.Point {
	return orb.Point{geo.WorldX(q[0])*p.scale - p.x0, p.worldY.Y(q[1])*p.scale - p.y0}
}

// clipBox is the buffered tile in grid units.
var clipBox = orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}}

var simplifier = simplify.DouglasPeucker(tolerance)

// shape returns g on the tile's grid, clipped, rounded and simplified,
// every ring valid; nil when nothing of it is left (or, with dropTiny, when
// it is smaller than a pixel).
func (p *projection) shape(g orb.Geometry, dropTiny bool) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		q := round(p.point(g))
		if !clipBox.Contains(q) {
			return nil
		}
		return q
	case orb.MultiPoint:
		var out orb.MultiPoint
		for _, pt := range g {
			if q := round(p.point(pt)); clipBox.Contains(q) {
				out = append(out, q)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case orb.LineString:
		return p.lines(orb.MultiLineString{g}, dropTiny)
	case orb.MultiLineString:
		return p.lines(g, dropTiny)
	case orb.Polygon:
		return p.polygons(orb.MultiPolygon{g}, dropTiny)
	case orb.MultiPolygon:
		return p.polygons(g, dropTiny)
	}
	return nil
}

func (p *projection) lines(g orb.MultiLineString, dropTiny bool) orb.Geometry {
	var out orb.MultiLineString
	var length float64
	for _, l := range g {
		pl := orb.LineString(p.pointSlab.Take(len(l)))
		for _, q := range l {
			pl = append(pl, p.point(q))
		}
		for _, part := range clip.LineString(clipBox, pl) {
			part = simplifier.LineString(dedupe(roundAll(part)))
			if len(part) < 2 {
				continue
			}
			for i := 1; i < len(part); i++ {
				length += math.Hypot(part[i][0]-part[i-1][0], part[i][1]-part[i-1][1])
			}
			out = append(out, part)
		}
	}
	if len(out) == 0 || dropTiny && length < pixel {
		return nil
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

func (p *projection) polygons(g orb.MultiPolygon, dropTiny bool) orb.Geometry {
	out := orb.MultiPolygon(p.polygonSlab.Take(len(g)))
	var area float64
	for _, poly := range g {
		q := orb.Polygon(p.ringSlab.Take(len(poly)))
		for i, r := range poly {
			ring := p.validRing(p.ring(r), i == 0)
			if ring == nil {
				if i == 0 {
					break // no outer ring: no polygon
				}
				continue
			}
			q = append(q, ring)
			if i == 0 {
				area += ringArea(ring)
			}
		}
		if len(q) > 0 {
			out = append(out, q)
		}
	}
	if len(out) == 0 || dropTiny && area < pixel*pixel {
		return nil
	}
	if (len(out) > 1 || len(out[0]) > 1) && !touchesBox(out) && !validPolygons(out) {
		// Rings of several parts, or holes, may have been moved onto each
		// other by rounding: such a shape must pass the whole check. (One
		// cut by the clip box is checked ring by ring only: the cut leaves
		// parts along the box's edge that the whole check refuses.)
		return nil
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

// ring returns r on the grid, clipped to the buffered tile, rounded,
// without repeated positions, closed; nil when nothing is left. A ring
// wholly inside the buffered tile (most are) is not clipped.
func (p *projection) ring(r orb.Ring) orb.Ring {
	out := orb.Ring(p.pointSlab.Take(len(r) + 1))
	inside := true
	for i, q := range r {
		if i == len(r)-1 && i > 0 && q == r[0] {
			q = out[0] // the closing position, projected once already
		} else {
			q = round(p.point(q))
		}
		inside = inside && clipBox.Contains(q)
		if len(out) == 0 || out[len(out)-1] != q {
			out = append(out, q)
		}
	}
	if !inside {
		out = clip.Ring(clipBox, out)
		out = orb.Ring(dedupe(roundAll(out)))
	}
	if len(out) > 0 && out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}

// validRing returns ring r (as ring makes it) simplified if that keeps it
// a valid ring, else unsimplified if that is valid, else nil; wound as MVT
// wants: outer rings with a positive area on the y-down grid, holes
// negative. A ring of four positions or fewer (a triangle) is not
// simplified.
func (p *projection) validRing(r orb.Ring, outer bool) orb.Ring {
	if len(r) < 4 {
		return nil
	}
	candidates := [2]orb.Ring{nil, r}
	if len(r) > 4 {
		candidates[0] = simplifier.Ring(append(orb.Ring(p.pointSlab.Take(len(r))), r...))
	}
	for _, c := range candidates {
		if c == nil || !simpleRing(c) {
			continue
		}
		if a := ringArea(c); (a > 0) != outer {
			slices.Reverse(c)
		}
		return c
	}
	return nil
}

// ringArea is the signed area of a closed ring by the shoelace formula:
// positive when it turns clockwise on the y-down grid.
func ringArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

func round(q orb.Point) orb.Point { return orb.Point{math.Round(q[0]), math.Round(q[1])} }

func roundAll(ps []orb.Point) []orb.Point {
	out := make([]orb.Point, len(ps))
	for i, q := range ps {
		out[i] = round(q)
	}
	return out
}

// dedupe drops positions equal to the one before, in place.
func dedupe(ps []orb.Point) []orb.Point {
	out := ps[:0]
	for _, q := range ps {
		if len(out) == 0 || out[len(out)-1] != q {
			out = append(out, q)
		}
	}
	return out
}

// touchesBox reports whether a ring of mp has a position on the clip box's
// edge, where clipping cut it.
func touchesBox(mp orb.MultiPolygon) bool {
	for _, p := range mp {
		for _, r := range p {
			for _, q := range r {
				if q[0] == clipBox.Min[0] || q[0] == clipBox.Max[0] || q[1] == clipBox.Min[1] || q[1] == clipBox.Max[1] {
					return true
				}
			}
		}
	}
	return false
}
