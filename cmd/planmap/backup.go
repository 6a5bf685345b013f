package main

import (
	"context"
	"fmt"
	"io"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
)

func cmdBackup(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("backup", "[flags] -o FILE", "Copy the whole database, internal tables included, to a new file: a consistent snapshot, safe to take while planmap serve runs. planmap restore puts it back.\n\n"+
		"From PostgreSQL (--db postgres://…) the backup is a planmap GeoPackage of the whole database, read in one snapshot: every layer, the full history, the ids retired and the tokens, as planmap copy moves them. "+
		"It is not a dump of the PostgreSQL database: tables, views, roles and settings that are not planmap's are left out (pg_dump backs up those).", stdout, stderr)
	db := dbFlag(fs, env)
	out := fs.String("o", "", "the backup file to write; it must not exist")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("backup: unexpected argument %q", fs.Arg(0))}
	}
	if *out == "" {
		fs.Usage()
		return usageError{"backup: -o FILE is required"}
	}
	store, err := openAny(ctx, *db, openRead)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stderr, "backed up %s to %s\n", dbName(*db), *out)
	return nil
}

func cmdRestore(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("restore", "[flags] FILE", "Check a backup made by planmap backup and put it in the place of the database. Stop planmap serve first: restore refuses while any planmap process has the database open, and leaves the database as it was when it refuses.\n\n"+
		"Into PostgreSQL (--db postgres://…) restore writes the backup, history and tokens included, into an empty database only, in one transaction: "+
		"create a new database (createdb), restore into it, and point planmap serve at it. A database that holds planmap layers is refused and left as it was; "+
		"to roll a PostgreSQL database back in place, use pg_dump and pg_restore.", stdout, stderr)
	db := dbFlag(fs, env)
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"restore: name one backup file"}
	}
	if postgis.IsURL(*db) {
		return restorePostGIS(ctx, *db, fs.Arg(0), stderr)
	}
	if err := gpkg.Restore(ctx, *db, fs.Arg(0)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stderr, "restored %s from %s\n", *db, fs.Arg(0))
	return nil
}

// restorePostGIS restores the backup from into the PostgreSQL database db,
// which must hold no planmap layers and no tokens: the backup is checked
// as a GeoPackage restore checks it, then copied in whole as planmap copy
// copies (copyDB), in one transaction.
func restorePostGIS(ctx context.Context, db, from string, stderr io.Writer) error {
	if err := gpkg.CheckBackup(ctx, from); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	res, err := copyDB(ctx, from, db)
	if layers.ErrorCode(err) == layers.ECONFLICT {
		return fmt.Errorf("restore: nothing was restored: %w; restore into PostgreSQL writes into an empty database only: create one (createdb) and restore into it, or to roll this one back in place use pg_dump and pg_restore", err)
	}
	if err != nil {
		return fmt.Errorf("restore %s into %s: nothing was restored: %w", from, dbName(db), err)
	}
	fmt.Fprintf(stderr, "restored %s from %s: %s\n", dbName(db), from, res)
	return nil
}
