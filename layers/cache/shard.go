package cache

import (
	"sync"
	"unsafe"

	"planmap/layers"
)

// shard is one part of the cache: its entries, features and query answers
// alike, in one least-recently-used list, within its share of the budget.
//
// The entries are records in one slice, linked by index, and the maps
// find them by index: what the cache holds of a feature is a record with
// its packed bytes, which the collector marks without looking inside, and
// once it is served, the item unpacked from them, which it serves from
// then on. Entries made of pointers (an entry, its item, its bytes and its
// version: four objects a feature, each linked to the next, and a map of
// pointers to find them) had the collector walk 300,000 objects in every
// cycle with a 64 MB cache full of parcels: half of what the cache added
// to the reads it did not serve (BENCHMARKS.md). Most of what a cache
// holds of a layer too large for it is never served again; what is served
// again is served without a new item each time, which cost a 1,000-parcel
// view held 20-30 % more.
type shard struct {
	mu sync.Mutex
	// recs[0] is the sentinel of the LRU ring: its next is the most
	// recently used entry. free is the first of the unused records,
	// linked by next; 0 when none. The slice keeps the length of the most
	// entries held at once (each counted at recOverhead, over one and a
	// half records), until the cache is reset.
	recs   []rec
	free   int32
	bytes  int64
	budget int64
	layers map[string]*layerEntries
}

// layerEntries are a shard's entries of one layer, so that a layer's
// query answers, or the whole layer, can be dropped without a scan.
type layerEntries struct {
	id      string
	items   map[int64]int32
	queries map[string]int32
}

// rec is an entry: a held feature (query nil) or query answer.
type rec struct {
	prev, next int32
	layer      *layerEntries
	size       int64
	item       layers.Packed
	hot        *layers.Item // item unpacked, once served
	query      *heldQuery
}

// heldQuery is a held query answer.
type heldQuery struct {
	key     string
	fids    []int64
	matched int
}

// recOverhead approximates what holding anything costs beyond what it
// holds: its record, with the slack of the slice that grows by doubling,
// and its map slot.
const recOverhead = int64(unsafe.Sizeof(rec{}))*3/2 + 32

// init empties the shard and gives it budget bytes.
func (s *shard) init(budget int64) {
	s.recs, s.free = make([]rec, 1, 64), 0
	s.bytes, s.budget = 0, budget
	s.layers = map[string]*layerEntries{}
}

// layer returns the entries of layer id, made if need be.
func (s *shard) layer(id string) *layerEntries {
	le := s.layers[id]
	if le == nil {
		le = &layerEntries{id: id, items: map[int64]int32{}, queries: map[string]int32{}}
		s.layers[id] = le
	}
	return le
}

// item returns the record of the held feature fid of layer id, or 0.
func (s *shard) item(id string, fid int64) int32 {
	if le := s.layers[id]; le != nil {
		return le.items[fid]
	}
	return 0
}

// getItem returns the held feature fid of layer id, or nil.
func (s *shard) getItem(id string, fid int64) *layers.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id, fid)
	if i == 0 {
		return nil
	}
	s.touch(i)
	return s.served(i)
}

// getItems sets items[i] to the held feature fids[i] of layer id, for each
// i in idx (every i when idx is nil).
func (s *shard) getItems(id string, fids []int64, idx []int32, items []*layers.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	le := s.layers[id]
	if le == nil {
		return
	}
	get := func(i int) {
		if r := le.items[fids[i]]; r != 0 {
			s.touch(r)
			items[i] = s.served(r)
		}
	}
	if idx == nil {
		for i := range fids {
			get(i)
		}
		return
	}
	for _, i := range idx {
		get(int(i))
	}
}

// served returns the item of the feature of record i, unpacked and kept
// the first time it is served.
func (s *shard) served(i int32) *layers.Item {
	r := &s.recs[i]
	if r.hot == nil {
		r.hot = new(layers.Item)
		r.item.Unpack(r.hot)
	}
	return r.hot
}

// touchItem makes feature fid of layer id, if held, the most recently
// used.
func (s *shard) touchItem(id string, fid int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.item(id, fid); i != 0 {
		s.touch(i)
	}
}

