//go:build unix

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

// pageStatus is SQLite's count of pages held in the slots
// configurePageCache gave it (SQLITE_STATUS_PAGECACHE_USED) and of bytes
// of pages it took from libc instead (SQLITE_STATUS_PAGECACHE_OVERFLOW),
// over every connection of the process.
func pageStatus(t *testing.T) (slots, overflow int64) {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	out, err := outWords(2)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(out)
	cur, high := unsafe.Pointer(&out[0]), unsafe.Pointer(&out[8])
	status := func(op int32) int64 {
		if rc := sqlite3.Xsqlite3_status64(tls, op, uintptr(cur), uintptr(high), 0); rc != sqlite3.SQLITE_OK {
			t.Fatalf("sqlite3_status64(%d) = %d", op, rc)
		}
		return *(*int64)(cur)
	}
	return status(sqlite3.SQLITE_STATUS_PAGECACHE_USED), status(sqlite3.SQLITE_STATUS_PAGECACHE_OVERFLOW)
}

// TestPageCacheSlots checks that a reader's pages come from the slots,
// not from libc, and go back to them when its store closes. Without the
// slots (the stalls of BENCHMARKS.md) no page is counted there.
func TestPageCacheSlots(t *testing.T) {
	if pageCacheErr != nil {
		t.Fatalf("the page cache was not configured: %v", pageCacheErr)
	}
	ctx := context.Background()
	start, _ := pageStatus(t)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "planmap.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // on a failure before the Close below
	// 600 rows of 3,000 bytes: a page each.
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE pagecache_probe (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
		INSERT INTO pagecache_probe SELECT randomblob(3000) FROM n`); err != nil {
		t.Fatal(err)
	}
	slots0, over0 := pageStatus(t)
	var sum int64
	if err := s.read.QueryRowContext(ctx, `SELECT sum(length(b)) FROM pagecache_probe`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 600*3000 {
		t.Fatalf("read %d bytes, want %d", sum, 600*3000)
	}
	slots1, over1 := pageStatus(t)
	if slots1-slots0 < 400 {
		t.Errorf("reading 600 pages took %d slots (%d → %d): the pages are not in the slots", slots1-slots0, slots0, slots1)
	}
	if over1 != over0 {
		t.Errorf("reading 600 pages took %d bytes of pages from libc", over1-over0)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if end, _ := pageStatus(t); end > start {
		t.Errorf("pages in the slots: %d before opening a store, %d with it read, %d after closing it: the closed connections kept theirs", start, slots1, end)
	}
}
