package gpkg

import (
	"context"

	"planmap/layers"
)

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

// SetSmallAnswer sets how many candidates a box may have for its page to
// be read in one statement (0: never), and returns a function that sets it
// back.
func SetSmallAnswer(n int64) (restore func()) {
	old := smallAnswer.Swap(n)
	return func() { smallAnswer.Store(old) }
}

// LikelySmall reports whether Items tries page p of what f selects of
// layer id in one statement.
func (s *Store) LikelySmall(ctx context.Context, id string, f layers.Filter, p layers.Page) bool {
	col, err := s.follow.Collection(ctx, id)
	return err == nil && likelySmall(col, f, p)
}
