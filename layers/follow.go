package layers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A store keeps in memory only what is small whatever the size of the
// layers: each layer's declaration, count, extent and version, as a
// Catalog that readers load without waiting. It follows its change log:
// after a change by the store itself, at once (AfterWrite); after one by
// another process, when the store is told of it (Wake: PostgreSQL's
// NOTIFY), and otherwise within the poll interval. A Follower is that
// part, the same for every store; how a refresh learns that something
// changed and reads a layer's state is the store's refresh step.

// PollInterval is how often a Follower runs its store's refresh step, by
// default, to take in what other processes wrote. The step first asks
// whether anything did, which costs the store one small query. A store
// that is told of changes (Wake) polls less often (SetPollInterval).
const PollInterval = 50 * time.Millisecond

// refreshTimeout bounds a refresh of the poll loop, which no caller waits
// for: a database that stops answering is reported (OnError) every
// refreshTimeout instead of holding the loop, and Close, for ever.
const refreshTimeout = 10 * time.Second

// ChangeBatch is how many change-log rows a refresh step reads at a time.
const ChangeBatch = 10000

// RefreshStep takes in what changed since cur, the catalog last published
// (nil before the first), and calls publish with the catalog that follows
// it: cur itself, or nothing, when nothing changed. Steps run one at a
// time, so a step may keep state between calls without a lock of its own.
type RefreshStep func(ctx context.Context, cur *Catalog, publish func(*Catalog)) error

// Follower keeps a store's Catalog current by following its change log.
// The store gives it its refresh step (NewFollower) and calls AfterWrite
// after each of its own writes; the first Catalog builds the catalog and
// starts polling for other processes' writes, which Close stops.
type Follower struct {
	step    RefreshStep
	catalog atomic.Pointer[Catalog]
	mu      sync.Mutex // one refresh at a time; guards stop and done
	once    sync.Once  // starts the poll loop
	stop    chan struct{}
	done    chan struct{}
	onError func(error)
	wake    chan struct{} // Wake's, one pending at most
	every   atomic.Int64  // the poll interval, in nanoseconds
	reset   chan struct{} // SetPollInterval tells the loop
}

// NewFollower returns a Follower that refreshes with step.
func NewFollower(step RefreshStep) *Follower {
	f := &Follower{step: step, wake: make(chan struct{}, 1), reset: make(chan struct{}, 1)}
	f.every.Store(int64(PollInterval))
	return f
}

// Wake asks the poll loop for a refresh now, as when the store hears that
// another process changed something. Wakes that come while one waits are
// one refresh; it never blocks.
func (f *Follower) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// SetPollInterval sets how often the poll loop refreshes when nothing
// wakes it: a store that hears of changes polls seldom, only to catch
// what it might not have heard, and often again while it cannot hear.
func (f *Follower) SetPollInterval(d time.Duration) {
	if f.every.Swap(int64(d)) != int64(d) {
		select {
		case f.reset <- struct{}{}:
		default:
		}
	}
}

// OnError sets where the follower, and its store's refresh step through
// Report, say what went wrong in work no caller is waiting for. Call it
// before the first Catalog.
func (f *Follower) OnError(fn func(error)) { f.onError = fn }

// Report says err through the function OnError set, if any.
func (f *Follower) Report(err error) {
	if f.onError != nil {
		f.onError(err)
	}
}

// Catalog returns the layers as of the last change taken in. The first
// call builds it and starts following other processes' writes.
func (f *Follower) Catalog(ctx context.Context) (*Catalog, error) {
	if cat := f.catalog.Load(); cat != nil {
		return cat, nil
	}
	if err := f.refresh(ctx); err != nil {
		return nil, err
	}
	f.once.Do(f.start)
	return f.catalog.Load(), nil
}

// Collection returns the state of layer id, or an ENOTFOUND error.
func (f *Follower) Collection(ctx context.Context, id string) (*Collection, error) {
	cat, err := f.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	if col, ok := cat.Collection(id); ok {
		return col, nil
	}
	return nil, Errorf(ENOTFOUND, "there is no collection %q; /collections lists them", id)
}

// AfterWrite takes in a write the store has just committed, so that the
// writer's next read sees it; format and args name the write in a report
// (formatted only then: AfterWrite follows every edit). The write
// is stored whatever the refresh says: a failure is reported, not
// returned (a caller would take it for a write that did not happen), and
// the poll loop takes the write in at its next round. Before the first
// Catalog there is nothing to bring up to date.
func (f *Follower) AfterWrite(ctx context.Context, format string, args ...any) {
	if f.catalog.Load() == nil {
		return
	}
	if err := f.refresh(ctx); err != nil {
		f.Report(fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err))
	}
}

// refresh runs the store's step on the catalog last published.
func (f *Follower) refresh(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.step(ctx, f.catalog.Load(), f.publish)
}

// publish makes next the catalog readers load.
func (f *Follower) publish(next *Catalog) {
	if next != nil && next != f.catalog.Load() {
		f.catalog.Store(next)
	}
}

// start starts the poll loop.
func (f *Follower) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go f.poll(f.stop, f.done)
}

// poll refreshes at every poll interval, and when woken, until stop is
// closed.
func (f *Follower) poll(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Duration(f.every.Load()))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-f.reset:
			t.Reset(time.Duration(f.every.Load()))
			continue
		case <-f.wake:
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		if err := f.refresh(ctx); err != nil {
			f.Report(err)
		}
		cancel()
	}
}

// Close stops the poll loop, if it runs, and waits for it to end; none
// starts after. Then release, if not nil, runs between refreshes: the
// store lets go there of what its step keeps.
func (f *Follower) Close(release func()) {
	f.once.Do(func() {})
	f.mu.Lock()
	stop, done := f.stop, f.done
	f.stop = nil
	f.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	if release != nil {
		f.mu.Lock()
		release()
		f.mu.Unlock()
	}
}
