package gpkg

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// pagesInSlots is how many pages SQLite holds in the slots
// configurePageCache gave it, over every connection of the process.
func pagesInSlots(t *testing.T) int64 {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	// Not into the Go heap: the race detector's pointer checks refuse it.
	out, err := syscall.Mmap(-1, 0, 16, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(out)
	cur, high := unsafe.Pointer(&out[0]), unsafe.Pointer(&out[8])
	if rc := sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_PAGECACHE_USED, uintptr(cur), uintptr(high), 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_status64(SQLITE_STATUS_PAGECACHE_USED) = %d", rc)
	}
	return *(*int64)(cur)
}

// TestPageCacheSlots checks that the connections' pages come from the
// slots, and go back to them when a connection closes. Without the
// slots (SQLite's own allocation, the stalls of BENCHMARKS.md) no page
// is counted there.
func TestPageCacheSlots(t *testing.T) {
	if pageCacheErr != nil {
		t.Fatalf("the page cache was not configured: %v", pageCacheErr)
	}
	ctx := context.Background()
	before := pagesInSlots(t)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "planmap.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM gpkg_contents`).Scan(&n); err != nil {
		s.Close()
		t.Fatal(err)
	}
	open := pagesInSlots(t)
	if open <= before {
		s.Close()
		t.Fatalf("pages in the slots: %d before opening a store, %d with it open and read: its pages are not in the slots", before, open)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := pagesInSlots(t); after > before {
		t.Errorf("pages in the slots: %d before opening a store, %d with it open, %d after closing it: the closed connections kept theirs", before, open, after)
	}
}
