package layers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Properties are the item's properties, typed as in Feature.Properties:
// the map it was made with, or else the same map read back from Props (an
// integer is written without a point, a number always with one, see
// appendNumber). The caller must not change the map.
func (it *Item) Properties() map[string]any {
	if it.Feature.Properties != nil {
		return it.Feature.Properties
	}
	m := map[string]any{}
	s := propScanner{b: it.Props}
	for name, raw, ok := s.next(); ok; name, raw, ok = s.next() {
		if !bytes.HasPrefix(name, measurePrefix) {
			m[string(name)] = propValue(raw)
		}
	}
	return m
}

// Value is the value of the item's property name, nil if it has none: as
// Properties()[name], without making the map.
func (it *Item) Value(name string) any {
	if it.Feature.Properties != nil || strings.HasPrefix(name, MeasurePrefix) {
		return it.Feature.Properties[name]
	}
	s := propScanner{b: it.Props}
	for n, raw, ok := s.next(); ok; n, raw, ok = s.next() {
		if string(n) == name {
			return propValue(raw)
		}
	}
	return nil
}

// values sets v[j] to the value of property fields[j], for each j in has,
// reading Props once; seen saves reading again a value the feature before
// had too (a status, a land-use class), which most are.
func (it *Item) values(fields []string, has []int, v []any, seen *valueMemo) {
	if it.Feature.Properties != nil {
		for _, j := range has {
			v[j] = it.Feature.Properties[fields[j]]
		}
		return
	}
	s := propScanner{b: it.Props}
	found := 0
	for name, raw, ok := s.next(); ok && found < len(has); name, raw, ok = s.next() {
		if bytes.HasPrefix(name, measurePrefix) {
			return // the measures come last
		}
		for _, j := range has {
			if string(name) == fields[j] { // a field may be asked twice
				v[j] = seen.value(j, raw)
				found++
			}
		}
	}
}

// valueMemo is the last value read of each field.
type valueMemo struct {
	raw [][]byte
	val []any
}

func (m *valueMemo) value(j int, raw []byte) any {
	if j >= len(m.raw) {
		m.raw = append(m.raw, make([][]byte, j+1-len(m.raw))...)
		m.val = append(m.val, make([]any, j+1-len(m.val))...)
	}
	if m.raw[j] != nil && bytes.Equal(m.raw[j], raw) {
		return m.val[j]
	}
	m.raw[j], m.val[j] = raw, propValue(raw)
	return m.val[j]
}

// Lean returns the item without its property map, which Properties then
// reads back from Props: what a cache keeps, since the map and its boxed
// values are a dozen objects the collector would otherwise walk, for each
// feature held, in every cycle.
func (it *Item) Lean() *Item {
	if it.Feature.Properties == nil {
		return it
	}
	lean := *it
	lean.Feature.Properties = nil
	return &lean
}

var measurePrefix = []byte(MeasurePrefix)

// propScanner reads the members of a properties object as appendProperties
// writes it: compact, names that need no unescaping (appendKey), no null
// values. It stops at the first byte it does not expect.
type propScanner struct {
	b []byte
	i int
}

// next returns the next member's name and its value's JSON.
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
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1])
		}
		var s string
		json.Unmarshal(raw, &s)
		return s
	case 't':
		return true
	case 'f':
		return false
	case '{', '[':
		var v any
		json.Unmarshal(raw, &v)
		return v
	}
	if bytes.IndexAny(raw, ".eEnN") < 0 {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(string(raw), 64)
	return f
}
