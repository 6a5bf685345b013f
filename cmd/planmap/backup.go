package main

import (
	"context"
	"fmt"
	"io"

	"planmap/layers/gpkg"
)

func cmdBackup(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("backup", "[flags] -o FILE", "Copy the whole database, internal tables included, to a new file: a consistent snapshot, safe to take while planmap serve runs. planmap restore puts it back.", stdout, stderr)
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
	store, err := openReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stderr, "backed up %s to %s\n", *db, *out)
	return nil
}

func cmdRestore(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("restore", "[flags] FILE", "Check a backup made by planmap backup and put it in the place of the database. Stop planmap serve first: restore refuses while any planmap process has the database open, and leaves the database as it was when it refuses.", stdout, stderr)
	db := dbFlag(fs, env)
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"restore: name one backup file"}
	}
	if err := fileOnly(*db); err != nil {
		return err
	}
	if err := gpkg.Restore(ctx, *db, fs.Arg(0)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stderr, "restored %s from %s\n", *db, fs.Arg(0))
	return nil
}
