package layers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
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

// WriteLayerFile writes layer l as a layer file, as every store exports
// it: DeclarationJSON, then each feature that each gives (in id order)
// through AppendFeature, one a line. Progress, when set, is called every
// 1000 features and at the end, with total, the count the store read.
func WriteLayerFile(w io.Writer, l *Layer, each func(fn func(Feature) error) error, total int, progress func(done, total int)) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := DeclarationJSON(l)
	if err != nil {
		return err
	}
	bw.Write(head)
	bw.WriteString(`"features": [`)
	n := 0
	var buf []byte
	err = each(func(f Feature) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		buf = AppendFeature(buf[:0], l, f)
		bw.Write(buf)
		n++
		if progress != nil && n%1000 == 0 {
			progress(n, total)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if progress != nil {
		progress(n, total)
	}
	bw.WriteString("\n]\n}\n")
	return bw.Flush()
}
