// Command planmap serves the planned land use of Haimen Port New Area and
// keeps its layers: a GeoPackage loaded from hand-drawn GeoJSON.
//
//	planmap serve                     # http://127.0.0.1:8080, data/planmap.gpkg
//	planmap import [--replace] FILE|DIR…
//	planmap export --layer terminals -o terminals.geojson
//	planmap export --format gpkg -o haimen.gpkg
//	planmap layers
//	planmap check FILE|DIR…
//	planmap check --rules
//	planmap backup -o backup.gpkg
//	planmap restore backup.gpkg
//	planmap backup --db postgres://planmap@localhost/planmap -o backup.gpkg
//	planmap token add --name alice --role editor --layers parcels
//	planmap copy --from data/planmap.gpkg --to postgres://planmap@localhost/planmap
//
// Run "planmap COMMAND -h" for the flags of each command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "planmap:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "planmap:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `planmap: the planned-land-use map of Haimen Port New Area

usage: planmap COMMAND [flags]

commands:
  serve     serve the map and the layers over HTTP (creates and seeds the database if missing)
  import    check layer files and write them into the database
  export    write a layer as GeoJSON, or layers as a GeoPackage or KML
  layers    list the layers in the database
  check     check layer files without writing anything
  backup    copy the whole database to a new file, while the server runs
  restore   put a backup in the place of the database, with the server stopped
  token     add, list or revoke the bearer tokens of editors
  copy      copy a whole database, history and tokens included, between GeoPackage and PostGIS

Run "planmap COMMAND -h" for a command's flags.
Environment: PLANMAP_DB (--db), PLANMAP_ADDR (--addr).
`

// run is the whole program, so that tests can run it as it is.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	env := envFunc(getenv)
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, env, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, env, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, env, stdout, stderr)
	case "layers":
		return cmdLayers(ctx, rest, env, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, env, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, env, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, rest, env, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, env, stdout, stderr)
	case "copy":
		return cmdCopy(ctx, rest, env, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

type envFunc func(string) string

// or returns the variable's value, or def when it is unset or empty.
func (e envFunc) or(name, def string) string {
	if v := strings.TrimSpace(e(name)); v != "" {
		return v
	}
	return def
}
