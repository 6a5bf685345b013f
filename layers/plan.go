package layers

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Plan is one layer file checked against what a store holds, and how
// to write it.
type Plan struct {
	File    *File
	Layer   *Layer // the declaration to write
	Stored  *Layer // what the store has, nil for a new layer
	Rebuild bool   // drop and re-create the layer's table
	AddCols []Field
}

// Lookup finds a stored layer; it returns an ENOTFOUND error when
// there is none.
type Lookup func(ctx context.Context, id string) (*Layer, error)

// CheckFiles checks layer files as an import would, against the layers a
// store holds (lookup finds them), or against the files alone when lookup
// is nil. It writes nothing.
func CheckFiles(ctx context.Context, lookup Lookup, files []*File, replace bool) error {
	if lookup == nil {
		lookup = func(_ context.Context, id string) (*Layer, error) {
			return nil, Errorf(ENOTFOUND, "layer %q does not exist", id)
		}
	}
	_, err := Prepare(ctx, lookup, files, replace)
	return err
}

// Prepare checks layer files as an import into a store must: each file
// against its own declaration and against the stored layer lookup finds,
// every problem of every file in the one error. It fills each file's
// Features with its checked features; a store that writes them as they
// are checked uses Stream instead, with the same rules.
func Prepare(ctx context.Context, lookup Lookup, files []*File, replace bool) ([]Plan, error) {
	var c collector
	err := Stream(ctx, lookup, files, replace, &c)
	return c.plans, err
}

// collector is the Writer of Prepare: it keeps the plans and fills each
// file's Features.
type collector struct{ plans []Plan }

func (c *collector) Begin(_ context.Context, pl *Plan) error {
	pl.File.Features = pl.File.Features[:0]
	c.plans = append(c.plans, *pl)
	return nil
}

func (c *collector) Write(_ context.Context, pl *Plan, f Feature) error {
	pl.File.Features = append(pl.File.Features, f)
	return nil
}

func (c *collector) End(context.Context, *Plan) error { return nil }

// Writer receives an import as Stream checks it.
type Writer interface {
	// Begin is called with each file's plan before its features.
	Begin(ctx context.Context, pl *Plan) error
	// Write is called with each checked feature of the plan, in file
	// order. A feature of a file none of whose features has an id
	// (File.NewIDs) comes with ID 0: the writer gives it a new one.
	Write(ctx context.Context, pl *Plan, f Feature) error
	// End is called after the plan's last feature, when its warnings are
	// known.
	End(ctx context.Context, pl *Plan) error
}

// Stream checks layer files as Prepare does, with the same rules and the
// same problems, and hands each checked plan and its features to w as it
// goes: a store writes a file of any size through it in bounded memory,
// reading the features of a file from OpenFile one at a time. Once any
// problem is found, w is called no more and only the checking goes on, so
// the error lists every problem; the caller discards what w has written
// (a store rolls back its transaction). A file with problems of parsing
// is reported with those alone, as ParseFile would have reported it.
func Stream(ctx context.Context, lookup Lookup, files []*File, replace bool, w Writer) error {
	var p Problems
	byLayer := map[string]string{}
	// ok: nothing is wrong so far, so w is still called.
	ok := func() bool {
		if p.Len() > 0 {
			return false
		}
		for _, f := range files {
			if f.parseErr != nil {
				return false
			}
		}
		return true
	}
	for _, f := range files {
		f.parseErr = nil
	}
	if err := ruleLayers(ctx, lookup, files, &p); err != nil {
		return err
	}
	for _, f := range files {
		pl, good, err := plan(ctx, lookup, f, replace, byLayer, &p)
		if err != nil {
			return err
		}
		if !good {
			if f.src != nil {
				// Parsed only, for the problems ParseFile would report.
				if err := f.each(nil, &p, nil); err != nil {
					return err
				}
			}
			continue
		}
		writing := ok()
		if writing {
			if err := w.Begin(ctx, &pl); err != nil {
				return err
			}
		}
		err = f.each(pl.Layer, &p, func(ft Feature) error {
			if !writing {
				return nil
			}
			return w.Write(ctx, &pl, ft)
		})
		if err != nil {
			return err
		}
		if writing && ok() {
			if err := w.End(ctx, &pl); err != nil {
				return err
			}
		}
	}
	var msgs []string
	for _, f := range files {
		if f.parseErr != nil {
			msgs = append(msgs, f.parseErr.Error())
		}
	}
	if len(msgs) > 0 {
		return &Error{Code: EINVALID, Message: strings.Join(msgs, "\n")}
	}
	return p.Err()
}

