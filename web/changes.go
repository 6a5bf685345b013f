package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"planmap/layers"
)

// The change log, for all layers in one stream: /changes lists the
// changes after a change number, /changes/stream pushes them as
// server-sent events. Both speak of a change as changeDoc.

const (
	// defaultChangesLimit and maxChangesLimit: how many changes a page of
	// /changes holds by default and at most.
	defaultChangesLimit = 1000
	maxChangesLimit     = 10000
	// changesScan is how many entries of the log one /changes request
	// reads at most while looking for changes of the layers asked for;
	// past it the page ends early, with a next link.
	changesScan = 50000

	// feedEvery is how often the feed looks at the catalog's change
	// number. That costs an atomic load: the store itself follows the
	// file (gpkg polls SQLite every 50 ms), and the feed follows the store.
	feedEvery = 50 * time.Millisecond
	// feedBatch is how many entries the feed reads from the log at a time.
	feedBatch = 1000
	// subscriberQueue is how many batches a stream may fall behind before
	// it is dropped: the batches are shared, so a slow client holds at
	// most this many slots, and the client resumes from its Last-Event-ID.
	subscriberQueue = 32
	// maxBacklog: a stream resumed from further back than this many
	// changes is told to read everything again (a reset event) rather
	// than sent them one by one.
	maxBacklog = 10000
	// DefaultHeartbeat is how often an idle change stream sends a comment,
	// so that proxies and the browser keep the connection open.
	DefaultHeartbeat = 15 * time.Second
	// streamRetry is the reconnection delay the stream asks of the
	// browser, in milliseconds.
	streamRetry = 2000
)

// changeDoc is one change as /changes and /changes/stream send it.
type changeDoc struct {
	Seq        int64  `json:"seq"`
	Collection string `json:"collection"`
	// ID is the feature's id; absent for op "layer", a change of the
	// layer as a whole (created, redeclared, replaced, dropped).
	ID   int64     `json:"id,omitempty"`
	Op   layers.Op `json:"op"`
	Time string    `json:"time,omitempty"`
}

func newChangeDoc(c layers.Change) changeDoc {
	d := changeDoc{Seq: c.Seq, Collection: c.Layer, Op: c.Op}
	if c.Op != layers.OpLayer {
		d.ID = c.FID
	}
	if !c.At.IsZero() {
		d.Time = c.At.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return d
}

// changesDoc is the JSON of /changes.
type changesDoc struct {
	Changes []changeDoc `json:"changes"`
	// Latest is the store's latest change as of this answer: with no next
	// link, the since of the next request. Smaller than the since asked
	// for when the log started again (the database file was replaced):
	// then everything is to be read again.
	Latest         int64  `json:"latest"`
	NumberReturned int    `json:"numberReturned"`
	Links          []link `json:"links"`
}

// layerSet is the collections parameter: the layers a client follows, or
// nil for all.
type layerSet map[string]bool

func (ls layerSet) has(id string) bool { return ls == nil || ls[id] }

// parseCollections reads the collections parameter against the catalog:
// an unknown layer is a 400, as on /stats.
func parseCollections(q url.Values, cat *layers.Catalog) (layerSet, error) {
	if !q.Has("collections") {
		return nil, nil
	}
	ls := layerSet{}
	for _, id := range strings.Split(q.Get("collections"), ",") {
		id = strings.TrimSpace(id)
		if _, ok := cat.Collection(id); !ok {
			return nil, layers.Errorf(layers.EINVALID, "collections=%s: there is no collection %q; /collections lists them", q.Get("collections"), id)
		}
		ls[id] = true
	}
	return ls, nil
}

// parseSince reads a change number: the since parameter, or the
// Last-Event-ID header of a reconnecting event stream.
func parseSince(name, v string) (int64, error) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, layers.Errorf(layers.EINVALID, "%s=%s is not a change number (a whole number of 0 or more, from seq or latest of /changes)", name, v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, layers.Errorf(layers.EINVALID, "%s=%s is too large for a change number", name, v)
	}
	return n, nil
}

// changes answers /changes: the changes after since, oldest first, of
// the layers asked for, up to the catalog's latest.
func (s *server) changes(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, "since", "collections", "limit"); err != nil {
		return err
	}
	var since int64
	if q.Has("since") {
		var err error
		if since, err = parseSince("since", q.Get("since")); err != nil {
			return err
		}
	}
	limit, err := parseLimit(q.Get("limit"), defaultChangesLimit, maxChangesLimit)
	if err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	follow, err := parseCollections(q, cat)
	if err != nil {
		return err
	}
	latest := cat.Seq
	doc := changesDoc{Changes: []changeDoc{}, Latest: latest}
	// Read the log up to the catalog's change, so that what is listed
	// agrees with what the collections say; keep the layers asked for.
	after, scanned := since, 0
