package gpkg

import "context"

// TakeIn takes in at once what other connections committed, as the poll
// loop does at its next round.
func (s *Store) TakeIn(ctx context.Context) {
	s.follow.AfterWrite(ctx, "taking in other connections' writes")
}

// SetManyHits sets how many features a box must be expected to hold for
// its R-tree to be read in two (0: every box), and returns a function that
// sets it back.
func SetManyHits(n int64) (restore func()) {
	old := manyHits.Swap(n)
	return func() { manyHits.Store(old) }
}
