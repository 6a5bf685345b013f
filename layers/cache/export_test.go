package cache

import (
	"fmt"

	"planmap/layers"
)

// Check verifies what the cache's bookkeeping says against what it holds:
// every shard's byte count is the sum of its entries' sizes and within its
// budget, the LRU ring and the maps hold the same entries, each index
// counts what it holds, and the shares and the indexes add up to no more
// than the budget.
func (c *Cache) Check() error {
	// The indexes' lock first, as the cache takes them: no index comes
	// or goes, and no share changes, while the shares are read.
	c.idx.mu.Lock()
	defer c.idx.mu.Unlock()
	var shares int64
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		err := s.check()
		shares += s.budget
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	var indexed int64
	for id, sp := range c.idx.byLayer {
		sp.mu.RLock()
		want, n, boxes := sp.size(), sp.tree.Len(), len(sp.boxes)
		sp.mu.RUnlock()
		if sp.bytes != want || n != boxes {
			return fmt.Errorf("the index of %s counts %d bytes for %d boxes, its tree holds %d; want %d bytes", id, sp.bytes, boxes, n, want)
		}
		indexed += sp.bytes
	}
	switch {
	case indexed != c.idx.bytes:
		return fmt.Errorf("the indexes take %d bytes, the cache counts %d", indexed, c.idx.bytes)
	case indexed > c.budget/2:
		return fmt.Errorf("the indexes take %d bytes, over half the budget %d", indexed, c.budget)
	case shares+indexed > c.budget:
		return fmt.Errorf("the shards' budgets and the indexes add up to %d, over the budget %d", shares+indexed, c.budget)
	}
	return nil
}

func (s *shard) check() error {
	var bytes int64
	n := 0
	for i := s.recs[0].next; i != 0; i = s.recs[i].next {
		r := &s.recs[i]
		if s.recs[r.next].prev != i {
			return fmt.Errorf("broken links at an entry of %s", r.layer.id)
		}
		bytes += r.size
		n++
		if s.layers[r.layer.id] != r.layer {
			return fmt.Errorf("an entry of %s whose layer is not in the shard", r.layer.id)
		}
		if r.query == nil && r.layer.items[r.item.ID] != i || r.query != nil && r.layer.queries[r.query.key] != i {
			return fmt.Errorf("an entry of %s in the list but not in its map", r.layer.id)
		}
	}
	held := 0
	for _, le := range s.layers {
		held += len(le.items) + len(le.queries)
	}
	free := 0
	for i := s.free; i != 0; i = s.recs[i].next {
		if r := s.recs[i]; r.layer != nil || r.query != nil || r.hot != nil || r.item.Size() != 0 {
			return fmt.Errorf("unused record %d keeps what it held", i)
		}
		free++
	}
	switch {
	case held != n:
		return fmt.Errorf("%d entries in the maps, %d in the list", held, n)
	case n+free+1 != len(s.recs):
		return fmt.Errorf("%d entries and %d unused records, of %d", n, free, len(s.recs)-1)
	case bytes != s.bytes:
		return fmt.Errorf("the entries take %d bytes, the shard counts %d", bytes, s.bytes)
	case s.bytes > s.budget:
		return fmt.Errorf("%d bytes held, over the budget %d", s.bytes, s.budget)
	}
	return nil
}

// SetInline sets how many changes a reader applies itself; more are
// applied in the background.
func (c *Cache) SetInline(n int64) { c.inline = n }

// Looks is how many rows of pages read whole the cache has looked up
// among its held features.
func (c *Cache) Looks() int64 { return c.looks.Load() }

// HeldSize is what the cache counts for holding it.
func HeldSize(it *layers.Item) (int64, error) {
	p, err := it.Pack()
	if err != nil {
		return 0, err
	}
	return heldSize(&p), nil
}

// IndexNow makes the cache make each layer's spatial index as it is first
// asked for, before answering, instead of in the background.
func (c *Cache) IndexNow() *Cache { c.indexNow = true; return c }

// NoIndex makes the cache make no spatial index, as it was before it had
// them.
func (c *Cache) NoIndex() *Cache { c.noIndex = true; return c }

// IndexEntryBytes is what the cache counts for a feature in an index.
const IndexEntryBytes = indexEntryBytes

// MaxIndexUpdate and MaxCrossingLoad are index.go's limits.
const (
	MaxIndexUpdate  = maxIndexUpdate
	MaxCrossingLoad = maxCrossingLoad
)

// AdmitFirst makes the cache hold features read from the store, and the
// answers to queries, the first time, as it did before its doorkeeper
// (admit.go): for the tests of what it holds and drops.
func (c *Cache) AdmitFirst() *Cache { c.admitFirst = true; return c }

// StoreWhole makes the cache read every page it reads with the store's
// help whole from a store that can (holdingStore), however much of the
// pages before it held.
func (c *Cache) StoreWhole() *Cache { c.storeWhole = true; return c }
