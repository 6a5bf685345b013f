package postgis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// eventually polls cond until it holds, failing the test after a minute:
// these tests say what happens, the benchmarks how fast.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, still not: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// well is a point feature of the wells layer.
func well(name string) layers.Feature {
	return layers.Feature{Geometry: orb.Point{121.5, 32.1}, Properties: map[string]any{"name": name}}
}

const wellsFile = `{"type": "FeatureCollection", "id": "wells", "title": {"zh": "井", "en": "Wells"},
  "geometryType": "Point", "schema": [{"name": "name", "type": "string"}], "style": {"color": "#000000"},
  "features": [{"type": "Feature", "id": 1, "properties": {"name": "一号井"}, "geometry": {"type": "Point", "coordinates": [121.5, 32.1]}}]}`

func importWells(t *testing.T, s *postgis.Store) {
	t.Helper()
	if _, err := s.Import(ctx, []*layers.File{parse(t, "wells.geojson", []byte(wellsFile))}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, s *postgis.Store, id string) int {
	t.Helper()
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col, ok := cat.Collection(id)
	if !ok {
		t.Fatalf("no collection %s", id)
	}
	return col.Count
}

// TestNoticeOnePerTransaction: a transaction that writes the change log,
// whoever makes it, sends one notice as it commits, "<its last change
// number> <WAL position>"; a transaction rolled back sends none.
func TestNoticeOnePerTransaction(t *testing.T) {
	t.Parallel()
	s, url := mustOpen(t)
	importWells(t, s)
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, `LISTEN planmap_changes`); err != nil {
		t.Fatal(err)
	}
	writer, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := writer.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	maxSeq := func() int64 {
		var n int64
		if err := writer.QueryRow(ctx, `SELECT max(seq) FROM planmap_changes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	next := func() (int64, string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		n, err := listener.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("no notice: %v", err)
		}
		if n.Channel != "planmap_changes" {
			t.Fatalf("a notice on %q", n.Channel)
		}
		seq, lsn, ok := strings.Cut(n.Payload, " ")
		got, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil || !strings.Contains(lsn, "/") {
			t.Fatalf("notice %q is not \"seq lsn\"", n.Payload)
		}
		return got, lsn
	}

	// A rolled-back transaction, then one of three changes, then one of one:
	// the first notice is the second transaction's, with its last number,
	// and the next is the third's, so nothing else was sent between.
	exec(`BEGIN; INSERT INTO wells (fid, geom, name) VALUES (50, ST_SetSRID(ST_MakePoint(121.5, 32.1), 4326), 'x'); ROLLBACK`)
	exec(`BEGIN;
	  INSERT INTO wells (fid, geom, name) VALUES (2, ST_SetSRID(ST_MakePoint(121.5, 32.1), 4326), '二号井');
	  INSERT INTO wells (fid, geom, name) VALUES (3, ST_SetSRID(ST_MakePoint(121.5, 32.1), 4326), '三号井');
	  UPDATE wells SET name = '一号井（改）' WHERE fid = 1;
	  COMMIT`)
	three := maxSeq()
	seq, lsn1 := next()
	if seq != three {
		t.Errorf("the notice of a transaction of three changes says change %d; its last is %d", seq, three)
	}
	exec(`DELETE FROM wells WHERE fid = 3`)
	seq, lsn2 := next()
	if seq != three+1 {
		t.Errorf("the notice after it says change %d; want %d (one notice per transaction)", seq, three+1)
	}
	var ordered bool
	if err := writer.QueryRow(ctx, `SELECT $1::pg_lsn < $2::pg_lsn`, lsn1, lsn2).Scan(&ordered); err != nil || !ordered {
		t.Errorf("WAL positions %s then %s: not in commit order (%v)", lsn1, lsn2, err)
	}
	// planmap's own edits announce themselves the same way.
	if _, err := s.Create(ctx, "wells", well("四号井"), layers.Edit{Author: "test"}); err != nil {
		t.Fatal(err)
	}
	if seq, _ := next(); seq != maxSeq() {
		t.Errorf("the notice of an edit through planmap says change %d; want %d", seq, maxSeq())
	}
}

// TestPeerHearsEdit: two stores on one database, as two planmap
// processes; an edit through one, and one made by another program in SQL,
// reach the other's catalog by its notice: while it listens, it polls
// only once an hour here. Not parallel: that is every store's setting.
func TestPeerHearsEdit(t *testing.T) {
	defer postgis.SetListeningPoll(time.Hour)()
	a, url := mustOpen(t)
	importWells(t, a)
	b, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var reports layerstest.SyncBuffer
	b.OnError(func(err error) { reports.WriteString(err.Error() + "\n") })
	if n := count(t, b, "wells"); n != 1 {
		t.Fatalf("the peer counts %d wells; want 1", n)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Both stores listen once their first catalogs are built.
	if _, err := a.Catalog(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both stores listen", func() bool {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN planmap_changes'`).Scan(&n)
		return err == nil && n >= 2
	})
	it, err := a.Create(ctx, "wells", well("二号井"), layers.Edit{Author: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := a.Catalog(ctx)
	eventually(t, "the peer hears of the edit", func() bool { return b.LastNotice() >= cat.Seq })
	eventually(t, "the peer's catalog has the edit", func() bool { return count(t, b, "wells") == 2 })
	got, err := b.Item(ctx, "wells", it.ID)
	if err != nil || got.Version() != it.Version() {
		t.Fatalf("the peer serves feature %d as %v (%v); want version %s", it.ID, got, err, it.Version())
	}

	if _, err := conn.Exec(ctx, `DELETE FROM wells WHERE fid = $1`, it.ID); err != nil {
		t.Fatal(err)
	}
	var last int64
	if err := conn.QueryRow(ctx, `SELECT max(seq) FROM planmap_changes`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the peer hears of the SQL delete", func() bool { return b.LastNotice() >= last })
	eventually(t, "the peer's catalog has the SQL delete", func() bool { return count(t, b, "wells") == 1 })
	if _, err := b.Item(ctx, "wells", it.ID); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("the peer serves the deleted feature: %v; want EGONE", err)
	}

	// The listening connection cut (a restarted server, a proxy's
	// timeout): the peer says so, listens again, and hears the next change.
	var killed []int32
	if err := conn.QueryRow(ctx, `WITH l AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN planmap_changes')
		SELECT array_agg(pid) FROM l WHERE pg_terminate_backend(pid)`).Scan(&killed); err != nil || len(killed) == 0 {
		t.Fatalf("terminating the listening connection: %v, %v", killed, err)
	}
	eventually(t, "the peer says it lost the connection", func() bool {
		return strings.Contains(reports.String(), "listening for the change log's notices")
	})
	eventually(t, "the stores listen again", func() bool {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN planmap_changes' AND state = 'idle' AND NOT pid = ANY($1)`, killed).Scan(&n)
		// Both stores listen, and both were cut.
		return err == nil && n >= len(killed)
	})
	if _, err := a.Create(ctx, "wells", well("三号井"), layers.Edit{Author: "test"}); err != nil {
		t.Fatal(err)
	}
	cat, _ = a.Catalog(ctx)
	eventually(t, "the peer hears of the edit after listening again", func() bool { return b.LastNotice() >= cat.Seq })
}

// replicaReads returns how many reads the store has given the replica
// and the primary.
func replicaReads(t *testing.T, s *postgis.Store) (replica, primary int64, st layers.Replica) {
	t.Helper()
	rep, ok := s.Replication(ctx)
	if !ok || len(rep.Replicas) != 1 {
		t.Fatalf("Replication: %+v, %v; want one replica", rep, ok)
	}
	return rep.Replicas[0].Reads, rep.PrimaryReads, rep.Replicas[0]
}

// TestReplicaReads: reads go to the streaming standby once it has
// replayed every change the store knows of, and to the primary while it
// has not: with the standby's replay paused, an edit made through another
// process (heard of by its notice) and one through this store are read at
// once, from the primary, and never the state before them; an editor's
// reads go to the primary always. After the replay resumes, reads go to
// the standby again, which serves the edits.
//
// Not parallel: pausing the standby's replay holds every database on it,
// and the package's other tests that read it wait for it.
func TestReplicaReads(t *testing.T) {
	url := layerstest.PostgresDB(t)
	standby := layerstest.PostgresReplica(t, url)
	writer, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	importWells(t, writer)
	s, err := postgis.Open(ctx, url, standby)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	read := func(c context.Context) int {
		t.Helper()
		_, n, err := s.Items(c, "wells", layers.Filter{}, layers.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := read(ctx); n != 1 {
		t.Fatalf("%d wells; want 1", n)
	}
	eventually(t, "a read goes to the standby", func() bool {
		before, _, _ := replicaReads(t, s)
		read(ctx)
		after, _, _ := replicaReads(t, s)
		return after > before
	})
	// An editor's reads: the primary, though the standby has caught up.
	r0, p0, _ := replicaReads(t, s)
	read(layers.ReadPrimary(ctx))
	if r1, p1, _ := replicaReads(t, s); r1 != r0 || p1 != p0+1 {
		t.Errorf("an editor's read: standby reads %d → %d, primary %d → %d; want the primary's alone to grow", r0, r1, p0, p1)
	}

	sb, err := pgx.Connect(ctx, standby)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	if _, err := sb.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if _, err := sb.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
				t.Error(err)
			}
		}
	}
	defer resume()
	eventually(t, "the standby's replay is paused", func() bool {
		var st string
		sb.QueryRow(ctx, `SELECT pg_get_wal_replay_pause_state()`).Scan(&st)
		return st == "paused"
	})

	// Through another process: the store hears of it and reads it from
	// the primary.
	other, err := writer.Create(ctx, "wells", well("二号井"), layers.Edit{Author: "test"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the store takes in the other process's edit", func() bool { return count(t, s, "wells") == 2 })
	_, p0, _ = replicaReads(t, s)
	if n := read(ctx); n != 2 {
		t.Errorf("after another process's edit, with the standby paused: %d wells; want 2", n)
	}
	if got, err := s.Item(ctx, "wells", other.ID); err != nil || got.Version() != other.Version() {
		t.Errorf("the other process's new feature: %v, %v", got, err)
	}
	r1, p1, st := replicaReads(t, s)
	if p1 <= p0 {
		t.Errorf("reads after an edit the paused standby has not replayed: the primary's stayed at %d", p1)
	}
	if st.LagBytes <= 0 {
		t.Errorf("the paused standby shows no lag: %+v", st)
	}

	// Through this store: its next reads have the edit.
	own, err := s.Create(ctx, "wells", well("三号井"), layers.Edit{Author: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if n := read(ctx); n != 3 {
		t.Errorf("right after its own edit, the store reads %d wells; want 3", n)
	}
	if _, err := s.Item(ctx, "wells", own.ID); err != nil {
		t.Errorf("right after its own edit: %v", err)
	}
	if r2, _, _ := replicaReads(t, s); r2 != r1 {
		t.Errorf("the paused standby was given %d reads", r2-r1)
	}

	resume()
	eventually(t, "reads go to the standby again", func() bool {
		before, _, _ := replicaReads(t, s)
		n := read(ctx)
		after, _, _ := replicaReads(t, s)
		if after > before && n != 3 {
			t.Fatalf("the standby, caught up, serves %d wells; want 3", n)
		}
		return after > before
	})
	if got, err := s.Item(ctx, "wells", own.ID); err != nil || got.Version() != own.Version() {
		t.Errorf("from the standby: %v, %v", got, err)
	}
}

// TestReplicaDown: a replica that does not answer is shown down with why,
// and reads go to the primary.
func TestReplicaDown(t *testing.T) {
	t.Parallel()
	url := layerstest.PostgresDB(t)
	// Port 1 on this machine: nothing listens there.
	s, err := postgis.Open(ctx, url, "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	importWells(t, s)
	for i := range 3 {
		if _, n, err := s.Items(ctx, "wells", layers.Filter{}, layers.Page{Limit: 10}); err != nil || n != 1 {
			t.Fatalf("read %d: %d wells, %v", i, n, err)
		}
	}
	_, primary, st := replicaReads(t, s)
	if st.Up || st.Error == "" || st.Name != "postgres://postgres@127.0.0.1:1/nowhere" {
		t.Errorf("the replica that does not answer: %+v", st)
	}
	if primary < 3 {
		t.Errorf("%d reads went to the primary; want the three", primary)
	}
}

// BenchmarkPeerSeesEdit: how long after an edit through one store returns
// a second store on the same database, as a second planmap process,
// serves it (issue 15's target: under a second). One op is one edit and
// the wait for the peer's catalog to count it.
func BenchmarkPeerSeesEdit(b *testing.B) {
	url := layerstest.PostgresDB(b)
	a, err := postgis.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	file, err := layers.ParseFile("wells.geojson", []byte(wellsFile))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Import(ctx, []*layers.File{file}, layers.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	peer, err := postgis.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	seen := func() int64 {
		cat, err := peer.Catalog(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return cat.Seq
	}
	seen()
	time.Sleep(100 * time.Millisecond) // the peer's LISTEN
	var worst time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := a.Create(ctx, "wells", well("井"), layers.Edit{Author: "bench"}); err != nil {
			b.Fatal(err)
		}
		cat, _ := a.Catalog(ctx)
		for seen() < cat.Seq {
			time.Sleep(50 * time.Microsecond)
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
}
