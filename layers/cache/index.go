package cache

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"planmap/layers"
)

// A query with boxes is a new query each time a map is panned: the held
// answers (keyed by the exact boxes) rarely serve it, and each would cost
// the store a bbox query. So the cache also keeps, per layer, the bounding
// box of every feature in an R-tree of its own (a spatial index), built
// once from the store's (Store.Bounds) and then kept up to date feature by
// feature from the change log, like everything else the cache holds. A
// query with boxes and no property values is then answered without the
// store for whatever the cache holds: the index gives the candidates, a
// box wholly inside a query box matches as it is, and the geometry of a
// held feature decides the others (the one bbox rule, layers.Filter); only
// the features not held are loaded, by id.
//
// An index costs indexEntryBytes a feature out of the cache's budget (the
// features' share shrinks by as much), and is made only while all the
// indexes together take at most half of it: with the default 64 MB, about
// 450,000 features.

const (
	// indexEntryBytes is what a feature costs in an index: its box (four
	// float32) and id in the R-tree's leaves, its share of the inner
	// nodes, and its slot in the map by id. The Go heap grew by 44 bytes
	// a feature for 200,000 boxes inserted in random order, 60 in the
	// order of a grid (the leaves are left half full).
	indexEntryBytes = 72
	// indexOverhead is what an index costs beyond its features.
	indexOverhead = 4 << 10
	// maxIndexUpdate is the most changed features of a layer an advance
	// loads to move them in its index; past that the index is dropped and
	// made again from the store (one scan of the boxes), which costs less.
	maxIndexUpdate = 4096
	// maxCrossingLoad is the most candidates crossing a query box, not
	// held, that a query answered from an index loads to decide on; past
	// that the store's own query answers it.
	maxCrossingLoad = 2048
	// indexRetry is how long after an index could not be made (the store
	// failed, or it would not fit) it is not tried again.
	indexRetry = 30 * time.Second
)

// spatial is the index of one layer. Readers search it under mu's read
// lock; advance moves features under the write lock.
type spatial struct {
	mu    sync.RWMutex
	tree  rtree.RTreeGN[float32, int64]
	boxes map[int64][4]float32 // minx, miny, maxx, maxy, as in the tree
	bytes int64                // counted against the budget: size() when last counted
}

// size is what the index costs now. The caller holds mu, or is its only
// user.
func (sp *spatial) size() int64 {
	return indexOverhead + indexEntryBytes*int64(len(sp.boxes))
}

// indexes are the cache's spatial indexes and what it knows of making
// them.
type indexes struct {
	mu       sync.Mutex
	byLayer  map[string]*spatial
	making   map[string]bool
	notUntil map[string]time.Time // no new try before then
	bytes    int64
}

// box32 is b rounded outward to float32, as an R-tree keeps boxes: a box
// inside a query box rounded so lies inside the query box itself.
func box32(b orb.Bound) [4]float32 {
	return [4]float32{down32(b.Min[0]), down32(b.Min[1]), up32(b.Max[0]), up32(b.Max[1])}
}

func down32(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up32(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

func bound64(b [4]float32) orb.Bound {
	return orb.Bound{Min: orb.Point{float64(b[0]), float64(b[1])}, Max: orb.Point{float64(b[2]), float64(b[3])}}
}

// set puts feature fid with box b in the index, or moves it there.
func (sp *spatial) set(fid int64, b [4]float32) {
	if old, ok := sp.boxes[fid]; ok {
		if old == b {
			return
		}
		sp.tree.Delete([2]float32{old[0], old[1]}, [2]float32{old[2], old[3]}, fid)
	}
	sp.boxes[fid] = b
	sp.tree.Insert([2]float32{b[0], b[1]}, [2]float32{b[2], b[3]}, fid)
}

// remove takes feature fid out of the index.
func (sp *spatial) remove(fid int64) {
	if old, ok := sp.boxes[fid]; ok {
		sp.tree.Delete([2]float32{old[0], old[1]}, [2]float32{old[2], old[3]}, fid)
		delete(sp.boxes, fid)
	}
}

// candidates returns the features whose boxes meet one of boxes, each
// once, with their boxes as held.
func (sp *spatial) candidates(boxes []orb.Bound) []hit {
	var hits []hit
	sp.mu.RLock()
	for _, q := range boxes {
		b := box32(q)
		sp.tree.Search([2]float32{b[0], b[1]}, [2]float32{b[2], b[3]}, func(min, max [2]float32, fid int64) bool {
			hits = append(hits, hit{fid, [4]float32{min[0], min[1], max[0], max[1]}})
			return true
		})
	}
	sp.mu.RUnlock()
	if len(boxes) > 1 {
		slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.fid, b.fid) })
		hits = slices.CompactFunc(hits, func(a, b hit) bool { return a.fid == b.fid })
	}
	return hits
}

type hit struct {
	fid int64
	box [4]float32
}

