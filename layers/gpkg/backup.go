package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"planmap/layers"
)

// Backup writes a consistent copy of the whole database, internal tables
// included, to path, which must not exist. It copies one read snapshot
// with VACUUM INTO, so it may run while planmap serve serves and writes;
// the copy is checked (integrity_check) and made durable before it
// appears under its name, as a single file in rollback-journal mode that
// Restore takes back.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.IsDatabase(path) {
		return layers.Errorf(layers.EINVALID, "%s is the database itself; back up to another file", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return layers.Errorf(layers.EINVALID, "%s already exists; planmap will not overwrite it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planmap-backup-*.gpkg")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // VACUUM INTO wants to create the file itself
	defer removeDB(tmpPath)

	// As ExportGPKG: one snapshot on a read-only connection, which waits
	// for no writer and holds none up.
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("backup snapshot: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(tmpPath, "_pragma=journal_mode(DELETE)"))
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	if err := integrityCheck(ctx, db, tmpPath); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	if err := syncFile(tmpPath); err != nil {
		return err
	}
	// A hard link, unlike a rename, fails when path has appeared in the
	// meantime: an existing file is never replaced.
	if err := os.Link(tmpPath, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return layers.Errorf(layers.EINVALID, "%s already exists; planmap will not overwrite it", path)
		}
		return fmt.Errorf("backup: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// Restore replaces the database at dbPath with the backup at from, after
// checking that from is a sound planmap database (integrity_check, the
// GeoPackage application_id, planmap's migrations table, a schema no newer
// than this planmap's). It refuses while any process has dbPath open (see
// lockDatabase), and refuses to replace a file that is not a planmap
// database. The backup is copied beside dbPath, made durable and renamed
// over it, so dbPath is at every moment either the old database or the
// restored one; the old database's -wal and -shm files go with it. When
// Restore refuses, dbPath is left as it was.
//
// Restore must not run in a process that has dbPath open itself: closing
// the files it locks would drop that process's own SQLite locks.
func Restore(ctx context.Context, dbPath, from string) error {
	src, err := statBackup(from)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dbPath); err == nil && os.SameFile(fi, src) {
		return layers.Errorf(layers.EINVALID, "%s is the database itself; name a backup made by planmap backup", from)
	}
	if _, err := preflight(ctx, dbPath); layers.ErrorCode(err) == layers.EFOREIGN {
		return layers.Errorf(layers.EFOREIGN, "%s; move it away before restoring there", err.Error())
	}
	// Refuse early, before the checkpoint below opens the old database.
	unlock, err := lockDatabase(dbPath)
	if err != nil {
		return err
	}
	unlock()

	tmp, err := copyBeside(from, dbPath)
	if err != nil {
		return err
	}
	defer removeDB(tmp)
	if err := checkBackup(ctx, tmp, from); err != nil {
		return err
	}

	// Committed transactions of the old database may still be in its -wal
	// (a process was killed): move them into the main file, so that no
	// log is left that could be replayed onto the restored file. A
	// damaged old database may fail this; it is replaced all the same.
	if _, err := os.Stat(dbPath); err == nil {
		if db, err := sql.Open("sqlite", dsn(dbPath, "_pragma=busy_timeout(1000)")); err == nil {
			db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			db.Close()
		}
	}

	unlock, err = lockDatabase(dbPath)
	if err != nil {
		return err
	}
	defer unlock()
	// Nobody has the old database open, and its log is empty or its
	// contents lost with it: remove the log before the new file takes the
	// name, as SQLite would otherwise apply it to the new file.
	if err := os.Remove(dbPath + "-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The wal-index describes the log just removed; SQLite rebuilds it.
	if err := os.Remove(dbPath + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("restore: %w", err)
	}
	return syncDir(filepath.Dir(dbPath))
}

// checkBackup checks that the file at path (a copy of from, which names
// it in messages) is a sound planmap database this planmap can open. It
// opens the file read-only and immutable, so a foreign file is not
// touched.
// statBackup refuses a backup file from that is missing, a folder, or a
// live database (a -wal beside it holds changes).
func statBackup(from string) (os.FileInfo, error) {
	src, err := os.Stat(from)
	if err != nil {
		return nil, layers.Errorf(layers.ENOTFOUND, "no backup at %s", from)
	}
	if src.IsDir() {
		return nil, layers.Errorf(layers.EINVALID, "%s is a folder, not a backup", from)
	}
	if fi, err := os.Stat(from + "-wal"); err == nil && fi.Size() > 0 {
		return nil, layers.Errorf(layers.EINVALID, "%s has a write-ahead log beside it (%s-wal): it is a live database, not a backup; make one with planmap backup", from, from)
	}
	return src, nil
}

// CheckBackup checks the file at path as Restore checks a backup before
// it puts it in place (a GeoPackage, sound, with planmap's tables, of a
// schema this planmap knows, no live log beside it), for a restore that
// copies the backup elsewhere (into PostgreSQL). It writes nothing.
func CheckBackup(ctx context.Context, path string) error {
	if _, err := statBackup(path); err != nil {
		return err
	}
	return checkBackup(ctx, path, path)
}

func checkBackup(ctx context.Context, path, from string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	header := make([]byte, 100)
	_, err = io.ReadFull(fh, header)
	fh.Close()
	if err != nil || string(header[:16]) != "SQLite format 3\x00" {
		return layers.Errorf(layers.EFOREIGN, "%s is not an SQLite database, so not a planmap backup", from)
	}
	if id := binary.BigEndian.Uint32(header[68:]); id != gpkgApplicationID {
		return layers.Errorf(layers.EFOREIGN, "%s is an SQLite database but not a GeoPackage (application_id %#x), so not a planmap backup", from, id)
	}
	db, err := sql.Open("sqlite", dsn(path, "mode=ro", "immutable=1"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := integrityCheck(ctx, db, from); err != nil {
		return err
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('planmap_migrations', 'planmap_layers')`).Scan(&n); err != nil {
		return fmt.Errorf("read %s: %w", from, err)
	}
	if n != 2 {
		return layers.Errorf(layers.EFOREIGN, "%s is a GeoPackage but not a planmap database (no planmap_migrations and planmap_layers tables)", from)
	}
	var version sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM planmap_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("read %s: %w", from, err)
	}
	if known := len(migrationNames()); int(version.Int64) > known {
		return layers.Errorf(layers.ECONFLICT, "%s was written by a newer planmap (schema version %d, this one knows %d); upgrade planmap", from, version.Int64, known)
	}
	return nil
}

// integrityCheck runs PRAGMA integrity_check and turns its complaints
// into an error naming the file.
func integrityCheck(ctx context.Context, db *sql.DB, name string) error {
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return layers.Errorf(layers.EINVALID, "%s is damaged: %v", name, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return layers.Errorf(layers.EINVALID, "%s is damaged: %v", name, err)
	}
	if len(problems) > 0 {
		more := ""
		if len(problems) > 1 {
			more = fmt.Sprintf(" (and %d more problems)", len(problems)-1)
		}
		return layers.Errorf(layers.EINVALID, "%s is damaged: integrity_check says %s%s", name, problems[0], more)
	}
	return nil
}

// copyBeside copies from into a new temporary file in dst's folder, where
// a rename can put it in dst's place, and makes it durable.
func copyBeside(from, dst string) (string, error) {
	in, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	out, err := os.CreateTemp(filepath.Dir(dst), ".planmap-restore-*.gpkg")
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(0o644)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("restore: copy %s: %w", from, err)
	}
	return out.Name(), nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
