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

// logBufferMax is how much logBuffer holds before it writes at once: a few
// hundred request lines, a few milliseconds of a busy server, so that a
// burst neither waits for the timer nor grows the buffer far.
const logBufferMax = 32 << 10

// logBuffer gathers log lines and writes them together, at most a short
// time after the first one. A request line written on its own took a write
// system call per request: a tenth of the CPU of a small answer from the
// cache. The cost: a crash that runs no deferred code (SIGKILL, a fatal
// runtime error) loses the lines of that last moment; warnings and errors
// are written at once (flushingHandler). It is safe for concurrent use.
type logBuffer struct {
	after time.Duration // how long a line may wait

	mu         sync.Mutex // guards buf, spare, armed and direct
	buf, spare []byte
	armed      bool // the timer will flush
	direct     bool // closed: lines go straight through

	wmu sync.Mutex // held while writing to w: taken under mu, so writes keep their order
	w   io.Writer
}

func newLogBuffer(w io.Writer, after time.Duration) *logBuffer {
	return &logBuffer{w: w, after: after}
}

// Write holds p, whole: slog writes one record per call.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.direct {
		b.wmu.Lock()
		b.mu.Unlock()
		defer b.wmu.Unlock()
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= logBufferMax {
		b.flush()
		return len(p), nil
	}
	if !b.armed {
		b.armed = true
		time.AfterFunc(b.after, b.timerFlush)
	}
	b.mu.Unlock()
	return len(p), nil
}

// Flush writes what is held, and returns when every line written to b
// before it has reached w, including those another flush is writing.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	b.flush()
}

// Close flushes and makes later lines go straight through: goroutines
// that outlive serve's return still get their lines out.
func (b *logBuffer) Close() {
	b.mu.Lock()
	b.direct = true
	b.flush()
}

func (b *logBuffer) timerFlush() {
	b.mu.Lock()
	b.armed = false
	b.flush()
}

// flush writes what is held. It is called with mu held and lets it go
// before the write, so that the next lines can be gathered meanwhile.
// (A flush from Write still holds slog's handler lock, which every
// logger waits for; only the timer's flush is wholly outside.)
func (b *logBuffer) flush() {
	out := b.buf
	b.buf, b.spare = b.spare[:0], nil
	b.wmu.Lock()
	b.mu.Unlock()
	func() {
		// Unlocked however Write ends: a held wmu would stop all logging.
		defer b.wmu.Unlock()
		if len(out) > 0 {
			// A failed write of the log has nowhere to be reported; the
			// lines go.
			b.w.Write(out)
		}
	}()
	if cap(out) == 0 || cap(out) > 4*logBufferMax {
		return // nothing to keep, or after a burst, not held for ever
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
