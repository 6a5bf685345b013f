//go:build race

package cache_test

// raceDetector: under -race the contract runs once, with the tight
// budget: the same reads, with evictions all the time.
const raceDetector = true
