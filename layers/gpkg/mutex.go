package gpkg

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// modernc opens every connection SQLITE_OPEN_FULLMUTEX, SQLite's
// serialized mode: each call on a connection takes the connection's
// recursive mutex, and reading a row takes it for every call on each
// column (its type, its value, a text's or blob's length). database/sql
// never calls into one driver connection from two goroutines at once, and
// modernc's own state of a connection is no safer than that; the one call
// modernc makes from elsewhere, sqlite3_interrupt when a context ends, is
// an atomic store that takes no mutex. So the connection's mutex guards
// nothing here, and taking it (two atomic swaps and a lock each time, on
// modernc's emulated pthreads) was 8–10 % of the CPU of reading a box of 50
// parcels from the file (BENCHMARKS.md, "SQLite's mutexes").
//
// SQLite lets a program give it its mutexes (SQLITE_CONFIG_MUTEX). These
// are Go mutexes, and a connection's recursive mutex takes no lock: the
// connection is as in SQLite's multi-thread mode, which SQLite documents
// as safe when no connection is used by two threads at once. SQLite asks
// for a recursive mutex in three places: each connection's; its
// initialization's, which sqlite3_initialize makes while it holds the
// static main mutex, and which is a real recursive mutex, since goroutines
// may open their first connections at once (it tells apart any other
// recursive mutex by that); and the RBU extension's, which planmap never
// calls (modernc's driver has no way to). Whoever upgrades modernc should
// grep its lib for SQLITE_MUTEX_RECURSIVE again. The mutexes SQLite shares
// between connections (its page cache's, its allocator's, the unix VFS's
// file locks) are static or fast ones: real locks.
//
// The configuration is the process's: any other use of modernc's SQLite in
// the same program has it too, and once the first connection has
// initialized SQLite it refuses configuration (such as modernc's
// RegisterPageCache).

// SQLite takes its configuration only before it is initialized, which its
// first connection does.
var (
	// mutexErr says why SQLite keeps its own mutexes (slower, and as
	// safe); nil if it has these.
	mutexErr = configureMutexes()
	// pageCacheErr says why SQLite's pages could not be given slots of
	// their own (they then come from libc); nil if they were.
	pageCacheErr = configurePageCache()
)

// MutexErr says why SQLite keeps its own mutexes, which cost reads about
// a tenth more CPU; nil if it has this package's.
func MutexErr() error { return mutexErr }

// sqliteMutex is a mutex of SQLite's. SQLite holds it by its address, an
// integer to it, and never reads it: it is Go's memory, not libc's, so
// that the race detector sees the order a lock makes (it ignores libc's
// memory, and SQLite's static mutexes guard state the transpiled SQLite
// keeps in Go variables, such as its page cache's).
type sqliteMutex struct {
	mu sync.Mutex
	// A recursive mutex's holder (a libc.TLS's ID; 0 when free) and how
	// many times it entered.
	recursive bool
	owner     atomic.Int32
	count     int32
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
	// unlocked is the address of every connection's mutex, and is never
	// locked: a variable's, which no object of the heap shares.
	unlockedMark byte
	unlocked     = uintptr(unsafe.Pointer(&unlockedMark))
	// mainMutex is SQLite's static main mutex, and mainHolder the ID of
	// the libc.TLS holding it (0 when free): a recursive mutex asked for
	// under it is initialization's.
	mainMutex  = &staticMutexes[sqlite3.SQLITE_MUTEX_STATIC_MAIN]
	mainHolder atomic.Int32
	// madeMutexes keep the mutexes SQLite made, which it knows only as
	// integers, from the collector until it frees them.
	madeMu      sync.Mutex
	madeMutexes = map[uintptr]*sqliteMutex{}
)

func mutexInit(*libc.TLS) int32 { return sqlite3.SQLITE_OK }

func mutexEnd(*libc.TLS) int32 { return sqlite3.SQLITE_OK }

func mutexAlloc(tls *libc.TLS, kind int32) uintptr {
	switch {
	case kind == mutexFast:
		return made(&sqliteMutex{})
	case kind == mutexRecursive:
		if mainHolder.Load() == tls.ID {
			return made(&sqliteMutex{recursive: true})
		}
		return unlocked
	case kind > mutexRecursive && kind <= mutexStaticLast:
		return uintptr(unsafe.Pointer(&staticMutexes[kind]))
	}
	return 0
}

// made keeps m until SQLite frees it, and returns its address.
func made(m *sqliteMutex) uintptr {
	p := uintptr(unsafe.Pointer(m))
	madeMu.Lock()
	madeMutexes[p] = m
	madeMu.Unlock()
	return p
}

// mutexFree forgets a mutex SQLite made; SQLite frees only those, and
// unlocked is not one.
func mutexFree(_ *libc.TLS, p uintptr) {
	madeMu.Lock()
	delete(madeMutexes, p)
	madeMu.Unlock()
}

func mutexEnter(tls *libc.TLS, p uintptr) {
	if p == unlocked {
		return
	}
	m := mutexAt(p)
	if !m.recursive {
		m.mu.Lock()
		if m == mainMutex {
			mainHolder.Store(tls.ID)
		}
		return
	}
	if m.owner.Load() == tls.ID {
		m.count++
		return
	}
	m.mu.Lock()
	m.owner.Store(tls.ID)
	m.count = 1
}

func mutexTry(tls *libc.TLS, p uintptr) int32 {
	if p == unlocked {
		return sqlite3.SQLITE_OK
	}
	m := mutexAt(p)
	switch {
	case m.recursive && m.owner.Load() == tls.ID:
		m.count++
	case !m.mu.TryLock():
		return sqlite3.SQLITE_BUSY
	case m.recursive:
		m.owner.Store(tls.ID)
		m.count = 1
	case m == mainMutex:
		mainHolder.Store(tls.ID)
	}
	return sqlite3.SQLITE_OK
}

func mutexLeave(_ *libc.TLS, p uintptr) {
	if p == unlocked {
		return
	}
	m := mutexAt(p)
	if m.recursive {
		if m.count--; m.count > 0 {
			return
		}
		m.owner.Store(0)
	} else if m == mainMutex {
		mainHolder.Store(0)
	}
	m.mu.Unlock()
}

// mutexAt is the mutex at p. The collector neither moves a Go object nor
// frees one still referenced (staticMutexes, madeMutexes), so p is still
// its address. It is read as a pointer rather than converted from the
// integer: vet rightly takes such a conversion for a pointer that may have
// died, and under -race checkptr aborts on one into the heap.
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
	// In libc's memory, which SQLite copies the methods from: a Go
	// pointer handed over as an integer would make checkptr abort under
	// -race when the transpiled code turns it back into a pointer.
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
