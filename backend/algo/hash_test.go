package algo

import (
	"hash/fnv"
	"testing"
)

func TestHash(t *testing.T) {
	known := map[string]uint64{
		"":       0xcbf29ce484222325,
		"a":      0xaf63dc4c8601ec8c,
		"foobar": 0x85944171f73967e8,
	}
	for s, want := range known {
		if got := Hash(s); got != want {
			t.Errorf("Hash(%q) = %#x, want %#x", s, got, want)
		}
	}
	for _, s := range []string{"127.0.0.1:8080", "Bearer xyz", "😀"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := Hash(s), h.Sum64(); got != want {
			t.Errorf("Hash(%q) = %#x, hash/fnv says %#x", s, got, want)
		}
		if got := Hash53(s); got >= 1<<53 || got != Hash(s)&(1<<53-1) {
			t.Errorf("Hash53(%q) = %#x", s, got)
		}
	}
}
