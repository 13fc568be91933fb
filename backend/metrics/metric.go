// Package metrics owns the process's metrics: the counters, gauges and
// histograms scripts create with stats.Counter, stats.Gauge and
// stats.Histogram, and the built-in ones (connections, bytes, pipelines)
// the engine feeds. Every worker of every generation shares them: the same
// name on two workers is one metric. They are exposed in the Prometheus
// text format by Handler and Write.
//
// The model is Pipy's: a metric is a tree. The root has the metric's name
// and label names; WithLabels gives the sub-metric for the values of the
// first labels, and a sub-metric may be given further values in turn. Any
// node that has been given a value is exported, with as many labels as
// its depth: a counter with labels (method, status) may export
// http_requests{method="GET"} next to http_requests{method="GET",status="200"}.
//
// Threading: everything here is safe for concurrent use. Values are
// updated with atomic operations; finding or creating a sub-metric takes
// its parent's lock.
package metrics

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Kind is the type of a metric.
type Kind uint8

const (
	Counter Kind = iota + 1
	Gauge
	Histogram
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "Counter"
	case Gauge:
		return "Gauge"
	case Histogram:
		return "Histogram"
	}
	return "Kind(" + fmt.Sprint(uint8(k)) + ")"
}

// family is what a metric's tree shares: its identity and the Prometheus
// descriptions of each depth.
type family struct {
	kind       Kind
	name       string
	labelNames []string
	buckets    []float64          // histograms: ascending upper limits
	descs      []*prometheus.Desc // descs[d] describes nodes with d labels
}

// Metric is a counter, a gauge or a histogram, or one of their
// sub-metrics. Methods that do not apply to its kind do nothing: Observe
// on a counter, Set on a histogram. A nil *Metric ignores everything, so
// the result of WithLabels can be used without a check.
type Metric struct {
	fam    *family
	labels []string // values of the first len(labels) label names

	has  atomic.Bool   // has been given a value: only those are exported
	bits atomic.Uint64 // a counter's or gauge's value, as float64 bits
	hist *histogram

	mu   sync.Mutex
	subs map[string]*Metric
}

type histogram struct {
	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

// Name is the metric's name.
func (m *Metric) Name() string {
	if m == nil {
		return ""
	}
	return m.fam.name
}

// Kind is the metric's type.
func (m *Metric) Kind() Kind { return m.fam.kind }

// LabelNames are the label names the metric was created with.
func (m *Metric) LabelNames() []string { return slices.Clone(m.fam.labelNames) }

// Labels are the values of the labels fixed for this sub-metric (none for
// the root).
func (m *Metric) Labels() []string { return slices.Clone(m.labels) }

// Buckets are a histogram's bucket limits.
func (m *Metric) Buckets() []float64 { return slices.Clone(m.fam.buckets) }

// WithLabels returns the sub-metric for the values of the next labels,
// creating it on first use. Values beyond the remaining labels are
// ignored; with no values it returns m itself. It returns nil when m
// already has every label fixed (so nothing is left to give).
func (m *Metric) WithLabels(values ...string) *Metric {
	if m == nil || len(m.labels) >= len(m.fam.labelNames) {
		return nil
	}
	s := m
	for _, v := range values {
		if len(s.labels) == len(s.fam.labelNames) {
			break
		}
		s = s.sub(v)
	}
	return s
}

// sub finds or creates the child for the next label's value.
func (m *Metric) sub(value string) *Metric {
	value = strings.ToValidUTF8(value, "\uFFFD")
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.subs[value]; ok {
		return s
	}
	if m.subs == nil {
		m.subs = map[string]*Metric{}
	}
	s := newNode(m.fam, append(slices.Clip(m.labels), value))
	m.subs[value] = s
	return s
}

func newNode(f *family, labels []string) *Metric {
	m := &Metric{fam: f, labels: labels}
	if f.kind == Histogram {
		m.hist = &histogram{counts: make([]uint64, len(f.buckets))}
	}
	return m
}

// Increase adds n to a counter or gauge (n may be negative, as in Pipy).
func (m *Metric) Increase(n float64) {
	if m == nil || m.fam.kind == Histogram {
		return
	}
	m.has.Store(true)
	for {
		old := m.bits.Load()
		if m.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+n)) {
			return
		}
	}
}

// Decrease subtracts n from a counter or gauge.
func (m *Metric) Decrease(n float64) { m.Increase(-n) }

// Set sets a counter's or gauge's value.
func (m *Metric) Set(n float64) {
	if m == nil || m.fam.kind == Histogram {
		return
	}
	m.bits.Store(math.Float64bits(n))
	m.has.Store(true)
}

