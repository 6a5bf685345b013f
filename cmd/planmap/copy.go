package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"planmap/layers"
	"planmap/layers/postgis"
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
	if _, err := os.Stat(*from); !postgis.IsURL(*from) && errors.Is(err, os.ErrNotExist) {
		return usageError{fmt.Sprintf("copy: --from %s: there is no such file", *from)}
	}
	res, err := copyDB(ctx, *from, *to)
	if err != nil {
		return fmt.Errorf("copy %s to %s: nothing was copied: %w", dbName(*from), dbName(*to), err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", dbName(*to), res)
	return nil
}

// copyDB copies the whole database from into the database to (layers.Copy),
// which is created when it does not exist and must hold nothing; after a
// failed copy, a GeoPackage file it created is removed. planmap copy and
// planmap restore into PostgreSQL both copy so.
func copyDB(ctx context.Context, from, to string) (layers.CopyResult, error) {
	src, err := openAny(ctx, from, openRead)
	if err != nil {
		return layers.CopyResult{}, err
	}
	defer src.Close()
	dst, err := openAny(ctx, to, openCreate)
	if err != nil {
		return layers.CopyResult{}, err
	}
	res, err := layers.Copy(ctx, src, dst)
	if err != nil {
		if d, ok := dst.(interface{ Discard() error }); ok && dst.Created() {
			d.Discard()
		} else {
			dst.Close()
		}
		return layers.CopyResult{}, err
	}
	return res, dst.Close()
}
