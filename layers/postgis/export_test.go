package postgis

import "time"

// SetListeningPoll sets how often stores opened after it poll while they
// listen, and returns a function that sets it back.
func SetListeningPoll(d time.Duration) (restore func()) {
	old := listeningPoll.Swap(int64(d))
	return func() { listeningPoll.Store(old) }
}

// SetColumnsLook sets how often stores look at their tables' columns
// unasked, and returns a function that sets it back.
func SetColumnsLook(d time.Duration) (restore func()) {
	old := columnsLook.Swap(int64(d))
	return func() { columnsLook.Store(old) }
}

// SetSmallAnswer sets the most candidates a bbox query reads in one
// statement (0: never), and returns a function that sets it back.
func SetSmallAnswer(n int64) (restore func()) {
	old := smallAnswer.Swap(n)
	return func() { smallAnswer.Store(old) }
}

// LastNotice is the highest change number a notice has announced to s,
// 0 before the first.
func (s *Store) LastNotice() int64 { return s.lastNotice.Load() }
