package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is the log's destination, read while it is written.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Writes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes
}

// A warning is written at once, with the lines before it; a line alone
// is written within a short time, without a Flush.
func TestLogBufferWarnAndTimer(t *testing.T) {
	dst := &lockedBuffer{}
	lb := newLogBuffer(dst)
	log := slog.New(flushingHandler{slog.NewTextHandler(lb, nil), lb})

	log.Info("request", "path", "/a")
	log.Warn("trouble", "err", "disk full")
	got := dst.String()
	if !strings.Contains(got, "path=/a") || !strings.Contains(got, "msg=trouble") || strings.Index(got, "path=/a") > strings.Index(got, "msg=trouble") {
		t.Fatalf("right after a warning the log holds %q, want the info line, then the warning", got)
	}

	log.With("id", 7).Info("later")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(dst.String(), "msg=later id=7") {
		if time.Now().After(deadline) {
			t.Fatalf("a line waited more than 10 s to be written (flush after %v): %q", logFlushAfter, dst.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Lines written at once by many goroutines come out whole, each
// goroutine's in its order, and in far fewer writes than lines; a burst
// larger than the buffer is written without waiting for the timer.
func TestLogBufferConcurrent(t *testing.T) {
	dst := &lockedBuffer{}
	lb := newLogBuffer(dst)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(lb, "writer=%d line=%d %s\n", g, i, strings.Repeat("x", 40))
			}
		})
	}
	wg.Wait()
	if dst.Writes() == 0 {
		t.Errorf("%d bytes logged and nothing written before Flush: the buffer holds more than %d bytes", writers*lines*60, logBufferMax)
	}
	lb.Flush()
	next := make([]int, writers)
	all := strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n")
	if len(all) != writers*lines {
		t.Fatalf("%d lines written, want %d", len(all), writers*lines)
	}
	for _, l := range all {
		var g, i int
		var x string
		if n, err := fmt.Sscanf(l, "writer=%d line=%d %s", &g, &i, &x); n != 3 || err != nil || len(x) != 40 || g < 0 || g >= writers {
			t.Fatalf("line %q is not whole", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	if w := dst.Writes(); w > len(all)/20 {
		t.Errorf("%d lines took %d writes", len(all), w)
	}
}
