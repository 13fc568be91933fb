package algo

// Weighted is a target with its weight, used to build weighted balancers
// from a JS object {target: weight}. Slices of Weighted keep the order the
// caller chose (for a JS object: its property order), which decides ties.
type Weighted[T comparable] struct {
	Target T
	Weight int
}

// UnhealthyFunc reports whether a target must be skipped. Pipy passes an
// algo.Cache as the optional second constructor argument of the balancers
// and skips a target when cache.find(target) yields a truthy value; see
// UnhealthyCache. A nil UnhealthyFunc means every target is healthy.
type UnhealthyFunc[T comparable] func(target T) bool

// UnhealthyCache adapts a Cache to an UnhealthyFunc the way Pipy uses its
// "unhealthy" cache: a target is unhealthy when the cache holds an
// unexpired entry for it whose value is truthy. Like Pipy's Cache::find,
// the lookup refreshes the entry's LRU position and drops it (without
// calling free) if it has expired. truthy may be nil, meaning any stored
// value counts.
func UnhealthyCache[T comparable, V any](c *Cache[T, V], truthy func(V) bool) UnhealthyFunc[T] {
	return func(t T) bool {
		v, ok := c.Find(t)
		if !ok {
			return false
		}
		return truthy == nil || truthy(v)
	}
}

type balancerTarget[T comparable] struct {
	target T
	weight int
	hits   int
	usage  float64
}

// targetSet is an insertion-ordered set of targets.
type targetSet[T comparable] struct {
	list  []balancerTarget[T]
	index map[T]int
}

func (s *targetSet[T]) lookup(t T) (*balancerTarget[T], bool) {
	if i, ok := s.index[t]; ok {
		return &s.list[i], true
	}
	return nil, false
}

func (s *targetSet[T]) insert(t T) *balancerTarget[T] {
	if s.index == nil {
		s.index = make(map[T]int)
	}
	s.index[t] = len(s.list)
	s.list = append(s.list, balancerTarget[T]{target: t})
	return &s.list[len(s.list)-1]
}

//
// RoundRobinLoadBalancer
//

// RoundRobinLoadBalancer is Pipy 0.30's algo.RoundRobinLoadBalancer. It is
// not safe for concurrent use.
//
// The algorithm is not nginx's smooth weighted round robin. Each target
// has hits and usage = hits/weight; Select picks the healthy target with
// weight > 0 and the lowest usage (the earliest one on ties: Pipy orders
// targets by string pointer, this package by insertion order), increments
// its hits, and once the hits of the round reach the total weight of the
// healthy targets, resets every target's hits and usage to 0. With
// weights {a:2, b:1} the sequence is a, b, a, a, b, a, ...; with equal
// weights it is the plain rotation in insertion order.
//
// Deselect is a no-op, as in Pipy.
type RoundRobinLoadBalancer[T comparable] struct {
	targets     targetSet[T]
	unhealthy   UnhealthyFunc[T]
	totalWeight int
	totalHits   int
}

// NewRoundRobinLoadBalancer builds a balancer from a list of targets of
// weight 1 each (Pipy: new RoundRobinLoadBalancer([...targets], unhealthy)).
// A repeated target is kept once.
func NewRoundRobinLoadBalancer[T comparable](targets []T, unhealthy UnhealthyFunc[T]) *RoundRobinLoadBalancer[T] {
	b := &RoundRobinLoadBalancer[T]{unhealthy: unhealthy}
	for _, t := range targets {
		b.Set(t, 1)
	}
	return b
}

// NewWeightedRoundRobinLoadBalancer builds a balancer from weighted targets
// (Pipy: new RoundRobinLoadBalancer({target: weight, ...}, unhealthy)). Pipy
// truncates JS weights to integers.
func NewWeightedRoundRobinLoadBalancer[T comparable](targets []Weighted[T], unhealthy UnhealthyFunc[T]) *RoundRobinLoadBalancer[T] {
	b := &RoundRobinLoadBalancer[T]{unhealthy: unhealthy}
	for _, t := range targets {
		b.Set(t.Target, t.Weight)
	}
	return b
}

// Set adds target or changes its weight (negative weights become 0, which
// disables the target). Like Pipy, the target's hits in the current round
// are rescaled to totalHits*weight/totalWeight so a new or reweighted
// target does not monopolise the rest of the round.
func (b *RoundRobinLoadBalancer[T]) Set(target T, weight int) {
	if weight < 0 {
		weight = 0
	}
	hits := 0
	if b.totalWeight > 0 {
		hits = b.totalHits * weight / b.totalWeight
	}
	if t, ok := b.targets.lookup(target); ok {
		b.totalWeight += weight - t.weight
		b.totalHits += hits - t.hits
		t.weight = weight
		t.hits = hits
	} else {
		t := b.targets.insert(target)
		t.weight = weight
		t.hits = hits
		b.totalWeight += weight
		b.totalHits += hits
	}
	if b.totalWeight > 0 {
		for i := range b.targets.list {
			t := &b.targets.list[i]
			if t.weight > 0 {
				// Pipy divides by the total weight here (but by the target's
				// own weight in Select); kept for identical sequences.
				t.usage = float64(t.hits) / float64(b.totalWeight)
			}
		}
	}
}

