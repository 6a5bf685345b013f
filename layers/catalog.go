package layers

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// Catalog is an immutable view of every layer held in memory, each feature
// encoded as GeoJSON once, with its geodesic measures, and the features
// indexed by bounding box. The feature API serves from it, so a request
// does no SQL, decodes nothing and encodes nothing it could have kept.
//
// Store.Catalog returns the current one and builds a new one when the
// database has changed, by this process or any other; a layer that did
// not change is carried over as it was.
type Catalog struct {
	Collections []*Collection // in drawing order
	byID        map[string]*Collection
	dataVersion int64
}

// Collection returns the collection of layer id.
func (c *Catalog) Collection(id string) (*Collection, bool) {
	col, ok := c.byID[id]
	return col, ok
}

// Collection is one layer in a Catalog.
type Collection struct {
	*Layer
	Extent orb.Bound // exact extent of the features; zero when there are none
	Items  []Item    // in id order
	index  *geo.Index
	source string // last change and declaration it was built from
	stamp  string // source, this process and this build
}

// Version identifies this state of the collection, for ETags: it changes
// whenever the layer does, and with every build of the collection, so that
// a layer read again after an unannounced write gets new ETags.
func (c *Collection) Version() string { return c.stamp }

// Item is a feature ready to serve.
type Item struct {
	Feature
	Bound orb.Bound
	// JSON is the whole feature as compact GeoJSON in CRS84, with the
	// computed measures among its properties.
	JSON []byte
	// Props is the JSON of its properties object alone, for encodings in
	// other coordinate systems.
	Props []byte
}

// Measure properties computed from each feature's geometry on the WGS 84
// ellipsoid. Layer fields may not start with MeasurePrefix.
const (
	MeasurePrefix = "geodesic_"
	AreaM2        = "geodesic_area_m2"
	AreaHa        = "geodesic_area_ha"
	AreaMu        = "geodesic_area_mu"
	LengthM       = "geodesic_length_m"
)

// Filter selects items: by bounding boxes in CRS84 (an item matches if its
// geometry intersects any; none means no spatial filter) and by property
// values that must be equal.
type Filter struct {
	BBoxes []orb.Bound
	Equals map[string]any
}

// Select returns up to limit items that match f, after skipping offset of
// them, in id order, and how many match in all.
func (c *Collection) Select(f Filter, offset, limit int) (page []*Item, matched int) {
	take := func(it *Item) {
		if !it.matches(f) {
			return
		}
		if matched >= offset && len(page) < limit {
			page = append(page, it)
		}
		matched++
	}
	if len(f.BBoxes) == 0 {
		if len(f.Equals) == 0 {
			// Everything matches: no need to look at each item.
			matched = len(c.Items)
			if offset < matched {
				page = make([]*Item, 0, min(limit, matched-offset))
				for i := offset; i < matched && len(page) < limit; i++ {
					page = append(page, &c.Items[i])
				}
			}
			return page, matched
		}
		for i := range c.Items {
			take(&c.Items[i])
		}
		return page, matched
	}
	hits := hitsPool.Get().(*[]int)
	defer hitsPool.Put(hits)
	*hits = (*hits)[:0]
	for _, b := range f.BBoxes {
		*hits = c.index.SearchAppend(*hits, b)
	}
	// Items are in id order, so their positions are too. Two boxes (one
	// crossing the antimeridian) may both hold an item: keep it once.
	sort.Ints(*hits)
	page = make([]*Item, 0, min(limit, len(*hits)))
	for k, i := range *hits {
		if k > 0 && (*hits)[k-1] == i {
			continue
		}
		take(&c.Items[i])
	}
	return page, matched
}

var hitsPool = sync.Pool{New: func() any { return new([]int) }}

func (it *Item) matches(f Filter) bool {
	for name, want := range f.Equals {
		if it.Properties[name] != want {
			return false
		}
	}
	if len(f.BBoxes) == 0 {
		return true
	}
	for _, b := range f.BBoxes {
		switch {
		case !it.Bound.Intersects(b):
		case boundWithin(it.Bound, b):
			// Wholly inside the box: no need to look at the geometry.
			return true
		case geo.IntersectsBound(it.Geometry, b):
			return true
		}
	}
	return false
}

