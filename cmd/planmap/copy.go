package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
)

// Both stores are read and written whole by planmap copy.
var (
	_ layers.CopySource = (*gpkg.Store)(nil)
	_ layers.CopyTarget = (*gpkg.Store)(nil)
	_ layers.CopySource = (*postgis.Store)(nil)
	_ layers.CopyTarget = (*postgis.Store)(nil)
)

func cmdCopy(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("copy", "--from DB --to DB",
		"Copy a whole database from a GeoPackage file into PostgreSQL + PostGIS, or back, or between two of either: "+
			"every layer with its declaration, the features under their ids, the full history of every feature "+
			"(its versions, their times, authors and notes), the ids deleted (never given out again), the change "+
			"log's position, and the tokens (their hashes: a token works on the copy as on the original).\n\n"+
			"The target must hold no layers and no tokens: a GeoPackage file that does not exist yet (it is created) "+
			"or holds none, or a PostgreSQL database without planmap's layers. A target that holds layers is refused; "+
			"there is no --replace: drop the database or remove the file first. The copy is written in one "+
			"transaction: if anything fails, the target keeps no layer of it, and a GeoPackage file it created is "+
			"removed. Copy from a database nobody writes to while the copy runs (stop planmap serve first).",
		stdout, stderr)
	from := fs.String("from", "", "the database to copy: a GeoPackage file, or postgres://user@host:port/dbname")
	to := fs.String("to", "", "the new database: a GeoPackage file, or postgres://user@host:port/dbname")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("copy: unexpected argument %q", fs.Arg(0))}
	}
	if *from == "" || *to == "" {
		fs.Usage()
		return usageError{"copy: --from and --to are required"}
	}
	if *from == *to {
		return usageError{"copy: --from and --to name the same database"}
	}
	src, closeSrc, err := openCopySource(ctx, *from)
	if err != nil {
		return err
	}
	defer closeSrc()
	dst, discard, err := openCopyTarget(ctx, *to)
	if err != nil {
		return err
	}
	res, err := layers.Copy(ctx, src, dst)
	if err != nil {
		discard()
		return fmt.Errorf("copy %s to %s: nothing was copied: %w", dbName(*from), dbName(*to), err)
	}
	if err := dst.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n", dbName(*to), res)
	return nil
}

// copyTarget is a store planmap copy writes into.
type copyTarget interface {
	layers.CopyTarget
	Close() error
}

// openCopySource opens the database to copy: a GeoPackage file read-only
// (it must exist), or PostgreSQL.
func openCopySource(ctx context.Context, db string) (layers.CopySource, func(), error) {
	if postgis.IsURL(db) {
		s, err := openPostGIS(ctx, db)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, usageError{fmt.Sprintf("copy: --from %s: there is no such file", db)}
	}
	s, err := openReadOnly(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// openCopyTarget opens (or creates) the database to copy into; discard
// closes it after a failed copy, removing a GeoPackage file it created.
func openCopyTarget(ctx context.Context, db string) (copyTarget, func(), error) {
	if postgis.IsURL(db) {
		s, err := openPostGIS(ctx, db)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	s, err := openStore(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	return s, func() {
		if s.Created() {
			s.Discard()
		} else {
			s.Close()
		}
	}, nil
}
