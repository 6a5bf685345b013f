package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "planmap.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", db, "../../seeds"); err != nil {
		t.Fatalf("import seeds: %v\n%s", err, stderr)
	}
	want := content(t, db)
	backup := filepath.Join(dir, "backup.gpkg")

	_, stop := startServeProcess(t, db)
	if _, stderr, err := planmap(t, "backup", "--db", db, "-o", backup); err != nil {
		t.Fatalf("backup while serving: %v\n%s", err, stderr)
	}
	for _, target := range []string{backup, db} {
		if _, _, err := planmap(t, "backup", "--db", db, "-o", target); err == nil {
			t.Errorf("backup -o %s (exists) succeeded", filepath.Base(target))
		}
	}
	_, _, err := planmap(t, "restore", "--db", db, backup)
	if err == nil || !strings.Contains(err.Error(), "is in use") {
		t.Errorf("restore onto a running server's database = %v, want refused as in use", err)
	}
	stop()

	// A change that the restore undoes.
	parks := filepath.Join(dir, "parks.geojson")
	if _, _, err := planmap(t, "export", "--db", db, "--layer", "parks", "-o", parks); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(parks)
	os.WriteFile(parks, []byte(strings.Replace(string(text), `"name_en":"Harbour Eco-Park"`, `"name_en":"Harbour Eco-Park (edited)"`, 1)), 0o644)
	if _, stderr, err := planmap(t, "import", "--db", db, parks); err != nil {
		t.Fatalf("import edit: %v\n%s", err, stderr)
	}
	if content(t, db) == want {
		t.Fatal("the edit changed nothing")
	}

	if _, stderr, err := planmap(t, "restore", "--db", db, backup); err != nil {
		t.Fatalf("restore: %v\n%s", err, stderr)
	}
	if got := content(t, db); got != want {
		t.Errorf("after backup → edit → restore, planmap layers and export differ from before the backup")
	}
	// And the restored database serves.
	_, stop = startServeProcess(t, db)
	stop()
}

func TestBackupRestoreUsage(t *testing.T) {
	for _, cmd := range []string{"backup", "restore"} {
		out, _, err := planmap(t, cmd, "-h")
		if err != nil || !strings.HasPrefix(out, "usage: planmap "+cmd) || !strings.Contains(out, "-db") {
			t.Errorf("planmap %s -h = %v, %q", cmd, err, out)
		}
	}
	db := filepath.Join(t.TempDir(), "planmap.gpkg")
	for _, args := range [][]string{{"backup", "--db", db}, {"restore", "--db", db}, {"restore", "--db", db, "a.gpkg", "b.gpkg"}} {
		var u usageError
		if _, _, err := planmap(t, args...); !errors.As(err, &u) {
			t.Errorf("planmap %s = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a refused command created %s", db)
	}
}