// Select returns the next target, or false when no target has a positive
// weight and is healthy.
func (b *RoundRobinLoadBalancer[T]) Select() (T, bool) {
	var p *balancerTarget[T]
	totalWeight := 0
	for i := range b.targets.list {
		t := &b.targets.list[i]
		if t.weight <= 0 {
			continue
		}
		if b.unhealthy != nil && b.unhealthy(t.target) {
			continue
		}
		totalWeight += t.weight
		if p == nil || t.usage < p.usage {
			p = t
		}
	}
	if p == nil {
		var zero T
		return zero, false
	}
	p.hits++
	p.usage = float64(p.hits) / float64(p.weight)
	b.totalHits++
	if b.totalHits >= totalWeight {
		for i := range b.targets.list {
			b.targets.list[i].hits = 0
			b.targets.list[i].usage = 0
		}
		b.totalHits = 0
	}
	return p.target, true
}

// Deselect does nothing (Pipy 0.30's RoundRobinLoadBalancer.deselect is a
// no-op); it exists so that all balancers share the same interface.
func (b *RoundRobinLoadBalancer[T]) Deselect(target T) {}

//
// LeastWorkLoadBalancer
//

// LeastWorkLoadBalancer is Pipy 0.30's algo.LeastWorkLoadBalancer. It is not
// safe for concurrent use.
//
// Every Select increments the chosen target's outstanding count (hits) and
// every Deselect decrements it (never below 0); Select picks the healthy
// target with weight > 0 whose hits/weight is lowest, the earliest one in
// insertion order on ties.
type LeastWorkLoadBalancer[T comparable] struct {
	targets   targetSet[T]
	unhealthy UnhealthyFunc[T]
}

// NewLeastWorkLoadBalancer builds a balancer from targets of weight 1.
func NewLeastWorkLoadBalancer[T comparable](targets []T, unhealthy UnhealthyFunc[T]) *LeastWorkLoadBalancer[T] {
	b := &LeastWorkLoadBalancer[T]{unhealthy: unhealthy}
	for _, t := range targets {
		b.Set(t, 1)
	}
	return b
}

// NewWeightedLeastWorkLoadBalancer builds a balancer from weighted targets.
func NewWeightedLeastWorkLoadBalancer[T comparable](targets []Weighted[T], unhealthy UnhealthyFunc[T]) *LeastWorkLoadBalancer[T] {
	b := &LeastWorkLoadBalancer[T]{unhealthy: unhealthy}
	for _, t := range targets {
		b.Set(t.Target, t.Weight)
	}
	return b
}

// Set adds target (with no outstanding work) or changes its weight,
// keeping its outstanding count. Negative weights become 0 (disabled).
func (b *LeastWorkLoadBalancer[T]) Set(target T, weight int) {
	if weight < 0 {
		weight = 0
	}
	if t, ok := b.targets.lookup(target); ok {
		t.weight = weight
		t.usage = float64(t.hits) / float64(weight)
	} else {
		t := b.targets.insert(target)
		t.weight = weight
	}
}

// Select returns the least loaded target, or false if none is usable.
func (b *LeastWorkLoadBalancer[T]) Select() (T, bool) {
	var p *balancerTarget[T]
	for i := range b.targets.list {
		t := &b.targets.list[i]
		if t.weight <= 0 {
			continue
		}
		if b.unhealthy != nil && b.unhealthy(t.target) {
			continue
		}
		if p == nil || t.usage < p.usage {
			p = t
		}
	}
	if p == nil {
		var zero T
		return zero, false
	}
	p.hits++
	p.usage = float64(p.hits) / float64(p.weight)
	return p.target, true
}

// Deselect releases one outstanding selection of target. Unknown targets
// and targets with nothing outstanding are ignored.
func (b *LeastWorkLoadBalancer[T]) Deselect(target T) {
	if t, ok := b.targets.lookup(target); ok && t.hits > 0 {
		t.hits--
		t.usage = float64(t.hits) / float64(t.weight)
	}
}

//
// HashingLoadBalancer
//

// HashingLoadBalancer is Pipy 0.30's algo.HashingLoadBalancer: Select(key)
// returns targets[hash(key) % len(targets)]. It is not safe for
// concurrent use.
//
// There is no fallback: if the chosen target is unhealthy, Select fails.
// Pipy hashes string keys with the C++ standard library's std::hash (and
// objects by address); this package uses Hash (FNV-1a 64) for string keys,
// and SelectHash lets the binding hash other keys as it sees fit.
// Duplicated targets are allowed and count as extra weight.
type HashingLoadBalancer[T comparable] struct {
	targets   []T
	unhealthy UnhealthyFunc[T]
}

// NewHashingLoadBalancer builds a balancer over targets (copied).
func NewHashingLoadBalancer[T comparable](targets []T, unhealthy UnhealthyFunc[T]) *HashingLoadBalancer[T] {
	return &HashingLoadBalancer[T]{
		targets:   append([]T(nil), targets...),
		unhealthy: unhealthy,
	}
}

// Add appends a target (even one already present).
func (b *HashingLoadBalancer[T]) Add(target T) {
	b.targets = append(b.targets, target)
}

// Select picks the target for key, hashed with Hash.
func (b *HashingLoadBalancer[T]) Select(key string) (T, bool) {
	return b.SelectHash(Hash(key))
}

// SelectHash picks targets[h % len(targets)], or fails if there are no
// targets or that target is unhealthy.
func (b *HashingLoadBalancer[T]) SelectHash(h uint64) (T, bool) {
	var zero T
	if len(b.targets) == 0 {
		return zero, false
	}
	t := b.targets[h%uint64(len(b.targets))]
	if b.unhealthy != nil && b.unhealthy(t) {
		return zero, false
	}
	return t, true
}

// Deselect does nothing, as in Pipy.
func (b *HashingLoadBalancer[T]) Deselect(target T) {}
