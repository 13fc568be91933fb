package metrics

import (
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Set is a collection of metrics by name. The process has one (Default)
// that every worker shares; tests make their own. A Set is a
// prometheus.Collector (an unchecked one: sub-metrics of one metric may
// carry different numbers of labels). Safe for concurrent use.
type Set struct {
	mu     sync.Mutex
	byName map[string]*Metric
}

// NewSet makes an empty set.
func NewSet() *Set { return &Set{byName: map[string]*Metric{}} }

// Counter returns the counter named name, creating it if the set has no
// metric of that name and shape. Every worker that evaluates
// new stats.Counter('x') gets the same metric, and so does a new
// generation after a reload: its value carries on. A metric of the same
// name but another kind, other label names or other buckets is replaced
// (whoever still holds the old one updates a metric no longer exported),
// as Pipy replaces a metric created again under the same name.
func (s *Set) Counter(name string, labelNames ...string) (*Metric, error) {
	return s.Define(Counter, name, "", labelNames, nil)
}

// Gauge is Counter for gauges.
func (s *Set) Gauge(name string, labelNames ...string) (*Metric, error) {
	return s.Define(Gauge, name, "", labelNames, nil)
}

// Histogram is Counter for histograms; buckets are the ascending upper
// limits of the buckets.
func (s *Set) Histogram(name string, buckets []float64, labelNames ...string) (*Metric, error) {
	return s.Define(Histogram, name, "", labelNames, buckets)
}

// Define is Counter, Gauge or Histogram with a help text for the
// exposition's HELP line (the help text is not part of the shape: the
// first definition's stays). buckets are for histograms only.
func (s *Set) Define(kind Kind, name, help string, labelNames []string, buckets []float64) (*Metric, error) {
	if kind != Histogram {
		buckets = nil
	}
	f, err := newFamily(kind, name, help, labelNames, buckets)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.byName[name]; ok && m.fam.sameShape(f) {
		return m, nil
	}
	m := newNode(f, nil)
	s.byName[name] = m
	return m, nil
}

// Lookup returns the metric named name, if any.
func (s *Set) Lookup(name string) *Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[name]
}

// Remove forgets the metric named name.
func (s *Set) Remove(name string) {
	s.mu.Lock()
	delete(s.byName, name)
	s.mu.Unlock()
}

// Describe sends nothing: the set is an unchecked collector, since its
// metrics come and go with scripts.
func (s *Set) Describe(chan<- *prometheus.Desc) {}

// Collect sends every metric and sub-metric that has a value.
func (s *Set) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	roots := make([]*Metric, 0, len(s.byName))
	for _, m := range s.byName {
		roots = append(roots, m)
	}
	s.mu.Unlock()
	slices.SortFunc(roots, func(a, b *Metric) int {
		switch {
		case a.fam.name < b.fam.name:
			return -1
		case a.fam.name > b.fam.name:
			return 1
		}
		return 0
	})
	for _, m := range roots {
		collect(m, ch)
	}
}

func collect(m *Metric, ch chan<- prometheus.Metric) {
	if m.has.Load() {
		desc := m.fam.descs[len(m.labels)]
		var pm prometheus.Metric
		var err error
		switch m.fam.kind {
		case Counter:
			pm, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, m.Value(), m.labels...)
		case Gauge:
			pm, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, m.Value(), m.labels...)
		case Histogram:
			cumulative, count, sum := m.HistogramValue()
			buckets := make(map[float64]uint64, len(cumulative))
			for i, c := range cumulative {
				buckets[m.fam.buckets[i]] = c
			}
			pm, err = prometheus.NewConstHistogram(desc, count, sum, buckets, m.labels...)
		default:
			err = fmt.Errorf("metric %s: unknown kind %v", m.fam.name, m.fam.kind)
		}
		if err != nil {
			pm = prometheus.NewInvalidMetric(desc, err)
		}
		ch <- pm
	}
	for _, s := range m.children() {
		collect(s, ch)
	}
}

var _ prometheus.Collector = (*Set)(nil)
