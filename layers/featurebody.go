package layers

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/paulmach/orb"
)

// CheckJSON returns nil if data is one JSON value, and otherwise an
// EINVALID error saying at which line and column it stops being JSON.
func CheckJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	return &Error{Code: EINVALID, Message: jsonError(data, json.Unmarshal(data, &v))}
}

// ParseFeature reads one GeoJSON Feature object, such as the body of a
// request that writes a feature, the way ParseFile reads each feature of
// a layer file: the Feature structure, and the geometry, turned into
// longitude/latitude by toLonLat and validated. A syntax error is
// reported at its line and column. The properties are as read (a
// json.Number for a number), for Layer.CheckFeature to check against the
// layer. The id member is returned as written, unchecked, since where a
// feature is written its URL names it; the Feature's ID is 0.
func ParseFeature(data []byte, toLonLat func(orb.Geometry) (orb.Geometry, error)) (Feature, json.RawMessage, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := CheckJSON(data); err != nil {
		return Feature{}, nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return Feature{}, nil, Errorf(EINVALID, "%s: the body is a JSON %s, not a GeoJSON Feature object", lineCol(data, typ.Offset), typ.Value)
		}
		return Feature{}, nil, Errorf(EINVALID, "%s", jsonError(data, err))
	}
	if members == nil {
		return Feature{}, nil, Errorf(EINVALID, "the body is JSON null, not a GeoJSON Feature object")
	}
	id := members["id"]
	delete(members, "id")
	rest, err := json.Marshal(members)
	if err != nil {
		return Feature{}, nil, err
	}
	rf, _, err := parseFeature(rest, toLonLat)
	if err != nil {
		return Feature{}, nil, Errorf(EINVALID, "feature: %v", err)
	}
	return Feature{Properties: rf.props, Geometry: rf.geometry}, id, nil
}
