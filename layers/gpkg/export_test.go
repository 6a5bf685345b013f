package gpkg

// SetManyHits sets how many features a box must be expected to hold for
// its R-tree to be read in two (0: every box), and returns a function that
// sets it back.
func SetManyHits(n int64) (restore func()) {
	old := manyHits.Swap(n)
	return func() { manyHits.Store(old) }
}
