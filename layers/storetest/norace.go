//go:build !race

package storetest

// raceEnabled reports whether the suite runs under the race detector.
const raceEnabled = false