// peekItem returns the held feature fid of layer id, or nil, leaving its
// place in the eviction order as it is. The item is kept as served: a
// feature looked up is one of the page's candidates, nearly always on it.
func (s *shard) peekItem(id string, fid int64) *layers.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.item(id, fid); i != 0 {
		return s.served(i)
	}
	return nil
}

// getQuery returns the held answer to a query of layer id.
func (s *shard) getQuery(id string, key []byte) ([]int64, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	le := s.layers[id]
	if le == nil {
		return nil, 0, false
	}
	i := le.queries[string(key)]
	if i == 0 {
		return nil, 0, false
	}
	s.touch(i)
	q := s.recs[i].query
	return q.fids, q.matched, true
}

// putItem holds p as feature p.ID of layer id, of size bytes, unless it
// is held already (another request loaded it under the same epoch).
func (s *shard) putItem(id string, p layers.Packed, size int64) {
	le := s.layer(id)
	hold(s, le.items, p.ID, rec{layer: le, size: size, item: p})
}

// putQuery holds q as an answer of layer id, of size bytes, unless it is
// held already.
func (s *shard) putQuery(id string, q *heldQuery, size int64) {
	le := s.layer(id)
	hold(s, le.queries, q.key, rec{layer: le, size: size, query: q})
}

// hold makes r the entry of key k in m, one of the maps of s's layers,
// unless m has one, which is made the most recently used instead.
func hold[K comparable](s *shard, m map[K]int32, k K, r rec) {
	if i := m[k]; i != 0 {
		s.touch(i)
		return
	}
	i := s.alloc()
	s.recs[i] = r
	m[k] = i
	s.push(i)
}

// alloc returns an unused record.
func (s *shard) alloc() int32 {
	if i := s.free; i != 0 {
		s.free = s.recs[i].next
		return i
	}
	s.recs = append(s.recs, rec{})
	return int32(len(s.recs) - 1)
}

// push adds record i as the most recently used entry, then evicts the
// least recently used ones until the shard is within its budget. Its size
// must not exceed the budget.
func (s *shard) push(i int32) {
	r, root := &s.recs[i], &s.recs[0]
	r.prev, r.next = 0, root.next
	s.recs[r.next].prev, root.next = i, i
	s.bytes += r.size
	for s.bytes > s.budget {
		s.remove(s.recs[0].prev)
	}
}

// touch makes record i the most recently used entry.
func (s *shard) touch(i int32) {
	recs := s.recs
	if recs[0].next == i {
		return
	}
	r := &recs[i]
	recs[r.prev].next, recs[r.next].prev = r.next, r.prev
	r.prev, r.next = 0, recs[0].next
	recs[r.next].prev, recs[0].next = i, i
}

// remove drops record i.
func (s *shard) remove(i int32) {
	recs := s.recs
	r := &recs[i]
	recs[r.prev].next, recs[r.next].prev = r.next, r.prev
	s.bytes -= r.size
	le := r.layer
	if r.query == nil {
		delete(le.items, r.item.ID)
	} else {
		delete(le.queries, r.query.key)
	}
	if len(le.items) == 0 && len(le.queries) == 0 && s.layers[le.id] == le {
		delete(s.layers, le.id)
	}
	// Cleared, so that an unused record keeps nothing alive.
	*r = rec{next: s.free}
	s.free = i
}

// dropItem drops feature fid of layer id, if held.
func (s *shard) dropItem(id string, fid int64) {
	if i := s.item(id, fid); i != 0 {
		s.remove(i)
	}
}

// dropQueries drops the held query answers of layer id.
func (s *shard) dropQueries(id string) {
	if le := s.layers[id]; le != nil {
		for _, i := range le.queries {
			s.remove(i)
		}
	}
}

// dropLayer drops everything held of layer id.
func (s *shard) dropLayer(id string) {
	if le := s.layers[id]; le != nil {
		for _, i := range le.items {
			s.remove(i)
		}
		for _, i := range le.queries {
			s.remove(i)
		}
	}
}
