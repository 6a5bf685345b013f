package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"
)

// serve holds the Go heap near the feature cache's budget, unless the
// operator set GOMEMLIMIT, which is then left as it is.
func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	gcBefore := debug.SetGCPercent(-1)
	debug.SetGCPercent(gcBefore)
	t.Cleanup(func() { debug.SetMemoryLimit(before); debug.SetGCPercent(gcBefore) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	setMemoryLimit(func(string) string { return "" }, 64<<20, log)
	if got, want := debug.SetMemoryLimit(-1), int64(64<<20*5/4+64<<20); got != want {
		t.Errorf("limit with a 64 MB cache = %d, want %d", got, want)
	}
	if got := debug.SetGCPercent(gcBefore); got != gcPercent {
		t.Errorf("GC percent under the limit = %d, want %d", got, gcPercent)
	}
	debug.SetMemoryLimit(before)
	setMemoryLimit(func(k string) string {
		if k == "GOGC" {
			return "100"
		}
		return ""
	}, 64<<20, log)
	if got := debug.SetGCPercent(gcBefore); got != gcBefore {
		t.Errorf("with GOGC set, the GC percent became %d, want it left at %d", got, gcBefore)
	}
	debug.SetMemoryLimit(before)
	setMemoryLimit(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	}, 64<<20, log)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set, the limit became %d, want it left at %d", got, before)
	}
}