// Zero sets the value to 0 (a histogram forgets its samples). The metric
// is exported from then on even if nothing else happens to it.
func (m *Metric) Zero() {
	if m == nil {
		return
	}
	if h := m.hist; h != nil {
		h.mu.Lock()
		clear(h.counts)
		h.count, h.sum = 0, 0
		h.mu.Unlock()
	} else {
		m.bits.Store(0)
	}
	m.has.Store(true)
}

// Observe records a sample in a histogram: in the first bucket whose limit
// is at least x, and in the count and sum (a sample above the last limit
// is in the count and sum only, as Prometheus's +Inf bucket expects).
func (m *Metric) Observe(x float64) {
	if m == nil || m.hist == nil {
		return
	}
	h := m.hist
	i := len(h.counts) // NaN is in no bucket
	if !math.IsNaN(x) {
		i, _ = slices.BinarySearch(m.fam.buckets, x) // the first limit >= x
	}
	h.mu.Lock()
	if i < len(h.counts) {
		h.counts[i]++
	}
	h.count++
	h.sum += x
	h.mu.Unlock()
	m.has.Store(true)
}

// Value is a counter's or gauge's current value.
func (m *Metric) Value() float64 {
	if m == nil {
		return 0
	}
	return math.Float64frombits(m.bits.Load())
}

// HistogramValue is a histogram's cumulative bucket counts (one per
// limit), sample count and sum.
func (m *Metric) HistogramValue() (cumulative []uint64, count uint64, sum float64) {
	if m == nil || m.hist == nil {
		return nil, 0, 0
	}
	h := m.hist
	h.mu.Lock()
	defer h.mu.Unlock()
	cumulative = make([]uint64, len(h.counts))
	var acc uint64
	for i, c := range h.counts {
		acc += c
		cumulative[i] = acc
	}
	return cumulative, h.count, h.sum
}

// Clear removes every sub-metric and stops exporting m until it is given a
// value again.
func (m *Metric) Clear() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.subs = nil
	m.mu.Unlock()
	m.has.Store(false)
}

// children returns the sub-metrics, sorted by label value.
func (m *Metric) children() []*Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.subs) == 0 {
		return nil
	}
	out := make([]*Metric, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Metric) int { return strings.Compare(a.labels[len(a.labels)-1], b.labels[len(b.labels)-1]) })
	return out
}

// adjust adds delta to the sub-metric for value, under m's lock, and
// removes the sub-metric when it comes back to 0: the gauges of open
// connections list only the peers that have some.
func (m *Metric) adjust(value string, delta float64) {
	value = strings.ToValidUTF8(value, "\uFFFD")
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[value]
	if !ok {
		if delta <= 0 {
			return
		}
		if m.subs == nil {
			m.subs = map[string]*Metric{}
		}
		s = newNode(m.fam, append(slices.Clip(m.labels), value))
		m.subs[value] = s
	}
	s.Increase(delta)
	if s.Value() <= 0 {
		delete(m.subs, value)
	}
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// newFamily validates a metric's definition.
func newFamily(kind Kind, name, help string, labelNames []string, buckets []float64) (*family, error) {
	if !metricName.MatchString(name) {
		return nil, fmt.Errorf("invalid metric name %q: use letters, digits, '_' and ':', not starting with a digit", name)
	}
	seen := map[string]bool{}
	for _, l := range labelNames {
		switch {
		case !labelName.MatchString(l):
			return nil, fmt.Errorf("metric %s: invalid label name %q: use letters, digits and '_', not starting with a digit", name, l)
		case strings.HasPrefix(l, "__"):
			return nil, fmt.Errorf("metric %s: label names starting with __ are reserved: %q", name, l)
		case kind == Histogram && l == "le":
			return nil, fmt.Errorf("metric %s: a histogram cannot have a label named le", name)
		case seen[l]:
			return nil, fmt.Errorf("metric %s: label %q given twice", name, l)
		}
		seen[l] = true
	}
	if kind == Histogram {
		if len(buckets) == 0 {
			return nil, fmt.Errorf("histogram %s: no buckets", name)
		}
		for i, b := range buckets {
			if math.IsNaN(b) {
				return nil, fmt.Errorf("histogram %s: bucket #%d is NaN", name, i)
			}
			if i > 0 && b <= buckets[i-1] {
				return nil, fmt.Errorf("histogram %s: buckets are not in ascending order: %v then %v at #%d", name, buckets[i-1], b, i)
			}
		}
	}
	f := &family{kind: kind, name: name, labelNames: slices.Clone(labelNames), buckets: slices.Clone(buckets)}
	for d := 0; d <= len(labelNames); d++ {
		f.descs = append(f.descs, prometheus.NewDesc(name, help, f.labelNames[:d], nil))
	}
	return f, nil
}

func (f *family) sameShape(g *family) bool {
	return f.kind == g.kind && slices.Equal(f.labelNames, g.labelNames) && slices.Equal(f.buckets, g.buckets)
}
