package layers

import "fmt"

// ImportOptions tune a store's Import.
type ImportOptions struct {
	// Replace swaps each layer's features as a whole instead of adding and
	// updating by id, and allows its schema to change in any way.
	Replace bool
	// Progress, when set, is called as features are written.
	Progress func(layer string, done, total int)
}

// ImportResult says what an import did to one layer.
type ImportResult struct {
	Layer    string
	Created  bool // the layer did not exist before
	Written  int  // features added or updated
	Removed  int  // features removed by Replace
	Warnings []string
}

// String describes the result in a line.
func (r ImportResult) String() string {
	verb := "updated"
	if r.Created {
		verb = "created"
	}
	s := fmt.Sprintf("%s: %s, %d %s written", r.Layer, verb, r.Written, plural(r.Written, "feature", "features"))
	if r.Removed > 0 {
		s += fmt.Sprintf(", %d replaced", r.Removed)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
