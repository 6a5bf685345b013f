package gpkg_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"planmap/layers/gpkg"
	"planmap/layers/storetest"
)

// TestContract runs the store contract on the GeoPackage store, with a
// second store opened on the same file as the other client, and deletes
// made in plain SQL, as GDAL or QGIS would make them.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, storetest.Writer) {
		path := filepath.Join(t.TempDir(), "planmap.gpkg")
		s, err := gpkg.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		other, err := gpkg.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open a second store on %s: %v", path, err)
		}
		t.Cleanup(func() { other.Close() })
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return s, otherClient{other, db}
	}})
}

// otherClient writes into a store's file from outside it: imports through
// a store of its own, deletes in plain SQL.
type otherClient struct {
	*gpkg.Store
	db *sql.DB
}

func (c otherClient) Delete(ctx context.Context, id string, fids ...int64) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := `DELETE FROM "` + strings.ReplaceAll(id, `"`, `""`) + `" WHERE fid = ?`
	for _, fid := range fids {
		if _, err := tx.ExecContext(ctx, q, fid); err != nil {
			return err
		}
	}
	return tx.Commit()
}
