package layers_test

import (
	"slices"
	"strings"
	"testing"

	"planmap/layers"
)

func TestFollowColumns(t *testing.T) {
	decl := func() *layers.Layer {
		return &layers.Layer{ID: "parcels", Title: layers.Text{Zh: "地块", En: "Parcels"}, GeometryType: "MultiPolygon", Schema: []layers.Field{
			{Name: "name_zh", Type: layers.String, Required: true},
			{Name: "berths", Type: layers.Integer},
		}}
	}
	declared := []layers.Column{{Name: "name_zh", Type: layers.String}, {Name: "berths", Type: layers.Integer}}
	for _, tt := range []struct {
		name    string
		cols    []layers.Column
		fields  []string // the declaration's fields after, "name type"
		added   []string
		removed []string
		left    []string // substrings of the columns left out, in order
	}{
		{name: "OK", cols: declared, fields: []string{"name_zh string", "berths integer"}},
		{name: "Added", cols: append(slices.Clone(declared), layers.Column{Name: "owner", Type: layers.String}, layers.Column{Name: "leased", Type: layers.Boolean}),
			fields: []string{"name_zh string", "berths integer", "owner string", "leased boolean"},
			added:  []string{"owner (string)", "leased (boolean)"}},
		{name: "Dropped", cols: declared[:1], fields: []string{"name_zh string"}, removed: []string{"berths"}},
		{name: "LeftOut", cols: append(slices.Clone(declared),
			layers.Column{Name: "Owner", Type: layers.String},
			layers.Column{Name: "limit", Type: layers.Integer},
			layers.Column{Name: "geodesic_area", Type: layers.Number},
			layers.Column{Name: "id", Type: layers.Integer},
			layers.Column{Name: "photo", NoType: "holds binary data (BLOB)"}),
			fields: []string{"name_zh string", "berths integer"},
			left:   []string{`"Owner": name must be lower-case`, `"limit": name "limit" is a query parameter`, `"geodesic_area": names starting geodesic_`, `"id": name "id" is reserved`, `"photo": holds binary data`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := decl()
			next, ch := layers.FollowColumns(l, tt.cols)
			var fields []string
			for _, f := range next.Schema {
				fields = append(fields, f.Name+" "+string(f.Type))
				if f.Name != "name_zh" && f.Required {
					t.Errorf("field %s added or kept as required", f.Name)
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("FollowColumns(%v): fields %q, want %q", tt.cols, fields, tt.fields)
			}
			if !slices.Equal(ch.Added, tt.added) || !slices.Equal(ch.Removed, tt.removed) {
				t.Errorf("FollowColumns(%v): added %q, removed %q; want %q, %q", tt.cols, ch.Added, ch.Removed, tt.added, tt.removed)
			}
			if len(ch.Left) != len(tt.left) {
				t.Fatalf("FollowColumns(%v): left out %q, want %d", tt.cols, ch.Left, len(tt.left))
			}
			for i, want := range tt.left {
				if !strings.Contains(ch.Left[i], want) {
					t.Errorf("FollowColumns: left out %q, want it to say %q", ch.Left[i], want)
				}
			}
			if ch.Changed() != (next != l) {
				t.Errorf("Changed() = %v, but the declaration returned is l: %v", ch.Changed(), next == l)
			}
			if len(l.Schema) != 2 {
				t.Errorf("FollowColumns changed its argument: %v", l.Schema)
			}
			var p layers.Problems
			next.Validate(&p, "")
			if err := p.Err(); err != nil {
				t.Errorf("the declaration that follows the columns is not valid: %v", err)
			}
			if ch.Changed() && (!strings.Contains(ch.String(), "parcels") || !strings.Contains(ch.Note(), "declaration")) {
				t.Errorf("String() = %q, Note() = %q: want the layer and the change", ch.String(), ch.Note())
			}
		})
	}
}
