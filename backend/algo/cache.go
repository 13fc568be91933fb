package algo

import (
	"math"
	"strconv"
	"time"
)

// CacheOptions are the options of NewCache (Pipy: {size, ttl}).
type CacheOptions struct {
	// Size is the maximum number of entries; 0 means unlimited. Like Pipy,
	// the limit is only enforced when Set inserts a new key: entries
	// created by Get's alloc callback do not trigger eviction by
	// themselves.
	Size int
	// TTL is the lifetime of an entry from its last Set or allocation; 0
	// means entries never expire. Pipy takes a number of seconds or a
	// string such as "10s" (see ParseSeconds).
	TTL time.Duration
}

// Cache is Pipy 0.30's algo.Cache: an insertion-ordered map whose order is
// refreshed by lookups (LRU), with optional size limit, TTL, and
// alloc/free callbacks. It is not safe for concurrent use; callbacks run
// synchronously and may re-enter the cache.
//
// Pipy semantics kept on purpose:
//
//   - Get and Find move the entry to the most-recently-used end; Set on an
//     existing key updates its value and expiry in place without moving it.
//   - Whatever alloc returns is cached, including nil / JS undefined or
//     null: a later Get returns the cached value without calling alloc.
//   - An expired entry is not freed by Get: alloc's new value simply
//     replaces it. Without alloc, Get reports a miss and leaves the expired
//     entry in place.
//   - Eviction (only on Set of a new key when Len() > Size) frees entries
//     from the least-recently-used end.
type Cache[K comparable, V any] struct {
	// Now is the clock used for TTLs; time.Now when nil. Tests may
	// replace it.
	Now func() time.Time

	alloc func(K) (V, error)
	free  func(K, V)
	opts  CacheOptions

	entries    map[K]*cacheEntry[K, V]
	head, tail *cacheEntry[K, V] // head = least recently used
}

type cacheEntry[K comparable, V any] struct {
	key        K
	value      V
	expires    time.Time
	prev, next *cacheEntry[K, V]
}

// NewCache creates a cache. alloc (may be nil) is called by Get on a miss;
// free (may be nil) is called when Remove, Clear or eviction deletes an
// entry. Negative options are treated as 0.
func NewCache[K comparable, V any](alloc func(K) (V, error), free func(K, V), opts CacheOptions) *Cache[K, V] {
	if opts.Size < 0 {
		opts.Size = 0
	}
	if opts.TTL < 0 {
		opts.TTL = 0
	}
	return &Cache[K, V]{
		alloc:   alloc,
		free:    free,
		opts:    opts,
		entries: make(map[K]*cacheEntry[K, V]),
	}
}

func (c *Cache[K, V]) now() time.Time {
	if c.opts.TTL <= 0 {
		return time.Time{}
	}
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache[K, V]) expired(e *cacheEntry[K, V], now time.Time) bool {
	return c.opts.TTL > 0 && !now.Before(e.expires)
}

