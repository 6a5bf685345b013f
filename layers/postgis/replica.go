package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"planmap/layers"
)

// Several planmap processes share one database as peers. Each hears of
// the others' changes, and of any program's, from a notice: every
// transaction that writes the change log sends one on channel
// planmap_changes as it commits (migrations/0008_notify.sql), carrying
// its last change number and the WAL position just before its commit
// record. The store LISTENs on a connection of its own and wakes its
// follower on each notice; while it listens it polls only once a second,
// for what it might not have heard, and every 50 ms while it cannot.
//
// Reads go to a read replica (a streaming standby) when one has replayed
// every change the store knows of, and to the primary otherwise. What the
// store knows of is a WAL position, need, raised by every refresh that
// finds a change: the refresh reads the change log and
// pg_current_wal_insert_lsn() in one statement on the primary, and a
// position read after a commit is visible is past its commit record. (The
// notice's own position comes before the commit record, which no
// transaction can see its own of, so a replica that has only reached it
// may still miss the commit.) need is raised before the catalog that
// holds the change is published, so a read of a layer at a version, and
// a cache refilled after a change, never come from a replica older than
// that; an editor's reads (layers.ReadPrimary) go to the primary always.
// A watcher asks each replica how far it has replayed: at once when need
// rises, then again at growing intervals while it is behind, and every
// replicaCheck when nothing happens.

// channel is the NOTIFY channel of the change log.
const channel = "planmap_changes"

// listeningPoll is how often the follower polls while the store listens:
// only to catch a change whose notice was lost with the connection. (A
// variable for the tests, which show that notices alone suffice.)
var listeningPoll atomic.Int64

func init() { listeningPoll.Store(int64(time.Second)) }

// replicaCheck is how often an idle watcher asks the replicas.
const replicaCheck = 250 * time.Millisecond

// replica is one read replica.
type replica struct {
	name     string
	pool     *pgxpool.Pool
	up       atomic.Bool
	replayed atomic.Uint64 // its replay position, as last asked
	reads    atomic.Int64

	mu     sync.Mutex
	err    string    // why it is not up
	lastTx time.Time // commit time of the last transaction it replayed
}

// replicas is what a store with read replicas keeps.
type replicas struct {
	list         []*replica
	next         atomic.Uint32 // round robin
	need         atomic.Uint64 // a replica serves reads once it has replayed this
	primaryReads atomic.Int64
	wake         chan struct{}
}

// parseLSN reads a WAL position as PostgreSQL writes it (hex "X/Y").
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("WAL position %q is not X/Y", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL position %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL position %q: %w", s, err)
	}
	return h<<32 | l, nil
}

// formatLSN writes a WAL position as PostgreSQL does.
func formatLSN(p uint64) string { return fmt.Sprintf("%X/%X", p>>32, uint32(p)) }

