package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"

	"github.com/dop251/goja"

	"sluice/backend/algo"
	"sluice/backend/logging"
)

// The rest of the algo.* classes (HashingLoadBalancer,
// LeastWorkLoadBalancer, Percentile) and algo.hash(), backed by package
// algo. algojs.go has the others; both add to the same algo object,
// whichever runs first creates it.
func init() {
	RegisterGlobal(installAlgo2)
	DescribeClass(ClassDoc{Name: "algo.hash", Signature: "algo.hash(value: any): number",
		Help: "A 53-bit hash: strings by their content (the same on every worker and in every run), objects by identity, anything else as a number."})
	DescribeClass(ClassDoc{Name: "algo.HashingLoadBalancer", Signature: "new algo.HashingLoadBalancer(targets: string[], unhealthy?: algo.Cache)",
		Help: "Picks the target for a key by hashing it, so the same key always meets the same target (while the list does not change): sticky sessions without shared state. A repeated target counts twice. There is no fallback: when the chosen target is unhealthy, select() gives undefined.",
		Members: []MemberDoc{
			{Name: "add", Signature: "add(target: string)", Help: "Appends a target."},
			{Name: "select", Signature: "select(key: any): string | undefined", Help: "The target for key (hashed as algo.hash does), or undefined when there is none or it is unhealthy."},
			{Name: "deselect", Signature: "deselect(target: string)", Help: "Gives a selection back (no effect for hashing)."},
		}})
	DescribeClass(ClassDoc{Name: "algo.LeastWorkLoadBalancer", Signature: "new algo.LeastWorkLoadBalancer(targets: string[] | {[target: string]: weight}, unhealthy?: algo.Cache)",
		Help: "Picks the healthy target with the least outstanding work for its weight: select() adds one unit of work to the target it returns, deselect() takes it back. Ties go to the earliest target.",
		Members: []MemberDoc{
			{Name: "set", Signature: "set(target: string, weight?: number)", Help: "Adds a target or changes its weight (default 1; 0 disables it), keeping its outstanding work."},
			{Name: "select", Signature: "select(): string | undefined", Help: "The least loaded target, or undefined when none is usable."},
			{Name: "deselect", Signature: "deselect(target: string)", Help: "Ends one unit of work on the target."},
		}})
	DescribeClass(ClassDoc{Name: "algo.Percentile", Signature: "new algo.Percentile(buckets: number[])",
		Help: "Counts samples in buckets given by ascending upper limits, to estimate percentiles. Samples above the last limit are not counted.",
		Members: []MemberDoc{
			{Name: "reset", Signature: "reset()", Help: "Forgets every sample."},
			{Name: "observe", Signature: "observe(sample: number)", Help: "Counts a sample in the first bucket whose limit is at least the sample."},
			{Name: "calculate", Signature: "calculate(percentage: number): number", Help: "The limit of the first bucket at which the counted samples reach percentage (an integer, 1 to 100) of all samples; 0 for a percentage of 0 or less, Infinity when no bucket reaches it. (Pipy 0.30 added up the bucket limits instead of the counts here; Sluice computes the percentile, as later Pipy releases do.)"},
		}})
}

