package layers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// This file adds features up for the statistics the API serves: how many
// there are and their geodesic area or length, per group, counting of a
// feature that a query's box cuts only the part inside the box.

// Tally is how many features there are and how much area and length they
// have within the boxes of a query, in square metres and metres on the
// WGS 84 ellipsoid.
type Tally struct {
	Count   int
	AreaM2  float64
	LengthM float64
}

// AreaHa is the area in hectares.
func (t Tally) AreaHa() float64 { return t.AreaM2 / 1e4 }

// AreaMu is the area in mu (亩).
func (t Tally) AreaMu() float64 { return t.AreaM2 / geo.SquareMetresPerMu }

func (t *Tally) add(area, length float64) {
	t.Count++
	t.AreaM2 += area
	t.LengthM += length
}

// Group is the tally of the features that share a key.
type Group struct {
	// Key is the value the features share: a string, an int64 or a bool;
	// nil for the features that have none.
	Key any
	Tally
	// Layers are the ids of the layers that have features in the group,
	// in the order they were first added.
	Layers []string
}

// Stats adds features up in groups: by the value of one field, by their
// GB 50137 class, or all in one. Add features of a layer with Add, then
// read Groups and Total. The zero value is not ready: use
// NewFieldStats or NewClassStats.
type Stats struct {
	boxes  []orb.Bound
	key    func(it *Item) any
	groups map[any]*Group
	total  Tally
	cut    int
}

// GroupableTypes are the field types one may group statistics by: those
// whose values are few and compare exactly.
var GroupableTypes = []FieldType{String, Integer, Boolean}

// MaxGroupBy is how many fields statistics group by at most.
const MaxGroupBy = 2

// Pair is the key of a group of statistics grouped by two fields: the
// values of the first and the second, each nil when a feature has none.
type Pair [2]any

// NewFieldStats returns Stats that group the features of layer l by the
// value of field (all in one group, keyed nil, when field is empty), and
// measure only what of each lies inside boxes (everything when there are
// none). The boxes must not overlap, or what lies in two is counted
// twice. A field that l does not declare, or of a type not in
// GroupableTypes, is an EINVALID error naming those one may use.
func NewFieldStats(l *Layer, field string, boxes []orb.Bound) (*Stats, error) {
	if field == "" {
		return NewFieldsStats(l, nil, boxes)
	}
	return NewFieldsStats(l, []string{field}, boxes)
}

// NewFieldsStats is NewFieldStats by the values of up to MaxGroupBy
// fields at once: with two, each group is keyed by the Pair of its
// features' values, so that one pass over a layer counts it by both
// (by status and land-use code, say). No field: all in one group.
// A field named twice is an EINVALID error, as is a third.
func NewFieldsStats(l *Layer, fields []string, boxes []orb.Bound) (*Stats, error) {
	s := &Stats{boxes: boxes, groups: map[any]*Group{}}
	groupby := strings.Join(fields, ",")
	if len(fields) > MaxGroupBy {
		return nil, Errorf(EINVALID, "groupby=%s: %d fields; group by at most %d", groupby, len(fields), MaxGroupBy)
	}
	for i, field := range fields {
		if slices.Contains(fields[:i], field) {
			return nil, Errorf(EINVALID, "groupby=%s: %s is named twice; name each field once", groupby, field)
		}
		if fd := l.Field(field); fd == nil || !slices.Contains(GroupableTypes, fd.Type) {
			var allowed []string
			for _, fd := range l.Schema {
				if slices.Contains(GroupableTypes, fd.Type) {
					allowed = append(allowed, fd.Name)
				}
			}
			why := "is not a field of layer " + l.ID
			if fd != nil {
				why = fmt.Sprintf("is a %s field, and only string, integer and boolean fields group", fd.Type)
			}
			return nil, Errorf(EINVALID, "groupby=%s: %s %s; group by one of %s", groupby, field, why, strings.Join(allowed, ", "))
		}
	}
	switch len(fields) {
	case 0:
		s.key = func(*Item) any { return nil }
	case 1:
		f := fields[0]
		s.key = func(it *Item) any { return it.Value(f) }
	default:
		f0, f1 := fields[0], fields[1]
		s.key = func(it *Item) any { return Pair{it.Value(f0), it.Value(f1)} }
	}
	return s, nil
}