scan:
	for after < latest && len(doc.Changes) < limit && scanned < changesScan {
		batch := limit - len(doc.Changes)
		if follow != nil {
			batch = max(batch, feedBatch)
		}
		cs, err := s.store.Changes(r.Context(), after, min(batch, changesScan-scanned))
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			if c.Seq > latest {
				break scan
			}
			after = c.Seq
			scanned++
			if follow.has(c.Layer) {
				doc.Changes = append(doc.Changes, newChangeDoc(c))
				if len(doc.Changes) == limit {
					break scan
				}
			}
		}
	}
	doc.NumberReturned = len(doc.Changes)
	base := s.base(r) + "/changes"
	doc.Links = []link{{Href: withQuery(base, q, ""), Rel: "self", Type: mediaJSON, Title: "these changes"}}
	// More to read: the next page begins after the last entry read, so
	// that none is listed twice.
	if after < latest && after > since {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("since", strconv.FormatInt(after, 10))
		doc.Links = append(doc.Links, link{Href: withQuery(base, nq, ""), Rel: "next", Type: mediaJSON, Title: "the changes after these"})
	}
	doc.Links = append(doc.Links, link{Href: s.base(r) + "/changes/stream", Rel: "alternate", Type: mediaEventStream, Title: "the changes as they happen (server-sent events)"})
	// A list of what changed is out of date the moment it is written.
	w.Header().Set("Cache-Control", "no-cache")
	return writeJSON(w, http.StatusOK, doc)
}

const mediaEventStream = "text/event-stream"

// changeStream answers /changes/stream: server-sent events, one "change"
// event per change of the layers asked for, its id the change number, so
// that a browser that reconnects (EventSource does by itself, sending
// Last-Event-ID) misses none and gets none twice. The stream begins with
// the changes after since (the since parameter, or Last-Event-ID, which
// wins), then a "ready" event whose id is the latest change, then follows
// the store until the client goes away or the server shuts down. A
// comment line every heartbeat keeps the connection alive. A "reset"
// event (id the latest change) says the client cannot be brought up to
// date change by change (it is too far behind, or the log started again)
// and should read everything again.
func (s *server) changeStream(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, "since", "collections"); err != nil {
		return err
	}
	since, resume := int64(0), false
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := parseSince("Last-Event-ID", v)
		if err != nil {
			return err
		}
		since, resume = n, true
	} else if q.Has("since") {
		n, err := parseSince("since", q.Get("since"))
		if err != nil {
			return err
		}
		since, resume = n, true
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	follow, err := parseCollections(q, cat)
	if err != nil {
		return err
	}

	h := w.Header()
	h.Set("Content-Type", mediaEventStream)
	h.Set("Cache-Control", "no-cache")
	// nginx buffers a proxied response unless told not to.
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	sub, pos, err := s.feed.subscribe(r.Context())
	if err != nil {
		return err
	}
	defer s.feed.unsubscribe(sub)

	rc := http.NewResponseController(w)
	// The stream lasts as long as the client stays: the server's write
	// timeout (meant for downloads) would cut it, and its read timeout is
	// lifted too, so that nothing times the connection out under it.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	w.WriteHeader(http.StatusOK)
	ev := &eventWriter{w: w, rc: rc}
	ev.printf("retry: %d\n\n", streamRetry)

	// What the client missed, from the log, up to where the feed starts.
	if resume {
		if since > pos || pos-since > maxBacklog {
			ev.event("reset", pos, map[string]int64{"latest": pos})
		} else {
			for after := since; after < pos; {
				cs, err := s.store.Changes(r.Context(), after, feedBatch)
				if err != nil {
					return ev.fail(r, err)
				}
				if len(cs) == 0 {
					break
				}
				for _, c := range cs {
					if c.Seq > pos {
						break
					}
					after = c.Seq
					if follow.has(c.Layer) {
						ev.event("change", c.Seq, newChangeDoc(c))
					}
				}
			}
		}
	}
	ev.event("ready", pos, map[string]int64{"latest": pos})
	if err := ev.flush(); err != nil {
		return ev.fail(r, err)
	}

	beat := s.opt.Heartbeat
	if beat <= 0 {
		beat = DefaultHeartbeat
	}
	heartbeat := time.NewTicker(beat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.opt.Stop:
			return nil
		case <-heartbeat.C:
			ev.printf(": heartbeat\n\n")
		case batch, ok := <-sub.c:
			if !ok {
				// Dropped: too slow, or the log started again. The client
				// reconnects with its Last-Event-ID.
				return nil
			}
			for _, c := range batch.changes {
				if follow.has(c.Layer) {
					ev.event("change", c.Seq, newChangeDoc(c))
				}
			}
			if last := batch.changes[len(batch.changes)-1]; !follow.has(last.Layer) {
				// An id with no data moves the client's Last-Event-ID
				// past changes it does not follow, and fires nothing.
				ev.printf("id: %d\n\n", last.Seq)
			}
		}
		if err := ev.flush(); err != nil {
			return ev.fail(r, err)
		}
	}
}

