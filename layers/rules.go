package layers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// Rule is one planning rule of a layer, declared in its layer file's
// "rules" member. Exactly one of NotOverlapping, Within and MinAreaHa is
// set; a tolerance goes with its rule.
//
//   - {"notOverlapping": ["parks", "water"], "toleranceM2": 1}: no feature
//     of the layer shares more than ToleranceM2 square metres of interior
//     with a feature of a listed layer, nor, when the layer lists itself,
//     with another feature of its own. Shared area is geo.OverlapArea:
//     touching, and edges drawn along each other (to within
//     geo.SnapDistance), share none. The layer and those listed hold
//     polygons.
//   - {"within": "boundary", "toleranceM": 0.5}: every point of every
//     feature of the layer lies inside a feature of layer Within, or at
//     most ToleranceM metres from one (geo.Within, with the features of
//     that layer taken together: a feature may straddle two that touch).
//     The layer may hold any geometry; the one named holds polygons.
//   - {"minAreaHa": 1}: every feature of the layer covers at least
//     MinAreaHa hectares (geo.Area). The layer holds polygons.
//
// Rules hold from both sides: writing a feature of a layer a rule names
// is checked against it too (see CheckRules).
type Rule struct {
	NotOverlapping []string `json:"notOverlapping,omitempty"`
	ToleranceM2    float64  `json:"toleranceM2,omitempty"`
	Within         string   `json:"within,omitempty"`
	ToleranceM     float64  `json:"toleranceM,omitempty"`
	MinAreaHa      float64  `json:"minAreaHa,omitempty"`
}

// The kinds of rule, by their member in a layer file.
const (
	RuleNotOverlapping = "notOverlapping"
	RuleWithin         = "within"
	RuleMinArea        = "minAreaHa"
)

var ruleMembers = []string{RuleNotOverlapping, "toleranceM2", RuleWithin, "toleranceM", RuleMinArea}

// UnmarshalJSON reads a rule, refusing members that are not a rule's.
// Whether the rule makes sense is Layer.Validate's to say.
func (r *Rule) UnmarshalJSON(data []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return fmt.Errorf("a rule is an object such as {\"notOverlapping\": [\"parks\"]}, {\"within\": \"boundary\"} or {\"minAreaHa\": 1}")
	}
	var unknown []string
	for name := range members {
		if !slices.Contains(ruleMembers, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown rule member %q: a rule is one of notOverlapping (with toleranceM2), within (with toleranceM) and minAreaHa", unknown[0])
	}
	type plain Rule
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode((*plain)(r)); err != nil {
		return fmt.Errorf("rule %s: %s", bytes.TrimSpace(data), strings.TrimPrefix(err.Error(), "json: "))
	}
	for _, name := range []string{RuleNotOverlapping, RuleWithin, RuleMinArea} {
		if v, ok := members[name]; ok && string(v) == "null" {
			return fmt.Errorf("rule member %s is null", name)
		}
	}
	return nil
}

