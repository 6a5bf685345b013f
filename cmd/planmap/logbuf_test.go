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

// A warning is written at once, with the lines before it, also from a
// logger With attributes; lines alone are written by the timer, again and
// again; after Close they go straight through.
func TestLogBufferWarnAndTimer(t *testing.T) {
	dst := &lockedBuffer{}
	lb := newLogBuffer(dst, time.Hour)
	log := slog.New(flushingHandler{slog.NewTextHandler(lb, nil), lb})
	log.Info("request", "path", "/a")
	log.With("id", 7).Warn("trouble", "err", "disk full")
	got := dst.String()
	if !strings.Contains(got, "path=/a") || !strings.Contains(got, "msg=trouble id=7") || strings.Index(got, "path=/a") > strings.Index(got, "msg=trouble") {
		t.Fatalf("right after a warning the log holds %q, want the info line, then the warning", got)
	}

	dst = &lockedBuffer{}
	lb = newLogBuffer(dst, 10*time.Millisecond)
	log = slog.New(flushingHandler{slog.NewTextHandler(lb, nil), lb})
	for _, msg := range []string{"first", "second"} {
		log.Info(msg)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(dst.String(), "msg="+msg) {
			if time.Now().After(deadline) {
				t.Fatalf("line %q waited more than 10 s to be written (flush after 10 ms): %q", msg, dst.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	lb.Close()
	log.Info("after close")
	if !strings.Contains(dst.String(), "after close") {
		t.Errorf("a line logged after Close was held: %q", dst.String())
	}
}

// gateWriter blocks each Write until released.
type gateWriter struct {
	entered chan struct{}
	release chan struct{}
	lockedBuffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.lockedBuffer.Write(p)
}

// Flush returns only when the lines another flush has taken are written
// too: serve's last Flush must not leave the timer's write half done.
func TestLogBufferFlushWaits(t *testing.T) {
	g := &gateWriter{entered: make(chan struct{}), release: make(chan struct{})}
	lb := newLogBuffer(g, time.Millisecond)
	fmt.Fprintln(lb, "taken by the timer")
	<-g.entered // the timer's flush is writing
	done := make(chan struct{})
	go func() {
		lb.Flush()
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("Flush returned while the timer's write of a line was still under way")
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)
	<-done
	if got := g.String(); got != "taken by the timer\n" {
		t.Errorf("written %q", got)
	}
}

// Lines written at once by many goroutines come out whole, each
// goroutine's in its order, and in far fewer writes than lines; a burst
// larger than the buffer is written without waiting for the timer.
func TestLogBufferConcurrent(t *testing.T) {
	dst := &lockedBuffer{}
	// No timer: the buffer must write when it is full, by itself.
	lb := newLogBuffer(dst, time.Hour)
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
