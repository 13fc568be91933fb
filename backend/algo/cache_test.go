package algo

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock { return &fakeClock{time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// recorder counts alloc and free calls.
type recorder struct {
	allocs []string
	frees  []string
}

func (r *recorder) alloc(k string) (any, error) {
	r.allocs = append(r.allocs, k)
	return "v:" + k, nil
}

func (r *recorder) free(k string, v any) {
	r.frees = append(r.frees, fmt.Sprintf("%s=%v", k, v))
}

func keys[K comparable, V any](c *Cache[K, V]) []K {
	var out []K
	for e := c.head; e != nil; e = e.next {
		out = append(out, e.key)
	}
	return out
}

func TestCacheGetAlloc(t *testing.T) {
	r := &recorder{}
	c := NewCache(r.alloc, r.free, CacheOptions{})
	for _, k := range []string{"a", "b", "a", "a", "b", "c"} {
		v, ok, err := c.Get(k)
		if !ok || err != nil || v != "v:"+k {
			t.Fatalf("Get(%q) = %v %v %v", k, v, ok, err)
		}
	}
	if !slices.Equal(r.allocs, []string{"a", "b", "c"}) {
		t.Fatalf("allocs %v", r.allocs)
	}
	if len(r.frees) != 0 || c.Len() != 3 {
		t.Fatalf("frees %v len %d", r.frees, c.Len())
	}
	// Get refreshes LRU order: a, b, c -> after Get(a): b, c, a.
	c.Get("a")
	if got := keys(c); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("order %v", got)
	}
	c.Clear()
	if !slices.Equal(r.frees, []string{"b=v:b", "c=v:c", "a=v:a"}) {
		t.Fatalf("frees %v", r.frees)
	}
	if c.Len() != 0 {
		t.Fatal("not cleared")
	}
	// Reusable after Clear.
	c.Get("z")
	if c.Len() != 1 || !slices.Equal(keys(c), []string{"z"}) {
		t.Fatal("broken after Clear")
	}
}

func TestCacheAllocNilIsCached(t *testing.T) {
	calls := 0
	c := NewCache(func(k string) (any, error) { calls++; return nil, nil }, nil, CacheOptions{})
	for i := 0; i < 3; i++ {
		v, ok, err := c.Get("k")
		if v != nil || !ok || err != nil {
			t.Fatalf("Get = %v %v %v", v, ok, err)
		}
	}
	if calls != 1 {
		t.Fatalf("alloc called %d times; Pipy caches undefined results", calls)
	}
}

func TestCacheAllocError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	c := NewCache(func(k string) (int, error) { calls++; return 7, boom }, nil, CacheOptions{})
	for i := 0; i < 2; i++ {
		v, ok, err := c.Get("k")
		if !errors.Is(err, boom) || ok || v != 0 {
			t.Fatalf("Get = %v %v %v", v, ok, err)
		}
	}
	if calls != 2 || c.Len() != 0 {
		t.Fatalf("calls %d len %d", calls, c.Len())
	}
}

func TestCacheNoAlloc(t *testing.T) {
	c := NewCache[string, int](nil, nil, CacheOptions{})
	if _, ok, err := c.Get("x"); ok || err != nil {
		t.Fatal("miss reported as hit")
	}
	c.Set("x", 1)
	if v, ok, _ := c.Get("x"); !ok || v != 1 {
		t.Fatal("Set value not found")
	}
	if c.Remove("nope") {
		t.Fatal("Remove of missing key")
	}
	if !c.Remove("x") || c.Len() != 0 {
		t.Fatal("Remove failed")
	}
	c.Clear() // no free callback: fine
}

func TestCacheLRU(t *testing.T) {
	tests := []struct {
		name  string
		ops   []string // "s:k" Set, "g:k" Get, "r:k" Remove
		keys  []string
		frees []string
	}{
		{"evict oldest", []string{"s:a", "s:b", "s:c"}, []string{"b", "c"}, []string{"a=1"}},
		{"get refreshes", []string{"s:a", "s:b", "g:a", "s:c"}, []string{"a", "c"}, []string{"b=2"}},
		{"set does not refresh", []string{"s:a", "s:b", "s:a", "s:c"}, []string{"b", "c"}, []string{"a=3"}},
		{"evict chain", []string{"s:a", "s:b", "s:c", "s:d"}, []string{"c", "d"}, []string{"a=1", "b=2"}},
		{"remove frees", []string{"s:a", "r:a", "s:b", "s:c"}, []string{"b", "c"}, []string{"a=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var frees []string
			c := NewCache[string, int](nil, func(k string, v int) {
				frees = append(frees, fmt.Sprintf("%s=%d", k, v))
			}, CacheOptions{Size: 2})
			for i, op := range tc.ops {
				k := op[2:]
				switch op[0] {
				case 's':
					c.Set(k, i+1)
				case 'g':
					c.Get(k)
				case 'r':
					c.Remove(k)
				}
			}
			if got := keys(c); !slices.Equal(got, tc.keys) {
				t.Errorf("keys %v want %v", got, tc.keys)
			}
			if !slices.Equal(frees, tc.frees) {
				t.Errorf("frees %v want %v", frees, tc.frees)
			}
		})
	}
}

// Entries made by Get's alloc do not trigger eviction; the next Set of a
// new key trims the cache back to Size.
func TestCacheAllocBypassesSize(t *testing.T) {
	r := &recorder{}
	c := NewCache(r.alloc, r.free, CacheOptions{Size: 1})
	c.Get("a")
	c.Get("b")
	c.Get("c")
	if c.Len() != 3 || len(r.frees) != 0 {
		t.Fatalf("len %d frees %v", c.Len(), r.frees)
	}
	c.Set("d", "x")
	if got := keys(c); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("keys %v", got)
	}
	if !slices.Equal(r.frees, []string{"a=v:a", "b=v:b", "c=v:c"}) {
		t.Fatalf("frees %v", r.frees)
	}
}

