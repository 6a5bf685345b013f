package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStatsCacheBudget: the cache keeps answers within its byte budget,
// the least recently used out first, and none larger than the budget.
func TestStatsCacheBudget(t *testing.T) {
	body := strings.Repeat("x", 1000)
	write := func(w http.ResponseWriter) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(body))
		return err
	}
	c := newStatsCache(5000)
	ctx := context.Background()
	for i := range 10 {
		if _, err := c.get(ctx, fmt.Sprint("k", i), write); err != nil {
			t.Fatal(err)
		}
		if c.held.Size() > c.held.Budget() {
			t.Fatalf("after %d answers the cache holds %d bytes, over its budget of %d", i+1, c.held.Size(), c.held.Budget())
		}
	}
	// (That the held list and map agree is lru's test.)
	if n := c.held.Len(); n == 0 || n > 4 {
		t.Errorf("%d answers of over 1,000 bytes kept within 5,000", n)
	}
	if !c.held.Contains("k9") {
		t.Error("the last answer is not kept")
	}
	if c.held.Contains("k0") {
		t.Error("the first answer is still kept")
	}
	big := func(w http.ResponseWriter) error { _, err := w.Write(make([]byte, 6000)); return err }
	if a, err := c.get(ctx, "big", big); err != nil || len(a.body) != 6000 {
		t.Fatalf("an answer over the budget = %v, %v", a, err)
	}
	if c.held.Contains("big") {
		t.Error("an answer over the budget is kept")
	}
	// Errors and answers other than 200 are not kept.
	failed := errors.New("failed")
	if _, err := c.get(ctx, "err", func(http.ResponseWriter) error { return failed }); err != failed {
		t.Errorf("the error of the maker = %v", err)
	}
	if _, err := c.get(ctx, "304", func(w http.ResponseWriter) error { w.WriteHeader(http.StatusNotModified); return nil }); err != nil {
		t.Fatal(err)
	}
	if c.held.Contains("err") {
		t.Error("a failed answer is kept")
	}
	if c.held.Contains("304") {
		t.Error("a 304 is kept")
	}
}

// TestStatsCacheShared: requests that ask the same at once wait for one
// read.
func TestStatsCacheShared(t *testing.T) {
	// Eight requests at once; the first to ask makes the answer and fails
	// when failFirst, and the others wait for it.
	for _, failFirst := range []bool{false, true} {
		c := newStatsCache(DefaultStatsCacheBytes)
		var made atomic.Int32
		release := make(chan struct{})
		write := func(w http.ResponseWriter) error {
			if made.Add(1) == 1 {
				<-release
				if failFirst {
					return errors.New("its client went away")
				}
			}
			_, err := w.Write([]byte("{}"))
			return err
		}
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 8 {
			wg.Go(func() {
				a, err := c.get(context.Background(), "k", write)
				if err != nil {
					failed.Add(1)
					return
				}
				if string(a.body) != "{}" {
					t.Errorf("get = %q", a.body)
				}
			})
		}
		// Release the first maker only once the seven others wait for it.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			c.mu.Lock()
			cl := c.building["k"]
			waiting := cl != nil && cl.waiters == 7
			c.mu.Unlock()
			if waiting {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("seven requests never waited for the first")
			}
		}
		close(release)
		wg.Wait()
		want := map[bool]int32{false: 1, true: 2}[failFirst]
		if n := made.Load(); n != want {
			t.Errorf("failFirst %v: 8 requests at once made the answer %d times, want %d", failFirst, n, want)
		}
		if n := failed.Load(); n != map[bool]int32{false: 0, true: 1}[failFirst] {
			t.Errorf("failFirst %v: %d requests failed", failFirst, n)
		}
		if !failFirst && c.shared != 7 {
			t.Errorf("%d requests shared the answer made, want 7", c.shared)
		}
	}
}
