package layers

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"time"
)

// A dropped layer's past: the stores keep, in the history row that
// records a drop (op 'layer', fid 0), the layer's declaration as a layer
// file with no features (DroppedDeclaration), so that the layer can still
// be read as of a time it existed. Its features' states are in their own
// history rows: the drop ended the version of each with a delete.
//
// A layer's lives: it is created (a 'layer' row), written (its features'
// rows, and a 'layer' row for each bulk write), dropped (a 'layer' row
// with the declaration), and may be created again under the same id,
// which begins its next life. PastLife tells, from the 'layer' rows,
// which life a time falls in, the same for every store.
//
// Within a life the declaration may change (a redeclaration over HTTP, an
// import with another declaration, a field QGIS adds or drops): a row of
// fid RedeclaredFID keeps the declaration the change replaced, so that a
// time before it is read as the layer was declared then (LayerAt).

// RedeclaredFID is the fid of the history row that records a change of a
// layer's declaration (op 'layer'), keeping in its properties the
// declaration it replaced (DroppedDeclaration). Not 0: a row of fid 0 is
// a bulk write, which begins a version of every feature.
const RedeclaredFID = -1

// DroppedDeclaration is what the history row of the drop of layer l
// keeps: the layer file of l with no features, as every store exports
// it, which ParseDeclaration reads back.
func DroppedDeclaration(l *Layer) ([]byte, error) {
	head, err := DeclarationJSON(l)
	if err != nil {
		return nil, err
	}
	return append(head, "\"features\": []\n}\n"...), nil
}

// LayerEvent is a history row of a whole layer (fid 0 or RedeclaredFID):
// its creation, a bulk write, a change of its declaration, or its drop.
// Declaration is the declaration a drop or a redeclaration kept
// (DroppedDeclaration); nil for every other row, and for the drops made
// before planmap kept it.
type LayerEvent struct {
	// Row is the history row's id: ids are in the order of the events.
	Row         int64
	At          time.Time
	Declaration []byte
	// Redeclared: the row records a change of the declaration, which
	// Declaration held until then; the life goes on.
	Redeclared bool
}

// PastLayer is a life of a layer that has ended: its declaration as it
// was when it was dropped, and when it was created and dropped.
type PastLayer struct {
	*Layer
	Created, Dropped time.Time
	end              int64 // the row of the drop
}

// Collection is the collection of the past layer, for the answers about
// it: no count nor extent of its own, and a Version that is the same for
// every reading of the same life, in either store (the drop's time to the
// millisecond, as the GeoPackage keeps it).
func (p *PastLayer) Collection() *Collection {
	return &Collection{
		Layer:   p.Layer,
		Version: fmt.Sprintf("dropped-%d-%x", p.Dropped.UnixMilli(), DeclarationHash(p.Layer)),
		Dropped: p.Dropped,
	}
}

// PastLife finds the life of layer id that time t falls in, from its
// layer events (in the order the history recorded them) and whether the
// layer exists now: nil when t falls in the life of the layer there now
// (or before it, which the store answers as it answers about a live
// layer: no features yet), else that life's layer when it has been
// dropped since. A layer there at no time before t and not there now is
// ENOTFOUND, with a message that says when it was dropped if it was, and
// that a drop made before planmap kept declarations cannot be read.
//
// A drop made before planmap kept declarations, followed by a new life
// dropped since, is not told from a bulk write: a time in the first life
// is read as the second's, a limit of the history those drops left.
func PastLife(id string, t time.Time, exists bool, events []LayerEvent) (*PastLayer, error) {
	events = lifeEvents(events)
	at := t.UTC().Format(time.RFC3339Nano)
	prev := -1 // the last drop that kept its declaration, before t's
	for i, e := range events {
		if e.Declaration == nil {
			continue
		}
		if !e.At.After(t) {
			prev = i
			continue
		}
		created := events[prev+1].At
		if created.After(t) {
			if exists {
				// Before any life, as for a layer never dropped: the
				// layer there now, which had no features then.
				return nil, nil
			}
			return nil, Errorf(ENOTFOUND, "collection %s did not exist at %s: it was created at %s", id, at, created.UTC().Format(time.RFC3339Nano))
		}
		l, err := ParseDeclaration(id, bytes.Clone(e.Declaration))
		if err != nil {
			return nil, fmt.Errorf("the declaration kept at the drop of %s: %w", id, err)
		}
		return &PastLayer{Layer: l, Created: created, Dropped: e.At, end: e.Row}, nil
	}
	if exists {
		return nil, nil
	}
	if len(events) == 0 {
		return nil, Errorf(ENOTFOUND, "there is no collection %q; /collections lists them", id)
	}
	last := events[len(events)-1]
	dropped := last.At.UTC().Format(time.RFC3339Nano)
	if last.Declaration == nil && last.At.After(t) {
		return nil, Errorf(ENOTFOUND, "collection %s was dropped at %s, before planmap kept the declarations of dropped layers: it cannot be read as of %s", id, dropped, at)
	}
	return nil, Errorf(ENOTFOUND, "collection %s was dropped at %s; ask as of a time before then to read it as it was", id, dropped)
}

// CollectionAt is what a store's PastCollection answers about a time
// whose layer is l, past (LayerAt), given live, the layer there now: the
// past life's collection; for a time in the life of the layer there now,
// nil when l is its declaration, else a collection of l alone (Dropped
// zero), which the caller reads as the layer there now declared as l.
func CollectionAt(l, live *Layer, past *PastLayer) *Collection {
	switch {
	case past != nil:
		return past.Collection()
	case l == live:
		return nil
	}
	return &Collection{Layer: l}
}