func (c *Cache[K, V]) unlink(e *cacheEntry[K, V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (c *Cache[K, V]) pushBack(e *cacheEntry[K, V]) {
	e.prev = c.tail
	e.next = nil
	if c.tail != nil {
		c.tail.next = e
	} else {
		c.head = e
	}
	c.tail = e
}

func (c *Cache[K, V]) touch(e *cacheEntry[K, V]) {
	if c.tail != e {
		c.unlink(e)
		c.pushBack(e)
	}
}

func (c *Cache[K, V]) erase(e *cacheEntry[K, V]) {
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
		c.unlink(e)
	}
}

// store inserts or updates k in place, reporting whether k was new.
func (c *Cache[K, V]) store(k K, v V, expires time.Time) bool {
	if e, ok := c.entries[k]; ok {
		e.value = v
		e.expires = expires
		return false
	}
	e := &cacheEntry[K, V]{key: k, value: v, expires: expires}
	c.entries[k] = e
	c.pushBack(e)
	return true
}

// Len returns the number of stored entries, expired ones included.
func (c *Cache[K, V]) Len() int { return len(c.entries) }

// Get returns the value for k. On a hit (an unexpired entry) it refreshes
// the entry's LRU position. On a miss it calls alloc(k) and caches and
// returns the result, whatever it is; found is false only when there is no
// alloc callback, and err is alloc's error (nothing is cached then).
func (c *Cache[K, V]) Get(k K) (v V, found bool, err error) {
	now := c.now()
	if e, ok := c.entries[k]; ok {
		c.touch(e)
		if !c.expired(e, now) {
			return e.value, true, nil
		}
	}
	if c.alloc == nil {
		return v, false, nil
	}
	v, err = c.alloc(k)
	if err != nil {
		var zero V
		return zero, false, err
	}
	c.store(k, v, now.Add(c.opts.TTL))
	return v, true, nil
}

// Set creates or updates the entry for k and restarts its TTL. Updating
// does not change the LRU order. Inserting a new key beyond Size evicts
// (and frees) entries from the least-recently-used end until Len() ==
// Size.
func (c *Cache[K, V]) Set(k K, v V) {
	now := c.now()
	if !c.store(k, v, now.Add(c.opts.TTL)) {
		return
	}
	if c.opts.Size <= 0 || len(c.entries) <= c.opts.Size {
		return
	}
	for n := len(c.entries) - c.opts.Size; n > 0 && c.head != nil; n-- {
		e := c.head
		if c.free != nil {
			c.free(e.key, e.value)
		}
		c.erase(e)
	}
}

// Find returns the value for k without calling alloc (Pipy's internal
// Cache::find, used for the balancers' unhealthy caches). It refreshes the
// LRU position and drops an expired entry without calling free.
func (c *Cache[K, V]) Find(k K) (V, bool) {
	var zero V
	e, ok := c.entries[k]
	if !ok {
		return zero, false
	}
	c.touch(e)
	if c.opts.TTL > 0 && c.expired(e, c.now()) {
		c.erase(e)
		return zero, false
	}
	return e.value, true
}

// Remove deletes the entry for k, calling free(k, v) if there is a free
// callback, and reports whether it existed. As in Pipy, with a free
// callback an expired entry is still freed and deleted but reported as
// not found; without one, an expired entry is reported as found.
func (c *Cache[K, V]) Remove(k K) bool {
	e, ok := c.entries[k]
	if !ok {
		return false
	}
	if c.free == nil {
		c.erase(e)
		return true
	}
	found := !(c.opts.TTL > 0 && c.expired(e, c.now()))
	c.free(k, e.value)
	c.erase(e)
	return found
}

// Clear calls free(k, v) for every entry, from least to most recently used
// (expired entries included), then deletes them all. If free panics the
// cache is left with all its entries, as Pipy leaves it when the callback
// throws.
func (c *Cache[K, V]) Clear() {
	if c.free != nil && c.head != nil {
		list := make([]*cacheEntry[K, V], 0, len(c.entries))
		for e := c.head; e != nil; e = e.next {
			list = append(list, e)
		}
		for _, e := range list {
			if c.entries[e.key] == e { // not removed by an earlier callback
				c.free(e.key, e.value)
			}
		}
	}
	clear(c.entries)
	c.head, c.tail = nil, nil
}

// ParseSeconds converts a Pipy duration to seconds like utils::get_seconds:
// the longest leading decimal number (as C's atof) scaled by the last
// character: 'd' days, 'h' hours, 'm' minutes, 's' or anything else
// seconds. "" and unparsable strings give 0.
func ParseSeconds(s string) float64 {
	if s == "" {
		return 0
	}
	n := atof(s)
	switch s[len(s)-1] | 0x20 {
	case 'd':
		n *= 24 * 60 * 60
	case 'h':
		n *= 60 * 60
	case 'm':
		n *= 60
	}
	return n
}

// SecondsToDuration converts a number of seconds to a Duration, saturating
// at the Duration range; NaN and non-positive values give 0.
func SecondsToDuration(sec float64) time.Duration {
	if !(sec > 0) {
		return 0
	}
	ns := sec * float64(time.Second)
	if ns >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}

// atof parses the longest prefix of s that is a decimal floating-point
// number, after leading whitespace, like C's atof; 0 if there is none.
func atof(s string) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			end = j
		}
	}
	f, err := strconv.ParseFloat(s[start:end], 64)
	if err != nil && f == 0 {
		return 0
	}
	return f
}