// Kind returns which rule r is: RuleNotOverlapping, RuleWithin,
// RuleMinArea, or "" when it sets none or several.
func (r Rule) Kind() string {
	var kinds []string
	if r.NotOverlapping != nil {
		kinds = append(kinds, RuleNotOverlapping)
	}
	if r.Within != "" {
		kinds = append(kinds, RuleWithin)
	}
	if r.MinAreaHa != 0 {
		kinds = append(kinds, RuleMinArea)
	}
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// String returns the rule as a layer file declares it.
func (r Rule) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// Layers returns the layers the rule names.
func (r Rule) Layers() []string {
	switch r.Kind() {
	case RuleNotOverlapping:
		return r.NotOverlapping
	case RuleWithin:
		return []string{r.Within}
	}
	return nil
}

// IsArea reports whether the layer holds polygons.
func (l *Layer) IsArea() bool { return strings.Contains(l.GeometryType, "Polygon") }

// validateRules adds to bad what is wrong with each rule on its own.
func (l *Layer) validateRules(bad func(format string, args ...any)) {
	for i, r := range l.Rules {
		where := fmt.Sprintf("rule %d %s", i, r)
		finite := func(name string, v float64) {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				bad("%s: %s must be a number of at least 0", where, name)
			}
		}
		finite("toleranceM2", r.ToleranceM2)
		finite("toleranceM", r.ToleranceM)
		kind := r.Kind()
		switch kind {
		case "":
			bad("%s: a rule is exactly one of notOverlapping, within and minAreaHa", where)
			continue
		case RuleNotOverlapping:
			if len(r.NotOverlapping) == 0 {
				bad("%s: notOverlapping lists no layer", where)
			}
			seen := map[string]bool{}
			for _, id := range r.NotOverlapping {
				if !ValidID(id) {
					bad("%s: %q is not a layer id", where, id)
				} else if seen[id] {
					bad("%s: layer %s is listed twice", where, id)
				}
				seen[id] = true
			}
		case RuleWithin:
			if !ValidID(r.Within) {
				bad("%s: %q is not a layer id", where, r.Within)
			} else if r.Within == l.ID {
				bad("%s: a layer cannot be within itself", where)
			}
		case RuleMinArea:
			if math.IsNaN(r.MinAreaHa) || math.IsInf(r.MinAreaHa, 0) || r.MinAreaHa <= 0 {
				bad("%s: minAreaHa must be a number above 0", where)
			}
		}
		if r.ToleranceM2 != 0 && kind != RuleNotOverlapping {
			bad("%s: toleranceM2 goes with notOverlapping", where)
		}
		if r.ToleranceM != 0 && kind != RuleWithin {
			bad("%s: toleranceM goes with within", where)
		}
		if (kind == RuleNotOverlapping || kind == RuleMinArea) && !l.IsArea() && l.GeometryType != "" {
			bad("%s: %s is a rule of areas, and this layer holds %s", where, kind, l.GeometryType)
		}
	}
}

// ValidateRuleLayers checks the layers that the rules of the layers decl
// name, among decl and those lookup finds (nil: none): a named layer that
// does not hold polygons is a problem, added to p; one that does not exist
// is only a warning, given to warn, for the layers of a plan may be
// imported one at a time and name each other (the rule holds trivially
// until that layer exists). name gives the file a layer was declared in,
// for the messages.
func ValidateRuleLayers(ctx context.Context, lookup Lookup, decl []*Layer, name func(*Layer) string, p *Problems, warn func(l *Layer, msg string)) error {
	known := map[string]*Layer{}
	for _, l := range decl {
		known[l.ID] = l
	}
	for _, l := range decl {
		for i, r := range l.Rules {
			for _, id := range r.Layers() {
				o, ok := known[id]
				if !ok && lookup != nil {
					var err error
					o, err = lookup(ctx, id)
					if err != nil && ErrorCode(err) != ENOTFOUND {
						return err
					}
					ok = err == nil
				}
				switch {
				case !ok:
					warn(l, fmt.Sprintf("%s: rule %d %s: layer %s does not exist; the rule holds trivially until it does", name(l), i, r, id))
				case !o.IsArea():
					p.Add("%s: rule %d %s: layer %s holds %s, and the rule needs polygons", name(l), i, r, id, o.GeometryType)
				}
			}
		}
	}
	return nil
}

// Neighbours finds the features of a layer whose geometry meets box b (in
// longitude/latitude), as the store holds them; more, such as all whose
// bounding boxes meet b (an R-tree's answer), do no harm. It is how
// CheckRules sees the other features, so a store calls CheckRules with one
// that reads inside the transaction of the write. A layer that does not
// exist is an ENOTFOUND error (or no features): rules naming it hold.
type Neighbours func(ctx context.Context, layer string, b orb.Bound) ([]Feature, error)

