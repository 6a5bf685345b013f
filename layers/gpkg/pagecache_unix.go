//go:build unix

package gpkg

import (
	"fmt"
	"syscall"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's page cache, as modernc builds it (SQLITE_ENABLE_MEMORY_MANAGEMENT),
// puts the pages of every connection of the process in one group under one
// mutex, and takes each page from libc's allocator, which hands memory back
// to the system a region at a time (madvise). A commit by any connection
// empties every other connection's cache at its next read: about a thousand
// pages freed under that mutex, hundreds of madvise calls, and for 100–200
// ms no other connection could read a page. Readers stalled after every
// import and every edit (BENCHMARKS.md, "Readers during an import: SQLite's
// page cache").
//
// Given slots of its own for pages (SQLITE_CONFIG_PAGECACHE), SQLite takes
// pages from them and gives them back to a free list: emptying a reader's
// cache takes tens of microseconds. The slots are mapped once and never
// returned, and SQLite links them all into its free list when the first
// connection opens, so the whole region is resident from then on: 26 MB on
// two cores, at most maxPageSlots × 4.4 KB. Pages larger than 4 KB come from
// libc as before. When fewer than ten slots are free, SQLite reuses the
// least recently used clean page of any connection rather than take more,
// so a cache larger than the slots (an import's 64 MB) works within them
// and writes dirty pages to the WAL before its commit.

// pageSlotSize is the largest page the slots hold: SQLite's default and
// GeoPackage's, 4096 bytes.
const pageSlotSize = 4096

// maxPageSlots bounds the slots (and their resident memory, about 70 MB)
// on machines with many processors.
const maxPageSlots = 16 << 10

// configurePageCache gives SQLite the slots of every connection this
// process opens: the readers (openReaders), the writer, the version
// connection and temporary tables. It must run before the first
// connection opens (sqlite3_config is refused after), which is why it
// runs as the package's variables are initialized.
func configurePageCache() error {
	tls := libc.NewTLS()
	defer tls.Close()
	args := tls.Alloc(24)
	defer tls.Free(24)
	out, err := outWords(1)
	if err != nil {
		return err
	}
	defer syscall.Munmap(out)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, libc.VaList(args, uintptr(unsafe.Pointer(&out[0])))); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ): %d", rc)
	}
	size := (pageSlotSize + int(*(*int32)(unsafe.Pointer(&out[0]))) + 7) &^ 7
	// Each reader keeps up to 4 MB of pages (openReaders): about 1,000
	// slots each, and as many again for the writer and the rest.
	slots := min((readerConns()+2)*1024, maxPageSlots)
	mem, err := syscall.Mmap(-1, 0, size*slots, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return fmt.Errorf("map %d page slots: %w", slots, err)
	}
	hugePages(mem)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, libc.VaList(args, uintptr(unsafe.Pointer(&mem[0])), int32(size), int32(slots))); rc != sqlite3.SQLITE_OK {
		syscall.Munmap(mem)
		return fmt.Errorf("sqlite3_config(SQLITE_CONFIG_PAGECACHE): %d", rc)
	}
	return nil
}

// outWords maps n 8-byte words for SQLite to write its results into:
// not the Go heap, since the race detector's pointer checks refuse Go
// pointers handed to SQLite as integers. Unmap them when done.
func outWords(n int) ([]byte, error) {
	out, err := syscall.Mmap(-1, 0, 8*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("map %d words for SQLite's results: %w", n, err)
	}
	return out, nil
}
