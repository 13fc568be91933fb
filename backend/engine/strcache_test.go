package engine

import (
	"fmt"
	"testing"
)

// Strings that share a set of the cache: the two most recently used stay,
// so a request's host and path that collide are not made again each time;
// a third string evicts the one used least recently.
func TestStringCacheKeepsTwoCollidingStrings(t *testing.T) {
	w := newWorker(0, &Program{})
	{
		w.stringValue("warm") // makes the cache and its seed
		c := w.strs
		var same []string
		for i := 0; len(same) < 3; i++ {
			s := fmt.Sprintf("host-%d.example", i)
			if len(same) == 0 || c.set(s) == c.set(same[0]) {
				same = append(same, s)
			}
		}
		a, b, third := same[0], same[1], same[2]
		w.stringValue(a)
		w.stringValue(b)
		if n := testing.AllocsPerRun(100, func() {
			if w.stringValue(a).String() != a || w.stringValue(b).String() != b {
				t.Fatal("a cached string came back as another")
			}
		}); n != 0 {
			t.Fatalf("two strings of one set: %v allocations per pair", n)
		}
		w.stringValue(a)     // b is now the least recently used
		w.stringValue(third) // evicts b
		if n := testing.AllocsPerRun(1, func() { w.stringValue(a) }); n != 0 {
			t.Fatalf("the most recently used string was evicted (%v allocations)", n)
		}
		if n := testing.AllocsPerRun(1, func() { w.stringValue(third) }); n != 0 {
			t.Fatalf("the newest string was not kept (%v allocations)", n)
		}
		if got := w.stringValue(b).String(); got != b {
			t.Fatalf("got %q", got)
		}
	}
}
