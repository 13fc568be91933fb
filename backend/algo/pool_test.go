package algo

import (
	"errors"
	"testing"
)

// counterPool mimics tutorial 09: new algo.ResourcePool(() => ++_g.connectionID).
func counterPool() (*ResourcePool[string, int], *int) {
	id := 0
	return NewResourcePool(func(pool string, tenant any) (int, error) {
		id++
		return id, nil
	}), &id
}

func TestResourcePoolNoTenant(t *testing.T) {
	p, id := counterPool()
	type step struct {
		op   string // "a" allocate, "f" free
		pool string
		res  int // resource to free, or expected allocation
	}
	steps := []step{
		{"a", "t1", 1},
		{"a", "t1", 2},
		{"a", "t2", 3},
		{"f", "", 1},
		{"a", "t2", 4}, // t2 has nothing free
		{"a", "t1", 1}, // recycled
		{"f", "", 2},
		{"f", "", 1},
		{"f", "", 1},   // double free ignored
		{"f", "", 99},  // unknown ignored
		{"a", "t1", 2}, // oldest freed first
		{"a", "t1", 1},
		{"a", "t1", 5},
	}
	for i, s := range steps {
		switch s.op {
		case "a":
			got, err := p.Allocate(s.pool, nil)
			if err != nil || got != s.res {
				t.Fatalf("step %d: Allocate(%q) = %d %v, want %d", i, s.pool, got, err, s.res)
			}
		case "f":
			p.Free(s.res)
		}
	}
	if *id != 5 || p.InUse() != 5 || p.Idle("t1") != 0 {
		t.Fatalf("id %d inuse %d idle %d", *id, p.InUse(), p.Idle("t1"))
	}
}

func TestResourcePoolTenants(t *testing.T) {
	p, id := counterPool()
	s1, s2 := &struct{ n int }{1}, &struct{ n int }{2} // pointer tenants, like JS objects

	a, _ := p.Allocate("p", s1)
	b, _ := p.Allocate("p", s1)
	if a != 1 || b != 1 || *id != 1 {
		t.Fatalf("same tenant+pool: %d %d (allocs %d)", a, b, *id)
	}
	c, _ := p.Allocate("q", s1)
	d, _ := p.Allocate("p", s2)
	e, _ := p.Allocate("p", nil)
	if c != 2 || d != 3 || e != 4 {
		t.Fatalf("got %d %d %d", c, d, e)
	}
	p.FreeTenant(s1)
	p.FreeTenant(s1)    // again: ignored
	p.FreeTenant("who") // unknown: ignored
	if p.Idle("p") != 1 || p.Idle("q") != 1 || p.InUse() != 2 {
		t.Fatalf("idle p=%d q=%d inuse=%d", p.Idle("p"), p.Idle("q"), p.InUse())
	}
	// s1 gets recycled resources, not its old mapping.
	if r, _ := p.Allocate("q", s2); r != 2 {
		t.Fatalf("recycled q = %d", r)
	}
	// Freeing one of s2's resources forgets s2's mapping for that pool.
	p.Free(3)
	if r, _ := p.Allocate("p", s2); r != 1 {
		t.Fatalf("s2 p = %d", r)
	}
	if r, _ := p.Allocate("p", s2); r != 1 {
		t.Fatalf("s2 p again = %d", r)
	}
	if r, _ := p.Allocate("p", s1); r != 3 {
		t.Fatalf("s1 p = %d", r)
	}
	if *id != 4 {
		t.Fatalf("allocator called %d times", *id)
	}
}

func TestResourcePoolAllocError(t *testing.T) {
	boom := errors.New("boom")
	fail := true
	p := NewResourcePool(func(pool string, tenant any) (string, error) {
		if fail {
			return "", boom
		}
		return pool + "#1", nil
	})
	if _, err := p.Allocate("x", "t"); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if p.InUse() != 0 || len(p.tenants) != 0 {
		t.Fatal("failed allocation recorded")
	}
	fail = false
	if r, err := p.Allocate("x", "t"); err != nil || r != "x#1" {
		t.Fatalf("%q %v", r, err)
	}
}

func TestResourcePoolAllocArgs(t *testing.T) {
	var gotPool string
	var gotTenant any
	p := NewResourcePool(func(pool string, tenant any) (int, error) {
		gotPool, gotTenant = pool, tenant
		return 1, nil
	})
	p.Allocate("pp", "tt")
	if gotPool != "pp" || gotTenant != "tt" {
		t.Fatalf("%q %v", gotPool, gotTenant)
	}
}
