package layerstest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv is the environment variable that gives the tests a
// PostgreSQL server with PostGIS, as a URL whose user may create
// databases: .ci/postgres starts one and prints it.
const PostgresEnv = "PLANMAP_TEST_PG"

var dbSeq atomic.Int64

// RequirePostgres returns the URL PostgresEnv gives; without it the test
// is skipped, or fails when PLANMAP_REQUIRE_TOOLS=1 (as in CI).
func RequirePostgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		missing(tb, "PostgreSQL is required (PLANMAP_REQUIRE_TOOLS=1) but "+PostgresEnv+" is not set (.ci/postgres start DIR prints it)",
			PostgresEnv+" is not set: no PostgreSQL to test against (.ci/postgres start DIR starts one); skipping")
	}
	return base
}

// PostgresDB creates a new, empty database on the server PostgresEnv
// names and returns its URL; the database is dropped when the test ends.
// Without the variable the test is skipped, or fails when
// PLANMAP_REQUIRE_TOOLS=1 (as in CI). PostGIS comes from the server's
// template1 where .ci/postgres created it; the store creates it otherwise.
func PostgresDB(tb testing.TB) string {
	tb.Helper()
	base := RequirePostgres(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s=%s: %v", PostgresEnv, base, err)
	}
	defer admin.Close(ctx)
	// Unique across the test binaries running at once, and safe as an
	// identifier: letters, digits and underscores only.
	name := fmt.Sprintf("planmap_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, dbSeq.Add(1))
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("CREATE DATABASE %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			tb.Errorf("DROP DATABASE %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return strings.TrimSpace(u.String())
}

// PostgresReplicaEnv names a streaming standby of the server of
// PostgresEnv (.ci/postgres standby prints its URL).
const PostgresReplicaEnv = "PLANMAP_TEST_PG_REPLICA"

// PostgresReplica returns the URL of database db (a URL PostgresDB gave)
// on the standby PostgresReplicaEnv names. Without the variable the test
// is skipped, or fails when PLANMAP_REQUIRE_TOOLS=1 (as in CI).
func PostgresReplica(tb testing.TB, db string) string {
	tb.Helper()
	base := os.Getenv(PostgresReplicaEnv)
	if base == "" {
		missing(tb, "a PostgreSQL standby is required (PLANMAP_REQUIRE_TOOLS=1) but "+PostgresReplicaEnv+" is not set (.ci/postgres standby DIR PORT prints it)",
			PostgresReplicaEnv+" is not set: no PostgreSQL standby to test against; skipping")
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresReplicaEnv, err)
	}
	d, err := url.Parse(db)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = d.Path
	return u.String()
}
