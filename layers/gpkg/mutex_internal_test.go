package gpkg

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestMutexes checks that SQLite has the mutexes of mutex.go: a
// connection's, opened as modernc opens them (SQLITE_OPEN_FULLMUTEX),
// takes no lock; the others exclude, and each static one is one mutex.
// Without them SQLite gives out its own, and a connection's is a new
// mutex each time.
func TestMutexes(t *testing.T) {
	if mutexErr != nil {
		t.Fatalf("SQLite was not given the mutexes: %v", mutexErr)
	}
	tls := libc.NewTLS()
	defer tls.Close()

	path, err := libc.CString(filepath.Join(t.TempDir(), "mutex.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, path)
	ppDb := tls.Alloc(8)
	defer tls.Free(8)
	flags := int32(sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_CREATE | sqlite3.SQLITE_OPEN_FULLMUTEX)
	if rc := sqlite3.Xsqlite3_open_v2(tls, path, ppDb, flags, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_open_v2 = %d", rc)
	}
	db := *(*uintptr)(*(*unsafe.Pointer)(unsafe.Pointer(&ppDb)))
	defer sqlite3.Xsqlite3_close_v2(tls, db)
	if m := sqlite3.Xsqlite3_db_mutex(tls, db); m != unlocked {
		t.Fatalf("a connection's mutex is %#x, want %#x: SQLite kept its own", m, unlocked)
	}

	r := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_RECURSIVE)
	if r != unlocked {
		t.Fatalf("recursive mutex %#x, want %#x", r, unlocked)
	}
	sqlite3.Xsqlite3_mutex_enter(tls, r)
	sqlite3.Xsqlite3_mutex_enter(tls, r)
	if rc := sqlite3.Xsqlite3_mutex_try(tls, r); rc != sqlite3.SQLITE_OK {
		t.Errorf("try of a connection's mutex = %d, want SQLITE_OK", rc)
	}
	for range 3 {
		sqlite3.Xsqlite3_mutex_leave(tls, r)
	}
	sqlite3.Xsqlite3_mutex_free(tls, r) // leaves the shared address alone

	fast := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_FAST)
	if fast == 0 || fast == unlocked {
		t.Fatalf("fast mutex %#x", fast)
	}
	defer sqlite3.Xsqlite3_mutex_free(tls, fast)
	sqlite3.Xsqlite3_mutex_enter(tls, fast)
	if rc := sqlite3.Xsqlite3_mutex_try(tls, fast); rc != sqlite3.SQLITE_BUSY {
		t.Errorf("try of a held fast mutex = %d, want SQLITE_BUSY", rc)
	}
	other := libc.NewTLS()
	defer other.Close()
	checkWaits(t, other, fast, func() { sqlite3.Xsqlite3_mutex_leave(tls, fast) })
	if rc := sqlite3.Xsqlite3_mutex_try(tls, fast); rc != sqlite3.SQLITE_OK {
		t.Fatalf("try of a free fast mutex = %d, want SQLITE_OK", rc)
	}
	sqlite3.Xsqlite3_mutex_leave(tls, fast)

	lru := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_STATIC_LRU)
	if again := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_STATIC_LRU); lru == 0 || lru != again || lru == unlocked {
		t.Fatalf("static LRU mutex %#x, then %#x: want one address of its own", lru, again)
	}
	sqlite3.Xsqlite3_mutex_enter(tls, lru)
	if rc := sqlite3.Xsqlite3_mutex_try(tls, lru); rc != sqlite3.SQLITE_BUSY {
		t.Errorf("try of the held static LRU mutex = %d, want SQLITE_BUSY", rc)
	}
	sqlite3.Xsqlite3_mutex_leave(tls, lru)
}

// TestMutexOrder: what goroutines change under one of SQLite's mutexes is
// ordered by it, as the race detector sees (go test -race): it would
// report this counter were the mutexes in libc's memory, as SQLite's
// variables in Go memory were reported before they moved.
func TestMutexOrder(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	fast := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_FAST)
	defer sqlite3.Xsqlite3_mutex_free(tls, fast)
	counter := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tls := libc.NewTLS()
			defer tls.Close()
			for range 1000 {
				sqlite3.Xsqlite3_mutex_enter(tls, fast)
				counter++
				sqlite3.Xsqlite3_mutex_leave(tls, fast)
			}
		})
	}
	wg.Wait()
	if counter != 4000 {
		t.Fatalf("counter = %d, want 4000", counter)
	}
}

// TestInitMutex: a recursive mutex asked for under SQLite's static main
// mutex, as sqlite3_initialize asks for its own, is a real one: entered
// again by its holder, excluding any other.
func TestInitMutex(t *testing.T) {
	a, b := libc.NewTLS(), libc.NewTLS()
	defer a.Close()
	defer b.Close()
	// Initialized first: the allocation below would otherwise initialize
	// SQLite, which takes the main mutex this test holds.
	if rc := sqlite3.Xsqlite3_initialize(a); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_initialize = %d", rc)
	}
	main := sqlite3.Xsqlite3_mutex_alloc(a, sqlite3.SQLITE_MUTEX_STATIC_MAIN)
	sqlite3.Xsqlite3_mutex_enter(a, main)
	p := sqlite3.Xsqlite3_mutex_alloc(a, sqlite3.SQLITE_MUTEX_RECURSIVE)
	sqlite3.Xsqlite3_mutex_leave(a, main)
	if p == 0 || p == unlocked {
		t.Fatalf("recursive mutex %#x asked for under the main mutex: want a real one", p)
	}
	defer sqlite3.Xsqlite3_mutex_free(a, p)
	if q := sqlite3.Xsqlite3_mutex_alloc(b, sqlite3.SQLITE_MUTEX_RECURSIVE); q != unlocked {
		t.Fatalf("recursive mutex %#x asked for without it, want the connections' %#x", q, unlocked)
	}

	sqlite3.Xsqlite3_mutex_enter(a, p)
	if rc := sqlite3.Xsqlite3_mutex_try(a, p); rc != sqlite3.SQLITE_OK {
		t.Fatalf("its holder's try = %d, want SQLITE_OK", rc)
	}
	for left := 2; left > 0; left-- {
		if rc := sqlite3.Xsqlite3_mutex_try(b, p); rc != sqlite3.SQLITE_BUSY {
			t.Fatalf("another's try, entered %d times = %d, want SQLITE_BUSY", left, rc)
		}
		sqlite3.Xsqlite3_mutex_leave(a, p)
	}
	if rc := sqlite3.Xsqlite3_mutex_try(b, p); rc != sqlite3.SQLITE_OK {
		t.Fatalf("another's try of the free mutex = %d, want SQLITE_OK", rc)
	}
	// Now b holds it: a waits until b leaves.
	checkWaits(t, a, p, func() { sqlite3.Xsqlite3_mutex_leave(b, p) })
}

// checkWaits checks that a goroutine entering mutex p as other waits
// while p is held, until release; it returns once that goroutine has left
// p again, so that the caller may free it.
func checkWaits(t *testing.T, other *libc.TLS, p uintptr, release func()) {
	t.Helper()
	entered, left := make(chan struct{}), make(chan struct{})
	go func() {
		sqlite3.Xsqlite3_mutex_enter(other, p)
		close(entered)
		sqlite3.Xsqlite3_mutex_leave(other, p)
		close(left)
	}()
	// Time for it to get there, were the mutex not held.
	time.Sleep(20 * time.Millisecond)
	select {
	case <-entered:
		release()
		<-left
		t.Fatal("another goroutine entered a held mutex")
	default:
	}
	release()
	<-left
}
