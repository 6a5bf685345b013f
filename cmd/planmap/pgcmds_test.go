package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// TestCommandsPostGIS: the commands that read a database (layers,
// export as GeoJSON, --as-of, KML and GeoPackage, check, check --rules,
// backup) answer on a PostgreSQL database byte for byte as on the
// GeoPackage it was copied from, history included; a backup of PostgreSQL
// is a planmap GeoPackage that restore puts into an empty PostgreSQL
// database or a GeoPackage file, and a restore into a database that holds
// layers is refused, leaving it as it was.
func TestCommandsPostGIS(t *testing.T) {
	dir := t.TempDir()
	gp := filepath.Join(dir, "planmap.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", gp, "../../seeds"); err != nil {
		t.Fatalf("import the seeds: %v\n%s", err, stderr)
	}
	if _, stderr, err := planmap(t, "token", "add", "--db", gp, "--name", "alice", "--role", "editor", "--layers", "terminals"); err != nil {
		t.Fatalf("token add: %v\n%s", err, stderr)
	}
	// A layer dropped after the time below: its history goes with the
	// copy and the backups, and --as-of reads it from them.
	if _, stderr, err := planmap(t, "import", "--db", gp, "../../layers/testdata/parcels.geojson"); err != nil {
		t.Fatalf("import parcels: %v\n%s", err, stderr)
	}
	// A time before two edits, so that --as-of has a past to write.
	time.Sleep(5 * time.Millisecond)
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	ctx := context.Background()
	s, err := gpkg.Open(ctx, gp)
	if err != nil {
		t.Fatal(err)
	}
	var terms []layers.Feature
	s.Features(ctx, "terminals", func(f layers.Feature) error { terms = append(terms, f); return nil })
	if len(terms) < 2 {
		t.Fatalf("%d terminals", len(terms))
	}
	edited, deleted := terms[0], terms[len(terms)-1]
	edited.Properties["name_en"] = "Renamed after the first export"
	if _, err := s.Replace(ctx, "terminals", edited.ID, edited, "", layers.Edit{Author: "alice", Note: "renamed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "terminals", deleted.ID, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DropLayer(ctx, "parcels", layers.Edit{Author: "admin"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	pg := layerstest.PostgresDB(t)
	if _, stderr, err := planmap(t, "copy", "--from", gp, "--to", pg); err != nil {
		t.Fatalf("copy into PostgreSQL: %v\n%s", err, stderr)
	}

	// same runs the command args on each database and wants the same
	// standard output of both.
	same := func(t *testing.T, args ...string) string {
		t.Helper()
		var outs [2]string
		for i, db := range []string{gp, pg} {
			// --db after the command's words (token has two).
			n := 1
			if args[0] == "token" {
				n = 2
			}
			a := append(append(append([]string{}, args[:n]...), "--db", db), args[n:]...)
			out, stderr, err := planmap(t, a...)
			if err != nil {
				t.Fatalf("planmap %s on %s: %v\n%s", strings.Join(args, " "), dbName(db), err, stderr)
			}
			outs[i] = out
		}
		if outs[0] != outs[1] {
			t.Errorf("planmap %s on PostgreSQL differs at byte %d from the GeoPackage's:\n got  %s\n want %s",
				strings.Join(args, " "), diffAt(outs[1], outs[0]), around(outs[1], outs[0]), around(outs[0], outs[1]))
		}
		return outs[0]
	}

	t.Run("LayersAndGeoJSON", func(t *testing.T) {
		// planmap layers, then every layer's export.
		want := content(t, gp)
		if got := content(t, pg); got != want {
			t.Errorf("planmap layers and export of every layer on PostgreSQL differ at byte %d:\n got  %s\n want %s", diffAt(got, want), around(got, want), around(want, got))
		}
		if !strings.Contains(want, "Renamed after the first export") {
			t.Errorf("the export has no edit:\n%.300s", want)
		}
		// To a file, as to standard output.
		out := filepath.Join(dir, "terminals.geojson")
		if _, stderr, err := planmap(t, "export", "--db", pg, "--layer", "terminals", "-o", out); err != nil {
			t.Fatalf("export -o on PostgreSQL: %v\n%s", err, stderr)
		}
		text, _ := os.ReadFile(out)
		if got := same(t, "export", "--layer", "terminals"); string(text) != got {
			t.Errorf("export -o %s differs from the export to standard output", out)
		}
	})

	t.Run("AsOf", func(t *testing.T) {
		then := same(t, "export", "--layer", "terminals", "--as-of", before.Format(time.RFC3339Nano))
		now := same(t, "export", "--layer", "terminals")
		if then == now || strings.Contains(then, "Renamed after the first export") {
			t.Errorf("export --as-of before the edits shows them:\n%.500s", then)
		}
		if dropped := same(t, "export", "--layer", "parcels", "--as-of", before.Format(time.RFC3339Nano)); strings.Count(dropped, `"type":"Feature"`) != 3 {
			t.Errorf("export --as-of of the layer dropped since has not its 3 parcels:\n%.500s", dropped)
		}
		if empty := same(t, "export", "--layer", "terminals", "--as-of", "2000-01-01"); strings.Count(empty, `"type":"Feature"`) != 0 {
			t.Errorf("export --as-of 2000 has features:\n%.500s", empty)
		}
	})

	t.Run("KML", func(t *testing.T) {
		same(t, "export", "--format", "kml", "--layer", "terminals")
		same(t, "export", "--format", "kml")
	})

	t.Run("GeoPackage", func(t *testing.T) {
		// The standalone GeoPackages of both, imported each into a new
		// database, give the same layers and layer files.
		var got [2]string
		for i, db := range []string{gp, pg} {
			out := filepath.Join(dir, "export"+string(rune('a'+i)), "haimen.gpkg")
			os.MkdirAll(filepath.Dir(out), 0o755)
			if _, stderr, err := planmap(t, "export", "--db", db, "-o", out); err != nil {
				t.Fatalf("export -o %s from %s: %v\n%s", out, dbName(db), err, stderr)
			}
			back := filepath.Join(filepath.Dir(out), "back.gpkg")
			if _, stderr, err := planmap(t, "import", "--db", back, out); err != nil {
				t.Fatalf("import of the GeoPackage exported from %s: %v\n%s", dbName(db), err, stderr)
			}
			got[i] = content(t, back)
		}
		if got[1] != got[0] {
			t.Errorf("the GeoPackage exported from PostgreSQL, imported, differs at byte %d from the GeoPackage store's:\n got  %s\n want %s", diffAt(got[1], got[0]), around(got[1], got[0]), around(got[0], got[1]))
		}
		if n := strings.Count(got[0], "\n") - 1; n < seedCount(t) {
			t.Errorf("the exported GeoPackage lists %d layers", n)
		}
	})

	t.Run("Check", func(t *testing.T) {
		same(t, "check", "../../seeds/parks.geojson")
		// A schema change is checked against the stored layer: refused
		// without --replace on both.
		text, _ := os.ReadFile("../../seeds/parks.geojson")
		changed := strings.Replace(string(text), `"name": "name_en"`, `"name": "title_en"`, 1)
		if changed == string(text) {
			t.Fatal("no name_en field in parks.geojson")
		}
		file := filepath.Join(dir, "parks.geojson")
		os.WriteFile(file, []byte(changed), 0o644)
		for _, db := range []string{gp, pg} {
			if _, _, err := planmap(t, "check", "--db", db, file); err == nil {
				t.Errorf("check of a changed schema against %s succeeded; want it refused as import would", dbName(db))
			}
		}
	})

	t.Run("Rules", func(t *testing.T) {
		var outs [2]string
		for i, db := range []string{gp, pg} {
			out, stderr, err := planmap(t, "check", "--rules", "--db", db)
			if err != nil {
				t.Fatalf("check --rules on %s: %v\n%s%s", dbName(db), err, out, stderr)
			}
			outs[i] = strings.TrimPrefix(out, dbName(db))
		}
		if outs[0] != outs[1] || !strings.Contains(outs[0], "none broken") {
			t.Errorf("check --rules on PostgreSQL = %q, on the GeoPackage %q", outs[1], outs[0])
		}
		// Rules every industrial site breaks: the same report.
		decl := ruledBoundary(t, dir)
		for i, db := range []string{gp, pg} {
			out, _, err := planmap(t, "check", "--rules", "--db", db, decl)
			if err == nil || !strings.Contains(err.Error(), "rules broken") {
				t.Errorf("check --rules with a rule broken on %s = %v; want an error", dbName(db), err)
			}
			outs[i] = out
		}
		if outs[0] != outs[1] || !strings.Contains(outs[0], "overlaps industry") {
			t.Errorf("check --rules with broken rules on PostgreSQL:\n%s\nwant\n%s", outs[1], outs[0])
		}
	})

	t.Run("BackupRestore", func(t *testing.T) {
		want := content(t, gp)
		wantThen := same(t, "export", "--layer", "terminals", "--as-of", before.Format(time.RFC3339Nano))
		wantDropped := same(t, "export", "--layer", "parcels", "--as-of", before.Format(time.RFC3339Nano))
		wantTokens := same(t, "token", "list", "--all")
		// check shows that db holds what the GeoPackage held: the layers,
		// their features, their history and the tokens.
		check := func(t *testing.T, db string) {
			t.Helper()
			if got := content(t, db); got != want {
				t.Errorf("planmap layers and export of %s differ at byte %d:\n got  %s\n want %s", dbName(db), diffAt(got, want), around(got, want), around(want, got))
			}
			then, stderr, err := planmap(t, "export", "--db", db, "--layer", "terminals", "--as-of", before.Format(time.RFC3339Nano))
			if err != nil || then != wantThen {
				t.Errorf("export --as-of of %s = %v %s, or differs from the GeoPackage's", dbName(db), err, stderr)
			}
			then, stderr, err = planmap(t, "export", "--db", db, "--layer", "parcels", "--as-of", before.Format(time.RFC3339Nano))
			if err != nil || then != wantDropped {
				t.Errorf("export --as-of of the dropped layer from %s = %v %s, or differs from the GeoPackage's", dbName(db), err, stderr)
			}
			tokens, _, err := planmap(t, "token", "list", "--all", "--db", db)
			if err != nil || tokens != wantTokens {
				t.Errorf("token list of %s = %q, %v; want %q", dbName(db), tokens, err, wantTokens)
			}
			// The stores keep the current version's state differently
			// (the GeoPackage as the live feature only): each is
			// compared with the database of its own kind.
			of := gp
			if strings.HasPrefix(db, "postgres") {
				of = pg
			}
			// A change number the source gave out is never given out
			// again: the copy's log goes on after it.
			if got, want := lastChange(t, db), lastChange(t, gp); got < want {
				t.Errorf("the change log of %s is at %d, behind the GeoPackage's %d", dbName(db), got, want)
			}
			if got, want := wholeDB(t, db), wholeDB(t, of); got != want {
				t.Errorf("the history, ids and tokens of %s differ at byte %d from those of %s:\n got  %s\n want %s", dbName(db), diffAt(got, want), dbName(of), around(got, want), around(want, got))
			}
		}

		// A backup taken while planmap serve serves the database.
		backup := filepath.Join(dir, "pg-backup.gpkg")
		_, stop := startServe(t, pg)
		_, stderr, err := planmap(t, "backup", "--db", pg, "-o", backup)
		stop()
		if err != nil {
			t.Fatalf("backup of PostgreSQL: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr, "backed up "+dbName(pg)) {
			t.Errorf("backup said %q", stderr)
		}
		check(t, backup)
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".planmap-") {
					t.Errorf("backup left %s behind", e.Name())
				}
			}
		}
		if _, _, err := planmap(t, "backup", "--db", pg, "-o", backup); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("backup over an existing file = %v; want refused", err)
		}

		// Into a new, empty PostgreSQL database.
		fresh := layerstest.PostgresDB(t)
		if _, stderr, err := planmap(t, "restore", "--db", fresh, backup); err != nil {
			t.Fatalf("restore into an empty PostgreSQL database: %v\n%s", err, stderr)
		}
		check(t, fresh)
		// Into a GeoPackage file, as a backup of a GeoPackage.
		file := filepath.Join(dir, "restored.gpkg")
		if _, stderr, err := planmap(t, "restore", "--db", file, backup); err != nil {
			t.Fatalf("restore of the PostgreSQL backup into a GeoPackage file: %v\n%s", err, stderr)
		}
		check(t, file)
		// A GeoPackage's own backup restores into PostgreSQL too.
		gpBackup := filepath.Join(dir, "gp-backup.gpkg")
		if _, stderr, err := planmap(t, "backup", "--db", gp, "-o", gpBackup); err != nil {
			t.Fatalf("backup of the GeoPackage: %v\n%s", err, stderr)
		}
		other := layerstest.PostgresDB(t)
		if _, stderr, err := planmap(t, "restore", "--db", other, gpBackup); err != nil {
			t.Fatalf("restore of a GeoPackage's backup into PostgreSQL: %v\n%s", err, stderr)
		}
		check(t, other)

		// Into a database that holds layers: refused, and left as it was.
		parks := filepath.Join(dir, "parks-edit.geojson")
		text, _ := os.ReadFile("../../seeds/parks.geojson")
		os.WriteFile(parks, []byte(strings.Replace(string(text), `"name_en": "Harbour Eco-Park"`, `"name_en": "Harbour Eco-Park (edited)"`, 1)), 0o644)
		if _, stderr, err := planmap(t, "import", "--db", fresh, parks); err != nil {
			t.Fatalf("import edit: %v\n%s", err, stderr)
		}
		edited := content(t, fresh)
		if edited == want {
			t.Fatal("the edit changed nothing")
		}
		_, _, err = planmap(t, "restore", "--db", fresh, backup)
		if err == nil || !strings.Contains(err.Error(), "empty database") || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("restore into a database that holds layers = %v; want a refusal naming an empty database and pg_dump", err)
		}
		if content(t, fresh) != edited {
			t.Error("a refused restore changed the database")
		}
		// Not a backup: refused before anything is written.
		empty := layerstest.PostgresDB(t)
		for _, from := range []string{filepath.Join(dir, "none.gpkg"), "../../seeds/parks.geojson"} {
			if _, _, err := planmap(t, "restore", "--db", empty, from); err == nil {
				t.Errorf("restore of %s into PostgreSQL succeeded", from)
			}
		}
		if _, _, err := planmap(t, "layers", "--db", empty); err == nil || !strings.Contains(err.Error(), "has no planmap layers") {
			t.Errorf("after refused restores, planmap layers on the database = %v; want it to have no layers", err)
		}
	})
}

