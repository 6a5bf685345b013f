package web_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
	"planmap/web"
)

// otherConnection opens the store's file or database as another client
// would (GDAL, QGIS, a SQL shell): plain SQL on a connection of its own,
// which the store learns of only through the file or the database.
func otherConnection(t *testing.T, store cache.Store) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	switch s := store.(type) {
	case *gpkg.Store:
		u := url.URL{Scheme: "file", Path: s.Path()}
		db, err = sql.Open("sqlite", u.String()+"?_pragma=busy_timeout(10000)")
	case *postgis.Store:
		u, ok := postgisURLs.Load(s)
		if !ok {
			t.Fatal("a PostGIS store openPostGIS did not open")
		}
		db, err = sql.Open("pgx", u.(string))
	default:
		t.Fatalf("no other connection to a %T", store)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func execSQL(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// changeJSON is a change as /changes and /changes/stream send it.
type changeJSON struct {
	Seq        int64  `json:"seq"`
	Collection string `json:"collection"`
	ID         int64  `json:"id"`
	Op         string `json:"op"`
	Time       string `json:"time"`
}

type changesJSON struct {
	Changes        []changeJSON     `json:"changes"`
	Latest         int64            `json:"latest"`
	NumberReturned int              `json:"numberReturned"`
	Links          []map[string]any `json:"links"`
}

func getChanges(t *testing.T, u string) changesJSON {
	t.Helper()
	r := get(t, u)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s: %s", u, r.StatusCode, r.Header.Get("Content-Type"), r.body)
	}
	var doc changesJSON
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, r.body)
	}
	return doc
}

func nextLink(doc changesJSON) string {
	for _, l := range doc.Links {
		if l["rel"] == "next" {
			return l["href"].(string)
		}
	}
	return ""
}

