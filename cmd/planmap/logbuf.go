package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushAfter is how long a log line may wait in logBuffer before it is
// written: short enough for anyone tailing the log, long enough that a busy
// server writes many request lines at once.
const logFlushAfter = 100 * time.Millisecond

// logBufferMax is how much logBuffer holds before it writes at once.
const logBufferMax = 32 << 10

// logBuffer gathers log lines and writes them together, at most
// logFlushAfter after the first one. A request line written on its own
// took a write system call per request: a tenth of the CPU of a small
// answer from the cache. It is safe for concurrent use.
type logBuffer struct {
	mu         sync.Mutex // guards buf, spare and armed
	buf, spare []byte
	armed      bool // a flush is scheduled
	wmu        sync.Mutex
	w          io.Writer
}

func newLogBuffer(w io.Writer) *logBuffer { return &logBuffer{w: w} }

// Write holds p, whole: slog writes one record per call.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	if len(b.buf) >= logBufferMax {
		b.flush()
		return len(p), nil
	}
	if !b.armed {
		b.armed = true
		time.AfterFunc(logFlushAfter, b.Flush)
	}
	b.mu.Unlock()
	return len(p), nil
}

// Flush writes what is held.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	b.armed = false
	b.flush()
}

// flush writes what is held. It is called with mu held and lets it go
// before the write, so that requests logging meanwhile do not queue
// behind the disk; it takes wmu first, so that writes keep their order.
func (b *logBuffer) flush() {
	out := b.buf
	if len(out) == 0 {
		b.mu.Unlock()
		return
	}
	b.buf, b.spare = b.spare[:0], nil
	b.wmu.Lock()
	b.mu.Unlock()
	// A failed write of the log has nowhere to be reported; the lines go.
	b.w.Write(out)
	b.wmu.Unlock()
	if cap(out) > 4*logBufferMax {
		return // after a burst, not held for ever
	}
	b.mu.Lock()
	if b.spare == nil {
		b.spare = out[:0]
	}
	b.mu.Unlock()
}

// flushingHandler writes warnings and errors through at once, with the
// lines held before them, so that a problem is in the log when it
// happens, and a crash right after it does not lose it.
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(as), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}
