package engine

import (
	"hash/maphash"

	"github.com/dop251/goja"
)

// strCache makes script strings of the strings requests repeat (hosts,
// paths, methods, header values): a small two-way set-associative table,
// so a string seen recently costs a hash and a compare or two instead of
// two allocations (the string boxed for ToValue, and the script value).
// Two ways, so that two hot strings that hash to the same set (a route's
// host and path, say) do not evict each other on every request. Script
// strings are immutable, so equal strings may share one value. Worker only.
type strCache struct {
	seed maphash.Seed
	sets [strCacheSets]strSet
}

type strSet struct {
	ways [2]strEntry
	last uint8 // the way hit or filled most recently; a miss fills the other
}

type strEntry struct {
	s string
	v goja.Value
}

const (
	strCacheSets = 128
	strCacheMax  = 128 // longer strings are not worth keeping
)

// stringValue returns s as a script value.
func (w *Worker) stringValue(s string) goja.Value {
	if len(s) > strCacheMax || len(s) == 0 {
		return w.rt.ToValue(s)
	}
	c := w.strs
	if c == nil {
		c = &strCache{seed: maphash.MakeSeed()}
		w.strs = c
	}
	set := c.set(s)
	for i := range set.ways {
		if e := &set.ways[i]; e.v != nil && e.s == s {
			set.last = uint8(i)
			return e.v
		}
	}
	v := w.rt.ToValue(s)
	set.last ^= 1
	set.ways[set.last] = strEntry{s, v}
	return v
}

func (c *strCache) set(s string) *strSet {
	return &c.sets[maphash.String(c.seed, s)%strCacheSets]
}
