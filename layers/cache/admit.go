package cache

import (
	"hash/maphash"
	"sync/atomic"
)

// A feature read from the store is held only when it is read a second
// time within a while, and so is the answer to a query that the store or
// a spatial index answered (a doorkeeper, as in TinyLFU): a view asked
// again, or a map panned over the same ground, is held from then on, while
// a scan that reads each feature once (a client paging through a whole
// layer, random boxes over a layer too large to hold) passes by, and so do
// the boxes of a map panned bit by bit, each asked once. It neither pushes out what map
// users keep asking for nor pays for holding, and then evicting, features
// nobody asks for again: on 1,000,000 parcels, holding every feature
// read made a 50-parcel box from the file cost 12-15 % more CPU.
//
// What it does not do is weigh what comes in against what it would push
// out, as TinyLFU's frequency sketch does: a scan done twice within the
// doorkeeper's memory (a layer of fewer features than doorkeeperAge,
// paged through twice) is held the second time, as everything was before.

// The doorkeeper remembers the features and queries read once by hash
// (featureHash, queryHash: 64 bits, which do not meet by chance) in two
// Bloom filters, one being filled and the one filled before it, as
// TinyLFU ages its doorkeeper: a hash is remembered until about
// doorkeeperAge others, and at most twice as many, have been read once
// since. How the hashes fall does not matter: the sets of hashes it kept
// before (4 a set) let five features of one set, read in turn, push each
// other out for ever, and a few sets a run of 12,800 features held five.
// Each filter sets 4 bits of one word a hash; a hash never read is taken
// for one read once (its feature held a read early) about once in 1,000
// with one filter full, twice just before the turn, both full. 1 MB,
// outside the budget, as before: 131,072 features, about 2.6 times the
// parcels the default budget holds.
const (
	doorkeeperWordBits = 16
	doorkeeperAge      = 1 << 17
)

// doorkeeper remembers what was read once, without locks: a reader that
// meets the turn to a new filter may lose a hash, or miss one the turn is
// clearing, which only moves a holding by a read.
type doorkeeper struct {
	filters [2][1 << doorkeeperWordBits]atomic.Uint64
	cur     atomic.Uint32 // the filter being filled
	// Apart from cur, which every call reads: added is written by every
	// hash added, on another core.
	_     [60]byte
	added atomic.Uint64 // hashes added since the cache was made
}

// again reports whether the feature or query of hash h was read before,
// and remembers it.
func (d *doorkeeper) again(h uint64) bool {
	word, mask := doorkeeperBits(h)
	cur := d.cur.Load()
	if d.has(cur, word, mask) {
		return true
	}
	d.filters[cur][word].Or(mask)
	if d.added.Add(1)%doorkeeperAge == 0 {
		// The older filter is emptied and filled from now on: what only
		// it held is forgotten. cur read again: the one read above may
		// be a turn old.
		cur = d.cur.Load()
		old := &d.filters[1-cur]
		for i := range old {
			old[i].Store(0)
		}
		d.cur.Store(1 - cur)
	}
	return false
}

// has reports whether either filter holds the bits mask of word, cur
// being the one filled.
func (d *doorkeeper) has(cur uint32, word, mask uint64) bool {
	return d.filters[cur][word].Load()&mask == mask || d.filters[1-cur][word].Load()&mask == mask
}

// doorkeeperBits are the word of a filter and the bits in it of hash h.
func doorkeeperBits(h uint64) (word, mask uint64) {
	// Mixed again: the filters use all 64 bits, and featureHash's low
	// ones follow the fid's.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	word = h >> (64 - doorkeeperWordBits)
	mask = uint64(1)<<(h&63) | uint64(1)<<(h>>6&63) | uint64(1)<<(h>>12&63) | uint64(1)<<(h>>18&63)
	return word, mask
}

// featureHash is the doorkeeper's hash of feature fid of the layer whose
// hash is lh (layerHash).
func featureHash(lh uint64, fid int64) uint64 {
	h := (uint64(fid) ^ lh) * 0x9e3779b97f4a7c15
	return h ^ h>>32
}

// layerHash is the hash of layer id for featureHash.
func (c *Cache) layerHash(id string) uint64 { return maphash.String(c.seed, id) }