func TestChanges(t *testing.T) {
	onEachStore(t, web.Options{}, func(t *testing.T, srv *httptest.Server, store cache.Store) {
		cat, err := store.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("OK", func(t *testing.T) {
			all := getChanges(t, srv.URL+"/changes")
			if all.Latest != cat.Seq || len(all.Changes) != int(cat.Seq) || all.NumberReturned != len(all.Changes) || nextLink(all) != "" {
				t.Fatalf("GET /changes = %d changes, latest %d, next %q; want the %d of the log, latest %d, no next link", len(all.Changes), all.Latest, nextLink(all), cat.Seq, cat.Seq)
			}
			// Every layer was imported whole: one layer row each.
			for i, c := range all.Changes {
				if c.Seq != int64(i+1) || c.Op != "layer" || c.ID != 0 {
					t.Errorf("change %d = %+v, want seq %d, a layer row without an id", i, c, i+1)
				}
				if _, err := time.Parse(time.RFC3339, c.Time); err != nil {
					t.Errorf("change %d has time %q: %v", c.Seq, c.Time, err)
				}
			}
			// Pages of 3, by their next links: the same changes, once each.
			var paged []changeJSON
			pages := 0
			for u := srv.URL + "/changes?limit=3"; u != ""; pages++ {
				doc := getChanges(t, u)
				if len(doc.Changes) > 3 {
					t.Fatalf("GET %s = %d changes, limit 3", u, len(doc.Changes))
				}
				paged = append(paged, doc.Changes...)
				u = nextLink(doc)
			}
			if fmt.Sprint(paged) != fmt.Sprint(all.Changes) || pages != (len(all.Changes)+2)/3 {
				t.Errorf("paging by 3 gave %d changes in %d pages:\n%v\nwant\n%v", len(paged), pages, paged, all.Changes)
			}
			if doc := getChanges(t, srv.URL+"/changes?since="+strconv.FormatInt(cat.Seq, 10)); len(doc.Changes) != 0 || doc.Latest != cat.Seq {
				t.Errorf("GET /changes?since=latest = %+v, want none", doc)
			}
			// A since beyond the log (a replaced file): nothing, and latest
			// below it tells the client to read everything again.
			if doc := getChanges(t, srv.URL+"/changes?since=999999"); len(doc.Changes) != 0 || doc.Latest != cat.Seq {
				t.Errorf("GET /changes?since=999999 = %+v", doc)
			}
		})

		t.Run("OtherConnection", func(t *testing.T) {
			db := otherConnection(t, store)
			execSQL(t, db, `UPDATE resettlement SET name_zh = '另一个连接改的' WHERE fid = 3`)
			execSQL(t, db, `DELETE FROM parks WHERE fid = 1`)
			want := []changeJSON{{Collection: "resettlement", ID: 3, Op: "update"}, {Collection: "parks", ID: 1, Op: "delete"}}
			var doc changesJSON
			for deadline := time.Now().Add(slack(time.Second)); ; time.Sleep(20 * time.Millisecond) {
				doc = getChanges(t, srv.URL+"/changes?since="+strconv.FormatInt(cat.Seq, 10))
				if len(doc.Changes) == 2 || time.Now().After(deadline) {
					break
				}
			}
			if len(doc.Changes) != 2 || doc.Latest != doc.Changes[1].Seq {
				t.Fatalf("GET /changes?since=%d a second after two edits on another connection = %+v", cat.Seq, doc)
			}
			for i, c := range doc.Changes {
				at, err := time.Parse(time.RFC3339, c.Time)
				if c.Collection != want[i].Collection || c.ID != want[i].ID || c.Op != want[i].Op || c.Seq != cat.Seq+int64(i)+1 || err != nil || time.Since(at) > time.Minute {
					t.Errorf("change %d = %+v, want %+v at seq %d, timed now", i, c, want[i], cat.Seq+int64(i)+1)
				}
			}
			// Only the layers asked for.
			parks := getChanges(t, srv.URL+"/changes?collections=parks,roads&since="+strconv.FormatInt(cat.Seq, 10))
			if len(parks.Changes) != 1 || parks.Changes[0].Collection != "parks" {
				t.Errorf("GET /changes?collections=parks,roads = %+v, want the park deleted only", parks.Changes)
			}
			// A filtered page of one reads on past what it leaves out.
			first := getChanges(t, srv.URL+"/changes?collections=parks&limit=1&since="+strconv.FormatInt(cat.Seq, 10))
			if len(first.Changes) != 1 || first.Changes[0].ID != 1 || nextLink(first) != "" {
				t.Errorf("GET /changes?collections=parks&limit=1 = %+v, want the park, no next link", first)
			}
		})

		t.Run("ErrBadParameters", func(t *testing.T) {
			for _, q := range []string{"since=-1", "since=x", "since=1.5", "since=", "since=99999999999999999999", "limit=0", "limit=x",
				"collections=nope", "collections=parks,nope", "collections=", "since=1&since=2", "bbox=0,0,1,1"} {
				r := get(t, srv.URL+"/changes?"+q)
				if r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), "detail") {
					t.Errorf("GET /changes?%s = %d %s %s, want 400 problem details", q, r.StatusCode, r.Header.Get("Content-Type"), r.body)
				}
			}
		})
	})
}

// sseEvent is one event of a server-sent event stream, or a comment.
type sseEvent struct {
	ID, Event, Data, Comment string
	Retry                    int
}

// stream is an open /changes/stream and the events read from it.
type stream struct {
	resp   *http.Response
	cancel context.CancelFunc
	events chan sseEvent
}

// openStream GETs path with header (pairs) and reads its events as they
// come. Closed when the test ends.
func openStream(t *testing.T, u string, header ...string) *stream {
	t.Helper()
	c, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(c, "GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", u, err)
	}
	s := &stream{resp: resp, cancel: cancel, events: make(chan sseEvent, 1000)}
	t.Cleanup(s.close)
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d: %s", u, resp.StatusCode, body)
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				s.events <- ev
				ev = sseEvent{}
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				ev.Comment = value
			case "id":
				ev.ID = value
			case "event":
				ev.Event = value
			case "data":
				ev.Data = value
			case "retry":
				ev.Retry, _ = strconv.Atoi(value)
			}
		}
	}()
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next event that is not a comment, failing after wait.
func (s *stream) next(t *testing.T, wait time.Duration) sseEvent {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended")
			}
			if ev.Comment != "" || ev.Retry != 0 {
				continue
			}
			return ev
		case <-timeout:
			t.Fatalf("no event within %v", wait)
		}
	}
}

