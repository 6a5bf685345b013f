package lru

import (
	"fmt"
	"testing"
)

// consistent fails t unless the map and the list hold the same entries
// and size is their sum.
func consistent[K comparable, V any](t *testing.T, c *Cache[K, V]) {
	t.Helper()
	if c.order.Len() != len(c.entries) {
		t.Fatalf("the list holds %d entries, the map %d", c.order.Len(), len(c.entries))
	}
	var sum int64
	for el := c.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry[K, V])
		if c.entries[e.key] != el {
			t.Fatalf("the map does not hold %v where the list does", e.key)
		}
		sum += e.size
	}
	if sum != c.size {
		t.Fatalf("size %d, the entries sum to %d", c.size, sum)
	}
	if c.size > c.budget {
		t.Fatalf("%d bytes held, over the budget of %d", c.size, c.budget)
	}
}

func TestBudget(t *testing.T) {
	c := New[string, int](5000)
	for i := range 10 {
		if !c.Put(fmt.Sprint("k", i), i, 1100) {
			t.Fatalf("value %d not held", i)
		}
		consistent(t, c)
	}
	if c.Len() != 4 || c.Size() != 4400 {
		t.Errorf("%d values of 1,100 bytes, %d bytes, held within 5,000; want 4", c.Len(), c.Size())
	}
	if !c.Contains("k9") || c.Contains("k5") {
		t.Error("the last four are not the ones held")
	}
	// A value over the budget is not held, and leaves the one under its
	// key.
	if c.Put("k9", -1, 5001) {
		t.Error("a value over the budget is held")
	}
	if v, ok := c.Get("k9"); !ok || v != 9 {
		t.Errorf("k9 = %v, %v after a Put over the budget; want 9 kept", v, ok)
	}
	consistent(t, c)
	if New[string, int](0).Put("k", 1, 1) {
		t.Error("a cache of no budget holds a value")
	}
}

func TestLeastRecentlyUsedOut(t *testing.T) {
	c := New[int, string](300)
	c.Put(1, "a", 100)
	c.Put(2, "b", 100)
	c.Put(3, "c", 100)
	if v, ok := c.Get(1); !ok || v != "a" { // 2 is now the least recent
		t.Fatalf("Get(1) = %q, %v", v, ok)
	}
	c.Contains(2) // does not count as a use
	c.Put(4, "d", 100)
	if c.Contains(2) || !c.Contains(1) || !c.Contains(3) || !c.Contains(4) {
		t.Errorf("after a fourth value: 1 %v 2 %v 3 %v 4 %v; want 2 out", c.Contains(1), c.Contains(2), c.Contains(3), c.Contains(4))
	}
	// Replacing a value counts its new size only.
	c.Put(3, "C", 50)
	if v, _ := c.Get(3); v != "C" || c.Size() != 250 || c.Len() != 3 {
		t.Errorf("after replacing 3: %q, %d bytes, %d values", v, c.Size(), c.Len())
	}
	consistent(t, c)
}

func TestDropWhere(t *testing.T) {
	c := New[int, int](1000)
	for i := range 10 {
		c.Put(i, i, 10)
	}
	if n := c.DropWhere(func(v int) bool { return v%2 == 0 }); n != 5 {
		t.Errorf("dropped %d, want 5", n)
	}
	for i := range 10 {
		if c.Contains(i) != (i%2 == 1) {
			t.Errorf("%d held: %v", i, c.Contains(i))
		}
	}
	if c.Size() != 50 {
		t.Errorf("%d bytes after the drop, want 50", c.Size())
	}
	consistent(t, c)
}