// LayerAt is layer id as it was at time t, given live, the layer there now
// (nil when there is none), and its layer events: live when t falls in its
// life (or before it), else the life of a layer dropped since that t falls
// in (past, which the store reads from the history alone); ENOTFOUND when
// there was none at t (PastLife).
//
// Within that life, the layer is declared as it was at t: as the first
// redeclaration after t (and before the life's drop) kept it, else as
// the life ended (live, or as its drop kept it).
func LayerAt(id string, t time.Time, live *Layer, events []LayerEvent) (*Layer, *PastLayer, error) {
	past, err := PastLife(id, t, live != nil, events)
	if err != nil {
		return nil, nil, err
	}
	l, end := live, int64(math.MaxInt64)
	if past != nil {
		l, end = past.Layer, past.end
	}
	// The life is the rows after the drop before its end (kept drops
	// only: PastLife tells no other).
	start := int64(0)
	for _, e := range events {
		if !e.Redeclared && e.Declaration != nil && e.Row < end {
			start = e.Row
		}
	}
	for _, e := range events {
		if !e.Redeclared || !e.At.After(t) || e.Row <= start || e.Row >= end {
			continue
		}
		if l, err = ParseDeclaration(id, bytes.Clone(e.Declaration)); err != nil {
			return nil, nil, fmt.Errorf("the declaration %s had until %s: %w", id, e.At.UTC().Format(time.RFC3339Nano), err)
		}
		break
	}
	if past != nil {
		then := *past
		then.Layer = l
		return l, &then, nil
	}
	return l, nil, nil
}

// lifeEvents are the events that begin and end lives: every one but the
// redeclarations.
func lifeEvents(events []LayerEvent) []LayerEvent {
	if !slices.ContainsFunc(events, func(e LayerEvent) bool { return e.Redeclared }) {
		return events
	}
	return slices.DeleteFunc(slices.Clone(events), func(e LayerEvent) bool { return e.Redeclared })
}

// Lives tells which declaration of a layer each row of its history was
// written under, for a reader of the whole history (planmap copy): the
// rows up to a drop or a redeclaration that kept its declaration were
// written under that one, the rows after the last of them under the layer
// there now. A life ended by a drop made
// before planmap kept declarations is read in the next one kept, as
// PastLife reads it; a kept declaration that no longer parses fails, as
// the as-of reads of its life do.
type Lives struct {
	id    string
	ends  []int64 // the rows of the drops that kept their declarations
	decls []*Layer
	live  *Layer
}

// NewLives reads the lives of layer id from its layer events (in the
// order of their rows) and live, the layer there now (nil when there is
// none). It is ENOTFOUND when there is no life to read: no layer there now
// and no drop that kept its declaration.
func NewLives(id string, live *Layer, events []LayerEvent) (*Lives, error) {
	ls := &Lives{id: id, live: live}
	var redeclared []bool
	for _, e := range events {
		if e.Declaration == nil {
			continue
		}
		l, err := ParseDeclaration(id, bytes.Clone(e.Declaration))
		if err != nil {
			return nil, fmt.Errorf("the declaration kept at %s of %s at %s: %w", map[bool]string{false: "the drop", true: "a redeclaration"}[e.Redeclared], id, e.At.UTC().Format(time.RFC3339Nano), err)
		}
		ls.ends = append(ls.ends, e.Row)
		ls.decls = append(ls.decls, l)
		redeclared = append(redeclared, e.Redeclared)
	}
	// A state is the table's row as it was written, which may hold a
	// column another program added before planmap took it in and
	// recorded the change: a declaration a redeclaration kept reads the
	// fields of the next of its life too, so that a copy keeps them.
	for i := len(ls.decls) - 1; i >= 0; i-- {
		if !redeclared[i] {
			continue
		}
		next := live
		if i+1 < len(ls.decls) {
			next = ls.decls[i+1]
		}
		if next != nil {
			ls.decls[i] = withFieldsOf(ls.decls[i], next)
		}
	}
	if live == nil && len(ls.ends) == 0 {
		return nil, Errorf(ENOTFOUND, "there is no collection %q, nor a drop of one that kept its declaration", id)
	}
	return ls, nil
}

// withFieldsOf is l with the fields of next it has no field of that name
// of, after its own.
func withFieldsOf(l, next *Layer) *Layer {
	var more []Field
	for _, fd := range next.Schema {
		if l.Field(fd.Name) == nil {
			more = append(more, fd)
		}
	}
	if len(more) == 0 {
		return l
	}
	wide := *l
	wide.Schema = append(slices.Clip(l.Schema), more...)
	return &wide
}

// Of returns the declaration history row row was written under, nil when
// it is the layer's there now. A row after the last drop of
// a layer not there now belongs to no life: an error.
func (ls *Lives) Of(row int64) (*Layer, error) {
	i, _ := slices.BinarySearch(ls.ends, row)
	if i < len(ls.ends) {
		return ls.decls[i], nil
	}
	if ls.live == nil {
		return nil, fmt.Errorf("history row %d of %s comes after its last drop, and there is no layer %s now", row, ls.id, ls.id)
	}
	return nil, nil
}

// Ends returns the rows of the drops and redeclarations that kept a
// declaration, and those declarations: the rows up to each end were
// written under its declaration, those after the last under the layer
// there now.
func (ls *Lives) Ends() ([]int64, []*Layer) { return ls.ends, ls.decls }
