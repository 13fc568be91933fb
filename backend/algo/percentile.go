package algo

import (
	"fmt"
	"math"
)

// Percentile is Pipy 0.30's algo.Percentile: a histogram over ascending
// bucket upper limits. It is not safe for concurrent use.
type Percentile struct {
	buckets []float64
	counts  []uint64
	total   uint64
}

// NewPercentile creates a histogram with the given bucket upper limits
// (copied). Like Pipy, limits that are not ascending are accepted; see
// PercentileBucketWarnings for the warnings Pipy logs.
func NewPercentile(buckets []float64) *Percentile {
	return &Percentile{
		buckets: append([]float64(nil), buckets...),
		counts:  make([]uint64, len(buckets)),
	}
}

// PercentileBucketWarnings returns the warnings Pipy's constructor logs
// for limits that do not increase. Pipy starts the comparison from the
// smallest positive double, so a first limit <= 0 is also reported.
func PercentileBucketWarnings(buckets []float64) []string {
	var w []string
	last := 2.2250738585072014e-308 // DBL_MIN: std::numeric_limits<double>::min()
	for i, limit := range buckets {
		if limit <= last {
			w = append(w, fmt.Sprintf("buckets are not in ascending order: changed from %f to %f at #%d", last, limit, i))
		}
		last = limit
	}
	return w
}

// Reset zeroes all counts.
func (p *Percentile) Reset() {
	clear(p.counts)
	p.total = 0
}

// Observe counts x in the first bucket whose limit is >= x. Samples above
// the last limit (and NaN) are dropped, not counted.
func (p *Percentile) Observe(x float64) {
	for i, limit := range p.buckets {
		if x <= limit {
			p.counts[i]++
			p.total++
			return
		}
	}
}

// Calculate reproduces Pipy 0.30's calculate(percentage) exactly,
// including its bug. The percentage is truncated to an integer (Pipy's
// binding takes an int); <= 0 gives 0. The target is
// total*percentage/100 (integer division), and Pipy 0.30 then accumulates
// the bucket *limits* (not the counts) until the running sum reaches the
// target, returning that limit, or +Inf if it never does. The result
// therefore depends on the samples only through their number. Pipy fixed
// this in 2024 (d87956a9); CalculateByCount implements the fixed version.
func (p *Percentile) Calculate(percentage float64) float64 {
	return p.calculate(percentage, false)
}

// CalculateByCount is the corrected calculation of later Pipy releases:
// it returns the limit of the first bucket at which the cumulative sample
// count reaches total*percentage/100.
func (p *Percentile) CalculateByCount(percentage float64) float64 {
	return p.calculate(percentage, true)
}

func (p *Percentile) calculate(percentage float64, byCount bool) float64 {
	pct := truncInt(percentage)
	if pct <= 0 {
		return 0
	}
	target := p.total * uint64(pct) / 100
	var count uint64
	for i, limit := range p.buckets {
		if byCount {
			count += p.counts[i]
		} else {
			count = toSize(float64(count) + limit)
		}
		if count >= target {
			return limit
		}
	}
	return math.Inf(1)
}

// Len returns the number of buckets.
func (p *Percentile) Len() int { return len(p.buckets) }

// Total returns the number of counted samples.
func (p *Percentile) Total() uint64 { return p.total }

// Count returns the count of bucket i (0 when out of range).
func (p *Percentile) Count(i int) uint64 {
	if i < 0 || i >= len(p.counts) {
		return 0
	}
	return p.counts[i]
}

// SetCount overwrites the count of bucket i, adjusting the total (used to
// merge histograms, as Pipy's stats do). Out-of-range indexes are ignored.
func (p *Percentile) SetCount(i int, n uint64) {
	if i < 0 || i >= len(p.counts) {
		return
	}
	p.total = p.total - p.counts[i] + n
	p.counts[i] = n
}

// Dump calls fn with each bucket limit and the cumulative count up to it.
func (p *Percentile) Dump(fn func(limit float64, cumulative uint64)) {
	var sum uint64
	for i, limit := range p.buckets {
		sum += p.counts[i]
		fn(limit, sum)
	}
}

// truncInt truncates toward zero, saturating, with NaN as 0.
func truncInt(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// toSize converts a double to size_t the way it behaves for sane inputs;
// negative and NaN values (undefined behaviour in C++) give 0.
func toSize(f float64) uint64 {
	switch {
	case !(f > 0):
		return 0
	case f >= math.MaxUint64:
		return math.MaxUint64
	}
	return uint64(f)
}