// ItemsNeighbours makes Neighbours of a store's read interface, Items
// with a bbox Filter (web's reader and the GeoPackage store have it), a
// page of a thousand at a time.
func ItemsNeighbours(items func(ctx context.Context, id string, f Filter, p Page) ([]*Item, int, error)) Neighbours {
	return func(ctx context.Context, layer string, b orb.Bound) ([]Feature, error) {
		var out []Feature
		page := Page{Limit: 1000}
		for {
			its, _, err := items(ctx, layer, Filter{BBoxes: []orb.Bound{b}}, page)
			if err != nil {
				return nil, err
			}
			for _, it := range its {
				// From a cache, an item is unpacked (without its map).
				out = append(out, Feature{ID: it.ID, Properties: it.Properties(), Geometry: it.Geometry()})
			}
			if len(its) < page.Limit {
				return out, nil
			}
			page.After = its[len(its)-1].ID
		}
	}
}

// nearby calls n, taking a layer that does not exist as one without
// features: a rule naming it holds trivially until it does.
func nearby(ctx context.Context, n Neighbours, layer string, b orb.Bound) ([]Feature, bool, error) {
	fs, err := n(ctx, layer, b)
	if ErrorCode(err) == ENOTFOUND {
		return nil, false, nil
	}
	return fs, err == nil, err
}

// Violation is a rule that a pair of features, or one feature, breaks.
type Violation struct {
	Rule      Rule
	RuleLayer string // the layer that declares the rule
	// Feature is the feature the rule is of (a feature of RuleLayer);
	// Other the feature of the layer the rule names.
	Feature, Other FeatureRef
	// Amount is how much the rule is broken by: the area shared in m²,
	// the distance out in m (infinite when no feature of the layer named
	// is near), or the area in ha.
	Amount float64
}

// FeatureRef names a feature: its layer, id and name.
type FeatureRef struct {
	Layer string
	ID    int64
	Name  string
}

func (f FeatureRef) String() string {
	s := f.Layer + " " + fmt.Sprint(f.ID)
	if f.ID == 0 {
		s = "the new feature of " + f.Layer
	}
	if f.Name != "" {
		s += " (" + f.Name + ")"
	}
	return s
}

func ref(layer string, f Feature) FeatureRef {
	var names []string
	for _, k := range []string{"name_zh", "name_en", "name"} {
		if s, ok := f.Properties[k].(string); ok && s != "" {
			names = append(names, s)
		}
	}
	return FeatureRef{Layer: layer, ID: f.ID, Name: strings.Join(names, " / ")}
}

// Error says what is broken, by whom, and by how much.
func (v Violation) Error() string {
	switch v.Rule.Kind() {
	case RuleNotOverlapping:
		return fmt.Sprintf("%s overlaps %s by %s m², more than the %g m² rule notOverlapping of layer %s allows",
			v.Feature, v.Other, squareMetres(v.Amount), v.Rule.ToleranceM2, v.RuleLayer)
	case RuleWithin:
		if math.IsInf(v.Amount, 1) {
			return fmt.Sprintf("%s lies outside every feature of layer %s: rule within %s of layer %s", v.Feature, v.Rule.Within, v.Rule.Within, v.RuleLayer)
		}
		out := fmt.Sprintf("%s reaches %.2f m outside ", v.Feature, v.Amount)
		if v.Other.Layer != "" {
			out += v.Other.String()
		} else {
			out += "layer " + v.Rule.Within
		}
		return out + fmt.Sprintf(", more than the %g m rule within %s of layer %s allows", v.Rule.ToleranceM, v.Rule.Within, v.RuleLayer)
	case RuleMinArea:
		return fmt.Sprintf("%s covers %.2f ha, less than the %g ha rule minAreaHa of layer %s asks", v.Feature, v.Amount, v.Rule.MinAreaHa, v.RuleLayer)
	}
	return fmt.Sprintf("%s breaks rule %s of layer %s", v.Feature, v.Rule, v.RuleLayer)
}

