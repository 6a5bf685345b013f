package layers

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ParseDeclaration reads a layer's declaration from a layer file: its
// members id, title, description, geometryType, order, schema and style,
// with or without type and features members (features are ignored). The
// layer id is the id member, else name, else the file name, as for any
// layer file.
func ParseDeclaration(name string, data []byte) (*Layer, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		// ParseFile says where the syntax error is.
		_, err := ParseFile(name, data)
		return nil, err
	}
	if _, ok := top["type"]; !ok {
		top["type"] = json.RawMessage(`"FeatureCollection"`)
	}
	// Only the declaration counts: neither the features nor the CRS they
	// are in.
	top["features"] = json.RawMessage(`[]`)
	delete(top, "crs")
	decl, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	f, err := ParseFile(name, decl)
	if err != nil {
		return nil, err
	}
	if f.Layer == nil {
		return nil, Errorf(EINVALID, "%s: declares no layer: a declaration has the title, geometryType and schema members of a layer file", name)
	}
	return f.Layer, nil
}

// Declare gives one of files the declaration l, in place of any it has or
// its input implies: the only file when there is one (which then becomes
// layer l.ID, whatever its table or file was called), else the file of
// layer l.ID.
func Declare(files []*File, l *Layer) error {
	var target *File
	if len(files) == 1 {
		target = files[0]
	}
	var ids []string
	for _, f := range files {
		ids = append(ids, f.LayerID)
		if target == nil && f.LayerID == l.ID {
			target = f
		}
	}
	if target == nil {
		return Errorf(EINVALID, "the declaration is of layer %s, which is none of the input's layers (%s): give it the id of one of them", l.ID, strings.Join(ids, ", "))
	}
	target.Layer, target.LayerID, target.inferred = l, l.ID, nil
	return nil
}
