package postgis_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers/layerstest"
	"planmap/layers/postgis"
	"planmap/layers/storetest"
)

var ctx = context.Background()

// mustOpen opens a store on a new database of the test server, closed
// when the test ends, and returns it with the database's URL.
func mustOpen(t *testing.T) (*postgis.Store, string) {
	t.Helper()
	url := layerstest.PostgresDB(t)
	s, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// otherClient writes into a database as another process would: imports
// through a store of its own, deletes and other SQL on a plain connection
// (as QGIS or psql would).
type otherClient struct {
	*postgis.Store
	conn *pgx.Conn
}

func openOtherClient(t *testing.T, url string) *otherClient {
	t.Helper()
	s, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open a second store on %s: %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return &otherClient{Store: s, conn: conn}
}

// Delete removes the features fids of layer id in one transaction.
func (c *otherClient) Delete(ctx context.Context, id string, fids ...int64) error {
	tx, err := c.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	q := `DELETE FROM ` + pgx.Identifier{id}.Sanitize() + ` WHERE fid = $1`
	for _, fid := range fids {
		if _, err := tx.Exec(ctx, q, fid); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// SetGeometry sets the geometry of feature fid of layer id, as another
// program writing WKB would.
func (c *otherClient) SetGeometry(ctx context.Context, id string, fid int64, g orb.Geometry) error {
	blob, err := wkb.Marshal(g)
	if err != nil {
		return err
	}
	_, err = c.conn.Exec(ctx, `UPDATE `+pgx.Identifier{id}.Sanitize()+` SET geom = ST_SetSRID(ST_GeomFromWKB($1), 4326) WHERE fid = $2`, blob, fid)
	return err
}

// Strings runs a query and returns the first column of each row as text.
func (c *otherClient) Strings(ctx context.Context, query string) ([]string, error) {
	rows, err := c.conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Exec runs one statement of plain SQL in its own transaction.
func (c *otherClient) Exec(ctx context.Context, query string, args ...any) error {
	_, err := c.conn.Exec(ctx, query, args...)
	return err
}

// TestContract runs the store contract on the PostGIS store, each test on
// a database of its own, with a second store on the same database (and
// plain SQL for deletes) as the other client. The package's other tests
// run beside it (t.Parallel): most of their time is the server's.
func TestContract(t *testing.T) {
	t.Parallel()
	layerstest.RequirePostgres(t)
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, storetest.Writer) {
		s, url := mustOpen(t)
		return s, openOtherClient(t, url)
	}, Direct: &storetest.DirectHarness{
		New: func(t *testing.T) string { return layerstest.PostgresDB(t) },
		Open: func(t *testing.T, url string) storetest.Checker {
			s, err := postgis.Open(ctx, url)
			if err != nil {
				t.Fatalf("Open(%s): %v", url, err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Other: func(t *testing.T, url string) storetest.DirectWriter { return openOtherClient(t, url) },
	}})
}
