package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

// evalJSON loads a one-module codebase whose script stores a result in
// globalThis.out, on threads workers, and returns out as JSON from each.
func evalJSON(t *testing.T, threads int, script string) []string {
	t.Helper()
	fsys := fstest.MapFS{"main.js": {Data: []byte(script + "\npipy()\n")}}
	p, err := Load(Options{FS: fsys, Main: "/main.js", Threads: threads})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(p.Stop)
	var outs []string
	for _, w := range p.Workers {
		w.Do(func() {
			b, err := json.Marshal(w.rt.Get("out").Export())
			if err != nil {
				t.Errorf("marshal: %v", err)
			}
			outs = append(outs, string(b))
		})
	}
	return outs
}

func eval1(t *testing.T, script string) string {
	t.Helper()
	return evalJSON(t, 1, script)[0]
}

// loadError loads a script that must fail and returns the error text.
func loadError(t *testing.T, script string) string {
	t.Helper()
	fsys := fstest.MapFS{"main.js": {Data: []byte(script + "\npipy()\n")}}
	p, err := Load(Options{FS: fsys, Main: "/main.js", Threads: 1})
	if err == nil {
		p.Stop()
		t.Fatalf("loading %q succeeded, want an error", script)
	}
	return err.Error()
}

func TestAlgoHash(t *testing.T) {
	// Strings hash by content, the same on every worker; objects by
	// identity; numbers by value; results fit in 53 bits.
	outs := evalJSON(t, 2, `
globalThis.o = {},
globalThis.out = [
  algo.hash('abc'),
  algo.hash('abc') === algo.hash('a' + 'bc'),
  algo.hash('abc') !== algo.hash('abd'),
  algo.hash(o) === algo.hash(o),
  algo.hash({}) !== algo.hash(o),
  algo.hash(42) === algo.hash(42),
  algo.hash(42) !== algo.hash(43),
  algo.hash(0) === algo.hash(-0),
  Number.isSafeInteger(algo.hash('x')) && algo.hash('x') >= 0,
]`)
	if outs[0] != outs[1] {
		t.Errorf("workers disagree: %s vs %s", outs[0], outs[1])
	}
	var got []any
	json.Unmarshal([]byte(outs[0]), &got)
	for i, v := range got[1:] {
		if v != true {
			t.Errorf("check %d failed: %s", i+1, outs[0])
		}
	}
}

func TestHashingLoadBalancer(t *testing.T) {
	outs := evalJSON(t, 2, `
globalThis.b = new algo.HashingLoadBalancer(['a', 'b', 'c']),
globalThis.keys = ['alice', 'bob', 'carol', 'dave', 'eve', 'frank', 'grace', 'heidi'],
globalThis.out = {
  picks: keys.map(k => b.select(k)),
  again: keys.map(k => b.select(k)),
  empty: new algo.HashingLoadBalancer([]).select('x') === undefined,
  none: new algo.HashingLoadBalancer().select('x') === undefined,
  added: (globalThis.e = new algo.HashingLoadBalancer(), e.add('only'), e.select('k')),
  deselect: b.deselect('a') === undefined,
  unhealthy: (
    globalThis.u = new algo.Cache(),
    globalThis.h = new algo.HashingLoadBalancer(['x'], u),
    [h.select('k'), (u.set('x', true), h.select('k')), (u.set('x', false), h.select('k'))]
  ),
}`)
	if outs[0] != outs[1] {
		t.Errorf("workers pick differently: %s vs %s", outs[0], outs[1])
	}
	var got struct {
		Picks, Again []string
		Empty, None  bool
		Added        string
		Deselect     bool
		Unhealthy    []any
	}
	if err := json.Unmarshal([]byte(outs[0]), &got); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, p := range got.Picks {
		if p != got.Again[i] {
			t.Errorf("key %d: %q then %q", i, p, got.Again[i])
		}
		seen[p] = true
	}
	if len(seen) < 2 {
		t.Errorf("eight keys all went to %v", seen)
	}
	if !got.Empty || !got.None || got.Added != "only" || !got.Deselect {
		t.Errorf("got %+v", got)
	}
	if len(got.Unhealthy) != 3 || got.Unhealthy[0] != "x" || got.Unhealthy[1] != nil || got.Unhealthy[2] != "x" {
		t.Errorf("unhealthy target: got %v, want [x null x]", got.Unhealthy)
	}
}

