// Package statsjs gives scripts the stats global (stats.Counter,
// stats.Gauge, stats.Histogram) over package metrics. It is a package of
// its own so that package metrics does not depend on the engine, which
// feeds the built-in metrics. Import it for its side effects.
package statsjs

import (
	"fmt"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/metrics"
)

func init() {
	engine.RegisterGlobal(install)
	describe()
}

// jsMetric is a script's handle on a metric or sub-metric.
type jsMetric struct {
	m    *metrics.Metric
	name goja.Value
}

func (j *jsMetric) Get(key string) goja.Value {
	if key == "name" {
		return j.name
	}
	return nil
}
func (j *jsMetric) Set(string, goja.Value) bool { return false }
func (j *jsMetric) Has(key string) bool         { return key == "name" }
func (j *jsMetric) Delete(string) bool          { return false }
func (j *jsMetric) Keys() []string              { return nil }

func install(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	ns := rt.NewObject()
	g.Set("stats", ns)
	throw := func(format string, a ...any) { panic(rt.NewTypeError(fmt.Sprintf(format, a...))) }

	// One script object per metric on this worker, so that
	// withLabels('a') === withLabels('a'), as in Pipy, and a hot path
	// does not allocate a handle per call.
	protos := map[metrics.Kind]*goja.Object{}
	handles := map[*metrics.Metric]*goja.Object{}
	wrap := func(m *metrics.Metric) goja.Value {
		if m == nil {
			return goja.Null()
		}
		if o, ok := handles[m]; ok {
			return o
		}
		o := w.NewInstance(protos[m.Kind()], &jsMetric{m: m, name: rt.ToValue(m.Name())})
		handles[m] = o
		return o
	}

	labelNames := func(class string, v goja.Value) []string {
		if engine.IsNullish(v) {
			return nil
		}
		a, ok := v.(*goja.Object)
		if !ok || a.ClassName() != "Array" {
			throw("%s: label names must be an array of strings", class)
		}
		n := int(a.Get("length").ToInteger())
		out := make([]string, n)
		for i := range n {
			out[i] = a.Get(fmt.Sprint(i)).String()
		}
		return out
	}
	name := func(class string, call goja.ConstructorCall) string {
		if len(call.Arguments) < 1 || engine.IsNullish(call.Argument(0)) {
			throw("%s: expects a metric name", class)
		}
		n := call.Argument(0).String()
		if metrics.Reserved(n) {
			throw("%s: metric names starting with %s are reserved for built-in metrics: %q", class, metrics.ReservedPrefix, n)
		}
		return n
	}
	made := func(class string) func(*metrics.Metric, error) *metrics.Metric {
		return func(m *metrics.Metric, err error) *metrics.Metric {
			if err != nil {
				throw("%s: %v", class, err)
			}
			return m
		}
	}
	get := func(this *goja.Object) *metrics.Metric {
		j, ok := this.Export().(*jsMetric)
		if !ok {
			throw("not a stats metric")
		}
		return j.m
	}
	number := func(call goja.FunctionCall, def float64) float64 {
		if a := call.Argument(0); !goja.IsUndefined(a) {
			return a.ToFloat()
		}
		return def
	}
	common := func(proto *goja.Object) {
		w.Method(proto, "withLabels", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			values := make([]string, len(call.Arguments))
			for i, a := range call.Arguments {
				values[i] = a.String()
			}
			return wrap(get(this).WithLabels(values...))
		})
		w.Method(proto, "zero", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			get(this).Zero()
			return goja.Undefined()
		})
		w.Method(proto, "clear", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			get(this).Clear()
			return goja.Undefined()
		})
	}

	counterPro := w.Class(ns, "Counter", func(call goja.ConstructorCall) *goja.Object {
		const class = "stats.Counter"
		n := name(class, call)
		return wrap(made(class)(metrics.Default.Define(metrics.Counter, n, help(class), labelNames(class, call.Argument(1)), nil))).(*goja.Object)
	})
	protos[metrics.Counter] = counterPro
	common(counterPro)
	w.Method(counterPro, "increase", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		get(this).Increase(number(call, 1))
		return goja.Undefined()
	})

	gaugePro := w.Class(ns, "Gauge", func(call goja.ConstructorCall) *goja.Object {
		const class = "stats.Gauge"
		n := name(class, call)
		return wrap(made(class)(metrics.Default.Define(metrics.Gauge, n, help(class), labelNames(class, call.Argument(1)), nil))).(*goja.Object)
	})
	protos[metrics.Gauge] = gaugePro
	common(gaugePro)
	w.Method(gaugePro, "set", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if len(call.Arguments) < 1 {
			throw("Gauge.set: expects a number")
		}
		get(this).Set(call.Argument(0).ToFloat())
		return goja.Undefined()
	})
	w.Method(gaugePro, "increase", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		get(this).Increase(number(call, 1))
		return goja.Undefined()
	})
	w.Method(gaugePro, "decrease", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		get(this).Decrease(number(call, 1))
		return goja.Undefined()
	})

	histPro := w.Class(ns, "Histogram", func(call goja.ConstructorCall) *goja.Object {
		const class = "stats.Histogram"
		n := name(class, call)
		a, ok := call.Argument(1).(*goja.Object)
		if !ok || a.ClassName() != "Array" {
			throw("%s: expects an array of bucket limits", class)
		}
		buckets := make([]float64, int(a.Get("length").ToInteger()))
		for i := range buckets {
			buckets[i] = a.Get(fmt.Sprint(i)).ToFloat()
		}
		return wrap(made(class)(metrics.Default.Define(metrics.Histogram, n, help(class), labelNames(class, call.Argument(2)), buckets))).(*goja.Object)
	})
	protos[metrics.Histogram] = histPro
	common(histPro)
	w.Method(histPro, "observe", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if len(call.Arguments) < 1 {
			throw("Histogram.observe: expects a number")
		}
		get(this).Observe(call.Argument(0).ToFloat())
		return goja.Undefined()
	})
}

