package layers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/paulmach/orb"
)

// An import is checked against the planning rules as an edit is: each
// feature it writes to a layer a rule is about is checked (CheckRules)
// with the geometry it had before the import as its old one, and each
// feature a replace removes is checked as a delete. A store checks once
// every file is written and before it commits, inside the import's
// transaction, so that the features of the files see each other; a
// broken rule refuses the whole import, naming the file, the feature and
// the rule.
//
// The cost is that of the edits the import stands for, never of the
// layer: only the layers a rule is about (one that declares rules, or
// that another layer's rule names) are checked at all, and an updated
// feature whose geometry did not change is not checked (CheckRules), so
// importing the same file again costs no geometry. ImportRules is what
// both stores share of this; each keeps, in a temporary table of its
// own, the id of each feature the import wrote to a checked layer and the
// geometry it had before, and reads them back through an ImportSource.

// ImportRules is what an import must check against the planning rules
// once every file is written: the layers a rule is about, and the plans
// written to them.
type ImportRules struct {
	involved map[string]bool // the layers a rule is about
	plans    []rulePlan
}

// rulePlan is a file written to a layer a rule is about.
type rulePlan struct {
	file, layer string
	// whole: every feature of the layer was written (a new layer, one
	// replaced or rebuilt), so every one is checked; otherwise those
	// the import wrote.
	whole bool
	// rulesChanged: the file declares rules other than those stored, so
	// a feature written again as it was is checked too.
	rulesChanged bool
}

// NewImportRules returns what an import of files into a store holding
// the layers stored must check: the layers the rules are about once the
// files' declarations replace the stored ones. It is nil when none of the
// files' layers is one of them: the import asks no rule.
func NewImportRules(stored []*Layer, files []*File) *ImportRules {
	decls := map[string]*Layer{}
	for _, l := range stored {
		decls[l.ID] = l
	}
	for _, f := range files {
		if f.Layer != nil {
			decls[f.LayerID] = f.Layer
		}
	}
	all := make([]*Layer, 0, len(decls))
	for _, l := range decls {
		all = append(all, l)
	}
	involved := RuleLayers(all)
	for _, f := range files {
		if involved[f.LayerID] {
			return &ImportRules{involved: involved}
		}
	}
	return nil
}

// Plan records that plan pl is being written, whole (every feature of
// its layer: a new layer, one rebuilt or replaced) or by id, and reports
// whether its layer is one a rule is about: the store then keeps what it
// writes to it for its ImportSource. False on nil.
func (r *ImportRules) Plan(pl *Plan, whole bool) bool {
	if !r.Involves(pl.Layer.ID) {
		return false
	}
	r.plans = append(r.plans, rulePlan{
		file: pl.File.Name, layer: pl.Layer.ID, whole: whole,
		rulesChanged: pl.Stored != nil && pl.File.Layer != nil && !sameRules(pl.Stored, pl.File.Layer),
	})
	return true
}

// Involves reports whether layer is one a rule is about. False on nil.
func (r *ImportRules) Involves(layer string) bool {
	return r != nil && r.involved[layer]
}

// ImportSource is what ImportRules.Check reads of an import, in its
// transaction, once every file is written. Ids come in ascending order.
type ImportSource interface {
	// Written returns the ids of the features of layer the import wrote
	// and the layer still holds: every feature of it when whole.
	Written(ctx context.Context, layer string, whole bool) ([]int64, error)
	// Removed returns the ids of the features layer, written whole, held
	// before the import and holds no more.
	Removed(ctx context.Context, layer string) ([]int64, error)
	// Before returns the geometries the features ids of layer had before
	// the import, of those that had one.
	Before(ctx context.Context, layer string, ids []int64) (map[int64]orb.Geometry, error)
	// Features calls fn with the features ids of layer l as the import
	// leaves them, in id order.
	Features(ctx context.Context, l *Layer, ids []int64, fn func(Feature) error) error
}

// importChunk is how many features Check reads at a time.
const importChunk = 500

// Check asks check about every feature the import wrote to a layer a
// rule is about, with the geometry it had before (none when it is new, or
// when the file brings new rules and it is written again as it was, so
// that it is checked against them), and about every feature a whole
// write removed, as a delete; all is every layer's declaration as the
// import leaves them. It returns an EINVALID error listing what breaks
// which rule, each line naming the file and the feature; after
// MaxProblems it stops. An error of check other than EINVALID is returned
// as it is. Nil on nil.
func (r *ImportRules) Check(ctx context.Context, src ImportSource, all []*Layer, check func(ctx context.Context, l *Layer, f Feature, was orb.Geometry) error) error {
	if r == nil || len(r.plans) == 0 {
		return nil
	}
	byID := make(map[string]*Layer, len(all))
	for _, l := range all {
		byID[l.ID] = l
	}
	var p Problems
	full := func() bool { return p.Len() >= MaxProblems }
	add := func(prefix string, err error) error {
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Code != EINVALID {
			return err
		}
		for _, line := range strings.Split(e.Message, "\n") {
			p.Add("%s: %s", prefix, line)
		}
		return nil
	}
	// chunks calls fn with ids a chunk at a time, until the problems
	// are full.
	chunks := func(ids []int64, fn func(chunk []int64) error) error {
		for len(ids) > 0 && !full() {
			n := min(len(ids), importChunk)
			if err := fn(ids[:n]); err != nil {
				return err
			}
			ids = ids[n:]
		}
		return nil
	}
	for _, rp := range r.plans {
		if full() {
			break
		}
		l := byID[rp.layer]
		if l == nil {
			continue
		}
		ids, err := src.Written(ctx, l.ID, rp.whole)
		if err != nil {
			return err
		}
		err = chunks(ids, func(chunk []int64) error {
			was, err := src.Before(ctx, l.ID, chunk)
			if err != nil {
				return err
			}
			var fs []Feature
			if err := src.Features(ctx, l, chunk, func(f Feature) error {
				fs = append(fs, f)
				return nil
			}); err != nil {
				return err
			}
			for _, f := range fs {
				w := was[f.ID]
				if rp.rulesChanged && w != nil && orb.Equal(w, f.Geometry) {
					w = nil // checked against the new rules all the same
				}
				if err := add(fmt.Sprintf("%s: feature %d", rp.file, f.ID), check(ctx, l, f, w)); err != nil || full() {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !rp.whole || full() {
			continue
		}
		// The features a replace removed: checked as deletes are.
		gone, err := src.Removed(ctx, l.ID)
		if err != nil {
			return err
		}
		err = chunks(gone, func(chunk []int64) error {
			was, err := src.Before(ctx, l.ID, chunk)
			if err != nil {
				return err
			}
			for _, id := range chunk {
				if err := add(fmt.Sprintf("%s: feature %d, removed", rp.file, id), check(ctx, l, Feature{ID: id}, was[id])); err != nil || full() {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if full() {
		p.stop("the planning rules were not checked further")
	}
	return p.Err()
}
