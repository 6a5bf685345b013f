package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

var timeStamp = regexp.MustCompile(`"timeStamp":"[^"]*"`)

// TestCopyCommand: planmap copy moves a GeoPackage with edits and a token
// into PostgreSQL and back into a new GeoPackage; each serves the same
// features and versions, and takes the token. A second copy into the
// database is refused and changes nothing; a copy that fails half-way
// leaves no layer in PostgreSQL and no new file.
func TestCopyCommand(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "planmap.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", src, "../../seeds"); err != nil {
		t.Fatalf("import the seeds: %v\n%s", err, stderr)
	}
	token, stderr, err := planmap(t, "token", "add", "--db", src, "--name", "alice", "--role", "editor", "--layers", "terminals")
	if err != nil {
		t.Fatalf("token add: %v\n%s", err, stderr)
	}
	token = strings.TrimSpace(token)
	// Edits through the store: an update and a delete.
	s, err := gpkg.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var terms []layers.Feature
	s.Features(context.Background(), "terminals", func(f layers.Feature) error { terms = append(terms, f); return nil })
	if len(terms) < 2 {
		t.Fatalf("%d terminals", len(terms))
	}
	edited, deleted := terms[0], terms[len(terms)-1]
	edited.Properties["name_en"] = "Renamed before the copy"
	if _, err := s.Replace(context.Background(), "terminals", edited.ID, edited, "", layers.Edit{Author: "alice", Note: "before the copy"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(context.Background(), "terminals", deleted.ID, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	pg := layerstest.PostgresDB(t)
	back := filepath.Join(dir, "back", "planmap.gpkg")
	for _, c := range [][2]string{{src, pg}, {pg, back}} {
		out, stderr, err := planmap(t, "copy", "--from", c[0], "--to", c[1])
		if err != nil || !strings.Contains(out, "copied") {
			t.Fatalf("planmap copy --from %s --to %s = %q, %v\n%s", c[0], c[1], out, err, stderr)
		}
	}

	// Each serves what the source serves.
	paths := []string{
		"/collections/terminals/items?limit=1000",
		fmt.Sprintf("/collections/terminals/items/%d/versions", edited.ID),
		fmt.Sprintf("/collections/terminals/items/%d/versions", deleted.ID),
	}
	served := func(db string) []string {
		base, stop := startServe(t, db)
		defer stop()
		var out []string
		for _, p := range paths {
			// All but the time of the response and the server's address.
			body := timeStamp.ReplaceAllString(string(getJSON(t, base+p, nil)), "")
			out = append(out, strings.ReplaceAll(body, base, "BASE"))
		}
		return out
	}
	want := served(src)
	if !strings.Contains(want[1], "before the copy") {
		t.Fatalf("the source's versions have no edit:\n%s", want[1])
	}
	for _, db := range []string{pg, back} {
		for i, got := range served(db) {
			if got != want[i] {
				t.Errorf("GET %s on the copy in %s:\n%s\nwant\n%s", paths[i], dbName(db), got, want[i])
			}
		}
		ts, err := openAny(context.Background(), db, openRead)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ts.(interface {
			Principal(context.Context, string) (*layers.Principal, error)
		}).Principal(context.Background(), token)
		ts.Close()
		if err != nil || p == nil || p.Name != "alice" {
			t.Errorf("the token added on the source, on the copy in %s: %+v, %v; want alice's", dbName(db), p, err)
		}
	}

	// A target that holds layers: refused, and left as it was.
	if _, _, err := planmap(t, "copy", "--from", src, "--to", pg); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Errorf("a copy into a database that holds layers = %v; want a refusal", err)
	}
	if got := served(pg); got[0] != want[0] {
		t.Error("a refused copy changed the database")
	}

	// A source that cannot be copied (a feature without a valid id,
	// made by another program): the copy fails, nothing is left.
	other := layerstest.OpenOtherClient(t, src)
	if err := other.Exec(context.Background(), fmt.Sprintf(`UPDATE terminals SET fid = -1 WHERE fid = %d`, edited.ID)); err != nil {
		t.Fatal(err)
	}
	fresh := layerstest.PostgresDB(t)
	newFile := filepath.Join(dir, "new.gpkg")
	for _, to := range []string{fresh, newFile} {
		if _, _, err := planmap(t, "copy", "--from", src, "--to", to); err == nil {
			t.Fatalf("copy of a feature without an id into %s: no error", to)
		}
	}
	if _, err := os.Stat(newFile); !os.IsNotExist(err) {
		t.Errorf("a failed copy left %s behind: %v", newFile, err)
	}
	if out, _, err := planmap(t, "token", "list", "--db", fresh); err == nil && strings.Contains(out, "alice") {
		t.Errorf("a failed copy left tokens in the database: %q, %v", out, err)
	}
	base, stop := startServe(t, fresh)
	var cols struct{ Collections []struct{ ID string } }
	getJSON(t, base+"/collections", &cols)
	stop()
	// serve seeds a database that has no layer: had the copy left any,
	// it would serve those, not the seeds.
	if len(cols.Collections) != seedCount(t) {
		t.Errorf("after a failed copy the database serves %d collections", len(cols.Collections))
	}
}
