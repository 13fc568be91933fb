package algo

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestPercentile(t *testing.T) {
	p := NewPercentile([]float64{1, 2, 5, 10})
	for _, x := range []float64{0.5, 1, 1.5, 3, 7, 20, math.NaN()} {
		p.Observe(x)
	}
	if p.Total() != 5 || p.Len() != 4 {
		t.Fatalf("total %d len %d", p.Total(), p.Len())
	}
	if got := []uint64{p.Count(0), p.Count(1), p.Count(2), p.Count(3), p.Count(4), p.Count(-1)}; !slices.Equal(got, []uint64{2, 1, 1, 1, 0, 0}) {
		t.Fatalf("counts %v", got)
	}
	inf := math.Inf(1)
	tests := []struct {
		pct          float64
		pipy, counts float64
	}{
		{-5, 0, 0},
		{0, 0, 0},
		{0.9, 0, 0}, // truncated to 0
		{20, 1, 1},  // target 1
		{50, 2, 1},  // target 2: limits 1,3 / counts 2
		{60, 2, 2},  // target 3
		{80, 5, 5},  // target 4: limits 1,3,8 / counts 2,3,4
		{99.9, 5, 5},
		{100, 5, 10},    // target 5
		{200, 10, inf},  // target 10: limits 1,3,8,18
		{400, inf, inf}, // target 20
	}
	for _, tc := range tests {
		if got := p.Calculate(tc.pct); got != tc.pipy {
			t.Errorf("Calculate(%v) = %v, want %v", tc.pct, got, tc.pipy)
		}
		if got := p.CalculateByCount(tc.pct); got != tc.counts {
			t.Errorf("CalculateByCount(%v) = %v, want %v", tc.pct, got, tc.counts)
		}
	}

	var dump []uint64
	p.Dump(func(limit float64, cum uint64) { dump = append(dump, cum) })
	if !slices.Equal(dump, []uint64{2, 3, 4, 5}) {
		t.Errorf("dump %v", dump)
	}

	p.SetCount(3, 10)
	p.SetCount(9, 1)
	if p.Total() != 14 {
		t.Errorf("total after SetCount %d", p.Total())
	}

	p.Reset()
	if p.Total() != 0 || p.Count(0) != 0 {
		t.Fatal("Reset")
	}
	// With no samples the target is 0, reached by the first bucket.
	if got := p.Calculate(50); got != 1 {
		t.Errorf("empty Calculate(50) = %v", got)
	}
}

func TestPercentileManySamples(t *testing.T) {
	// Pipy 0.30 sums bucket limits: 100 samples can never reach
	// target 50 with limits 1+2+5+10 = 18.
	p := NewPercentile([]float64{1, 2, 5, 10})
	for i := 0; i < 100; i++ {
		p.Observe(0.5)
	}
	if got := p.Calculate(50); !math.IsInf(got, 1) {
		t.Errorf("Calculate(50) = %v", got)
	}
	if got := p.CalculateByCount(50); got != 1 {
		t.Errorf("CalculateByCount(50) = %v", got)
	}
}

func TestPercentileBucketWarnings(t *testing.T) {
	if w := PercentileBucketWarnings([]float64{1, 2, 5}); len(w) != 0 {
		t.Errorf("ascending: %v", w)
	}
	w := PercentileBucketWarnings([]float64{1, 2, 2, 1})
	if len(w) != 2 || !strings.Contains(w[0], "at #2") || !strings.Contains(w[1], "changed from 2.000000 to 1.000000 at #3") {
		t.Errorf("warnings %q", w)
	}
	if w := PercentileBucketWarnings([]float64{0, 1}); len(w) != 1 {
		t.Errorf("first bucket 0: %q", w)
	}
}
