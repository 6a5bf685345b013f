package layers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Properties returns the item's properties: the map it was made with, or,
// for an unpacked item, the same values read back from Props. They come back
// typed as the store typed them (an integer is written without a point, a
// number always with one, strings byte for byte), but for a BLOB a
// GeoPackage holds in a field, which comes back as the base64 string it is
// served as. The caller must not change the map.
func (it *Item) Properties() map[string]any {
	if it.props != nil {
		return it.props
	}
	m := map[string]any{}
	s := propScanner{b: it.Props}
	for name, raw, ok := s.next(); ok; name, raw, ok = s.next() {
		m[string(name)] = propValue(raw)
	}
	return m
}

// Value returns the value of the item's property name, nil if it has
// none: Properties()[name], without making the map.
func (it *Item) Value(name string) any {
	var v [1]any
	it.values([]string{name}, []int{0}, v[:], nil)
	return v[0]
}

// values sets v[j] to the value of property fields[j], for each j in has,
// reading Props once; seen, if not nil, saves reading again a value the
// item before had too (a status, a land-use class), as most are.
func (it *Item) values(fields []string, has []int, v []any, seen *valueMemo) {
	if it.props != nil {
		for _, j := range has {
			v[j] = it.props[fields[j]]
		}
		return
	}
	s := propScanner{b: it.Props}
	found := 0
	for name, raw, ok := s.next(); ok && found < len(has); name, raw, ok = s.next() {
		for _, j := range has {
			if string(name) == fields[j] { // a field may be asked twice
				v[j] = seen.value(j, raw)
				found++
			}
		}
	}
}

// valueMemo holds the last value read of each asked field.
type valueMemo struct {
	raw [][]byte
	val []any
}

func newValueMemo(fields int) *valueMemo {
	return &valueMemo{raw: make([][]byte, fields), val: make([]any, fields)}
}

func (m *valueMemo) value(j int, raw []byte) any {
	if m == nil {
		return propValue(raw)
	}
	if m.raw[j] != nil && bytes.Equal(m.raw[j], raw) {
		return m.val[j]
	}
	m.raw[j], m.val[j] = raw, propValue(raw)
	return m.val[j]
}

// propScanner reads the members of a properties object as appendProperties
// writes it, up to the measures, which it writes last: compact, names that
// need no unescaping (appendKey), no null values. It stops at the first
// byte it does not expect.
type propScanner struct {
	b []byte
	i int
}

// next returns the next property's name and its value's JSON.
func (s *propScanner) next() (name, raw []byte, ok bool) {
	b, i := s.b, s.i
	if i == 0 {
		if len(b) < 2 || b[0] != '{' {
			return nil, nil, false
		}
		i = 1
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	j := bytes.IndexByte(b[i+1:], '"')
	if j < 0 || i+j+2 >= len(b) || b[i+j+2] != ':' {
		return nil, nil, false
	}
	name = b[i+1 : i+1+j]
	if len(name) >= len(MeasurePrefix) && string(name[:len(MeasurePrefix)]) == MeasurePrefix {
		return nil, nil, false
	}
	start := i + j + 3
	end := skipValue(b, start)
	if end <= start || end >= len(b) || (b[end] != ',' && b[end] != '}') {
		return nil, nil, false
	}
	s.i = end + 1
	return name, b[start:end], true
}

// skipValue returns the end of the JSON value that starts at b[i], or i
// if none does.
func skipValue(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			for j++; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if j >= len(b) {
				return i
			}
			if depth == 0 {
				return j + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',':
			if depth == 0 {
				return j
			}
		}
	}
	return i
}

// propValue is the value raw, as appendValue wrote it, typed as it was.
func propValue(raw []byte) any {
	switch raw[0] {
	case '"':
		return unquote(raw[1 : len(raw)-1])
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
		var v any
		json.Unmarshal(raw, &v)
		return v
	}
	if bytes.IndexAny(raw, floatMarks) < 0 {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(string(raw), 64)
	return f
}

// unquote is the string AppendJSONString wrote as s, between its quotes,
// byte for byte: bytes that are not UTF-8 were written as they are, so
// they are read so (a JSON decoder would make each U+FFFD).
func unquote(s []byte) string {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, err := strconv.ParseUint(string(s[i+1:min(i+5, len(s))]), 16, 32)
			if err != nil || i+5 > len(s) {
				b.WriteByte('u')
				continue
			}
			b.WriteRune(rune(r))
			i += 4
		default: // '"', '\\', '/'
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
