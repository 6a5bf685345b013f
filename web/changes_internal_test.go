package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// A subscriber that does not keep up is dropped, not waited for: the
// others still get every batch, and the feed stops once nobody listens.
func TestFeedDropsSlowSubscriber(t *testing.T) {
	store := layerstest.MustOpen(t)
	f := &feed{store: store, subs: map[*subscriber]struct{}{}, onErr: func(err error) { t.Error(err) }}
	slow, pos, err := f.subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fast, _, err := f.subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for i := int64(1); i <= subscriberQueue+1; i++ {
		f.publish(changeBatch{changes: []layers.Change{{Seq: pos + i, Layer: "x", FID: i, Op: layers.OpUpdate}}})
		b := <-fast.c
		if b.changes[0].Seq != pos+i {
			t.Fatalf("batch %d: %+v", i, b)
		}
		got++
	}
	// The slow one holds its queue, then its channel is closed.
	n := 0
	for range slow.c {
		n++
	}
	if n != subscriberQueue || got != subscriberQueue+1 || f.subscribers() != 1 {
		t.Errorf("slow subscriber got %d batches before it was dropped (queue %d), fast %d, %d subscribers left", n, subscriberQueue, got, f.subscribers())
	}
	f.unsubscribe(slow) // after being dropped: no second close
	f.unsubscribe(fast)
	deadline := time.Now().Add(2 * time.Second)
	for {
		f.mu.Lock()
		running := f.running
		f.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the feed still runs with no subscriber")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A write through this server that succeeds wakes the change feed at
// once, so that open streams hear of it then, not at the feed's next
// look (feedEvery); a write that fails does not.
func TestWriteWakesFeed(t *testing.T) {
	s := &server{log: slog.New(slog.DiscardHandler), feed: &feed{wake: make(chan struct{}, 1)}}
	post := func(h http.HandlerFunc) int {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(http.MethodPost, "/collections/parcels/items", nil))
		return w.Code
	}
	refused := s.write(func(http.ResponseWriter, *http.Request) error {
		return layers.Errorf(layers.EINVALID, "refused")
	})
	if code := post(refused); code != http.StatusBadRequest || len(s.feed.wake) != 0 {
		t.Errorf("a refused write = %d, and %d wake-ups pending; want 400 and none", code, len(s.feed.wake))
	}
	taken := s.write(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	if code := post(taken); code != http.StatusNoContent || len(s.feed.wake) != 1 {
		t.Errorf("a write taken = %d, and %d wake-ups pending; want 204 and one", code, len(s.feed.wake))
	}
	// Another before the feed has looked: still one wake-up, not a wait.
	if code := post(taken); code != http.StatusNoContent || len(s.feed.wake) != 1 {
		t.Errorf("a second write = %d, and %d wake-ups pending; want 204 and one", code, len(s.feed.wake))
	}
}
