package web

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"slices"
	"sync"

	"planmap/web/lru"
)

// The statistics of a layer take a read of every feature it has (200,000
// parcels: seconds), and every visitor's map asks for the same ones: the
// counts by stage and land-use code of each big layer, for the filter
// and the legend. An answer depends only on the layer's version and the
// request (its query, the time asked about, the base URL of its links),
// so the answers about whole layers are kept here, keyed by those, within
// a byte budget, least recently used out first. An edit changes the
// layer's version, so the answers from before it are no longer asked for
// and age out; nothing needs dropping. Answers with a bbox are not kept:
// every view asks another.

// DefaultStatsCacheBytes is the byte budget of the statistics cache unless
// told otherwise: an answer by two fields is a few kilobytes, so this
// holds hundreds.
const DefaultStatsCacheBytes = 1 << 20

// statsCache holds statistics answers within a byte budget. Answers being
// made are waited for, not made twice: a map opening asks for each layer
// once, but many maps open at once after an edit or a restart. It is safe
// for concurrent use.
type statsCache struct {
	mu       sync.Mutex
	held     *lru.Cache[string, *statsAnswer]
	building map[string]*statsCall

	hits, misses, shared int64
}

// statsCall is an answer being made.
type statsCall struct {
	done    chan struct{} // closed when answer and err are set
	answer  *statsAnswer
	err     error
	waiters int // requests waiting for it (under statsCache.mu)
}

// statsAnswer is a response as written: its status, headers and body.
type statsAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a *statsAnswer) size() int64 {
	n := len(a.body) + 64
	for k, vs := range a.header {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return int64(n)
}

// replay writes a to w.
func (a *statsAnswer) replay(w http.ResponseWriter) error {
	h := w.Header()
	for k, vs := range a.header {
		h[k] = slices.Clone(vs)
	}
	w.WriteHeader(a.status)
	_, err := w.Write(a.body)
	return err
}

// recorder is a ResponseWriter that keeps what is written to it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func newStatsCache(budget int64) *statsCache {
	return &statsCache{held: lru.New[string, *statsAnswer](budget), building: map[string]*statsCall{}}
}

// get returns the answer kept under key, or the one write makes now (and
// keeps, if it is a 200 within the budget, dropping the least recently
// used answers beyond it).
func (c *statsCache) get(ctx context.Context, key string, write func(http.ResponseWriter) error) (*statsAnswer, error) {
	c.mu.Lock()
	for {
		if a, ok := c.held.Get(key); ok {
			c.hits++
			c.mu.Unlock()
			return a, nil
		}
		cl, ok := c.building[key]
		if !ok {
			break
		}
		cl.waiters++
		c.mu.Unlock()
		select {
		case <-cl.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if cl.err == nil {
			c.mu.Lock()
			c.shared++
			c.mu.Unlock()
			return cl.answer, nil
		}
		// Its maker failed (its client went away, say): look again, and
		// make it here unless another waiter has begun to.
		c.mu.Lock()
	}
	c.misses++
	cl := &statsCall{done: make(chan struct{})}
	c.building[key] = cl
	c.mu.Unlock()

	rec := &recorder{header: http.Header{}}
	cl.err = write(rec)
	if cl.err == nil {
		cl.answer = &statsAnswer{status: rec.status, header: maps.Clone(rec.header), body: rec.body.Bytes()}
	}
	c.mu.Lock()
	if c.building[key] == cl {
		delete(c.building, key)
	}
	if cl.err == nil && cl.answer.status == http.StatusOK {
		c.held.Put(key, cl.answer, cl.answer.size()+int64(len(key)))
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.answer, cl.err
}

// Stats says how the cache does, for /healthz.
func (c *statsCache) Stats() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return map[string]any{"answers": c.held.Len(), "bytes": c.held.Size(), "budgetBytes": c.held.Budget(),
		"hits": c.hits, "misses": c.misses, "shared": c.shared}
}
