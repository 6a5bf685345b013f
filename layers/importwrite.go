package layers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// This file is what every store's importer does alike while it writes the
// plans layers.Stream hands it, around its own SQL: the bookkeeping of a
// plan (PlanWrite), the values of a feature's row (AppendValues), and
// the recheck of stored features against a new declaration (Recheck).

// PlanWrite is the bookkeeping of one plan as an importer writes it: its
// result, the ids of features given without one, and the progress
// reported.
type PlanWrite struct {
	Result   ImportResult
	progress func(layer string, done, total int)
	total    int
	top      int64 // the layer's highest id ever, once asked
	hasTop   bool
}

// BeginPlan begins the bookkeeping of plan pl, imported with opt.
func BeginPlan(pl *Plan, opt ImportOptions) PlanWrite {
	return PlanWrite{
		Result:   ImportResult{Layer: pl.Layer.ID, Created: pl.Stored == nil},
		progress: opt.Progress,
		total:    pl.File.Len(),
	}
}

// Whole reports whether the plan writes every feature of its layer now:
// a new or rebuilt layer, or one replaced (an import with replace).
func (pl *Plan) Whole(replace bool) bool {
	return pl.Stored == nil || pl.Rebuild || replace
}

// ID returns the id feature f is written under: its own, or for a
// feature without one the next after the highest id the layer ever used,
// which last says (asked once a plan): a deleted feature's id stays
// retired.
func (w *PlanWrite) ID(f Feature, last func() (int64, error)) (int64, error) {
	if f.ID != 0 {
		return f.ID, nil
	}
	if !w.hasTop {
		top, err := last()
		if err != nil {
			return 0, err
		}
		w.top, w.hasTop = top, true
	}
	return w.top + int64(w.Result.Written) + 1, nil
}

// Wrote counts a feature written, and reports the progress every 1000.
func (w *PlanWrite) Wrote() {
	w.Result.Written++
	if w.progress != nil && w.Result.Written%1000 == 0 {
		w.progress(w.Result.Layer, w.Result.Written, max(w.total, w.Result.Written))
	}
}

// End reports the progress of a plan written (once, unless Wrote just
// did), and takes in its file's warnings.
func (w *PlanWrite) End(pl *Plan) {
	if w.progress != nil && w.Result.Written%1000 != 0 {
		w.progress(w.Result.Layer, w.Result.Written, w.Result.Written)
	}
	w.Result.Warnings = pl.File.Warnings
}

// AppendValues appends the values of props in the order of l's schema, as
// a row of its table holds them after the id and the geometry: an absent
// property is nil.
func AppendValues(dst []any, l *Layer, props map[string]any) []any {
	for _, fd := range l.Schema {
		dst = append(dst, props[fd.Name])
	}
	return dst
}

// UpsertColumns returns the columns of a row of l's table, quoted by
// quote (fid, geom, then the fields in schema order), and the assignments
// of an upsert (ON CONFLICT (fid) DO UPDATE SET) that give an existing
// row exactly the new values: a property the feature no longer has
// becomes NULL.
func UpsertColumns(l *Layer, quote func(string) string) (cols, sets []string) {
	cols = make([]string, 0, 2+len(l.Schema))
	sets = make([]string, 0, 1+len(l.Schema))
	cols = append(cols, "fid", "geom")
	sets = append(sets, "geom = excluded.geom")
	for _, fd := range l.Schema {
		c := quote(fd.Name)
		cols = append(cols, c)
		sets = append(sets, c+" = excluded."+c)
	}
	return cols, sets
}

// SameDeclaration reports whether a and b declare the same layer, as a
// layer file carries it.
func SameDeclaration(a, b *Layer) bool {
	x, _ := Marshal(a)
	y, _ := Marshal(b)
	return bytes.Equal(x, y)
}

// SameSchema reports whether a and b declare the same fields.
func SameSchema(a, b *Layer) bool {
	x, _ := json.Marshal(a.Schema)
	y, _ := json.Marshal(b.Schema)
	return bytes.Equal(x, y)
}

// Recheck returns the check of a stored feature of the plan's layer, as
// it is after the plan was written, against the new declaration: a
// declaration that makes a field required or narrows its allowed values
// must not leave features behind that the layer's own export could not
// import again. Each feature that breaks it is added to p. A declaration
// alone (declaration: sent over HTTP) has no features to give the value
// in: the hint says what its sender can do instead. The store calls it
// for each stored feature.
func Recheck(pl Plan, declaration bool, p *Problems) func(Feature) error {
	l := pl.Layer
	hint := "give it in this file, or import with --replace"
	if declaration {
		hint = "give it to the feature first, or declare the field optional"
	}
	return func(f Feature) error {
		for _, fd := range l.Schema {
			v, ok := f.Properties[fd.Name]
			switch {
			case !ok && fd.Required:
				p.Add("%s: layer %s, stored feature %d: required property %q is missing (%s)", pl.File.Name, l.ID, f.ID, fd.Name, hint)
			case ok && len(fd.Values) > 0 && !slices.Contains(fd.Values, fmt.Sprint(v)):
				p.Add("%s: layer %s, stored feature %d: property %q is %q, no longer one of the allowed values (%s)", pl.File.Name, l.ID, f.ID, fd.Name, v, strings.Join(fd.Values, ", "))
			}
		}
		return nil
	}
}

// DeclarationColumns returns the JSON a store keeps of l's schema, style
// and rules in planmap_layers ("[]" for no rules).
func DeclarationColumns(l *Layer) (schema, style, rules string, err error) {
	s, err := json.Marshal(l.Schema)
	if err != nil {
		return "", "", "", err
	}
	st, err := json.Marshal(l.Style)
	if err != nil {
		return "", "", "", err
	}
	r := []byte("[]")
	if len(l.Rules) > 0 {
		if r, err = json.Marshal(l.Rules); err != nil {
			return "", "", "", err
		}
	}
	return string(s), string(st), string(r), nil
}