// eventWriter writes server-sent events; the first error sticks.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (e *eventWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// event writes one event; data is JSON, one line.
func (e *eventWriter) event(name string, id int64, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		e.err = err
		return
	}
	e.printf("id: %d\nevent: %s\ndata: %s\n\n", id, name, b)
}

func (e *eventWriter) flush() error {
	if e.err == nil {
		e.err = e.rc.Flush()
	}
	return e.err
}

// fail ends a stream that could not be written: a client gone is no
// error; anything else is, and cuts the response.
func (e *eventWriter) fail(r *http.Request, err error) error {
	if r.Context().Err() != nil {
		return nil
	}
	return err
}

// feed fans the store's change log out to the open change streams: while
// any is open, one goroutine follows the catalog's change number, reads
// each new change from the log once, and hands it to every stream. The
// database is never asked per client except to catch one up.
type feed struct {
	store Store
	onErr func(error)

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	seq     int64 // the last change handed out
	running bool

	// wake, when written to, makes the feed look at once rather than at
	// its next tick: a write through this server has been taken into the
	// catalog when it returns, and its readers see it without waiting
	// up to feedEvery (which other processes' edits still wait).
	wake chan struct{}
}

// written tells the feed that a write through this server was taken in.
func (f *feed) written() {
	select {
	case f.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// changeBatch is a run of changes, oldest first, shared by every
// subscriber: read-only.
type changeBatch struct{ changes []layers.Change }

type subscriber struct {
	c chan changeBatch
}

// subscribe adds a subscriber, which receives every change after pos.
func (f *feed) subscribe(ctx context.Context) (*subscriber, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		cat, err := f.store.Catalog(ctx)
		if err != nil {
			return nil, 0, err
		}
		f.seq = cat.Seq
		f.running = true
		go f.run()
	}
	sub := &subscriber{c: make(chan changeBatch, subscriberQueue)}
	f.subs[sub] = struct{}{}
	return sub, f.seq, nil
}

// unsubscribe removes sub, if the feed has not dropped it already.
func (f *feed) unsubscribe(sub *subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[sub]; ok {
		delete(f.subs, sub)
		close(sub.c)
	}
}

// subscribers is how many streams the feed serves.
func (f *feed) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// run follows the catalog until the last subscriber has gone.
func (f *feed) run() {
	t := time.NewTicker(feedEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-f.wake:
		}
		if !f.step() {
			return
		}
	}
}

// step hands out what changed since the last step, and reports whether
// the feed goes on.
func (f *feed) step() bool {
	f.mu.Lock()
	if len(f.subs) == 0 {
		f.running = false
		f.mu.Unlock()
		return false
	}
	from := f.seq
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cat, err := f.store.Catalog(ctx)
	if err != nil {
		f.onErr(err)
		return true
	}
	if cat.Seq < from {
		// The log went back: the database was replaced. Every stream
		// ends; each client comes back ahead of the log and is told to
		// read everything again.
		f.mu.Lock()
		for sub := range f.subs {
			delete(f.subs, sub)
			close(sub.c)
		}
		f.seq = cat.Seq
		f.mu.Unlock()
		return true
	}
	for from < cat.Seq {
		cs, err := f.store.Changes(ctx, from, feedBatch)
		if err != nil {
			f.onErr(err)
			return true
		}
		// Only what the catalog includes: the rest comes next step.
		if i := slices.IndexFunc(cs, func(c layers.Change) bool { return c.Seq > cat.Seq }); i >= 0 {
			cs = cs[:i]
		}
		if len(cs) == 0 {
			// Nothing in the log up to the catalog's change (the
			// entries were removed): nothing to hand out.
			f.mu.Lock()
			f.seq = cat.Seq
			f.mu.Unlock()
			return true
		}
		f.publish(changeBatch{changes: cs})
		from = cs[len(cs)-1].Seq
	}
	return true
}

// publish hands a batch to every subscriber; one whose queue is full is
// dropped rather than waited for.
func (f *feed) publish(b changeBatch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for sub := range f.subs {
		select {
		case sub.c <- b:
		default:
			delete(f.subs, sub)
			close(sub.c)
		}
	}
	f.seq = b.changes[len(b.changes)-1].Seq
}