func boundWithin(inner, outer orb.Bound) bool {
	return inner.Min[0] >= outer.Min[0] && inner.Max[0] <= outer.Max[0] &&
		inner.Min[1] >= outer.Min[1] && inner.Max[1] <= outer.Max[1]
}

// catalogMaxAge is how long Catalog trusts the catalog it has before it
// asks SQLite whether another process has written: asking costs a query,
// and at thousands of requests a second once in a while is enough. Imports
// through this Store are seen at once.
const catalogMaxAge = 200 * time.Millisecond

// Catalog returns the catalog of the database: as this process last wrote
// it, and at most catalogMaxAge behind what another process wrote.
func (s *Store) Catalog(ctx context.Context) (*Catalog, error) {
	if cat := s.cat.Load(); cat != nil && time.Since(time.Unix(0, s.catChecked.Load())) < catalogMaxAge {
		return cat, nil
	}
	return s.refreshCatalog(ctx)
}

// refreshCatalog asks SQLite whether the database changed and builds a new
// catalog if it did. One caller at a time does; the others wait for it.
func (s *Store) refreshCatalog(ctx context.Context) (*Catalog, error) {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	v, err := s.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	cur := s.cat.Load()
	if cur != nil && cur.dataVersion == v {
		s.catChecked.Store(time.Now().UnixNano())
		return cur, nil
	}
	next, err := s.buildCatalog(ctx, cur)
	if err != nil {
		return nil, err
	}
	next.dataVersion = v
	s.cat.Store(next)
	s.catChecked.Store(time.Now().UnixNano())
	return next, nil
}

// invalidateCatalog makes the next Catalog call look at the database.
func (s *Store) invalidateCatalog() { s.catChecked.Store(0) }

// dataVersion asks SQLite whether another connection has committed since
// the last call. It must ask on one and the same connection each time.
func (s *Store) dataVersion(ctx context.Context) (int64, error) {
	if s.versionConn == nil {
		c, err := s.read.Conn(ctx)
		if err != nil {
			return 0, err
		}
		s.versionConn = c
	}
	var v int64
	err := s.versionConn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	if err != nil {
		s.versionConn.Close()
		s.versionConn = nil
	}
	return v, err
}

