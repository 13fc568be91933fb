package engine

import (
	"hash/maphash"

	"github.com/dop251/goja"
)

// strCache makes script strings of the strings requests repeat (hosts,
// paths, methods, header values): a small direct-mapped table, so a string
// seen recently costs a hash and a compare instead of two allocations (the
// string boxed for ToValue, and the script value). Script strings are
// immutable, so equal strings may share one value. Worker only.
type strCache struct {
	seed    maphash.Seed
	entries [strCacheSize]strEntry
}

type strEntry struct {
	s string
	v goja.Value
}

const (
	strCacheSize = 256
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
	e := &c.entries[maphash.String(c.seed, s)%strCacheSize]
	if e.v != nil && e.s == s {
		return e.v
	}
	v := w.rt.ToValue(s)
	e.s, e.v = s, v
	return v
}
