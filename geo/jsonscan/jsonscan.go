// Package jsonscan cuts a JSON array into its values without decoding
// them: it finds the commas between the values and the bracket that
// closes the array, outside strings and nested values. geo cuts
// coordinates with it, and layers cuts a layer file's features array, in
// memory or read piece by piece from disk, and counts the features left.
//
// It does not check the syntax: on valid JSON it cuts as encoding/json
// would; on anything else it cuts somewhere, and the caller's decoder of
// the values says what is wrong.
package jsonscan

// Array is where a scan of a JSON array stands: inside how many nested
// arrays and objects, and inside a string (just after a backslash in it).
// The zero Array stands just after the array's opening bracket. A scan
// goes on across pieces of the input read one after another: the state
// carries over.
type Array struct {
	depth    int
	inString bool
	escaped  bool // the byte before was the backslash of an escape
}

// outside marks the bytes that matter outside strings, and inside those
// that end a run of a string's plain bytes. Runs of other bytes are
// skipped with a table look-up each, which is what makes the cutting
// cheap: most of a file is numbers and the text of strings.
var outside, inside [256]bool

func init() {
	for _, c := range []byte(`"[]{},`) {
		outside[c] = true
	}
	inside['"'], inside['\\'] = true, true
}

// Next returns the offset in b of the first comma between two of the
// array's values, or of the bracket that closes the array, and that byte
// (',' or ']'); -1 and 0 when b holds neither, and the scan goes on with
// the next piece of the input. After a comma, scan on from the byte after
// it: Next(b[i+1:]). A '}' with nothing open is taken as part of a value
// (only a ']' closes the array), so that a decoder sees it and says so.
func (a *Array) Next(b []byte) (int, byte) {
	for i := 0; i < len(b); i++ {
		if a.inString {
			if a.escaped {
				a.escaped = false
				continue
			}
			for i < len(b) && !inside[b[i]] {
				i++
			}
			if i == len(b) {
				break
			}
			if b[i] == '\\' {
				a.escaped = true
			} else {
				a.inString = false
			}
			continue
		}
		for i < len(b) && !outside[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
		switch c := b[i]; c {
		case '"':
			a.inString = true
		case '[', '{':
			a.depth++
		case ']', '}':
			if a.depth > 0 {
				a.depth--
			} else if c == ']' {
				return i, c
			}
		case ',':
			if a.depth == 0 {
				return i, c
			}
		}
	}
	return -1, 0
}
