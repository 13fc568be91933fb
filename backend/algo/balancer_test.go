package algo

import (
	"slices"
	"testing"
)

type selector interface {
	Select() (string, bool)
}

func selectN(b selector, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		t, ok := b.Select()
		if !ok {
			t = "-"
		}
		out = append(out, t)
	}
	return out
}

func w(pairs ...any) []Weighted[string] {
	var out []Weighted[string]
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Weighted[string]{pairs[i].(string), pairs[i+1].(int)})
	}
	return out
}

func TestRoundRobinSequences(t *testing.T) {
	tests := []struct {
		name    string
		targets []Weighted[string]
		want    []string
	}{
		{"equal", w("a", 1, "b", 1, "c", 1), []string{"a", "b", "c", "a", "b", "c", "a"}},
		{"a2b1", w("a", 2, "b", 1), []string{"a", "b", "a", "a", "b", "a", "a", "b", "a"}},
		{"b1a2", w("b", 1, "a", 2), []string{"b", "a", "a", "b", "a", "a"}},
		{"a3b1", w("a", 3, "b", 1), []string{"a", "b", "a", "a", "a", "b", "a", "a"}},
		{"a1b2", w("a", 1, "b", 2), []string{"a", "b", "b", "a", "b", "b"}},
		{"a2b2c1", w("a", 2, "b", 2, "c", 1), []string{"a", "b", "c", "a", "b", "a", "b", "c", "a", "b"}},
		{"zero weight", w("a", 0, "b", 1), []string{"b", "b", "b"}},
		{"negative weight", w("a", -3, "b", 1), []string{"b", "b"}},
		{"all zero", w("a", 0), []string{"-", "-"}},
		{"empty", nil, []string{"-"}},
		{"duplicate target updates", w("a", 1, "b", 1, "a", 2), []string{"a", "b", "a", "a", "b", "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewWeightedRoundRobinLoadBalancer(tc.targets, nil)
			if got := selectN(b, len(tc.want)); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRoundRobinFromList(t *testing.T) {
	// Tutorial 07: "service-hi": ["127.0.0.1:8080", "127.0.0.1:8082"].
	b := NewRoundRobinLoadBalancer([]string{"127.0.0.1:8080", "127.0.0.1:8082"}, nil)
	want := []string{"127.0.0.1:8080", "127.0.0.1:8082", "127.0.0.1:8080", "127.0.0.1:8082"}
	if got := selectN(b, 4); !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	b.Deselect("127.0.0.1:8080") // no-op
	if got, _ := b.Select(); got != "127.0.0.1:8080" {
		t.Fatalf("after deselect got %v", got)
	}
}

func TestRoundRobinSetMidRound(t *testing.T) {
	b := NewRoundRobinLoadBalancer([]string{"a", "b"}, nil)
	if got := selectN(b, 1); got[0] != "a" {
		t.Fatal(got)
	}
	// totalHits=1, totalWeight=2: c gets hits 1*1/2 = 0, a keeps its hit.
	b.Set("c", 1)
	if got := selectN(b, 4); !slices.Equal(got, []string{"b", "c", "a", "b"}) {
		t.Fatalf("got %v", got)
	}
	// Disabling a target.
	b.Set("a", 0)
	b.Set("b", 0)
	if got := selectN(b, 3); !slices.Equal(got, []string{"c", "c", "c"}) {
		t.Fatalf("got %v", got)
	}
	// Reweighting mid-round: after c, c ... set b to 2.
	b.Set("b", 2)
	if got := selectN(b, 3); !slices.Equal(got, []string{"b", "c", "b"}) {
		t.Fatalf("got %v", got)
	}
}

func TestRoundRobinUnhealthy(t *testing.T) {
	unhealthy := NewCache[string, bool](nil, nil, CacheOptions{})
	unhealthy.Set("b", true)
	unhealthy.Set("c", false) // falsy: still healthy
	b := NewRoundRobinLoadBalancer([]string{"a", "b", "c"}, UnhealthyCache(unhealthy, func(v bool) bool { return v }))
	if got := selectN(b, 4); !slices.Equal(got, []string{"a", "c", "a", "c"}) {
		t.Fatalf("got %v", got)
	}
	unhealthy.Set("a", true)
	unhealthy.Set("c", true)
	if got := selectN(b, 2); !slices.Equal(got, []string{"-", "-"}) {
		t.Fatalf("got %v", got)
	}
	unhealthy.Remove("b")
	if got := selectN(b, 2); !slices.Equal(got, []string{"b", "b"}) {
		t.Fatalf("got %v", got)
	}
}

func TestUnhealthyCacheTTL(t *testing.T) {
	clock := newFakeClock()
	unhealthy := NewCache[string, any](nil, nil, CacheOptions{TTL: 10e9})
	unhealthy.Now = clock.Now
	unhealthy.Set("a", 1)
	b := NewRoundRobinLoadBalancer([]string{"a", "b"}, UnhealthyCache(unhealthy, nil))
	if got := selectN(b, 2); !slices.Equal(got, []string{"b", "b"}) {
		t.Fatalf("got %v", got)
	}
	clock.Advance(10e9)
	if got := selectN(b, 2); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("got %v", got)
	}
	if unhealthy.Len() != 0 {
		t.Fatalf("expired entry not dropped by Find")
	}
}

func TestLeastWork(t *testing.T) {
	b := NewLeastWorkLoadBalancer([]string{"a", "b"}, nil)
	if got := selectN(b, 3); !slices.Equal(got, []string{"a", "b", "a"}) {
		t.Fatalf("got %v", got)
	}
	// a has 2 outstanding, b 1.
	b.Deselect("a")
	b.Deselect("a")
	b.Deselect("a") // never below zero
	b.Deselect("zzz")
	if got := selectN(b, 3); !slices.Equal(got, []string{"a", "a", "b"}) {
		t.Fatalf("got %v", got)
	}

	wb := NewWeightedLeastWorkLoadBalancer(w("a", 2, "b", 1), nil)
	if got := selectN(wb, 6); !slices.Equal(got, []string{"a", "b", "a", "a", "b", "a"}) {
		t.Fatalf("weighted got %v", got)
	}
	// Outstanding: a=4 (usage 2), b=2 (usage 2). Release b twice.
	wb.Deselect("b")
	wb.Deselect("b")
	if got := selectN(wb, 3); !slices.Equal(got, []string{"b", "b", "a"}) {
		t.Fatalf("weighted after deselect got %v", got)
	}
	// Reweighting keeps the outstanding count.
	wb.Set("b", 4) // b: 2/4 = 0.5, a: 5/2
	if got := selectN(wb, 2); !slices.Equal(got, []string{"b", "b"}) {
		t.Fatalf("after set got %v", got)
	}
	wb.Set("b", 0)
	wb.Set("a", -1)
	if _, ok := wb.Select(); ok {
		t.Fatal("selected with all weights 0")
	}
}

func TestLeastWorkUnhealthy(t *testing.T) {
	down := map[string]bool{"a": true}
	b := NewLeastWorkLoadBalancer([]string{"a", "b"}, func(t string) bool { return down[t] })
	if got := selectN(b, 2); !slices.Equal(got, []string{"b", "b"}) {
		t.Fatalf("got %v", got)
	}
	down["a"] = false
	// b has 2 outstanding: a catches up and wins the tie (first in order).
	if got := selectN(b, 4); !slices.Equal(got, []string{"a", "a", "a", "b"}) {
		t.Fatalf("got %v", got)
	}
}

func TestHashing(t *testing.T) {
	b := NewHashingLoadBalancer([]string{"x", "y"}, nil)
	b.Add("z")
	for _, key := range []string{"", "alice", "bob", "Bearer abc"} {
		got, ok := b.Select(key)
		want := []string{"x", "y", "z"}[Hash(key)%3]
		if !ok || got != want {
			t.Errorf("Select(%q) = %q %v, want %q", key, got, ok, want)
		}
		again, _ := b.Select(key)
		if again != got {
			t.Errorf("Select(%q) not stable", key)
		}
	}
	for h, want := range map[uint64]string{0: "x", 4: "y", 1<<64 - 1: "x"} {
		if got, _ := b.SelectHash(h); got != want {
			t.Errorf("SelectHash(%d) = %q want %q", h, got, want)
		}
	}
	b.Deselect("x") // no-op

	// No fallback when the chosen target is unhealthy.
	hb := NewHashingLoadBalancer([]string{"x", "y"}, func(t string) bool { return t == "y" })
	if _, ok := hb.SelectHash(1); ok {
		t.Error("unhealthy target selected")
	}
	if got, ok := hb.SelectHash(2); !ok || got != "x" {
		t.Error("healthy target not selected")
	}
	if _, ok := NewHashingLoadBalancer[string](nil, nil).Select("k"); ok {
		t.Error("empty balancer selected something")
	}
}

func TestRoundRobinSelectNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	b := NewWeightedRoundRobinLoadBalancer(w("a", 5, "b", 3, "c", 1), nil)
	lw := NewLeastWorkLoadBalancer([]string{"a", "b"}, nil)
	n := testing.AllocsPerRun(100, func() {
		b.Select()
		t, _ := lw.Select()
		lw.Deselect(t)
	})
	if n != 0 {
		t.Fatalf("Select allocates %v times", n)
	}
}

func BenchmarkRoundRobinSelect(b *testing.B) {
	lb := NewWeightedRoundRobinLoadBalancer(w("10.0.0.1:80", 5, "10.0.0.2:80", 3, "10.0.0.3:80", 1, "10.0.0.4:80", 1), nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := lb.Select(); !ok {
			b.Fatal("no target")
		}
	}
}

func BenchmarkRoundRobinSelectUnhealthyCache(b *testing.B) {
	unhealthy := NewCache[string, bool](nil, nil, CacheOptions{})
	unhealthy.Set("10.0.0.2:80", true)
	lb := NewRoundRobinLoadBalancer([]string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}, UnhealthyCache(unhealthy, nil))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := lb.Select(); !ok {
			b.Fatal("no target")
		}
	}
}
