package layers

import (
	"bytes"
	"fmt"
)

// DeclarationJSON returns the opening of a layer file as every store
// exports it, up to its features member, one declaration member per line:
// the stores' exports of the same layer are byte for byte the same.
func DeclarationJSON(l *Layer) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n\"type\": \"FeatureCollection\",\n")
	members := []struct {
		name string
		v    any
	}{
		{"name", l.ID}, {"id", l.ID}, {"title", l.Title}, {"description", l.Description},
		{"geometryType", l.GeometryType}, {"order", l.Order}, {"schema", l.Schema}, {"style", l.Style},
	}
	if len(l.Rules) > 0 {
		members = append(members, struct {
			name string
			v    any
		}{"rules", l.Rules})
	}
	for _, m := range members {
		v, err := Marshal(m.v)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%q: %s,\n", m.name, v)
	}
	return b.Bytes(), nil
}