// squareMetres rounds an area to what a drawing can mean: tenths of a
// square metre under 100 m², whole ones above.
func squareMetres(a float64) string {
	if a < 100 {
		return fmt.Sprintf("%.1f", a)
	}
	return fmt.Sprintf("%.0f", a)
}

// CheckRules checks feature f, about to be written to layer (created or
// changed; f.Geometry nil when it is deleted), against the planning rules
// of all the layers: the rules of its own layer, and the rules of every
// other layer that names it. was is its geometry before the write, nil for
// a new feature. n reads the other features; a feature of layer with f's
// id that n returns is taken as f's old self and ignored, so n may see the
// store before or after the write. A broken rule gives an EINVALID error
// naming each violation: the rule, the other feature's layer, id and name,
// and the area shared or the distance out.
//
// From the other side, a feature written to a layer that others must lie
// within (the boundary) has every feature of those layers near its old or
// its new place checked against the layer as it will be; this costs a
// geo.Within per such feature.
//
// A write that leaves the geometry as it was (an edit of the properties
// alone) cannot break a rule, which all are about geometry: it is not
// checked, so that a feature imported while breaking one can still have
// its names and codes corrected.
func CheckRules(ctx context.Context, n Neighbours, all []*Layer, layer *Layer, f Feature, was orb.Geometry) error {
	if was != nil && f.Geometry != nil && orb.Equal(was, f.Geometry) {
		return nil
	}
	vs, err := Violations(ctx, n, all, layer, f, was)
	if err != nil || len(vs) == 0 {
		return err
	}
	var p Problems
	for _, v := range vs {
		p.Add("%s", v.Error())
	}
	return p.Err()
}

// Violations is CheckRules returning the rules broken.
func Violations(ctx context.Context, n Neighbours, all []*Layer, layer *Layer, f Feature, was orb.Geometry) ([]Violation, error) {
	var vs []Violation
	if f.Geometry != nil {
		own, err := ownViolations(ctx, n, layer, f, nil)
		if err != nil {
			return nil, err
		}
		vs = append(vs, own...)
	}
	for _, o := range all {
		if o.ID == layer.ID {
			continue
		}
		for _, r := range o.Rules {
			switch {
			case r.Kind() == RuleNotOverlapping && slices.Contains(r.NotOverlapping, layer.ID) && f.Geometry != nil:
				hs, _, err := nearby(ctx, n, o.ID, f.Geometry.Bound())
				if err != nil {
					return nil, err
				}
				for _, h := range hs {
					if a := geo.OverlapArea(h.Geometry, f.Geometry); a > r.ToleranceM2 {
						vs = append(vs, Violation{Rule: r, RuleLayer: o.ID, Feature: ref(o.ID, h), Other: ref(layer.ID, f), Amount: a})
					}
				}
			case r.Kind() == RuleWithin && r.Within == layer.ID:
				more, err := withinFromOutside(ctx, n, o, r, layer, f, was)
				if err != nil {
					return nil, err
				}
				vs = append(vs, more...)
			}
		}
	}
	return vs, nil
}

// ownViolations checks f, a feature of layer l, against l's own rules;
// skip, when not nil, says which pairs have been reported already.
func ownViolations(ctx context.Context, n Neighbours, l *Layer, f Feature, skip func(r int, other string, id int64) bool) ([]Violation, error) {
	var vs []Violation
	g := f.Geometry
	for ri, r := range l.Rules {
		switch r.Kind() {
		case RuleMinArea:
			if ha := geo.Area(g) / 1e4; ha < r.MinAreaHa {
				vs = append(vs, Violation{Rule: r, RuleLayer: l.ID, Feature: ref(l.ID, f), Amount: ha})
			}
		case RuleNotOverlapping:
			for _, id := range r.NotOverlapping {
				hs, _, err := nearby(ctx, n, id, g.Bound())
				if err != nil {
					return nil, err
				}
				for _, h := range hs {
					if id == l.ID && h.ID == f.ID {
						continue
					}
					if skip != nil && skip(ri, id, h.ID) {
						continue
					}
					if a := geo.OverlapArea(g, h.Geometry); a > r.ToleranceM2 {
						vs = append(vs, Violation{Rule: r, RuleLayer: l.ID, Feature: ref(l.ID, f), Other: ref(id, h), Amount: a})
					}
				}
			}
		case RuleWithin:
			v, err := within(ctx, n, l, r, f, nil)
			if err != nil {
				return nil, err
			}
			if v != nil {
				vs = append(vs, *v)
			}
		}
	}
	return vs, nil
}

