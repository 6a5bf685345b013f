package layers

import (
	"fmt"
	"strings"
)

// Column is an attribute column of a layer's table as its store finds it
// (every column but the feature id and the geometry): its name, and the
// field type its declared SQL type maps to. A column whose type maps to
// none has an empty Type and NoType saying why (binary data, a type that
// is not an attribute type).
type Column struct {
	Name   string
	Type   FieldType
	NoType string
}

// ColumnChanges is what FollowColumns did to a layer's declaration.
type ColumnChanges struct {
	Layer string
	// Added are the fields added, optional, each "name (type)".
	Added []string
	// Removed are the fields removed: their columns are gone.
	Removed []string
	// Left are the columns left out, each "name: why".
	Left []string
}

// FollowColumns returns declaration l made to follow the columns cols
// that another program (QGIS, GDAL, psql) left its table with: a column
// it does not declare becomes an optional field of the column's type, in
// the table's order after the declared fields, and a declared field whose
// column is gone is removed (its values went with the column). A column
// that cannot be a field (a name a field may not have, such as one with
// capitals, a reserved or computed name, a query parameter; or no field
// type) is left out, and said so in the changes. cols must be the columns
// of a table that exists. l itself is not changed; when nothing changes,
// the result is l.
func FollowColumns(l *Layer, cols []Column) (*Layer, ColumnChanges) {
	ch := ColumnChanges{Layer: l.ID}
	have := make(map[string]bool, len(cols))
	for _, c := range cols {
		have[c.Name] = true
	}
	next := *l
	next.Schema = nil
	for _, f := range l.Schema {
		if !have[f.Name] {
			ch.Removed = append(ch.Removed, f.Name)
			continue
		}
		next.Schema = append(next.Schema, f)
	}
	for _, c := range cols {
		if l.Field(c.Name) != nil {
			continue
		}
		why := fieldNameProblem(c.Name)
		if why == "" && c.Type == "" {
			why = c.NoType
		}
		if why != "" {
			ch.Left = append(ch.Left, fmt.Sprintf("%q: %s", c.Name, why))
			continue
		}
		next.Schema = append(next.Schema, Field{Name: c.Name, Type: c.Type})
		ch.Added = append(ch.Added, fmt.Sprintf("%s (%s)", c.Name, c.Type))
	}
	if !ch.Changed() {
		return l, ch
	}
	return &next, ch
}

// Changed reports whether the declaration changed: fields were added or
// removed.
func (ch ColumnChanges) Changed() bool { return len(ch.Added) > 0 || len(ch.Removed) > 0 }

// Note is the history's note of the change to the declaration.
func (ch ColumnChanges) Note() string {
	var parts []string
	if len(ch.Added) > 0 {
		parts = append(parts, "fields "+strings.Join(ch.Added, ", ")+" added to the declaration from the columns another program added")
	}
	if len(ch.Removed) > 0 {
		parts = append(parts, "fields "+strings.Join(ch.Removed, ", ")+" removed from the declaration: another program dropped their columns")
	}
	return strings.Join(parts, "; ")
}

// String is the sentence a store reports (logs) of the changes: the
// layer, the fields added and removed, and the columns left out with
// why.
func (ch ColumnChanges) String() string {
	parts := []string{}
	if n := ch.Note(); n != "" {
		parts = append(parts, n)
	}
	if len(ch.Left) > 0 {
		parts = append(parts, "columns left out of the declaration, not served: "+strings.Join(ch.Left, "; "))
	}
	return "layer " + ch.Layer + ": " + strings.Join(parts, "; ")
}
