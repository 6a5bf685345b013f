package cache

import (
	"hash/maphash"
	"sync/atomic"
)

// A feature read from the store is held only when it is read a second
// time within a while, and so is the answer to a query the store selected
// (a doorkeeper, as in TinyLFU): a view asked again, or a map panned over
// the same ground, is held from then on, while a scan that reads each
// feature once (a client paging through a whole layer, random boxes over
// a layer too large to hold) passes by. It neither pushes out what map
// users keep asking for nor pays for holding, and then evicting, features
// nobody asks for again: on 1,000,000 parcels, holding every feature
// read made a 50-parcel box from the file cost about a tenth more CPU.

// doorkeeperBits: the doorkeeper remembers the last 2^doorkeeperBits
// features read once, at best (a feature takes the slot of its hash from
// whichever held it). At 8 bytes a slot, 1 MB: several times the
// features the default budget holds.
const doorkeeperBits = 17

// doorkeeper remembers the features read once, by hash, without locks.
type doorkeeper struct {
	slots [1 << doorkeeperBits]atomic.Uint64
}

// again reports whether the feature of hash h was read before, and
// remembers it.
func (d *doorkeeper) again(h uint64) bool {
	s := &d.slots[h>>(64-doorkeeperBits)]
	h |= 1 // 0 is an empty slot
	if s.Load() == h {
		return true
	}
	s.Store(h)
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