func (s *Store) buildCatalog(ctx context.Context, prev *Catalog) (*Catalog, error) {
	tx, ls, err := s.readLayers(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// A layer is carried over when its last change in gpkg_contents and its
	// declaration are as they were. planmap, GDAL and QGIS set last_change
	// when they write; a write that left every last_change as it was (an
	// UPDATE in a plain SQL shell) could have touched any layer, so then
	// every layer is read again.
	stamps := make([]string, len(ls))
	changedTimes := make([]string, len(ls))
	anyChanged := prev == nil
	for i, l := range ls {
		if err := tx.QueryRowContext(ctx, `SELECT last_change FROM gpkg_contents WHERE table_name = ?`, l.ID).Scan(&changedTimes[i]); err != nil {
			return nil, err
		}
		decl, _ := marshal(l)
		h := fnv.New64a()
		h.Write(decl)
		stamps[i] = fmt.Sprintf("%s|%x", changedTimes[i], h.Sum64())
		if prev != nil {
			if old, ok := prev.byID[l.ID]; !ok || old.source != stamps[i] {
				anyChanged = true
			}
		}
	}
	if prev != nil && len(prev.Collections) != len(ls) {
		anyChanged = true
	}
	allStale := !anyChanged
	cat := &Catalog{byID: make(map[string]*Collection, len(ls))}
	for i, l := range ls {
		var col *Collection
		if prev != nil && !allStale {
			if old, ok := prev.byID[l.ID]; ok && old.source == stamps[i] {
				col = old
			}
		}
		if col == nil {
			var err error
			if col, err = buildCollection(ctx, tx, l, stamps[i]); err != nil {
				return nil, err
			}
		}
		cat.Collections = append(cat.Collections, col)
		cat.byID[l.ID] = col
	}
	return cat, nil
}

// builds numbers the collections built by this process, so that a
// collection read again always gets a new Version.
var builds atomic.Int64

func buildCollection(ctx context.Context, q querier, l *Layer, stamp string) (*Collection, error) {
	// The process start makes versions differ across restarts and
	// upgrades, where the encoding may have changed.
	col := &Collection{Layer: l, source: stamp, stamp: fmt.Sprintf("%s|%d|%d", stamp, processStart, builds.Add(1))}
	var bounds []orb.Bound
	err := eachFeature(ctx, q, l, Query{}, func(f Feature) error {
		it := Item{Feature: f, Bound: f.Geometry.Bound()}
		it.Props = appendProperties(nil, l, f.Properties, measures(f.Geometry))
		it.JSON = appendFeatureJSON(nil, f.ID, it.Props, f.Geometry)
		col.Items = append(col.Items, it)
		bounds = append(bounds, it.Bound)
		if len(bounds) == 1 {
			col.Extent = it.Bound
		} else {
			col.Extent = col.Extent.Union(it.Bound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	col.index = geo.NewIndex(bounds)
	return col, nil
}

// measure is a computed property: its name and value, already rounded.
type measure struct {
	name  string
	value float64
	prec  int
}

func measures(g orb.Geometry) []measure {
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		a := geo.Area(g)
		return []measure{{AreaM2, a, 1}, {AreaHa, a / 1e4, 4}, {AreaMu, a / geo.SquareMetresPerMu, 2}}
	case orb.LineString, orb.MultiLineString:
		return []measure{{LengthM, geo.Length(g), 1}}
	}
	return nil
}

// appendProperties appends the properties object: the layer's fields in
// schema order, then the measures.
func appendProperties(dst []byte, l *Layer, props map[string]any, ms []measure) []byte {
	dst = append(dst, '{')
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	for _, fd := range l.Schema {
		v, ok := props[fd.Name]
		if !ok || v == nil {
			continue
		}
		sep()
		dst = appendJSONString(dst, fd.Name)
		dst = append(dst, ':')
		dst = appendValue(dst, v)
	}
	for _, m := range ms {
		sep()
		dst = appendJSONString(dst, m.name)
		dst = append(dst, ':')
		p := math.Pow(10, float64(m.prec))
		dst = appendNumber(dst, math.Round(m.value*p)/p)
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendJSONString(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case float64:
		return appendNumber(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	}
	b, _ := marshal(v)
	return append(dst, b...)
}

// appendNumber writes a float so that it reads back as one: 12 is written
// 12.0, so that GDAL and QGIS type the field Real for every feature, not
// Integer for some.
func appendNumber(dst []byte, v float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	if !strings.ContainsAny(string(dst[start:]), ".eEnN") {
		dst = append(dst, '.', '0')
	}
	return dst
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
	return appendFeatureJSON(dst, it.ID, it.Props, transform(it.Geometry))
}

var processStart = time.Now().UnixNano()

// Hit is a search result: an item and the collection it is in.
type Hit struct {
	Collection *Collection
	Item       *Item
}

// Search finds up to limit items whose Chinese or English name contains
// q, ignoring case: those whose name starts with q first, then in drawing
// order of their layers and id order.
func (c *Catalog) Search(q string, limit int) []Hit {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil
	}
	var first, rest []Hit
	for _, col := range c.Collections {
		for i := range col.Items {
			it := &col.Items[i]
			best := -1
			for _, k := range []string{"name_zh", "name_en"} {
				name, _ := it.Properties[k].(string)
				if at := strings.Index(strings.ToLower(name), q); at >= 0 && (best < 0 || at < best) {
					best = at
				}
			}
			switch {
			case best == 0:
				first = append(first, Hit{col, it})
			case best > 0:
				rest = append(rest, Hit{col, it})
			}
		}
	}
	hits := append(first, rest...)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}