// ruleLayers checks that the layers the files' rules name hold polygons,
// and warns of those neither among the files nor stored.
func ruleLayers(ctx context.Context, lookup Lookup, files []*File, p *Problems) error {
	var decl []*Layer
	byLayer := map[*Layer]*File{}
	for _, f := range files {
		if f.Layer != nil {
			decl = append(decl, f.Layer)
			byLayer[f.Layer] = f
		}
	}
	return ValidateRuleLayers(ctx, lookup, decl, func(l *Layer) string { return byLayer[l].Name }, p,
		func(l *Layer, msg string) {
			if f := byLayer[l]; !slices.Contains(f.Warnings, msg) {
				f.Warnings = append(f.Warnings, msg)
			}
		})
}

// plan checks file f's declaration against the stored layer; good is
// false when it has a problem, added to p.
func plan(ctx context.Context, lookup Lookup, f *File, replace bool, byLayer map[string]string, p *Problems) (pl Plan, good bool, err error) {
	if other, dup := byLayer[f.LayerID]; dup {
		p.Add("%s: layer %s is also in %s; import one file per layer", f.Name, f.LayerID, other)
		return pl, false, nil
	}
	byLayer[f.LayerID] = f.Name
	stored, err := lookup(ctx, f.LayerID)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return pl, false, err
	}
	pl = Plan{File: f, Layer: f.Layer, Stored: stored}
	if f.Layer != nil {
		// ParseFile has validated a declaration it read, but a File
		// may be built by other code: what reaches the database is
		// checked here, where it is written.
		n0 := p.Len()
		f.Layer.Validate(p, f.Name+": ")
		if f.Layer.ID != f.LayerID {
			p.Add("%s: declares layer %q but is a file of layer %q", f.Name, f.Layer.ID, f.LayerID)
		}
		if p.Len() > n0 {
			return pl, false, nil
		}
	}
	switch {
	case f.Layer == nil && stored == nil && f.inferred != nil:
		// The input's own structure declares a new layer.
		n0 := p.Len()
		f.inferred.Validate(p, f.Name+": ")
		if p.Len() > n0 {
			return pl, false, nil
		}
		pl.Layer = f.inferred
	case f.Layer == nil && stored == nil:
		switch {
		case !ValidID(f.LayerID):
			p.Add("%s: %q is not a valid layer id, and the file declares no layer", f.Name, f.LayerID)
		case f.undeclared != "":
			p.Add("%s: layer %s does not exist, and %s: give its declaration with --declare", f.Name, f.LayerID, f.undeclared)
		default:
			p.Add("%s: layer %s does not exist and the file does not declare it (add the title, geometryType and schema members)", f.Name, f.LayerID)
		}
		return pl, false, nil
	case f.Layer == nil:
		pl.Layer = stored
	case stored != nil:
		pl.Rebuild, pl.AddCols = compareSchemas(f, stored, replace, p)
	}
	return pl, true, nil
}

// compareSchemas decides how a stored layer's table follows a new
// declaration: new optional or required fields are added as columns; any
// other change (geometry type, a field removed or retyped) needs Replace,
// which re-creates the table.
func compareSchemas(f *File, stored *Layer, replace bool, p *Problems) (rebuild bool, add []Field) {
	var changes []string
	if f.Layer.GeometryType != stored.GeometryType {
		changes = append(changes, fmt.Sprintf("geometry type %s → %s", stored.GeometryType, f.Layer.GeometryType))
	}
	for _, old := range stored.Schema {
		nf := f.Layer.Field(old.Name)
		switch {
		case nf == nil:
			changes = append(changes, fmt.Sprintf("field %s removed", old.Name))
		case nf.Type != old.Type:
			changes = append(changes, fmt.Sprintf("field %s %s → %s", old.Name, old.Type, nf.Type))
		}
	}
	for _, nf := range f.Layer.Schema {
		if stored.Field(nf.Name) == nil {
			add = append(add, nf)
		}
	}
	if len(changes) == 0 {
		return false, add
	}
	if !replace {
		p.Add("%s: layer %s is stored with another schema (%s); import with --replace to re-create it", f.Name, stored.ID, strings.Join(changes, "; "))
	}
	return true, nil
}
