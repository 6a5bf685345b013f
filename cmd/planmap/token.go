package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/postgis"
	"planmap/web"
)

// The stores are where serve finds who a token speaks for, and both take
// edits and changes of the layers over HTTP (the cache in front of them
// passes these on).
var (
	_ web.Tokens      = (*gpkg.Store)(nil)
	_ web.Tokens      = (*postgis.Store)(nil)
	_ web.Editor      = (*postgis.Store)(nil)
	_ web.LayerEditor = (*gpkg.Store)(nil)
	_ web.LayerEditor = (*postgis.Store)(nil)
)

// tokenStore is what planmap token needs of a store: the GeoPackage store,
// or the PostGIS store when --db is a postgres:// URL.
type tokenStore interface {
	AddToken(ctx context.Context, name string, role layers.Role, layerIDs []string) (string, error)
	ListTokens(ctx context.Context, revoked bool) ([]layers.Token, error)
	RevokeToken(ctx context.Context, name string) error
	Close() error
}

const tokenUsage = `usage: planmap token add --name NAME --role editor|admin [--layers a,b] [--db FILE|URL]
       planmap token list [--all] [--db FILE|URL]
       planmap token revoke [--db FILE|URL] NAME

Bearer tokens of the people who edit the plan over HTTP (Authorization:
Bearer …). An editor may change the features of its layers (all of them
without --layers); an admin may also create, redeclare and delete layers.
The database keeps only a hash of each token: add prints it once. The
history records the token's name as the author of each change.
`

func cmdToken(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return usageError{"token: say add, list or revoke"}
	}
	switch args[0] {
	case "add":
		return cmdTokenAdd(ctx, args[1:], env, stdout, stderr)
	case "list":
		return cmdTokenList(ctx, args[1:], env, stdout, stderr)
	case "revoke":
		return cmdTokenRevoke(ctx, args[1:], env, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, tokenUsage)
		return nil
	}
	fmt.Fprint(stderr, tokenUsage)
	return usageError{fmt.Sprintf("token: unknown command %q; say add, list or revoke", args[0])}
}

func cmdTokenAdd(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("token add", "--name NAME --role editor|admin [flags]", "Add a bearer token and print it, once, on standard output: keep it like a password. Serve accepts it only over HTTPS or from this machine (see serve -h).", stdout, stderr)
	db := dbFlag(fs, env)
	name := fs.String("name", "", "the token's name, recorded as the author of its changes: letters, digits and . _ - @")
	role := fs.String("role", "", "editor (changes features) or admin (also creates, redeclares and deletes layers)")
	layerList := fs.String("layers", "", "comma-separated layers an editor may change (default: all)")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("token add: unexpected argument %q", fs.Arg(0))}
	}
	if *name == "" || *role == "" {
		fs.Usage()
		return usageError{"token add: --name and --role are required"}
	}
	r, err := layers.ParseRole(*role)
	if err != nil {
		return usageError{"token add: --role: " + err.Error()}
	}
	var ids []string
	for _, id := range strings.Split(*layerList, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	store, err := openAny(ctx, *db, openExisting)
	if err != nil {
		return err
	}
	defer store.Close()
	token, err := store.AddToken(ctx, *name, r, ids)
	if err != nil {
		return fmt.Errorf("token add: %w", err)
	}
	// The token alone on standard output, so that TOKEN=$(planmap token
	// add …) takes it; what it is for on standard error.
	fmt.Fprintln(stdout, token)
	what := "every layer"
	if len(ids) > 0 {
		what = "layers " + strings.Join(ids, ", ")
	} else if r == layers.RoleAdmin {
		what = "every layer and the layers themselves"
	}
	fmt.Fprintf(stderr, "added token %s (%s: %s). It is shown only this once; planmap keeps only its hash.\n", *name, r, what)
	return nil
}

func cmdTokenList(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("token list", "[flags]", "List the valid tokens: name, role, layers and when each was added. Never the tokens, which are not kept.", stdout, stderr)
	db := dbFlag(fs, env)
	all := fs.Bool("all", false, "list revoked tokens too, with when they were revoked")
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("token list: unexpected argument %q", fs.Arg(0))}
	}
	store, err := openAny(ctx, *db, openRead)
	if err != nil {
		return err
	}
	defer store.Close()
	tokens, err := store.ListTokens(ctx, *all)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	head := "NAME\tROLE\tLAYERS\tCREATED"
	if *all {
		head += "\tREVOKED"
	}
	fmt.Fprintln(tw, head)
	for _, t := range tokens {
		ls := strings.Join(t.Layers, ",")
		if ls == "" {
			ls = "(all)"
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s", t.Name, t.Role, ls, t.Created.UTC().Format(time.DateTime+"Z"))
		if *all && !t.Revoked.IsZero() {
			line += "\t" + t.Revoked.UTC().Format(time.DateTime+"Z")
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func cmdTokenRevoke(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", "[flags] NAME", "Revoke the token named NAME. A running server refuses it from its next request on.", stdout, stderr)
	db := dbFlag(fs, env)
	if err := parse(fs, args, stdout); err != nil {
		return helped(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"token revoke: name one token"}
	}
	store, err := openAny(ctx, *db, openExisting)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.RevokeToken(ctx, fs.Arg(0)); err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	fmt.Fprintf(stderr, "revoked token %s\n", fs.Arg(0))
	return nil
}
