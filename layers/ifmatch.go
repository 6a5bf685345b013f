package layers

import "strings"

// MatchesVersion reports whether ifMatch, an If-Match header's value,
// names version v (Item.Version), or is empty or "*", which accept any. A
// weak validator's W/ prefix, the quotes of an entity tag, and a suffix
// that a proxy appends (nginx and Apache add -gzip or ;gzip when they
// compress) are ignored: a version is base 36 and has neither. A list of
// several tags is not taken apart: it matches nothing.
func MatchesVersion(ifMatch, v string) bool {
	m := strings.TrimSpace(ifMatch)
	if m == "" || m == "*" {
		return true
	}
	m = strings.TrimPrefix(m, "W/")
	m = strings.Trim(m, `"`)
	if i := strings.IndexAny(m, "-;"); i >= 0 {
		m = m[:i]
	}
	return m == v
}
