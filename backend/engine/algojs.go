package engine

import (
	"fmt"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/algo"
)

// The algo.* classes scripts use, backed by package algo.
func init() { RegisterGlobal(installAlgo) }

func installAlgo(w *Worker, g *goja.Object) {
	rt := w.rt
	ns := algoNamespace(w, g) // other files add to it too
	throw := func(format string, a ...any) { panic(rt.NewTypeError(fmt.Sprintf(format, a...))) }

	// URLRouter
	type router struct {
		Props
		r *algo.URLRouter[goja.Value]
	}
	routerPro := w.Class(ns, "URLRouter", func(call goja.ConstructorCall) *goja.Object {
		r := &router{r: algo.NewURLRouter[goja.Value]()}
		if o, ok := call.Argument(0).(*goja.Object); ok {
			for _, k := range o.Keys() {
				if err := r.r.Add(k, o.Get(k)); err != nil {
					throw("URLRouter: %v", err)
				}
			}
		}
		return w.NewInstance(call.This.Prototype(), r)
	})
	get := func(this *goja.Object) *router {
		r, ok := w.Impl(this).(*router)
		if !ok {
			throw("not a URLRouter")
		}
		return r
	}
	w.Method(routerPro, "add", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if err := get(this).r.Add(call.Argument(0).String(), call.Argument(1)); err != nil {
			throw("URLRouter.add: %v", err)
		}
		return goja.Undefined()
	})
	w.Method(routerPro, "find", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		var buf [4]string
		parts := buf[:0]
		for _, a := range call.Arguments {
			if !IsNullish(a) {
				parts = append(parts, a.String())
			}
		}
		if v, ok := get(this).r.Find(parts...); ok {
			return v
		}
		return goja.Undefined()
	})

	// RoundRobinLoadBalancer
	type rr struct {
		Props
		b *algo.RoundRobinLoadBalancer[string]
	}
	rrPro := w.Class(ns, "RoundRobinLoadBalancer", func(call goja.ConstructorCall) *goja.Object {
		ws := weightedTargets(call.Argument(0), "RoundRobinLoadBalancer", throw)
		unhealthy := unhealthyFrom(call.Argument(1), "RoundRobinLoadBalancer", throw)
		return w.NewInstance(call.This.Prototype(), &rr{b: algo.NewWeightedRoundRobinLoadBalancer(ws, unhealthy)})
	})
	getRR := func(this *goja.Object) *rr {
		r, ok := w.Impl(this).(*rr)
		if !ok {
			throw("not a RoundRobinLoadBalancer")
		}
		return r
	}
	w.Method(rrPro, "select", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if t, ok := getRR(this).b.Select(); ok {
			return rt.ToValue(t)
		}
		return goja.Undefined()
	})
	w.Method(rrPro, "deselect", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getRR(this).b.Deselect(call.Argument(0).String())
		return goja.Undefined()
	})
	w.Method(rrPro, "set", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		weight := 1
		if a := call.Argument(1); !IsNullish(a) {
			weight = int(a.ToInteger())
		}
		getRR(this).b.Set(call.Argument(0).String(), weight)
		return goja.Undefined()
	})

	// Cache
	cachePro := w.Class(ns, "Cache", func(call goja.ConstructorCall) *goja.Object {
		var alloc, free goja.Callable
		if fn, ok := goja.AssertFunction(call.Argument(0)); ok {
			alloc = fn
		}
		if fn, ok := goja.AssertFunction(call.Argument(1)); ok {
			free = fn
		}
		var opts algo.CacheOptions
		if o, ok := call.Argument(2).(*goja.Object); ok {
			if v := o.Get("size"); !IsNullish(v) {
				opts.Size = int(v.ToInteger())
			}
			if v := o.Get("ttl"); !IsNullish(v) {
				d, err := ParseDuration(v)
				if err != nil {
					throw("Cache: option ttl: %v", err)
				}
				opts.TTL = d
			}
		}
		jc := &jsCache{}
		keyVal := func(k any) goja.Value {
			if o, ok := k.(*goja.Object); ok {
				return o
			}
			return rt.ToValue(k)
		}
		var allocFn func(any) (goja.Value, error)
		if alloc != nil {
			allocFn = func(k any) (goja.Value, error) { return alloc(goja.Undefined(), keyVal(k)) }
		}
		var freeFn func(any, goja.Value)
		if free != nil {
			freeFn = func(k any, v goja.Value) {
				if _, err := free(goja.Undefined(), keyVal(k), v); err != nil {
					panic(err)
				}
			}
		}
		jc.c = algo.NewCache(allocFn, freeFn, opts)
		return w.NewInstance(call.This.Prototype(), jc)
	})
	getC := func(this *goja.Object) *jsCache {
		c, ok := w.Impl(this).(*jsCache)
		if !ok {
			throw("not a Cache")
		}
		return c
	}
	key := func(v goja.Value) any {
		if o, ok := v.(*goja.Object); ok {
			return o
		}
		if IsNullish(v) {
			return nil
		}
		return v.Export()
	}
	w.Method(cachePro, "get", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		v, found, err := getC(this).c.Get(key(call.Argument(0)))
		if err != nil {
			panic(err)
		}
		if !found || v == nil {
			return goja.Undefined()
		}
		return v
	})
	w.Method(cachePro, "set", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getC(this).c.Set(key(call.Argument(0)), call.Argument(1))
		return goja.Undefined()
	})
	w.Method(cachePro, "find", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if v, ok := getC(this).c.Find(key(call.Argument(0))); ok && v != nil {
			return v
		}
		return goja.Undefined()
	})
	w.Method(cachePro, "remove", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		return rt.ToValue(getC(this).c.Remove(key(call.Argument(0))))
	})
	w.Method(cachePro, "clear", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getC(this).c.Clear()
		return goja.Undefined()
	})

	// ResourcePool
	type pool struct {
		Props
		p *algo.ResourcePool[any, any]
	}
	toVal := func(k any) goja.Value {
		if o, ok := k.(*goja.Object); ok {
			return o
		}
		if k == nil {
			return goja.Undefined()
		}
		return rt.ToValue(k)
	}
	poolPro := w.Class(ns, "ResourcePool", func(call goja.ConstructorCall) *goja.Object {
		alloc, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			throw("ResourcePool: expects an allocator function")
		}
		rp := algo.NewResourcePool(func(k any, tenant any) (any, error) {
			v, err := alloc(goja.Undefined(), toVal(k), toVal(tenant))
			if err != nil {
				return nil, err
			}
			return key(v), nil
		})
		return w.NewInstance(call.This.Prototype(), &pool{p: rp})
	})
	getP := func(this *goja.Object) *pool {
		p, ok := w.Impl(this).(*pool)
		if !ok {
			throw("not a ResourcePool")
		}
		return p
	}
	w.Method(poolPro, "allocate", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		var tenant any
		if t := call.Argument(1); !IsNullish(t) {
			tenant = key(t)
		}
		r, err := getP(this).p.Allocate(key(call.Argument(0)), tenant)
		if err != nil {
			panic(err)
		}
		return toVal(r)
	})
	w.Method(poolPro, "free", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getP(this).p.Free(key(call.Argument(0)))
		return goja.Undefined()
	})
	w.Method(poolPro, "freeTenant", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		getP(this).p.FreeTenant(key(call.Argument(0)))
		return goja.Undefined()
	})
	_ = time.Second
}

// algoNamespace returns the global algo object, creating it if needed:
// more than one extension adds classes to it, in whatever order their
// init functions ran.
func algoNamespace(w *Worker, g *goja.Object) *goja.Object {
	if ns, ok := g.Get("algo").(*goja.Object); ok {
		return ns
	}
	ns := w.rt.NewObject()
	g.Set("algo", ns)
	return ns
}

type jsCache struct {
	Props
	c *algo.Cache[any, goja.Value]
}
