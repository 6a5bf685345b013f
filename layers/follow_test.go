package layers_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"planmap/layers"
)

// changeLog is what a store's refresh step reads: a sequence number that
// writes move on, and an error the next steps return.
type changeLog struct {
	seq   atomic.Int64
	steps atomic.Int64
	mu    sync.Mutex
	err   error
}

func (l *changeLog) step(ctx context.Context, cur *layers.Catalog, publish func(*layers.Catalog)) error {
	l.steps.Add(1)
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if seq := l.seq.Load(); cur == nil || seq != cur.Seq {
		publish(&layers.Catalog{Seq: seq, Collections: []*layers.Collection{{Layer: &layers.Layer{ID: "parks"}}}})
	}
	return nil
}

func (l *changeLog) fail(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// waitSeq waits, up to a bound only a hung follower reaches, for the
// catalog to take in change seq.
func waitSeq(t *testing.T, f *layers.Follower, seq int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cat, err := f.Catalog(context.Background())
		if err != nil {
			t.Fatalf("Catalog: %v", err)
		}
		if cat.Seq == seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Catalog().Seq = %d after 10 s, want %d", cat.Seq, seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFollower(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		var log changeLog
		f := layers.NewFollower(log.step)
		defer f.Close(nil)
		f.AfterWrite(ctx, "after a write to %s", "parks")
		if n := log.steps.Load(); n != 0 {
			t.Fatalf("AfterWrite before the first Catalog ran the step %d times, want 0", n)
		}
		log.seq.Store(1)
		cat, err := f.Catalog(ctx)
		if err != nil || cat.Seq != 1 {
			t.Fatalf("Catalog() = %+v, %v; want Seq 1", cat, err)
		}
		if again, _ := f.Catalog(ctx); again != cat {
			t.Errorf("Catalog() again = %p, want the same catalog %p while nothing changed", again, cat)
		}
		// Another process writes: the poll loop takes it in.
		log.seq.Store(2)
		waitSeq(t, f, 2)
		// The store writes: taken in before AfterWrite returns.
		log.seq.Store(3)
		f.AfterWrite(ctx, "after a write to %s", "parks")
		if cat, _ := f.Catalog(ctx); cat.Seq != 3 {
			t.Errorf("Catalog().Seq after AfterWrite = %d, want 3", cat.Seq)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		var log changeLog
		f := layers.NewFollower(log.step)
		defer f.Close(nil)
		if col, err := f.Collection(ctx, "parks"); err != nil || col.ID != "parks" {
			t.Fatalf("Collection(parks) = %+v, %v; want parks", col, err)
		}
		_, err := f.Collection(ctx, "roads")
		if layers.ErrorCode(err) != layers.ENOTFOUND || err.Error() != `there is no collection "roads"; /collections lists them` {
			t.Errorf("Collection(roads) error = %v (%s), want ENOTFOUND naming it", err, layers.ErrorCode(err))
		}
	})
	t.Run("ErrReported", func(t *testing.T) {
		var log changeLog
		f := layers.NewFollower(log.step)
		defer f.Close(nil)
		reports := make(chan error, 100)
		f.OnError(func(err error) {
			select {
			case reports <- err:
			default:
			}
		})
		boom := errors.New("boom")
		log.fail(boom)
		if _, err := f.Catalog(ctx); !errors.Is(err, boom) {
			t.Fatalf("Catalog() error = %v, want %v returned", err, boom)
		}
		log.fail(nil)
		if _, err := f.Catalog(ctx); err != nil {
			t.Fatalf("Catalog(): %v", err)
		}
		log.fail(boom)
		f.AfterWrite(ctx, "after a write to %s", "parks")
		// AfterWrite's failure, and the poll loop's, in either order.
		want := map[string]bool{"after a write to parks: boom": true, "boom": true}
		timeout := time.After(10 * time.Second)
		for len(want) > 0 {
			select {
			case err := <-reports:
				if !errors.Is(err, boom) {
					t.Fatalf("reported %v, want it to wrap %v", err, boom)
				}
				delete(want, err.Error())
			case <-timeout:
				t.Fatalf("not reported after 10 s: %v", want)
			}
		}
	})
	t.Run("Close", func(t *testing.T) {
		var log changeLog
		f := layers.NewFollower(log.step)
		if _, err := f.Catalog(ctx); err != nil {
			t.Fatal(err)
		}
		// The loop runs before Close.
		for n := log.steps.Load(); log.steps.Load() == n; {
			time.Sleep(10 * time.Millisecond)
		}
		released := false
		f.Close(func() { released = true })
		if !released {
			t.Error("Close did not run release")
		}
		n := log.steps.Load()
		time.Sleep(200 * time.Millisecond) // four poll intervals
		if m := log.steps.Load(); m != n {
			t.Errorf("the step ran %d times after Close returned, want none", m-n)
		}
	})
	t.Run("CloseBeforeCatalog", func(t *testing.T) {
		var log changeLog
		f := layers.NewFollower(log.step)
		f.Close(nil)
		if _, err := f.Catalog(ctx); err != nil {
			t.Fatal(err)
		}
		n := log.steps.Load()
		time.Sleep(200 * time.Millisecond) // four poll intervals
		if m := log.steps.Load(); m != n {
			t.Errorf("a Catalog after Close started the poll loop: the step ran %d times more", m-n)
		}
	})
}
