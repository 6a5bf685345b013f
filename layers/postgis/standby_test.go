package postgis_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// TestStandby: a database the store writes reaches the streaming standby
// that CI runs beside the primary (.ci/postgres standby), which refuses
// writes; the ground the read replicas of issue 15 will stand on.
func TestStandby(t *testing.T) {
	t.Parallel()
	s, url := mustOpen(t)
	if _, err := s.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	primary, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close(ctx)
	var want int
	var lsn string
	if err := primary.QueryRow(ctx, `SELECT (SELECT count(*) FROM parcels), pg_current_wal_lsn()::text`).Scan(&want, &lsn); err != nil {
		t.Fatal(err)
	}
	replica := layerstest.PostgresReplica(t, url)
	start := time.Now()
	for {
		var got int
		var recovering, caughtUp bool
		conn, err := pgx.Connect(ctx, replica)
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn, (SELECT count(*) FROM parcels)`, lsn).Scan(&recovering, &caughtUp, &got)
			if err == nil && caughtUp {
				if !recovering || got != want {
					t.Errorf("the standby: in recovery %v, %d parcels; want true and %d", recovering, got, want)
				}
				if _, err := conn.Exec(ctx, `DELETE FROM parcels`); err == nil {
					t.Error("the standby took a DELETE")
				}
				conn.Close(ctx)
				return
			}
			conn.Close(ctx)
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("the standby has not replayed the import (WAL %s) after %v: %v", lsn, time.Since(start), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