// diffAt is the offset of the first byte where a and b differ.
func diffAt(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// around is a's text around where it first differs from b.
func around(a, b string) string {
	i := diffAt(a, b)
	return a[max(0, i-80):min(len(a), i+80)]
}

// wholeDB is what layers.Copy reads of database db as text, but the live
// features (which the exports show) and the change log's position (which
// a copy moves on past the source's, see lastChange): every row of every
// layer's history with its state, the highest id each layer used, and the
// tokens with their hashes.
func wholeDB(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	s, err := openAny(ctx, db, openRead)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b strings.Builder
	ls, err := s.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		err := s.History(ctx, l.ID, func(h layers.HistoryRow) error {
			fmt.Fprintf(&b, "%s %d %s %s %q %q", l.ID, h.FID, h.Op, h.At.Format(time.RFC3339Nano), h.Author, h.Note)
			if h.State != nil {
				fmt.Fprintf(&b, " %v %v", h.State.Geometry, h.State.Properties)
			}
			b.WriteString("\n")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		last, err := s.LastFID(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s last id %d\n", l.ID, last)
	}
	tokens, err := s.TokenRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		fmt.Fprintf(&b, "token %s %s %v %x %s %s\n", tk.Name, tk.Role, tk.Layers, tk.Hash, tk.Created.Format(time.RFC3339Nano), tk.Revoked.Format(time.RFC3339Nano))
	}
	return b.String()
}

// lastChange is the change log's position in database db.
func lastChange(t *testing.T, db string) int64 {
	t.Helper()
	ctx := context.Background()
	s, err := openAny(ctx, db, openRead)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seq, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestBackupPostGISSnapshot: planmap backup of PostgreSQL reads one
// snapshot while a writer edits a feature again and again: in the backup,
// the feature's history holds exactly the edits its live state shows
// (edit N has N versions after the import's), not the ones made while the
// backup went on.
func TestBackupPostGISSnapshot(t *testing.T) {
	pg := layerstest.PostgresDB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(file, layerstest.Parcels(20000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := planmap(t, "import", "--db", pg, file); err != nil {
		t.Fatalf("import parcels into PostgreSQL: %v\n%s", err, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := postgis.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	it, err := w.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	edits := make(chan int, 1)
	go func() {
		n := 0
		defer func() { edits <- n }()
		for ctx.Err() == nil {
			props := maps.Clone(it.Properties())
			props["name_zh"] = fmt.Sprintf("edit %d", n+1)
			if _, err := w.Replace(ctx, "parcels", 1, layers.Feature{Geometry: it.Geometry(), Properties: props}, "", layers.Edit{Author: "writer"}); err != nil {
				if ctx.Err() == nil {
					t.Errorf("edit %d: %v", n+1, err)
				}
				return
			}
			n++
		}
	}()
	// Some edits before the backup, so that there is history to read.
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if v, _ := w.Versions(ctx, "parcels", 1); len(v) > 3 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("no edits after 10 s")
		}
	}
	backup := filepath.Join(dir, "backup.gpkg")
	_, stderr, err := planmap(t, "backup", "--db", pg, "-o", backup)
	cancel()
	n := <-edits
	if err != nil {
		t.Fatalf("backup while a writer edits: %v\n%s", err, stderr)
	}

	b, err := gpkg.OpenReadOnly(context.Background(), backup)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	live, err := b.Item(context.Background(), "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := b.Versions(context.Background(), "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	var k int
	if _, err := fmt.Sscanf(fmt.Sprint(live.Properties()["name_zh"]), "edit %d", &k); err != nil {
		t.Fatalf("parcel 1 in the backup is named %q", live.Properties()["name_zh"])
	}
	if len(vs) != k+1 {
		t.Errorf("in the backup parcel 1 is at edit %d but has %d versions (want %d: the import's and one per edit); the writer made %d edits in all", k, len(vs), k+1, n)
	}
	if k >= n {
		t.Logf("the writer made no edit while the backup ran (%d edits, the backup has %d): the snapshot was not put to the test", n, k)
	}
}
