package layers

import (
	"context"
	"fmt"
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
// every problem of every file in the one error. Every store imports
// through it, so that one set of rules holds whatever the store.
func Prepare(ctx context.Context, lookup Lookup, files []*File, replace bool) ([]Plan, error) {
	var p Problems
	var plans []Plan
	byLayer := map[string]string{}
	for _, f := range files {
		if other, dup := byLayer[f.LayerID]; dup {
			p.Add("%s: layer %s is also in %s; import one file per layer", f.Name, f.LayerID, other)
			continue
		}
		byLayer[f.LayerID] = f.Name
		stored, err := lookup(ctx, f.LayerID)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		pl := Plan{File: f, Layer: f.Layer, Stored: stored}
		if f.Layer != nil {
			// ParseFile has validated a declaration it read, but a File
			// may be built by other code: what reaches the database is
			// checked here, where it is written.
			n0 := p.Len()
			f.Layer.Validate(&p, f.Name+": ")
			if f.Layer.ID != f.LayerID {
				p.Add("%s: declares layer %q but is a file of layer %q", f.Name, f.Layer.ID, f.LayerID)
			}
			if p.Len() > n0 {
				continue
			}
		}
		switch {
		case f.Layer == nil && stored == nil && f.inferred != nil:
			// The input's own structure declares a new layer.
			n0 := p.Len()
			f.inferred.Validate(&p, f.Name+": ")
			if p.Len() > n0 {
				continue
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
			continue
		case f.Layer == nil:
			pl.Layer = stored
		case stored != nil:
			pl.Rebuild, pl.AddCols = compareSchemas(f, stored, replace, &p)
		}
		f.Check(pl.Layer, &p)
		plans = append(plans, pl)
	}
	return plans, p.Err()
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
