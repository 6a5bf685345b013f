package layers

import "slices"

// Transition is the tally of the features whose group changed from From to
// To between two times: how many, and their area or length then (at the
// later time) within the boxes of the query.
type Transition struct {
	From, To any
	Tally
}

// Transitions tallies the features whose group changed between two times,
// grouped and measured as the Stats it is made from.
type Transitions struct {
	s *Stats
	m map[[2]any]*Transition
}

// Transitions returns an empty tally of changes between the groups of s,
// with its key and boxes.
func (s *Stats) Transitions() *Transitions {
	return &Transitions{s: s, m: map[[2]any]*Transition{}}
}

// Key is the group s puts feature it in.
func (s *Stats) Key(it *Item) any { return s.key(it) }

// Add adds a feature whose group at the earlier time was from and which is
// it at the later time, if its group changed: its count, and the measure
// of it (as it is at the later time) inside the boxes.
func (t *Transitions) Add(from any, it *Item) {
	to := t.s.key(it)
	if from == to {
		return
	}
	k := [2]any{from, to}
	tr := t.m[k]
	if tr == nil {
		tr = &Transition{From: from, To: to}
		t.m[k] = tr
	}
	area, length, _ := MeasureWithin(it.Geometry(), it.Bound, t.s.boxes)
	tr.add(area, length)
}

// List returns the transitions sorted by From then To, as Groups sorts.
func (t *Transitions) List() []Transition {
	out := make([]Transition, 0, len(t.m))
	for _, tr := range t.m {
		out = append(out, *tr)
	}
	slices.SortFunc(out, func(a, b Transition) int {
		if c := compareKeys(a.From, b.From); c != 0 {
			return c
		}
		return compareKeys(a.To, b.To)
	})
	return out
}

// SortKeys returns group keys sorted as Groups sorts them.
func SortKeys(keys []any) []any {
	out := slices.Clone(keys)
	slices.SortFunc(out, compareKeys)
	return out
}
