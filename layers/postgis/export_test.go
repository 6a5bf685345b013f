package postgis

import "time"

// SetListeningPoll sets how often stores opened after it poll while they
// listen, and returns a function that sets it back.
func SetListeningPoll(d time.Duration) (restore func()) {
	old := listeningPoll.Swap(int64(d))
	return func() { listeningPoll.Store(old) }
}
