package engine

import (
	"github.com/dop251/goja"
)

// repeat(fn) and repeat(n, fn): PipyJS 0.30 has no loop statements, so
// scripts loop with this global.
func init() {
	RegisterGlobal(installRepeat)
	DescribeClass(ClassDoc{Name: "repeat", Signature: "repeat(fn: (i: number) => any): any | repeat(count: number, fn: (i: number) => any): any",
		Help: "Calls fn with i = 0, 1, 2, ... for as long as it returns a truthy value, and at most count times when count is given. Returns what the last call returned (undefined if fn was never called). A loop that does not end is interrupted like any script callback that runs too long."})
}

func installRepeat(w *Worker, g *goja.Object) {
	rt := w.rt
	g.Set("repeat", func(call goja.FunctionCall) goja.Value {
		bounded, limit := false, int64(0)
		fnArg := call.Argument(0)
		if len(call.Arguments) >= 2 {
			if _, isFn := goja.AssertFunction(fnArg); !isFn {
				bounded, limit = true, call.Argument(0).ToInteger()
				fnArg = call.Argument(1)
			}
		}
		fn, ok := goja.AssertFunction(fnArg)
		if !ok {
			panic(rt.NewTypeError("repeat: expects a function, or a count and a function"))
		}
		ret := goja.Undefined()
		for i := int64(0); !bounded || i < limit; i++ {
			v, err := fn(goja.Undefined(), rt.ToValue(i))
			if err != nil {
				panic(err)
			}
			ret = v
			if !v.ToBoolean() {
				break
			}
		}
		return ret
	})
}