// within checks rule r (within) of layer l for its feature h, against the
// features of layer r.Within near h, in which w, when not nil, replaces
// the feature of that id (deleted when its geometry is nil).
func within(ctx context.Context, n Neighbours, l *Layer, r Rule, h Feature, w *Feature) (*Violation, error) {
	g := h.Geometry
	if g == nil {
		return nil, nil
	}
	box := padMetres(g.Bound(), r.ToleranceM+geo.SnapDistance)
	hs, exists, err := nearby(ctx, n, r.Within, box)
	if err != nil || !exists {
		return nil, err
	}
	var parts orb.MultiPolygon
	var others []Feature
	add := func(f Feature) {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			parts = append(parts, g)
		case orb.MultiPolygon:
			parts = append(parts, g...)
		default:
			return
		}
		others = append(others, f)
	}
	for _, o := range hs {
		if w == nil || o.ID != w.ID {
			add(o)
		}
	}
	if w != nil && w.Geometry != nil && w.Geometry.Bound().Intersects(box) {
		add(*w)
	}
	if len(parts) == 0 {
		return &Violation{Rule: r, RuleLayer: l.ID, Feature: ref(l.ID, h), Amount: math.Inf(1)}, nil
	}
	ok, far := geo.Within(g, parts, r.ToleranceM)
	if ok {
		return nil, nil
	}
	v := &Violation{Rule: r, RuleLayer: l.ID, Feature: ref(l.ID, h), Amount: far}
	if len(others) == 1 {
		v.Other = ref(r.Within, others[0])
	}
	return v, nil
}

// withinFromOutside checks the features of layer o, whose rule r says
// they lie within layer l, near f's old and new places, against l with f
// written.
func withinFromOutside(ctx context.Context, n Neighbours, o *Layer, r Rule, l *Layer, f Feature, was orb.Geometry) ([]Violation, error) {
	var boxes []orb.Bound
	for _, g := range []orb.Geometry{was, f.Geometry} {
		if g != nil {
			boxes = append(boxes, padMetres(g.Bound(), r.ToleranceM+geo.SnapDistance))
		}
	}
	seen := map[int64]bool{}
	var vs []Violation
	for _, b := range boxes {
		hs, _, err := nearby(ctx, n, o.ID, b)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			if seen[h.ID] {
				continue
			}
			seen[h.ID] = true
			// Most often h lies within f alone.
			if f.Geometry != nil {
				if ok, _ := geo.Within(h.Geometry, f.Geometry, r.ToleranceM); ok {
					continue
				}
			}
			v, err := within(ctx, n, o, r, h, &f)
			if err != nil {
				return nil, err
			}
			if v != nil {
				vs = append(vs, *v)
			}
		}
	}
	return vs, nil
}

// padMetres returns b grown by d metres on every side (at least; a degree
// of longitude is taken at the box's edge nearer a pole).
func padMetres(b orb.Bound, d float64) orb.Bound {
	const m = 111_000.0 // metres in a degree of latitude, a little under
	lat := math.Min(89, math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1])))
	dx := d / (m * math.Cos(lat*math.Pi/180))
	dy := d / m
	return orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
}

