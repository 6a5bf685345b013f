package gpkg

import (
	"testing"
	"time"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestMutexes checks that SQLite has the mutexes of mutex.go: a
// connection's (recursive) takes no lock; the others exclude, and each
// static one is one mutex. Without them SQLite gives out its own, and
// the recursive one is a new mutex each time.
func TestMutexes(t *testing.T) {
	if mutexErr != nil {
		t.Fatalf("SQLite was not given the mutexes: %v", mutexErr)
	}
	tls := libc.NewTLS()
	defer tls.Close()
	r1 := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_RECURSIVE)
	r2 := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_RECURSIVE)
	if r1 != unlocked || r2 != unlocked {
		t.Fatalf("recursive mutexes %#x and %#x, want both %#x: SQLite kept its own", r1, r2, unlocked)
	}
	sqlite3.Xsqlite3_mutex_enter(tls, r1)
	sqlite3.Xsqlite3_mutex_enter(tls, r1)
	if rc := sqlite3.Xsqlite3_mutex_try(tls, r2); rc != sqlite3.SQLITE_OK {
		t.Errorf("try of a recursive mutex = %d, want SQLITE_OK", rc)
	}
	sqlite3.Xsqlite3_mutex_leave(tls, r1)
	sqlite3.Xsqlite3_mutex_leave(tls, r1)
	sqlite3.Xsqlite3_mutex_free(tls, r1) // must leave the shared address alone

	fast := sqlite3.Xsqlite3_mutex_alloc(tls, sqlite3.SQLITE_MUTEX_FAST)
	if fast == 0 || fast == unlocked {
		t.Fatalf("fast mutex %#x", fast)
	}
	defer sqlite3.Xsqlite3_mutex_free(tls, fast)
	sqlite3.Xsqlite3_mutex_enter(tls, fast)
	if rc := sqlite3.Xsqlite3_mutex_try(tls, fast); rc != sqlite3.SQLITE_BUSY {
		t.Errorf("try of a held fast mutex = %d, want SQLITE_BUSY", rc)
	}
	// Held by another goroutine, it is waited for.
	entered := make(chan struct{})
	go func() {
		tls := libc.NewTLS()
		defer tls.Close()
		sqlite3.Xsqlite3_mutex_enter(tls, fast)
		close(entered)
		sqlite3.Xsqlite3_mutex_leave(tls, fast)
	}()
	// Time for it to get there, were the mutex not held.
	time.Sleep(20 * time.Millisecond)
	select {
	case <-entered:
		t.Fatal("a second goroutine entered a held fast mutex")
	default:
	}
	sqlite3.Xsqlite3_mutex_leave(tls, fast)
	<-entered
	if rc := sqlite3.Xsqlite3_mutex_try(tls, fast); rc != sqlite3.SQLITE_OK {
		t.Errorf("try of a free fast mutex = %d, want SQLITE_OK", rc)
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
