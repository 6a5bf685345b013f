package postgis_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
)

// TestSignedDirectEditChecked: a program writing the tables directly signs
// its transaction with planmap.author and planmap.note, as the README asks;
// its edit is still checked and flagged, because only planmap's own
// transactions mark their changes checked.
func TestSignedDirectEditChecked(t *testing.T) {
	t.Parallel()
	s, url := mustOpen(t)
	if _, err := s.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Catalog(ctx); err != nil { // starts following others' writes
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var fid int64
	if err := conn.QueryRow(ctx, `SELECT min(fid) FROM parks`).Scan(&fid); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `BEGIN;
	  SELECT set_config('planmap.author', 'alice', true), set_config('planmap.note', 'fixed in QGIS', true);
	  UPDATE parks SET status = 'bogus' WHERE fid = `+strconv.FormatInt(fid, 10)+`;
	  COMMIT`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for s.Problem("parks", fid) == "" {
		if time.Now().After(deadline) {
			t.Fatalf("a signed direct edit breaking park %d's status is not flagged after a minute", fid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p := s.Problem("parks", fid); !strings.Contains(p, "status") {
		t.Errorf("Problem(parks, %d) = %q; want it to name status", fid, p)
	}
	var author string
	if err := conn.QueryRow(ctx, `SELECT author FROM planmap_history WHERE layer = 'parks' AND fid = $1 ORDER BY id DESC LIMIT 1`, fid).Scan(&author); err != nil || author != "alice" {
		t.Errorf("the history's author of the signed edit: %q, %v; want alice", author, err)
	}
}