// Audit checks the features every layer holds against the layer's own
// rules: what planmap check --rules reports. features calls fn with each
// feature of a layer; n finds features as for CheckRules. A pair of
// features breaking a notOverlapping rule is reported once, even when the
// rule is declared on both sides or names its own layer.
func Audit(ctx context.Context, n Neighbours, all []*Layer, features func(ctx context.Context, layer string, fn func(Feature) error) error) ([]Violation, error) {
	type pair struct {
		a, b FeatureKey
	}
	reported := map[pair]bool{}
	key := func(a, b FeatureKey) pair {
		if b.Layer < a.Layer || b.Layer == a.Layer && b.ID < a.ID {
			a, b = b, a
		}
		return pair{a, b}
	}
	var vs []Violation
	for _, l := range all {
		if len(l.Rules) == 0 {
			continue
		}
		err := features(ctx, l.ID, func(f Feature) error {
			if f.Geometry == nil {
				return nil
			}
			skip := func(_ int, other string, id int64) bool {
				return reported[key(FeatureKey{l.ID, f.ID}, FeatureKey{other, id})]
			}
			own, err := ownViolations(ctx, n, l, f, skip)
			if err != nil {
				return err
			}
			for _, v := range own {
				if v.Rule.Kind() == RuleNotOverlapping {
					reported[key(FeatureKey{v.Feature.Layer, v.Feature.ID}, FeatureKey{v.Other.Layer, v.Other.ID})] = true
				}
			}
			vs = append(vs, own...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// FeatureKey is a feature's layer and id.
type FeatureKey struct {
	Layer string
	ID    int64
}

// RuleLayers returns the layers the rules of the layers all are about:
// those that declare a rule and those a rule names. Nil when none. A
// store's import checks only these.
func RuleLayers(all []*Layer) map[string]bool {
	var involved map[string]bool
	for _, l := range all {
		for _, r := range l.Rules {
			if involved == nil {
				involved = map[string]bool{}
			}
			involved[l.ID] = true
			for _, id := range r.Layers() {
				involved[id] = true
			}
		}
	}
	return involved
}

// CheckRedeclared refuses declaration l of a stored layer, declared as
// stored, when its planning rules are broken by stored features that the
// rules stored declares did not find broken (Audit of the layer, under
// each declaration): what was broken before, planmap check --rules
// reports, and a redeclaration neither mends nor worsens it. Nothing is
// read unless the rules changed. features and n read the store as the
// redeclaration's transaction sees it; name is what the declaration is
// called in the problems (each names the stored feature). Both stores'
// RedeclareLayer ask it, after writing the declaration.
func CheckRedeclared(ctx context.Context, n Neighbours, stored, l *Layer, name string, features func(ctx context.Context, layer string, fn func(Feature) error) error) error {
	if len(l.Rules) == 0 || sameRules(stored, l) {
		return nil
	}
	type key struct {
		kind string
		f, o FeatureKey
	}
	keyOf := func(v Violation) key {
		return key{string(v.Rule.Kind()), FeatureKey{Layer: v.Feature.Layer, ID: v.Feature.ID}, FeatureKey{Layer: v.Other.Layer, ID: v.Other.ID}}
	}
	before := map[key]bool{}
	if len(stored.Rules) > 0 {
		vs, err := Audit(ctx, n, []*Layer{stored}, features)
		if err != nil {
			return err
		}
		for _, v := range vs {
			before[keyOf(v)] = true
		}
	}
	vs, err := Audit(ctx, n, []*Layer{l}, features)
	if err != nil {
		return err
	}
	var p Problems
	for _, v := range vs {
		if !before[keyOf(v)] {
			p.Add("%s: layer %s, stored feature %d: %v", name, l.ID, v.Feature.ID, v)
		}
	}
	return p.Err()
}

func sameRules(a, b *Layer) bool {
	x, _ := json.Marshal(a.Rules)
	y, _ := json.Marshal(b.Rules)
	return string(x) == string(y)
}