// index returns the spatial index of layer id, or nil; when there is none
// it has one made in the background, if one may be.
func (c *Cache) index(id string) *spatial {
	ix := &c.idx
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if sp := ix.byLayer[id]; sp != nil {
		return sp
	}
	if ix.making[id] || c.noIndex || time.Now().Before(ix.notUntil[id]) {
		return nil
	}
	ix.making[id] = true
	if c.indexNow {
		ix.mu.Unlock()
		c.makeIndex(id)
		ix.mu.Lock()
		return ix.byLayer[id]
	}
	go c.makeIndex(id)
	return nil
}

// makeIndex makes the spatial index of layer id from the store. It holds
// applyMu through the scan (about half a second for 200,000 features on
// PostGIS), so that no change is applied to the cache while the index is
// read: the scan sees the store as of the current epoch or later, and the
// changes after the epoch are applied to the index as to everything else
// when the cache advances past them (moving a feature to where the store
// already has it changes nothing). Readers meanwhile are served as
// usual; should the store change, they go to it until the index is in.
func (c *Cache) makeIndex(id string) {
	ix := &c.idx
	ok := false
	defer func() {
		ix.mu.Lock()
		delete(ix.making, id)
		if !ok {
			ix.notUntil[id] = time.Now().Add(indexRetry)
		}
		ix.mu.Unlock()
	}()
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	ep := c.epoch.Load()
	if ep == nil || ep.seq < 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cat, err := c.store.Catalog(ctx)
	if err != nil {
		return
	}
	col, found := cat.Collection(id)
	if !found {
		return
	}
	ix.mu.Lock()
	room := c.budget/2 - ix.bytes
	ix.mu.Unlock()
	if size := indexOverhead + indexEntryBytes*int64(col.Count); size > room {
		return
	}
	sp := &spatial{boxes: make(map[int64][4]float32, col.Count)}
	err = c.store.Bounds(ctx, id, func(fid int64, b orb.Bound) {
		sp.set(fid, box32(b))
	})
	if err != nil {
		return
	}
	sp.bytes = sp.size()
	ix.mu.Lock()
	if sp.bytes > c.budget/2-ix.bytes {
		ix.mu.Unlock()
		return
	}
	ix.byLayer[id] = sp
	ix.bytes += sp.bytes
	c.shareBudgetLocked()
	ix.mu.Unlock()
	ok = true
}

// dropIndex drops the spatial index of layer id, if any, and gives its
// bytes back to the features. The caller holds applyMu.
func (c *Cache) dropIndex(id string) {
	ix := &c.idx
	ix.mu.Lock()
	defer ix.mu.Unlock()
	c.dropIndexLocked(id)
}

// dropIndexLocked is dropIndex for a caller that holds idx.mu.
func (c *Cache) dropIndexLocked(id string) {
	ix := &c.idx
	if sp := ix.byLayer[id]; sp != nil {
		delete(ix.byLayer, id)
		ix.bytes -= sp.bytes
		c.shareBudgetLocked()
	}
}

// dropIndexes drops every spatial index. The caller holds applyMu.
func (c *Cache) dropIndexes() {
	ix := &c.idx
	ix.mu.Lock()
	ids := make([]string, 0, len(ix.byLayer))
	for id := range ix.byLayer {
		ids = append(ids, id)
	}
	ix.mu.Unlock()
	for _, id := range ids {
		c.dropIndex(id)
	}
}

// shareBudgetLocked gives each shard its share of what the indexes leave
// of the budget, evicting what no longer fits; called, holding idx.mu,
// whenever an index comes or goes, in the same hold as the change, so
// that the shares and the indexes never add up to more than the budget.
func (c *Cache) shareBudgetLocked() {
	ix := &c.idx
	per := (c.budget - ix.bytes) / int64(len(c.shards))
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.budget = max(per, 0)
		for s.bytes > s.budget {
			s.remove(s.recs[0].prev)
		}
		s.mu.Unlock()
	}
}

// indexAnswer is how a query went through a layer's spatial index.
type indexAnswer int8

const (
	// notIndexed: the index cannot answer (there is none yet, the filter
	// has property values, or too many features crossing the boxes would
	// have to be loaded to decide on them).
	notIndexed indexAnswer = iota
	// answered: the page's ids and the count are the index's.
	answered
	// mostlyMissing: the index found the candidates, but the cache holds
	// fewer than half of them. Loading them by id would cost more than the
	// store's own answer to the query (one statement, one pass over the
	// rows), which the caller asks for instead.
	mostlyMissing
	// storeAnswered: not the index, the store gave the page's items whole
	// (a holdingStore), and ids their ids.
	storeAnswered
	// selected: not the index, the store's Select gave the ids.
	selected
)