func TestLeastWorkLoadBalancer(t *testing.T) {
	got := eval1(t, `
globalThis.b = new algo.LeastWorkLoadBalancer(['a', 'b']),
globalThis.w = new algo.LeastWorkLoadBalancer({a: 2, b: 1}),
globalThis.out = [
  b.select(), b.select(), b.select(),     // a b a: a has 2 outstanding, b 1
  (b.deselect('a'), b.deselect('a'), b.select()), // a is idle again
  w.select(), w.select(), w.select(), w.select(), // a a b a? a:1/2 b:0 -> b first after a
  (b.set('c', 0), b.set('a', 0), b.select()),     // a and c disabled
  new algo.LeastWorkLoadBalancer([]).select() === undefined,
]`)
	// w: a(0)->a(.5) ; b(0) < a(.5) -> b(1) ; a(.5) < b(1) -> a(1); a(1) = b(1) tie -> a
	want := `["a","b","a","a","a","b","a","a","b",true]`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestLeastWorkUnhealthy(t *testing.T) {
	got := eval1(t, `
globalThis.u = new algo.Cache(),
globalThis.b = new algo.LeastWorkLoadBalancer(['a', 'b'], u),
globalThis.out = [(u.set('a', true), b.select()), b.select(), (u.set('b', 1), b.select() === undefined)]`)
	if got != `["b","b",true]` {
		t.Errorf("got %s", got)
	}
}

func TestPercentile(t *testing.T) {
	got := eval1(t, `
globalThis.p = new algo.Percentile([1, 2, 5, 10, 100]),
repeat(10, i => (p.observe(i < 5 ? 1 : i < 9 ? 5 : 50), true)),
globalThis.out = [
  p.calculate(0), p.calculate(40), p.calculate(50), p.calculate(90), p.calculate(99), p.calculate(100),
  (p.observe(1000), p.calculate(100)),
  (p.reset(), p.observe(2), p.observe(2), p.calculate(50)),
]`)
	// 5 samples <= 1, 4 <= 5, 1 <= 100: p40 = 1, p50 = 1, p90 = 5, p99 = 5
	// (the target, 10*99/100, is an integer: 9), p100 = 100; a sample above
	// the last limit is not counted.
	want := `[0,1,1,5,5,100,100,2]`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAlgoErrors(t *testing.T) {
	for _, tt := range []struct{ script, want string }{
		{`new algo.HashingLoadBalancer({a: 1})`, "HashingLoadBalancer: expects an array"},
		{`new algo.HashingLoadBalancer(['a'], {})`, "the second argument must be an algo.Cache"},
		{`new algo.LeastWorkLoadBalancer('a')`, "LeastWorkLoadBalancer: expects an array"},
		{`new algo.Percentile()`, "Percentile: expects an array"},
		{`new algo.Percentile([1]).observe()`, "Percentile.observe: expects a number"},
	} {
		if got := loadError(t, tt.script+","); !strings.Contains(got, tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.script, got, tt.want)
		}
	}
}

// Both algo files add to one algo object, whichever installs first.
func TestAlgoNamespaceHasEveryClass(t *testing.T) {
	got := eval1(t, `globalThis.out = ['URLRouter', 'RoundRobinLoadBalancer', 'HashingLoadBalancer', 'LeastWorkLoadBalancer', 'Cache', 'ResourcePool', 'Percentile', 'hash'].filter(k => typeof algo[k] !== 'function')`)
	if got != `[]` {
		t.Errorf("missing from algo: %s", got)
	}
}

func TestRepeat(t *testing.T) {
	got := eval1(t, `
globalThis.seen = [],
globalThis.out = [
  repeat(i => (seen.push(i), i < 3)),              // stops at the first falsy result
  seen.join(','),
  repeat(5, i => (seen.push('n' + i), true)),      // at most n times
  seen.length,
  repeat(0, i => true) === undefined,
  repeat(-1, i => true) === undefined,
  repeat(3, i => i < 1 ? 'go' : 0),
]`)
	want := `[false,"0,1,2,3",true,9,true,true,0]`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if e := loadError(t, `repeat(3)`); !strings.Contains(e, "repeat: expects a function") {
		t.Errorf("repeat(3): %s", e)
	}
	if e := loadError(t, `repeat(i => { throw new Error('inside ' + i) })`); !strings.Contains(e, "inside 0") {
		t.Errorf("a throw inside repeat: %s", e)
	}
}