// ready reads the events up to ready and returns the changes before it
// and ready's id.
func (s *stream) ready(t *testing.T) ([]changeJSON, int64) {
	t.Helper()
	var got []changeJSON
	for {
		ev := s.next(t, 5*time.Second)
		id, err := strconv.ParseInt(ev.ID, 10, 64)
		if err != nil {
			t.Fatalf("event %+v has no numeric id", ev)
		}
		switch ev.Event {
		case "ready":
			return got, id
		case "change":
			got = append(got, decodeChange(t, ev))
		default:
			t.Fatalf("unexpected event before ready: %+v", ev)
		}
	}
}

func decodeChange(t *testing.T, ev sseEvent) changeJSON {
	t.Helper()
	var c changeJSON
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatalf("event %+v: %v", ev, err)
	}
	if ev.ID != strconv.FormatInt(c.Seq, 10) {
		t.Errorf("event id %s for change %d: the id must be the change number", ev.ID, c.Seq)
	}
	return c
}

// healthStreams is how many change streams /healthz says are open.
func healthStreams(t *testing.T, base string) int {
	t.Helper()
	v, _ := get(t, base+"/healthz").json(t)["changeStreams"].(float64)
	return int(v)
}

func waitStreams(t *testing.T, base string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for healthStreams(t, base) != want {
		if time.Now().After(deadline) {
			t.Fatalf("/healthz says %d change streams, want %d", healthStreams(t, base), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestChangeStream runs the stream over a real server whose read and
// write timeouts are a second: a stream must outlive both.
func TestChangeStream(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			h := web.NewRouter(store, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget), Heartbeat: 200 * time.Millisecond},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ReadTimeout = time.Second
			srv.Config.WriteTimeout = time.Second
			srv.Start()
			t.Cleanup(srv.Close)
			db := otherConnection(t, store)
			cat, _ := store.Catalog(ctx)

			// The change of each edit, when it arrives.
			var seen []changeJSON
			expect := func(t *testing.T, s *stream, collection string, id int64, op string) changeJSON {
				t.Helper()
				ev := s.next(t, time.Second)
				c := decodeChange(t, ev)
				if ev.Event != "change" || c.Collection != collection || c.ID != id || c.Op != op {
					t.Fatalf("event %+v; want a change %s of %s %d", ev, op, collection, id)
				}
				seen = append(seen, c)
				return c
			}

			var last int64
			t.Run("WithinASecond", func(t *testing.T) {
				s := openStream(t, srv.URL+"/changes/stream", "Accept-Encoding", "gzip")
				if ct, ce := s.resp.Header.Get("Content-Type"), s.resp.Header.Get("Content-Encoding"); ct != "text/event-stream" || ce != "" {
					t.Errorf("Content-Type %q, Content-Encoding %q; want text/event-stream, not compressed", ct, ce)
				}
				first := <-s.events
				if first.Retry <= 0 {
					t.Errorf("the stream begins with %+v, want a retry hint", first)
				}
				backlog, id := s.ready(t)
				if len(backlog) != 0 || id != cat.Seq {
					t.Fatalf("without since: %d changes, then ready at %d; want none, ready at %d", len(backlog), id, cat.Seq)
				}
				execSQL(t, db, `UPDATE resettlement SET name_zh = '第一次' WHERE fid = 1`)
				c := expect(t, s, "resettlement", 1, "update")
				if c.Seq != cat.Seq+1 || c.Time == "" {
					t.Errorf("change %+v, want seq %d with its time", c, cat.Seq+1)
				}

				// Past the server's read and write timeouts, with heartbeats.
				beats := 0
				for deadline := time.After(1500 * time.Millisecond); ; {
					select {
					case ev := <-s.events:
						if ev.Comment != "" {
							beats++
						} else {
							t.Fatalf("unexpected event %+v", ev)
						}
						continue
					case <-deadline:
					}
					break
				}
				if beats < 3 {
					t.Errorf("%d heartbeats in 1.5 s, every 200 ms", beats)
				}
				execSQL(t, db, `UPDATE resettlement SET name_zh = '第二次' WHERE fid = 2`)
				last = expect(t, s, "resettlement", 2, "update").Seq
			})

			t.Run("ResumesWithLastEventID", func(t *testing.T) {
				// Three edits while nobody listens.
				execSQL(t, db, `UPDATE resettlement SET name_zh = '第三次' WHERE fid = 3`)
				execSQL(t, db, `INSERT INTO resettlement (geom, name_zh) SELECT geom, '新的' FROM resettlement WHERE fid = 1`)
				execSQL(t, db, `DELETE FROM industry WHERE fid = 2`)
				var listed changesJSON
				for deadline := time.Now().Add(slack(time.Second)); len(listed.Changes) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					listed = getChanges(t, srv.URL+"/changes?since="+strconv.FormatInt(last, 10))
				}
				if len(listed.Changes) != 3 {
					t.Fatalf("/changes?since=%d lists %+v, want the 3 edits", last, listed.Changes)
				}
				s := openStream(t, srv.URL+"/changes/stream?since=1", "Last-Event-ID", strconv.FormatInt(last, 10))
				got, id := s.ready(t)
				if fmt.Sprint(got) != fmt.Sprint(listed.Changes) || id != listed.Latest {
					t.Fatalf("resumed after %d: %+v, ready at %d; want exactly %+v, ready at %d", last, got, id, listed.Changes, listed.Latest)
				}
				seen = append(seen, got...)
				// And it goes on from there.
				execSQL(t, db, `UPDATE industry SET name_zh = '工业' WHERE fid = 3`)
				last = expect(t, s, "industry", 3, "update").Seq
				for i := 1; i < len(seen); i++ {
					if seen[i].Seq != seen[i-1].Seq+1 {
						t.Errorf("changes seen across streams: %+v; want every seq once, in order", seen)
						break
					}
				}
			})

			t.Run("Collections", func(t *testing.T) {
				s := openStream(t, srv.URL+"/changes/stream?collections=industry")
				s.ready(t)
				execSQL(t, db, `UPDATE resettlement SET name_zh = '不看' WHERE fid = 4`)
				// An id alone, to move Last-Event-ID past what is not followed.
				ev := s.next(t, time.Second)
				if ev.Event != "" || ev.Data != "" || ev.ID != strconv.FormatInt(last+1, 10) {
					t.Errorf("after a change of a layer not followed: %+v, want only its id %d", ev, last+1)
				}
				execSQL(t, db, `UPDATE industry SET name_zh = '看' WHERE fid = 3`)
				expect(t, s, "industry", 3, "update")
			})

			t.Run("Reset", func(t *testing.T) {
				s := openStream(t, srv.URL+"/changes/stream", "Last-Event-ID", "999999")
				ev := s.next(t, time.Second)
				if ev.Event != "reset" {
					t.Errorf("resuming beyond the log: %+v, want a reset", ev)
				}
			})

			t.Run("DisconnectFreesTheSubscriber", func(t *testing.T) {
				waitStreams(t, srv.URL, 0)
				a := openStream(t, srv.URL+"/changes/stream")
				b := openStream(t, srv.URL+"/changes/stream")
				a.ready(t)
				b.ready(t)
				waitStreams(t, srv.URL, 2)
				a.close()
				waitStreams(t, srv.URL, 1)
				// The other goes on.
				execSQL(t, db, `UPDATE industry SET name_zh = '还在' WHERE fid = 3`)
				expect(t, b, "industry", 3, "update")
				b.close()
				waitStreams(t, srv.URL, 0)
			})

			t.Run("ErrBadParameters", func(t *testing.T) {
				for _, c := range []struct{ query, lastEventID string }{
					{"since=x", ""}, {"collections=nope", ""}, {"limit=1", ""}, {"", "abc"}, {"", "-3"},
				} {
					req, _ := http.NewRequest("GET", srv.URL+"/changes/stream?"+c.query, nil)
					if c.lastEventID != "" {
						req.Header.Set("Last-Event-ID", c.lastEventID)
					}
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("GET /changes/stream?%s (Last-Event-ID %q) = %d %s %s, want 400 problem details", c.query, c.lastEventID, res.StatusCode, res.Header.Get("Content-Type"), body)
					}
				}
			})
		})
	}
}
