package cache

import (
	"math/rand/v2"
	"testing"
)

// Features read in turn are all remembered, however their hashes fall:
// hashes alike in their high bits (what chose a set of 4 slots before)
// as well as random ones, as many as the doorkeeper's age, read across
// its turn to a new filter.
func TestDoorkeeperRemembersInTurn(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alike := make([]uint64, 8)
	for i := range alike {
		alike[i] = 0xabcd<<48 | r.Uint64()>>16
	}
	random := make([]uint64, doorkeeperAge)
	for i := range random {
		random[i] = r.Uint64()
	}
	for _, c := range []struct {
		name string
		hs   []uint64
	}{{"alike in their high bits", alike}, {"random", random}} {
		t.Run(c.name, func(t *testing.T) {
			hs := c.hs
			d := new(doorkeeper)
			for range doorkeeperAge - len(hs)/2 {
				d.again(r.Uint64())
			}
			for pass, want := range []bool{false, true, true} {
				missed := 0
				for _, h := range hs {
					if d.again(h) != want {
						missed++
					}
				}
				if pass == 0 && missed > len(hs)/500 {
					t.Errorf("first read: %d of %d hashes taken as read before", missed, len(hs))
				}
				if pass > 0 && missed > 0 {
					t.Errorf("read %d: %d of %d hashes not remembered", pass+1, missed, len(hs))
				}
			}
		})
	}
}

// A hash is forgotten once twice the doorkeeper's age of others have been
// read since: a feature read now and then is not held.
func TestDoorkeeperForgets(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := new(doorkeeper)
	old := make([]uint64, 1000)
	for i := range old {
		old[i] = r.Uint64()
		d.again(old[i])
	}
	for range 2 * doorkeeperAge {
		d.again(r.Uint64())
	}
	again := 0
	for _, h := range old {
		if d.again(h) {
			again++
		}
	}
	if again > 5 {
		t.Errorf("%d of %d hashes read before %d others still remembered", again, len(old), 2*doorkeeperAge)
	}
}

// Few hashes never read are taken for read once: with one filter full,
// and with both full, just before the turn.
func TestDoorkeeperFalseAgain(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d := new(doorkeeper)
	for _, c := range []struct {
		name  string
		added int // hashes read once before the probes
		most  int // of 100,000 probes
	}{{"one filter full", doorkeeperAge - 1, 150}, {"both full", 2*doorkeeperAge - 1, 250}} {
		for d.added.Load() < uint64(c.added) {
			d.again(r.Uint64())
		}
		const n = 100_000
		taken := 0
		for range n {
			word, mask := doorkeeperBits(r.Uint64())
			if d.has(d.cur.Load(), word, mask) {
				taken++
			}
		}
		t.Logf("%s: %d of %d hashes never read taken as read", c.name, taken, n)
		if taken > c.most {
			t.Errorf("%s: %d of %d hashes never read taken as read, want at most %d", c.name, taken, n, c.most)
		}
	}
}
