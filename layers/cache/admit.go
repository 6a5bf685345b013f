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
// doorkeeper's memory (a layer of fewer features than its slots, paged
// through twice) is held the second time, as everything was before.

// The doorkeeper remembers the features and queries read once by hash
// (featureHash, queryHash: 64 bits, which do not meet by chance), in
// 2^doorkeeperSetBits sets of doorkeeperWays slots: a feature is forgotten
// when as many others of its set have been read since, so that a few
// thousand features read together are all remembered (with one slot a
// hash, 261 of 12,800 features read twice in turn were not held, their
// slots taken by others). At 8 bytes a slot, 1 MB, outside the budget:
// 131,072 features, about 2.6 times the parcels the default budget holds.
const (
	doorkeeperSetBits = 15
	doorkeeperWays    = 4
)

// doorkeeper remembers what was read once, without locks: two readers
// that meet in a set may lose a hash, which only delays a holding.
type doorkeeper struct {
	sets [1 << doorkeeperSetBits][doorkeeperWays]atomic.Uint64
}

// again reports whether the feature or query of hash h was read before,
// and remembers it.
func (d *doorkeeper) again(h uint64) bool {
	set := &d.sets[h>>(64-doorkeeperSetBits)]
	h |= 1 // 0 is an empty slot
	for i := range set {
		if set[i].Load() == h {
			return true
		}
	}
	// The oldest out.
	for i := len(set) - 1; i > 0; i-- {
		set[i].Store(set[i-1].Load())
	}
	set[0].Store(h)
	return false
}

// featureHash is the doorkeeper's hash of feature fid of the layer whose
// hash is lh (layerHash).
func featureHash(lh uint64, fid int64) uint64 {
	h := (uint64(fid) ^ lh) * 0x9e3779b97f4a7c15
	return h ^ h>>32
}

// layerHash is the hash of layer id for featureHash.
func (c *Cache) layerHash(id string) uint64 { return maphash.String(c.seed, id) }