// indexedIDs answers ids from the spatial index of layer id, for a filter
// of boxes alone. The features crossing a box's edge that it loads to
// decide on are held if hold is set (for Items: most are on the page).
func (c *Cache) indexedIDs(ctx context.Context, ep *epoch, id string, f layers.Filter, p layers.Page, hold bool) (page []int64, matched int, how indexAnswer, err error) {
	if len(f.BBoxes) == 0 || len(f.Equals) > 0 {
		return nil, 0, notIndexed, nil
	}
	sp := c.index(id)
	if sp == nil {
		return nil, 0, notIndexed, nil
	}
	hits := sp.candidates(f.BBoxes)
	fids := make([]int64, len(hits))
	for i, h := range hits {
		fids[i] = h.fid
	}
	items := c.getItems(id, fids)
	held := 0
	for _, it := range items {
		if it != nil {
			held++
		}
	}
	if 2*held < len(hits) {
		return nil, 0, mostlyMissing, nil
	}
	matches := make([]int64, 0, len(hits))
	var crossing []int64
	for i, h := range hits {
		switch f.Spatial(bound64(h.box)) {
		case layers.Inside:
			matches = append(matches, h.fid)
		case layers.Crossing:
			if it := items[i]; it != nil {
				if f.MatchesGeometry(it.Geometry(), it.Bound) {
					matches = append(matches, h.fid)
				}
			} else {
				crossing = append(crossing, h.fid)
			}
		}
	}
	if len(crossing) > maxCrossingLoad {
		return nil, 0, notIndexed, nil
	}
	if len(crossing) > 0 {
		c.misses.Add(int64(len(crossing)))
		loaded, err := c.store.Load(ctx, id, crossing)
		if err != nil {
			return nil, 0, notIndexed, err
		}
		if hold {
			c.admit(ep, id, loaded)
		}
		for _, it := range loaded {
			if f.MatchesGeometry(it.Geometry(), it.Bound) {
				matches = append(matches, it.ID)
			}
		}
	}
	page, matched = layers.PageOf(matches, p)
	c.indexHits.Add(1)
	return page, matched, answered, nil
}

// moveIndexed brings the spatial indexes up to the changes read by
// advance: changed holds the changed features of each layer (a layer
// changed whole is not in it). It loads the features from the store, so
// it runs before advance makes the epoch busy; move then moves them in
// the index under its lock, once advance has dropped the features' old
// copies (so that a reader never meets a new box beside an old held
// geometry), and hold offers them to the cache once the new epoch is
// current: they were read after the catalog reached it, so none is
// older. The caller holds applyMu.
func (c *Cache) moveIndexed(ctx context.Context, changed map[string][]int64) (move func(), hold func(*epoch)) {
	type moved struct {
		id    string
		sp    *spatial
		fids  []int64
		items []*layers.Item
	}
	// A reader that hangs up must not cost the index: it would be made
	// again from the whole layer.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var all []moved
	for id, fids := range changed {
		slices.Sort(fids)
		fids = slices.Compact(fids)
		c.idx.mu.Lock()
		sp := c.idx.byLayer[id]
		c.idx.mu.Unlock()
		if sp == nil {
			continue
		}
		if len(fids) > maxIndexUpdate {
			c.dropIndex(id)
			continue
		}
		items, err := c.store.Load(ctx, id, fids)
		if err != nil {
			// Made again on the next query that asks.
			c.dropIndex(id)
			continue
		}
		all = append(all, moved{id, sp, fids, items})
	}
	move = func() {
		if len(all) == 0 {
			return
		}
		for _, m := range all {
			// The index, its count and the shares change in one hold
			// of idx.mu, which the budget's bookkeeping reads under.
			c.idx.mu.Lock()
			m.sp.mu.Lock()
			// Both in id order: Load answers in the order asked.
			j := 0
			for _, fid := range m.fids {
				if j < len(m.items) && m.items[j].ID == fid {
					if it := m.items[j]; indexable(it) {
						m.sp.set(fid, box32(it.Bound))
					} else {
						m.sp.remove(fid)
					}
					j++
				} else {
					m.sp.remove(fid)
				}
			}
			bytes := m.sp.size()
			c.idx.bytes += bytes - m.sp.bytes
			m.sp.bytes = bytes
			m.sp.mu.Unlock()
			if c.idx.bytes > c.budget/2 {
				// Grown past its share: made again, if it still fits,
				// on the next query that asks.
				c.dropIndexLocked(m.id)
			} else {
				c.shareBudgetLocked()
			}
			c.idx.mu.Unlock()
		}
	}
	hold = func(ep *epoch) {
		for _, m := range all {
			for _, it := range m.items {
				c.putItem(ep, m.id, it)
			}
		}
	}
	return move, hold
}

// indexable reports whether it has a box to index: an empty geometry has
// none (orb gives it an inverted one), and the stores' indexes leave it out.
func indexable(it *layers.Item) bool {
	b := it.Bound
	return it.HasGeometry() && b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]
}
