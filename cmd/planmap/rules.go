package main

import (
	"context"
	"fmt"
	"io"

	"planmap/layers"
)

// checkRules reports the planning rules that the features in database db
// (a GeoPackage file or PostgreSQL) break: every layer's rules against every feature, as planmap check
// --rules. The rules are those of the stored declarations, or, for a layer
// declared in one of the layer files named, of that declaration: so rules
// can be tried on the data before they are declared. It returns an error,
// and the command fails, when a rule is broken.
func checkRules(ctx context.Context, db string, paths []string, stdout, stderr io.Writer) error {
	store, err := openAny(ctx, db, openRead)
	if err != nil {
		return fmt.Errorf("check --rules: %w", err)
	}
	defer store.Close()
	all, err := store.Layers(ctx)
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		files, err := readInputs(paths, "")
		if err != nil {
			return problems(stderr, "check --rules", err)
		}
		var p layers.Problems
		for _, f := range files {
			if f.Layer == nil {
				p.Add("%s: declares no layer, so no rules", f.Name)
				continue
			}
			found := false
			for i, l := range all {
				if l.ID == f.Layer.ID {
					all[i], found = f.Layer, true
				}
			}
			if !found {
				p.Add("%s: layer %s is not in the database", f.Name, f.Layer.ID)
			}
		}
		if p.Len() > 0 {
			return problems(stderr, "check --rules", p.Err())
		}
	}
	var p layers.Problems
	name := func(l *layers.Layer) string { return "layer " + l.ID }
	warn := func(_ *layers.Layer, msg string) { fmt.Fprintln(stderr, "warning:", msg) }
	if err := layers.ValidateRuleLayers(ctx, nil, all, name, &p, warn); err != nil {
		return err
	}
	if p.Len() > 0 {
		return problems(stderr, "check --rules", p.Err())
	}
	vs, err := layers.Audit(ctx, layers.ItemsNeighbours(store.Items), all, store.Features)
	if err != nil {
		return fmt.Errorf("check --rules: %w", err)
	}
	rules, ruled := 0, 0
	for _, l := range all {
		rules += len(l.Rules)
		if len(l.Rules) > 0 {
			ruled++
		}
	}
	for _, v := range vs {
		fmt.Fprintln(stdout, v.Error())
	}
	if len(vs) > 0 {
		return fmt.Errorf("check --rules: %d %s broken", len(vs), plural(len(vs), "rule", "rules"))
	}
	fmt.Fprintf(stdout, "%s: %d %s of %d %s, none broken\n", dbName(db), rules, plural(rules, "rule", "rules"), ruled, plural(ruled, "layer", "layers"))
	return nil
}