func installAlgo2(w *Worker, g *goja.Object) {
	rt := w.rt
	ns := algoNamespace(w, g)
	throw := func(format string, a ...any) { panic(rt.NewTypeError(fmt.Sprintf(format, a...))) }

	// algo.hash(value): 53 bits, so that the number is exact in JS.
	ns.Set("hash", func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(float64(hashValue(call.Argument(0)) & (1<<53 - 1)))
	})

	// HashingLoadBalancer
	type hashing struct {
		Props
		b *algo.HashingLoadBalancer[string]
	}
	hashingPro := w.Class(ns, "HashingLoadBalancer", func(call goja.ConstructorCall) *goja.Object {
		var targets []string
		switch t := call.Argument(0).(type) {
		case *goja.Object:
			if t.ClassName() != "Array" {
				throw("HashingLoadBalancer: expects an array of targets")
			}
			n := int(t.Get("length").ToInteger())
			for i := range n {
				targets = append(targets, t.Get(itoa(i)).String())
			}
		default:
			if !IsNullish(t) {
				throw("HashingLoadBalancer: expects an array of targets")
			}
		}
		unhealthy := unhealthyFrom(call.Argument(1), "HashingLoadBalancer", throw)
		return w.NewInstance(call.This.Prototype(), &hashing{b: algo.NewHashingLoadBalancer(targets, unhealthy)})
	})
	getH := func(this *goja.Object) *hashing {
		h, ok := w.Impl(this).(*hashing)
		if !ok {
			throw("not a HashingLoadBalancer")
		}
		return h
	}
	w.Method(hashingPro, "add", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if len(call.Arguments) < 1 {
			throw("HashingLoadBalancer.add: expects a target")
		}
		getH(this).b.Add(call.Argument(0).String())
		return goja.Undefined()
	})
	w.Method(hashingPro, "select", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if t, ok := getH(this).b.SelectHash(hashValue(call.Argument(0))); ok {
			return rt.ToValue(t)
		}
		return goja.Undefined()
	})
	w.Method(hashingPro, "deselect", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getH(this).b.Deselect(call.Argument(0).String())
		return goja.Undefined()
	})

	// LeastWorkLoadBalancer
	type leastWork struct {
		Props
		b *algo.LeastWorkLoadBalancer[string]
	}
	lwPro := w.Class(ns, "LeastWorkLoadBalancer", func(call goja.ConstructorCall) *goja.Object {
		ws := weightedTargets(call.Argument(0), "LeastWorkLoadBalancer", throw)
		unhealthy := unhealthyFrom(call.Argument(1), "LeastWorkLoadBalancer", throw)
		return w.NewInstance(call.This.Prototype(), &leastWork{b: algo.NewWeightedLeastWorkLoadBalancer(ws, unhealthy)})
	})
	getLW := func(this *goja.Object) *leastWork {
		l, ok := w.Impl(this).(*leastWork)
		if !ok {
			throw("not a LeastWorkLoadBalancer")
		}
		return l
	}
	w.Method(lwPro, "set", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if len(call.Arguments) < 1 {
			throw("LeastWorkLoadBalancer.set: expects a target")
		}
		weight := 1
		if a := call.Argument(1); !IsNullish(a) {
			weight = int(a.ToInteger())
		}
		getLW(this).b.Set(call.Argument(0).String(), weight)
		return goja.Undefined()
	})
	w.Method(lwPro, "select", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if t, ok := getLW(this).b.Select(); ok {
			return rt.ToValue(t)
		}
		return goja.Undefined()
	})
	w.Method(lwPro, "deselect", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if a := call.Argument(0); !IsNullish(a) {
			getLW(this).b.Deselect(a.String())
		}
		return goja.Undefined()
	})

	// Percentile
	type percentile struct {
		Props
		p *algo.Percentile
	}
	pctPro := w.Class(ns, "Percentile", func(call goja.ConstructorCall) *goja.Object {
		a, ok := call.Argument(0).(*goja.Object)
		if !ok || a.ClassName() != "Array" {
			throw("Percentile: expects an array of bucket limits")
		}
		n := int(a.Get("length").ToInteger())
		buckets := make([]float64, n)
		for i := range n {
			buckets[i] = a.Get(itoa(i)).ToFloat()
		}
		for _, warning := range algo.PercentileBucketWarnings(buckets) {
			logging.Warnf("[algo] Percentile: %s", warning)
		}
		return w.NewInstance(call.This.Prototype(), &percentile{p: algo.NewPercentile(buckets)})
	})
	getP := func(this *goja.Object) *percentile {
		p, ok := w.Impl(this).(*percentile)
		if !ok {
			throw("not a Percentile")
		}
		return p
	}
	w.Method(pctPro, "reset", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getP(this).p.Reset()
		return goja.Undefined()
	})
	w.Method(pctPro, "observe", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if len(call.Arguments) < 1 {
			throw("Percentile.observe: expects a number")
		}
		getP(this).p.Observe(call.Argument(0).ToFloat())
		return goja.Undefined()
	})
	// Pipy 0.30's calculate() adds up the bucket limits instead of the
	// counts, so its result depends only on how many samples there are.
	// Sluice computes what the name promises (as Pipy does since 2024): the
	// limit of the first bucket where the cumulative count reaches the
	// percentage of all samples.
	w.Method(pctPro, "calculate", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if len(call.Arguments) < 1 {
			throw("Percentile.calculate: expects a percentage")
		}
		return rt.ToValue(getP(this).p.CalculateByCount(call.Argument(0).ToFloat()))
	})
}

// unhealthyFrom turns a balancer's optional second argument, an
// algo.Cache, into the test Pipy applies: a target is skipped while the
// cache holds a truthy value for it.
// weightedTargets reads a balancer's targets: an array (weight 1 each) or
// an object of target weights, in the order given.
func weightedTargets(v goja.Value, class string, throw func(string, ...any)) []algo.Weighted[string] {
	var ws []algo.Weighted[string]
	switch t := v.(type) {
	case *goja.Object:
		if t.ClassName() == "Array" {
			n := int(t.Get("length").ToInteger())
			for i := range n {
				ws = append(ws, algo.Weighted[string]{Target: t.Get(itoa(i)).String(), Weight: 1})
			}
		} else {
			for _, k := range t.Keys() {
				ws = append(ws, algo.Weighted[string]{Target: k, Weight: int(t.Get(k).ToInteger())})
			}
		}
	default:
		if !IsNullish(t) {
			throw("%s: expects an array of targets or an object of target weights", class)
		}
	}
	return ws
}

func unhealthyFrom(v goja.Value, class string, throw func(string, ...any)) algo.UnhealthyFunc[string] {
	if IsNullish(v) {
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		throw("%s: the second argument must be an algo.Cache", class)
	}
	c, ok := o.Export().(*jsCache)
	if !ok {
		throw("%s: the second argument must be an algo.Cache", class)
	}
	return func(t string) bool {
		v, found := c.c.Find(t)
		return found && v != nil && v.ToBoolean()
	}
}

// hashValue hashes a script value the way Pipy's algo.hash and
// HashingLoadBalancer.select do: strings by content, objects by identity,
// anything else as a number. Strings use algo.Hash (FNV-1a), so they hash
// the same on every worker and in every run; an object's hash lasts as
// long as the object.
func hashValue(v goja.Value) uint64 {
	switch {
	case IsNullish(v):
		return mix64(0)
	}
	switch x := v.(type) {
	case *goja.Object:
		return mix64(uint64(reflect.ValueOf(x).Pointer()))
	}
	if s, ok := v.Export().(string); ok {
		return algo.Hash(s)
	}
	f := v.ToFloat()
	if f == 0 { // -0 and +0 are equal, so they hash alike
		f = 0
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
	return algo.Hash(string(b[:]))
}

// mix64 is splitmix64's finaliser: it spreads pointer bits (whose low bits
// are always zero) over the whole word.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
