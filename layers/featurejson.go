package layers

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// fastFeature is a GeoJSON feature decoded in one pass, its geometry's
// members kept for geo.DecodeGeoJSONMembers.
type fastFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties map[string]any  `json:"properties"`
	Geometry   *fastGeometry   `json:"geometry"`
}

type fastGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// decodeFastFeature decodes raw into f as a json.Decoder with UseNumber
// would, for the shape nearly every feature has: the members type, id,
// properties and geometry, each once and spelled so, properties of
// strings, numbers, booleans and nulls, strings without escapes. It
// reports false for anything else, which the caller then leaves to
// encoding/json: most of a big import's time was encoding/json finding
// its way through these by reflection.
func decodeFastFeature(raw []byte, f *fastFeature) bool {
	if !json.Valid(raw) {
		return false
	}
	d := fastDecoder{b: raw}
	var seen uint8
	return d.object(func(key string) bool {
		var bit uint8
		switch key {
		case "type":
			bit = 1
			s, ok := d.plainString()
			if !ok {
				return false
			}
			f.Type = s
		case "id":
			bit = 2
			start := d.i
			if !d.skipScalar() {
				return false
			}
			f.ID = json.RawMessage(raw[start:d.i])
		case "properties":
			bit = 4
			if d.null() {
				break
			}
			f.Properties = map[string]any{}
			ok := d.object(func(k string) bool {
				v, ok := d.scalar()
				f.Properties[k] = v
				return ok
			})
			if !ok {
				return false
			}
		case "geometry":
			bit = 8
			if d.null() {
				break
			}
			g := &fastGeometry{}
			var gseen uint8
			ok := d.object(func(k string) bool {
				switch {
				case k == "type" && gseen&1 == 0:
					gseen |= 1
					s, ok := d.plainString()
					g.Type = s
					return ok
				case k == "coordinates" && gseen&2 == 0:
					gseen |= 2
					start := d.i
					if d.null() || !d.skipArray() {
						return false
					}
					g.Coordinates = json.RawMessage(raw[start:d.i])
					return true
				}
				return false
			})
			if !ok {
				return false
			}
			f.Geometry = g
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// fastDecoder walks JSON whose syntax json.Valid has checked.
type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object calls member with each key of the object at d, the decoder
// placed on the member's value; member must consume the value.
func (d *fastDecoder) object(member func(key string) bool) bool {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.ws()
		key, ok := d.plainString()
		if !ok {
			return false
		}
		d.ws()
		d.i++ // the colon
		d.ws()
		if !member(key) {
			return false
		}
		d.ws()
		c := d.b[d.i]
		d.i++
		if c == '}' {
			return true
		}
	}
}

// plainString decodes a string without escapes whose bytes are UTF-8.
func (d *fastDecoder) plainString() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	rest := d.b[d.i+1:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return "", false
	}
	s := rest[:end]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return "", false
	}
	d.i += end + 2
	return string(s), true
}

func (d *fastDecoder) null() bool {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

// literal returns the number, true, false or null at d.
func (d *fastDecoder) literal() []byte {
	start := d.i
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return d.b[start:d.i]
		}
		d.i++
	}
	return d.b[start:d.i]
}

// scalar decodes a property value: a plain string, a number (as a
// json.Number), a boolean or null.
func (d *fastDecoder) scalar() (any, bool) {
	switch c := d.b[d.i]; {
	case c == '"':
		return d.plainString()
	case c == '{' || c == '[':
		return nil, false
	}
	lit := d.literal()
	switch string(lit) {
	case "true":
		return true, true
	case "false":
		return false, true
	case "null":
		return nil, true
	}
	return json.Number(lit), true
}

// skipScalar passes over a string or a literal.
func (d *fastDecoder) skipScalar() bool {
	switch d.b[d.i] {
	case '"':
		_, ok := d.plainString()
		return ok
	case '{', '[':
		return false
	}
	d.literal()
	return true
}

// skipArray passes over an array of arrays and numbers.
func (d *fastDecoder) skipArray() bool {
	if d.b[d.i] != '[' {
		return false
	}
	depth := 0
	for ; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				d.i++
				return true
			}
		case '"', '{', '}':
			return false
		}
	}
	return false
}
