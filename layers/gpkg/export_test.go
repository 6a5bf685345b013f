package gpkg

import (
	"context"
	"database/sql"

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

// ForeignChanges is what the checks of direct edits read as another
// program's: which of the changes lo to hi the file, as it is now, says
// no planmap process made (directSnapshot.Foreign).
func (s *Store) ForeignChanges(ctx context.Context, lo, hi int64) (map[int64]bool, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return (&directSnapshot{s: s, tx: tx}).Foreign(ctx, lo, hi)
}
