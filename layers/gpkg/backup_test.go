package gpkg_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

func TestBackupDuringImport(t *testing.T) {
	s := layerstest.MustOpen(t)
	a := parseText(t, "a.geojson", string(layerstest.Parcels(1000)))
	b := parseText(t, "b.geojson", string(layerstest.Parcels(1500)))
	mustImport(t, s, layers.ImportOptions{}, a)
	wantA := exportText(t, s, "parcels")
	other := layerstest.MustOpen(t)
	mustImport(t, other, layers.ImportOptions{}, b)
	wantB := exportText(t, other, "parcels")

	// The import swaps the layer to the other version and back while
	// backups are taken.
	done := make(chan error, 1)
	go func() {
		for _, f := range []*layers.File{b, a} {
			if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{Replace: true}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	dir := t.TempDir()
	seen := map[string]int{}
	var last string
	for i := 0; ; i++ {
		path := filepath.Join(dir, "backup"+strings.Repeat("x", i)+".gpkg")
		if err := s.Backup(ctx, path); err != nil {
			t.Fatalf("Backup during an import: %v", err)
		}
		last = path
		backup, err := gpkg.OpenReadOnly(ctx, path)
		if err != nil {
			t.Fatalf("OpenReadOnly(backup %d): %v", i, err)
		}
		switch exportText(t, backup, "parcels") {
		case wantA:
			seen["before"]++
		case wantB:
			seen["after"]++
		default:
			t.Errorf("backup %d holds neither version of the layer", i)
		}
		backup.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			t.Logf("backups taken during the imports: %v", seen)
			// Internal tables come along, and GDAL finds the copy sound.
			db, err := sql.Open("sqlite", "file:"+last+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var migrations, mode string
			db.QueryRow(`SELECT group_concat(name) FROM planmap_migrations`).Scan(&migrations)
			db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
			if !strings.Contains(migrations, "0001_geopackage.sql") || mode != "delete" {
				t.Errorf("backup: migrations %q, journal_mode %q; want the migrations table and a single file", migrations, mode)
			}
			validateWithGDAL(t, last, nil)
			return
		default:
		}
	}
}

func TestBackupRefuses(t *testing.T) {
	s := layerstest.MustOpen(t)
	existing := filepath.Join(t.TempDir(), "existing.gpkg")
	os.WriteFile(existing, []byte("keep me"), 0o644)
	for name, path := range map[string]string{"ErrExisting": existing, "ErrDatabase": s.Path()} {
		t.Run(name, func(t *testing.T) {
			if err := s.Backup(ctx, path); layers.ErrorCode(err) != layers.EINVALID {
				t.Errorf("Backup(%s) = %v, want EINVALID", filepath.Base(path), err)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("Backup overwrote an existing file: %q", b)
	}
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "planmap.gpkg")
	s, err := gpkg.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, layers.ImportOptions{},
		parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	want := snapshot(t, s)
	backup := filepath.Join(dir, "backup.gpkg")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	// What the restore must undo.
	mustImport(t, s, layers.ImportOptions{Replace: true},
		parseText(t, "parcels.geojson", string(layerstest.Parcels(50))))
	changed := snapshot(t, s)
	s.Close()

	backupBytes, _ := os.ReadFile(backup)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sqliteDB := func(name string, stmts ...string) string {
		p := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", "file:"+p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return p
	}
	damaged := bytes.Clone(backupBytes)
	pageSize := int(damaged[16])<<8 | int(damaged[17])
	for i := 3 * pageSize; i < 6*pageSize && i < len(damaged); i++ {
		damaged[i] = 0x5a
	}
	newer := filepath.Join(dir, "newer.gpkg")
	os.WriteFile(newer, backupBytes, 0o644)
	db, _ := sql.Open("sqlite", "file:"+newer)
	if _, err := db.Exec(`INSERT INTO planmap_migrations (version, name) VALUES (99, '0099_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name string
		from string
		code string
		msg  string
	}{
		{"ErrText", write("notes.txt", []byte("not a database")), layers.EFOREIGN, "is not an SQLite database"},
		{"ErrDamaged", write("damaged.gpkg", damaged), layers.EINVALID, "is damaged"},
		{"ErrPlainSQLite", sqliteDB("plain.sqlite", `CREATE TABLE t (x)`), layers.EFOREIGN, "not a GeoPackage"},
		{"ErrOtherGeoPackage", sqliteDB("other.gpkg", `PRAGMA application_id = 1196444487`, `CREATE TABLE gpkg_contents (table_name TEXT)`), layers.EFOREIGN, "not a planmap database"},
		{"ErrNewer", newer, layers.ECONFLICT, "newer planmap"},
		{"ErrDatabaseItself", dbPath, layers.EINVALID, "is the database itself"},
		{"ErrMissing", filepath.Join(dir, "nope.gpkg"), layers.ENOTFOUND, "no backup at"},
	}
	before := fileSum(t, dbPath)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gpkg.Restore(ctx, dbPath, tt.from)
			if layers.ErrorCode(err) != tt.code || err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Restore(%s) = %v, want %s saying %q", filepath.Base(tt.from), err, tt.code, tt.msg)
			}
			if fileSum(t, dbPath) != before {
				t.Errorf("Restore(%s) refused but changed the database", filepath.Base(tt.from))
			}
		})
	}

	t.Run("ErrInUse", func(t *testing.T) {
		open, err := gpkg.OpenReadOnly(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := open.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		err = gpkg.Restore(ctx, dbPath, backup)
		open.Close()
		if layers.ErrorCode(err) != layers.ECONFLICT || !strings.Contains(err.Error(), "is in use") {
			t.Errorf("Restore onto an open database = %v, want ECONFLICT in use", err)
		}
		if fileSum(t, dbPath) != before {
			t.Errorf("a refused restore changed the database")
		}
	})

	t.Run("OverCrashedDatabase", func(t *testing.T) {
		// The files a process killed after an import leaves: the import
		// is committed in the -wal only. The restored file must not
		// inherit that log.
		live := filepath.Join(t.TempDir(), "live.gpkg")
		s, err := gpkg.Open(ctx, live)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(300))))
		crashed := filepath.Join(t.TempDir(), "crashed.gpkg")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(live + suffix)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(crashed+suffix, b, 0o644)
		}
		if fi, err := os.Stat(crashed + "-wal"); err != nil || fi.Size() == 0 {
			t.Fatalf("the crash image has no -wal to test with: %v", err)
		}
		if err := gpkg.Restore(ctx, crashed, backup); err != nil {
			t.Fatalf("Restore over a crashed database: %v", err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(crashed + suffix); err == nil {
				t.Errorf("Restore left the old %s behind", suffix)
			}
		}
		r, err := gpkg.Open(ctx, crashed)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got := snapshot(t, r); got != want {
			t.Errorf("after Restore over a crashed database the layers differ from the backed-up ones")
		}
	})

	t.Run("OK", func(t *testing.T) {
		if err := gpkg.Restore(ctx, dbPath, backup); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dbPath + suffix); err == nil {
				t.Errorf("Restore left %s behind", filepath.Base(dbPath+suffix))
			}
		}
		s, err := gpkg.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := snapshot(t, s); got != want {
			if got == changed {
				t.Fatalf("after Restore the database still holds the changed layer")
			}
			t.Fatalf("after Restore the layers differ from the backed-up ones")
		}
		validateWithGDAL(t, dbPath, map[string]int{"parcels": 3})
	})
}

// fileSum is the SHA-256 of a database file and of its -wal, to tell
// whether anything touched them.
func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err == nil || suffix == "" {
			h.Write(b)
		}
	}
	return [32]byte(h.Sum(nil))
}