// NewClassStats returns Stats that group features of any layer by the
// major GB 50137 class of their ClassField ("R2" counts as R); features
// without a code of a known class are keyed nil. Boxes are as for
// NewFieldStats. Layers without ClassField cannot be grouped so: leave
// them out (HasClass says which).
func NewClassStats(boxes []orb.Bound) *Stats {
	return &Stats{boxes: boxes, groups: map[any]*Group{}, key: func(it *Item) any {
		code, _ := it.Value(ClassField).(string)
		if c, ok := ClassOf(code); ok {
			return c.Code
		}
		return nil
	}}
}

// HasClass reports whether the layer declares ClassField as a string.
func (l *Layer) HasClass() bool {
	fd := l.Field(ClassField)
	return fd != nil && fd.Type == String
}

// Add adds a feature of layer layer to its group: its count, and the area
// (of a polygon) or length (of a line) of what of it lies inside the
// boxes. Points are counted, with no measure.
func (s *Stats) Add(layer string, it *Item) {
	area, length, cut := MeasureWithin(it.Geometry(), it.Bound, s.boxes)
	k := s.key(it)
	g := s.groups[k]
	if g == nil {
		g = &Group{Key: k}
		s.groups[k] = g
	}
	g.add(area, length)
	if !slices.Contains(g.Layers, layer) {
		g.Layers = append(g.Layers, layer)
	}
	s.total.add(area, length)
	if cut {
		s.cut++
	}
}

// Groups returns the groups sorted by key (false before true, numbers in
// order, strings by their bytes), the group keyed nil last; Pairs by
// their first value, then by their second.
func (s *Stats) Groups() []Group {
	out := make([]Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int { return compareKeys(a.Key, b.Key) })
	return out
}

// Total is the tally of every feature added.
func (s *Stats) Total() Tally { return s.total }

// Cut is how many of the features added had a part outside the boxes,
// left out of their measure.
func (s *Stats) Cut() int { return s.cut }

func compareKeys(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch a := a.(type) {
	case Pair:
		if b, ok := b.(Pair); ok {
			if c := compareKeys(a[0], b[0]); c != 0 {
				return c
			}
			return compareKeys(a[1], b[1])
		}
	case string:
		if b, ok := b.(string); ok {
			return strings.Compare(a, b)
		}
	case int64:
		if b, ok := b.(int64); ok {
			return cmp.Compare(a, b)
		}
	case bool:
		if b, ok := b.(bool); ok {
			return cmp.Compare(boolInt(a), boolInt(b))
		}
	}
	// Keys of different types (one field has one type): by type name.
	return strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MeasureWithin returns the geodesic area and length of what of geometry g
// (whose bounding box is b) lies inside boxes, all of it when there are
// none, and whether some of it was outside, left out. The boxes must not
// overlap. Area is of polygons and length of lines; each is 0 otherwise.
func MeasureWithin(g orb.Geometry, b orb.Bound, boxes []orb.Bound) (area, length float64, cut bool) {
	if len(boxes) == 0 {
		return geo.Area(g), geo.Length(g), false
	}
	for _, box := range boxes {
		switch {
		case !b.Intersects(box):
		case boundWithin(b, box):
			// Wholly in this box, so in no other.
			return geo.Area(g), geo.Length(g), false
		default:
			part := geo.Clip(g, box)
			area += geo.Area(part)
			length += geo.Length(part)
		}
	}
	// Cut only if the boxes took something away: a shape that straddles
	// two boxes (the halves of a box across the antimeridian) loses nothing.
	const eps = 1e-9
	whole := geo.Area(g) + geo.Length(g)
	return area, length, area+length < whole*(1-eps)
}