// openReplicas connects to the replicas at urls. A replica that does not
// answer yet is not an error: reads go to the primary until it does.
func openReplicas(ctx context.Context, urls []string) (*replicas, error) {
	rs := &replicas{wake: make(chan struct{}, 1)}
	for _, u := range urls {
		cfg, err := pgxpool.ParseConfig(u)
		if err != nil {
			rs.close()
			return nil, layers.Errorf(layers.EINVALID, "replica URL: %v", err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("replica %s: %w", Name(u), err)
		}
		rs.list = append(rs.list, &replica{name: Name(u), pool: pool, err: "not asked yet"})
	}
	return rs, nil
}

func (rs *replicas) close() {
	for _, r := range rs.list {
		r.pool.Close()
	}
}

// raise raises need to p, and wakes the watcher if it rose.
func (rs *replicas) raise(p uint64) {
	for {
		cur := rs.need.Load()
		if p <= cur {
			return
		}
		if rs.need.CompareAndSwap(cur, p) {
			select {
			case rs.wake <- struct{}{}:
			default:
			}
			return
		}
	}
}

// pick returns a replica that has replayed need, round robin, or nil for
// the primary.
func (rs *replicas) pick(ctx context.Context) *replica {
	if !layers.ReadsPrimary(ctx) {
		need := rs.need.Load()
		n := uint32(len(rs.list))
		start := rs.next.Add(1)
		for i := range n {
			r := rs.list[(start+i)%n]
			if r.up.Load() && r.replayed.Load() >= need {
				r.reads.Add(1)
				return r
			}
		}
	}
	rs.primaryReads.Add(1)
	return nil
}

// watch asks the replicas how far they have replayed until ctx ends.
func (rs *replicas) watch(ctx context.Context) {
	const first = 2 * time.Millisecond
	delay := first
	for {
		wait := replicaCheck
		if rs.check(ctx) {
			wait, delay = delay, min(2*delay, replicaCheck)
		} else {
			delay = first
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-rs.wake:
			delay = first
		case <-t.C:
		}
		t.Stop()
	}
}

// check asks every replica how far it has replayed, and reports whether
// one that is up has not reached need.
func (rs *replicas) check(ctx context.Context) (behind bool) {
	need := rs.need.Load()
	for _, r := range rs.list {
		r.check(ctx)
		if r.up.Load() && r.replayed.Load() < need {
			behind = true
		}
	}
	return behind
}

// check asks r how far it has replayed.
func (r *replica) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var standby bool
	var lsn *string
	var last *time.Time
	err := r.pool.QueryRow(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()`).Scan(&standby, &lsn, &last)
	if err == nil && (!standby || lsn == nil) {
		// A promoted standby has a history of its own from then on: its
		// reads are no longer the primary's.
		err = errors.New("it is not a streaming standby (promoted, or not a replica of the primary)")
	}
	var p uint64
	if err == nil {
		p, err = parseLSN(*lsn)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return
		}
		r.up.Store(false)
		r.err = err.Error()
		return
	}
	r.err = ""
	if last != nil {
		r.lastTx = *last
	}
	// Only forward: a position read late never takes back one read before.
	if p > r.replayed.Load() {
		r.replayed.Store(p)
	}
	r.up.Store(true)
}

// fail marks r down after a read on it failed for want of a connection;
// the watcher brings it back when it answers.
func (r *replica) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up.Store(false)
	r.err = err.Error()
}

// connectionError reports whether err is the database's failing to
// answer, not its answer: a read that met it may be made again elsewhere.
func connectionError(ctx context.Context, err error) bool {
	var pgErr *pgconn.PgError
	return err != nil && ctx.Err() == nil && !errors.As(err, &pgErr) && layers.ErrorCode(err) == ""
}

// readPool returns the pool a read under ctx goes to, and the replica it
// belongs to (nil for the primary).
func (s *Store) readPool(ctx context.Context) (*pgxpool.Pool, *replica) {
	if s.replicas == nil {
		return s.pool, nil
	}
	if r := s.replicas.pick(ctx); r != nil {
		return r.pool, r
	}
	return s.pool, nil
}

// read runs fn on the pool a read under ctx goes to; should a replica
// not answer, it is marked down and fn runs again on the primary.
func (s *Store) read(ctx context.Context, fn func(querier) error) error {
	pool, r := s.readPool(ctx)
	err := fn(pool)
	if r != nil && connectionError(ctx, err) {
		r.fail(err)
		err = fn(s.pool)
	}
	return err
}

// readOnly begins a read-only transaction whose queries all see one
// snapshot of the database, on the pool a read under ctx goes to.
func (s *Store) readOnly(ctx context.Context) (pgx.Tx, error) {
	opt := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	pool, r := s.readPool(ctx)
	tx, err := pool.BeginTx(ctx, opt)
	if r != nil && connectionError(ctx, err) {
		r.fail(err)
		tx, err = s.pool.BeginTx(ctx, opt)
	}
	return tx, err
}

// Replication says how the read replicas do, fresh from each, with their
// lag behind the primary's WAL; ok is false without replicas.
func (s *Store) Replication(ctx context.Context) (rep layers.Replication, ok bool) {
	if s.replicas == nil {
		return rep, false
	}
	var primary *string
	// The primary's position first: a replica asked after it is never
	// shown ahead of it.
	if err := s.pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&primary); err != nil {
		primary = nil
	}
	var head uint64
	if primary != nil {
		head, _ = parseLSN(*primary)
	}
	s.replicas.check(ctx)
	rep.PrimaryReads = s.replicas.primaryReads.Load()
	for _, r := range s.replicas.list {
		r.mu.Lock()
		st := layers.Replica{Name: r.name, Up: r.up.Load(), Error: r.err, Reads: r.reads.Load()}
		last := r.lastTx
		r.mu.Unlock()
		if p := r.replayed.Load(); p > 0 {
			st.ReplayLSN = formatLSN(p)
			if head > p {
				st.LagBytes = int64(head - p)
				if !last.IsZero() {
					st.LagSeconds = max(0, time.Since(last).Seconds())
				}
			}
		}
		rep.Replicas = append(rep.Replicas, st)
	}
	return rep, true
}

// listen follows the notices of the change log until ctx ends, connecting
// again after a failure; meanwhile the follower polls often.
func (s *Store) listen(ctx context.Context) {
	defer close(s.listening)
	const first = 100 * time.Millisecond
	backoff := first
	for {
		listened, err := s.listenOnce(ctx)
		s.follow.SetPollInterval(layers.PollInterval)
		if listened {
			// It worked until now: the database is back, or was never
			// away; try again soon.
			backoff = first
		}
		if ctx.Err() != nil {
			return
		}
		s.follow.Report(fmt.Errorf("listening for the change log's notices: %w (polling every %v meanwhile)", err, layers.PollInterval))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce LISTENs on a connection of its own and wakes the follower at
// each notice, until the connection or ctx ends; listened says whether
// the LISTEN took.
func (s *Store) listenOnce(ctx context.Context) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return false, err
	}
	s.follow.SetPollInterval(time.Duration(listeningPoll.Load()))
	// What changed before the LISTEN took effect was announced to no one.
	s.follow.Wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		s.heard(n.Payload)
		s.follow.Wake()
	}
}

// heard takes in a notice's payload, "seq lsn": the highest change
// number heard of, which the tests read (export_test.go) to tell a
// notice from the poll.
func (s *Store) heard(payload string) {
	seq, _, _ := strings.Cut(payload, " ")
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil {
		s.follow.Report(fmt.Errorf("a notice on %s that is not \"seq lsn\": %q", channel, payload))
		return
	}
	for {
		cur := s.lastNotice.Load()
		if n <= cur || s.lastNotice.CompareAndSwap(cur, n) {
			return
		}
	}
}
