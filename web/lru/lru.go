// Package lru holds values within a byte budget, the least recently used
// out first: what the tile cache (web/tiles) and the statistics cache of
// package web keep their answers in. A Cache is not safe for concurrent
// use: its owner holds its own lock around it, as it also guards the
// answers being made.
package lru

import "container/list"

// Cache holds values of type V by key K within a byte budget.
type Cache[K comparable, V any] struct {
	budget  int64
	entries map[K]*list.Element // of *entry[K, V]
	order   list.List           // most recently used first
	size    int64
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	size int64
}

// New returns a cache of budget bytes (none kept when budget is 0 or less).
func New[K comparable, V any](budget int64) *Cache[K, V] {
	return &Cache[K, V]{budget: max(budget, 0), entries: map[K]*list.Element{}}
}

// Get returns the value under k, which is then the most recently used.
func (c *Cache[K, V]) Get(k K) (v V, ok bool) {
	el, ok := c.entries[k]
	if !ok {
		return v, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Contains says whether a value is held under k, leaving the order as
// it is.
func (c *Cache[K, V]) Contains(k K) bool {
	_, ok := c.entries[k]
	return ok
}

// Put holds v, of size bytes, under k in place of what was there, and
// drops the least recently used values beyond the budget. A value larger
// than the whole budget is not held (and the one under k is left as it
// was): Put says whether v is held.
func (c *Cache[K, V]) Put(k K, v V, size int64) bool {
	if size > c.budget {
		return false
	}
	if el, ok := c.entries[k]; ok {
		c.remove(el)
	}
	c.entries[k] = c.order.PushFront(&entry[K, V]{key: k, val: v, size: size})
	c.size += size
	for c.size > c.budget {
		c.remove(c.order.Back())
	}
	return true
}

// DropWhere drops the values for which drop is true, and says how many.
func (c *Cache[K, V]) DropWhere(drop func(V) bool) int {
	n := 0
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if drop(el.Value.(*entry[K, V]).val) {
			c.remove(el)
			n++
		}
		el = next
	}
	return n
}

func (c *Cache[K, V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry[K, V])
	delete(c.entries, e.key)
	c.size -= e.size
}

// Len is how many values are held.
func (c *Cache[K, V]) Len() int { return len(c.entries) }

// Size is the bytes held, as the values' sizes were given to Put.
func (c *Cache[K, V]) Size() int64 { return c.size }

// Budget is the cache's byte budget.
func (c *Cache[K, V]) Budget() int64 { return c.budget }
