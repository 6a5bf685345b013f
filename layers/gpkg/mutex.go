package gpkg

import (
	"fmt"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// modernc opens every connection SQLITE_OPEN_FULLMUTEX, SQLite's
// serialized mode: each call on a connection takes the connection's
// recursive mutex, and reading a row takes it twice per column (its type,
// then its value). database/sql never hands one connection to two
// goroutines at once, and modernc's own state of a connection is no safer
// than that, so the mutex guards nothing: it was 8 % of the CPU of a box
// of 50 parcels read from the file (two atomic swaps and a lock for each
// entry, on modernc's emulated pthreads).
//
// SQLite lets a program give it its mutexes (SQLITE_CONFIG_MUTEX). These
// are Go mutexes, with one difference: a recursive mutex, which SQLite
// asks for a connection's and for its own initialization's only, takes no
// lock. That makes each connection as SQLite's multi-thread mode would,
// which SQLite documents as safe when no connection is used by two
// threads at once. Its initialization is done here, before any goroutine
// can open a connection, so that its lock is never needed. The mutexes
// SQLite shares between connections (its page cache's, its allocator's,
// the file locks' of the unix VFS) are fast or static ones: real locks.

// SQLite takes its configuration only before it is initialized, which the
// first connection would do: both are set as the package's variables are,
// before any code of it runs, then SQLite is initialized at once.
var (
	// mutexErr says why SQLite keeps its own mutexes (then slower, and as
	// safe); nil if it has these.
	mutexErr = configureMutexes()
	// pageCacheErr says why SQLite's pages could not be given slots of
	// their own (they then come from libc); nil if they were.
	pageCacheErr = configurePageCache()
)

func init() {
	tls := libc.NewTLS()
	defer tls.Close()
	// Here, with one goroutine, so that the lock of its initialization,
	// a recursive mutex, is never needed. Should it fail, so does every
	// connection, with SQLite's error.
	sqlite3.Xsqlite3_initialize(tls)
}

// sqliteMutex is a fast or static mutex of SQLite's. SQLite holds it by
// its address, as an integer; it is Go's memory, not libc's, so that the
// race detector sees the order a lock makes (it ignores libc's memory, and
// its transpiled SQLite keeps state its static mutexes guard in Go
// variables, such as the page cache's).
type sqliteMutex struct {
	mu sync.Mutex
}

// SQLite's mutex kinds (sqlite3_mutex_alloc): the two it makes, then the
// static ones it shares, up to SQLITE_MUTEX_STATIC_VFS3.
const (
	mutexFast       = sqlite3.SQLITE_MUTEX_FAST
	mutexRecursive  = sqlite3.SQLITE_MUTEX_RECURSIVE
	mutexStaticLast = sqlite3.SQLITE_MUTEX_STATIC_VFS3
)

var (
	// staticMutexes are SQLite's static mutexes, by kind (the first two
	// unused).
	staticMutexes [mutexStaticLast + 1]sqliteMutex
	// unlocked is the address of every recursive mutex, never locked: a
	// variable's, which no object of the heap can ever share.
	unlockedMark byte
	unlocked     = uintptr(unsafe.Pointer(&unlockedMark))
	// fastMutexes keep the fast mutexes SQLite holds, which it knows only
	// as integers, from the collector.
	fastMu      sync.Mutex
	fastMutexes = map[uintptr]*sqliteMutex{}
)

func mutexInit(*libc.TLS) int32 { return sqlite3.SQLITE_OK }

func mutexEnd(*libc.TLS) int32 { return sqlite3.SQLITE_OK }

func mutexAlloc(tls *libc.TLS, kind int32) uintptr {
	switch {
	case kind == mutexFast:
		m := new(sqliteMutex)
		p := uintptr(unsafe.Pointer(m))
		fastMu.Lock()
		fastMutexes[p] = m
		fastMu.Unlock()
		return p
	case kind == mutexRecursive:
		return unlocked
	case kind > mutexRecursive && kind <= mutexStaticLast:
		return uintptr(unsafe.Pointer(&staticMutexes[kind]))
	}
	return 0
}

// mutexFree forgets a fast mutex; SQLite frees only those it made, and
// the recursive one is left as it is.
func mutexFree(_ *libc.TLS, p uintptr) {
	fastMu.Lock()
	delete(fastMutexes, p)
	fastMu.Unlock()
}

func mutexEnter(_ *libc.TLS, p uintptr) {
	if p != unlocked {
		mutexAt(p).mu.Lock()
	}
}

func mutexTry(_ *libc.TLS, p uintptr) int32 {
	if p == unlocked || mutexAt(p).mu.TryLock() {
		return sqlite3.SQLITE_OK
	}
	return sqlite3.SQLITE_BUSY
}

func mutexLeave(_ *libc.TLS, p uintptr) {
	if p != unlocked {
		mutexAt(p).mu.Unlock()
	}
}

// mutexAt is the mutex at p. The collector neither moves a Go object nor
// frees one still referenced (staticMutexes, fastMutexes), so p is still
// its address: read as a pointer, not converted from an integer, which vet
// rightly takes for a pointer that may have died.
func mutexAt(p uintptr) *sqliteMutex {
	return (*sqliteMutex)(*(*unsafe.Pointer)(unsafe.Pointer(&p)))
}

// mutexHeld answers sqlite3_mutex_held and _notheld, which SQLite asks only
// in its assertions, compiled out of modernc's build; 1 is what an
// implementation that cannot tell must answer to both.
func mutexHeld(*libc.TLS, uintptr) int32 { return 1 }

// cFunc is the address SQLite calls a Go function by: transpiled C calls
// a function pointer as a Go func value stored at that address.
func cFunc[F any](f F) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f F }{f}))
}

// configureMutexes gives SQLite the mutexes above. Like configurePageCache,
// it must run before SQLite is initialized.
func configureMutexes() error {
	tls := libc.NewTLS()
	defer tls.Close()
	// In libc's memory: the race detector refuses a Go pointer handed to
	// SQLite as an integer, and SQLite copies the methods.
	methods := libc.Xcalloc(tls, 1, libc.Tsize_t(unsafe.Sizeof(sqlite3.Sqlite3_mutex_methods{})))
	if methods == 0 {
		return fmt.Errorf("allocate SQLite's mutex methods")
	}
	defer libc.Xfree(tls, methods)
	*(*sqlite3.Sqlite3_mutex_methods)(*(*unsafe.Pointer)(unsafe.Pointer(&methods))) = sqlite3.Sqlite3_mutex_methods{
		FxMutexInit:    cFunc(mutexInit),
		FxMutexEnd:     cFunc(mutexEnd),
		FxMutexAlloc:   cFunc(mutexAlloc),
		FxMutexFree:    cFunc(mutexFree),
		FxMutexEnter:   cFunc(mutexEnter),
		FxMutexTry:     cFunc(mutexTry),
		FxMutexLeave:   cFunc(mutexLeave),
		FxMutexHeld:    cFunc(mutexHeld),
		FxMutexNotheld: cFunc(mutexHeld),
	}
	args := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_MUTEX, libc.VaList(args, methods)); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlite3_config(SQLITE_CONFIG_MUTEX): %d", rc)
	}
	return nil
}
