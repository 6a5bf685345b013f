package postgis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"planmap/layers"
)

// TestChangesInCommitOrder: a reader that follows the change log by the
// last seq it saw misses nothing while several clients write at once.
// Each writer's transaction waits a little between its insert (which takes
// its seq) and its commit: were seqs not taken in commit order (the lock
// of migrations/0001_layers.sql), a later seq would be read before an
// earlier one commits, and the earlier change would be lost to the reader.
func TestChangesInCommitOrder(t *testing.T) {
	t.Parallel()
	s, url := mustOpen(t)
	file := `{"type": "FeatureCollection", "id": "wells", "title": {"zh": "井", "en": "Wells"},
	  "geometryType": "Point", "schema": [], "style": {"color": "#000000"},
	  "features": [{"type": "Feature", "id": 1, "properties": {}, "geometry": {"type": "Point", "coordinates": [121.5, 32.1]}}]}`
	if _, err := s.Import(ctx, []*layers.File{parse(t, "wells.geojson", []byte(file))}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				fid := int64(100 + w*each + i)
				err := func() error {
					tx, err := pool.Begin(ctx)
					if err != nil {
						return err
					}
					defer tx.Rollback(ctx)
					if _, err := tx.Exec(ctx, `INSERT INTO wells (fid, geom) VALUES ($1, ST_SetSRID(ST_MakePoint(121.5, 32.1), 4326))`, fid); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `SELECT pg_sleep(0.005)`); err != nil {
						return err
					}
					return tx.Commit(ctx)
				}()
				if err != nil {
					errs <- fmt.Errorf("writer %d, feature %d: %w", w, fid, err)
					return
				}
			}
		}(w)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[int64]bool{}
	after := cat.Seq
	follow := func() {
		cs, err := s.Changes(context.Background(), after, 1000)
		if err != nil {
			t.Fatalf("Changes(%d): %v", after, err)
		}
		for _, c := range cs {
			seen[c.FID] = true
			after = c.Seq
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		case <-time.After(time.Millisecond):
		}
		follow()
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	follow()
	var missed []int64
	for fid := int64(100); fid < 100+writers*each; fid++ {
		if !seen[fid] {
			missed = append(missed, fid)
		}
	}
	if len(missed) > 0 {
		t.Errorf("a reader following the change log missed the inserts of %d of %d features: %v", len(missed), writers*each, missed)
	}
}
