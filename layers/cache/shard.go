package cache

import (
	"sync"

	"planmap/layers"
)

// shard is one part of the cache: its entries, features and query answers
// alike, in one least-recently-used list, within its share of the budget.
type shard struct {
	mu     sync.Mutex
	root   entry // sentinel of the LRU ring: root.next is the most recently used
	bytes  int64
	budget int64
	layers map[string]*layerEntries
}

// layerEntries are a shard's entries of one layer, so that a layer's
// query answers, or the whole layer, can be dropped without a scan.
type layerEntries struct {
	id      string
	items   map[int64]*entry
	queries map[string]*entry
}

// entry is a held feature (item set) or query answer (key set).
type entry struct {
	prev, next *entry
	layer      *layerEntries
	size       int64

	fid  int64
	item *layers.Item

	key     string
	fids    []int64
	matched int
}

// init empties the shard and gives it budget bytes.
func (s *shard) init(budget int64) {
	s.root.prev, s.root.next = &s.root, &s.root
	s.bytes, s.budget = 0, budget
	s.layers = map[string]*layerEntries{}
}

// layer returns the entries of layer id, made if need be.
func (s *shard) layer(id string) *layerEntries {
	le := s.layers[id]
	if le == nil {
		le = &layerEntries{id: id, items: map[int64]*entry{}, queries: map[string]*entry{}}
		s.layers[id] = le
	}
	return le
}

// getItem returns the held feature fid of layer id, or nil.
func (s *shard) getItem(id string, fid int64) *layers.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	le := s.layers[id]
	if le == nil {
		return nil
	}
	e := le.items[fid]
	if e == nil {
		return nil
	}
	s.touch(e)
	return e.item
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
		if e := le.items[fids[i]]; e != nil {
			s.touch(e)
			items[i] = e.item
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

// peekItem returns the held item of feature fid of layer id, or nil,
// leaving its place in the eviction order as it is.
func (s *shard) peekItem(id string, fid int64) *layers.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	if le := s.layers[id]; le != nil {
		if e := le.items[fid]; e != nil {
			return e.item
		}
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
	e := le.queries[string(key)]
	if e == nil {
		return nil, 0, false
	}
	s.touch(e)
	return e.fids, e.matched, true
}

// push adds e as the most recently used entry, then evicts the least
// recently used ones until the shard is within its budget. e.size must
// not exceed the budget.
func (s *shard) push(e *entry) {
	e.prev, e.next = &s.root, s.root.next
	e.prev.next, e.next.prev = e, e
	s.bytes += e.size
	for s.bytes > s.budget {
		s.remove(s.root.prev)
	}
}

// touch makes e the most recently used entry.
func (s *shard) touch(e *entry) {
	if s.root.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &s.root, s.root.next
	e.prev.next, e.next.prev = e, e
}

// remove drops e.
func (s *shard) remove(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	s.bytes -= e.size
	le := e.layer
	if e.item != nil {
		delete(le.items, e.fid)
	} else {
		delete(le.queries, e.key)
	}
	if len(le.items) == 0 && len(le.queries) == 0 && s.layers[le.id] == le {
		delete(s.layers, le.id)
	}
}

// dropItem drops feature fid of layer id, if held.
func (s *shard) dropItem(id string, fid int64) {
	if le := s.layers[id]; le != nil {
		if e := le.items[fid]; e != nil {
			s.remove(e)
		}
	}
}

// dropQueries drops the held query answers of layer id.
func (s *shard) dropQueries(id string) {
	if le := s.layers[id]; le != nil {
		for _, e := range le.queries {
			s.remove(e)
		}
	}
}

// dropLayer drops everything held of layer id.
func (s *shard) dropLayer(id string) {
	if le := s.layers[id]; le != nil {
		for _, e := range le.items {
			s.remove(e)
		}
		for _, e := range le.queries {
			s.remove(e)
		}
	}
}