func TestCacheTTL(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{}
	c := NewCache(r.alloc, r.free, CacheOptions{TTL: 10 * time.Second})
	c.Now = clock.Now

	c.Get("a") // alloc #1, expires at +10s
	clock.Advance(5 * time.Second)
	c.Get("a") // hit: a hit does not extend the TTL
	clock.Advance(4 * time.Second)
	c.Get("a") // +9s: still a hit
	if !slices.Equal(r.allocs, []string{"a"}) {
		t.Fatalf("allocs %v", r.allocs)
	}
	clock.Advance(time.Second) // +10s: expired (now >= expiry)
	c.Get("a")
	if !slices.Equal(r.allocs, []string{"a", "a"}) {
		t.Fatalf("allocs %v", r.allocs)
	}
	if len(r.frees) != 0 {
		t.Fatalf("expired entry freed by Get: %v", r.frees)
	}

	// Set restarts the TTL.
	c.Set("b", "mine")
	clock.Advance(9 * time.Second)
	c.Set("b", "again")
	clock.Advance(9 * time.Second)
	if v, ok := c.Find("b"); !ok || v != "again" {
		t.Fatalf("Find(b) = %v %v", v, ok)
	}
	// Find drops expired entries without freeing them.
	clock.Advance(time.Second)
	if _, ok := c.Find("b"); ok {
		t.Fatal("expired entry found")
	}
	if _, present := c.entries["b"]; present || len(r.frees) != 0 {
		t.Fatal("Find did not drop b silently")
	}

	// Remove of an expired entry: freed, erased, reported as not found.
	c.Set("c", "x")
	clock.Advance(10 * time.Second)
	if c.Remove("c") {
		t.Fatal("Remove of expired entry reported true")
	}
	if !slices.Equal(r.frees, []string{"c=x"}) {
		t.Fatalf("frees %v", r.frees)
	}

	// Clear frees expired entries too.
	r.frees = nil
	c.Clear() // "a" (allocated at +10s) has long expired
	if !slices.Equal(r.frees, []string{"a=v:a"}) {
		t.Fatalf("frees %v", r.frees)
	}
}

func TestCacheTTLNoAllocNoFree(t *testing.T) {
	clock := newFakeClock()
	c := NewCache[string, int](nil, nil, CacheOptions{TTL: time.Second})
	c.Now = clock.Now
	c.Set("a", 1)
	clock.Advance(time.Second)
	if _, ok, _ := c.Get("a"); ok {
		t.Fatal("expired entry returned")
	}
	if c.Len() != 1 {
		t.Fatal("Get without alloc must leave the expired entry")
	}
	// Without a free callback, Remove reports an expired entry as found.
	if !c.Remove("a") {
		t.Fatal("Remove = false")
	}
}

func TestCacheReentrantFree(t *testing.T) {
	var c *Cache[string, int]
	var frees []string
	c = NewCache[string, int](nil, func(k string, v int) {
		frees = append(frees, k)
		if k == "a" {
			c.Remove("b")
		}
	}, CacheOptions{})
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	c.Clear()
	if !slices.Equal(frees, []string{"a", "b", "c"}) || c.Len() != 0 {
		t.Fatalf("frees %v len %d", frees, c.Len())
	}
}

// Tutorial 08: a per-session cache of balancer -> target whose free
// deselects the target.
func TestCacheTutorialBalancerCache(t *testing.T) {
	lb := NewLeastWorkLoadBalancer([]string{"x", "y"}, nil)
	newSession := func() *Cache[*LeastWorkLoadBalancer[string], string] {
		return NewCache(
			func(k *LeastWorkLoadBalancer[string]) (string, error) { s, _ := k.Select(); return s, nil },
			func(k *LeastWorkLoadBalancer[string], v string) { k.Deselect(v) },
			CacheOptions{},
		)
	}
	s1, s2 := newSession(), newSession()
	t1, _, _ := s1.Get(lb)
	t1b, _, _ := s1.Get(lb)
	t2, _, _ := s2.Get(lb)
	if t1 != "x" || t1b != "x" || t2 != "y" {
		t.Fatalf("%s %s %s", t1, t1b, t2)
	}
	s1.Clear() // x released
	s3 := newSession()
	if t3, _, _ := s3.Get(lb); t3 != "x" {
		t.Fatalf("t3 = %s", t3)
	}
}

func TestParseSeconds(t *testing.T) {
	tests := map[string]float64{
		"":      0,
		"10":    10,
		"10s":   10,
		"1m":    60,
		"1.5m":  90,
		"2h":    7200,
		"1d":    86400,
		"3D":    259200,
		"5x":    5,
		"abc":   0,
		" 2s":   2,
		"-1s":   -1,
		"1e1s":  10,
		"1e":    1,
		".5h":   1800,
		"100ms": 100, // Pipy only looks at the last character: seconds
	}
	for in, want := range tests {
		if got := ParseSeconds(in); got != want {
			t.Errorf("ParseSeconds(%q) = %v, want %v", in, got, want)
		}
	}
	if d := SecondsToDuration(1.5); d != 1500*time.Millisecond {
		t.Errorf("SecondsToDuration(1.5) = %v", d)
	}
	if d := SecondsToDuration(-1); d != 0 {
		t.Errorf("SecondsToDuration(-1) = %v", d)
	}
	if d := SecondsToDuration(1e300); d <= 0 {
		t.Errorf("SecondsToDuration(1e300) = %v", d)
	}
}