// help is the HELP line of a script's metric.
func help(class string) string { return "Defined by a script with " + class + "." }

func describe() {
	common := func(kind string) []engine.MemberDoc {
		return []engine.MemberDoc{
			{Name: "name", Signature: "name: string", Help: "The metric's name."},
			{Name: "withLabels", Signature: "withLabels(...values: any[]): " + kind + " | null",
				Help: "The sub-metric for the values of the next labels, in the order of the label names (fewer values than labels are fine). null when every label is already given."},
			{Name: "zero", Signature: "zero()", Help: "Sets the value to 0 (a histogram forgets its samples)."},
			{Name: "clear", Signature: "clear()", Help: "Removes every sub-metric."},
		}
	}
	shared := " Metrics are process-wide: every worker, and the next generation after a reload, gets the same metric for the same name. Names starting with pipy_ are kept for the built-in metrics. GET /metrics shows them in the Prometheus text format."
	engine.DescribeClass(engine.ClassDoc{Name: "stats.Counter", Signature: "new stats.Counter(name: string, labelNames?: string[])",
		Help:    "A number that counts up." + shared,
		Members: append(common("stats.Counter"), engine.MemberDoc{Name: "increase", Signature: "increase(n?: number)", Help: "Adds n (default 1)."})})
	engine.DescribeClass(engine.ClassDoc{Name: "stats.Gauge", Signature: "new stats.Gauge(name: string, labelNames?: string[])",
		Help: "A number that goes up and down." + shared,
		Members: append(common("stats.Gauge"),
			engine.MemberDoc{Name: "set", Signature: "set(n: number)", Help: "Sets the value."},
			engine.MemberDoc{Name: "increase", Signature: "increase(n?: number)", Help: "Adds n (default 1)."},
			engine.MemberDoc{Name: "decrease", Signature: "decrease(n?: number)", Help: "Subtracts n (default 1)."})})
	engine.DescribeClass(engine.ClassDoc{Name: "stats.Histogram", Signature: "new stats.Histogram(name: string, buckets: number[], labelNames?: string[])",
		Help:    "Counts samples in buckets given by ascending upper limits, with their count and sum." + shared,
		Members: append(common("stats.Histogram"), engine.MemberDoc{Name: "observe", Signature: "observe(sample: number)", Help: "Records a sample."})})
}
