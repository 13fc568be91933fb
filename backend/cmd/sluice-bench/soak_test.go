package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSoakWindows(t *testing.T) {
	s := time.Second
	for _, tt := range []struct {
		total time.Duration
		want  []time.Duration
	}{
		{30 * s, []time.Duration{10 * s, 10 * s, 10 * s}},
		{25 * s, []time.Duration{10 * s, 10 * s, 5 * s}},
		{3 * s, []time.Duration{3 * s}},
		{10*s + 300*time.Millisecond, []time.Duration{10 * s}},
		{10*s + 600*time.Millisecond, []time.Duration{10 * s, s}},
	} {
		if got := soakWindows(tt.total, 10*s); !slices.Equal(got, tt.want) {
			t.Errorf("soakWindows(%v) = %v, want %v", tt.total, got, tt.want)
		}
	}
	if got := len(soakWindows(10*time.Minute, 10*s)); got != 60 {
		t.Errorf("10m makes %d windows, want 60", got)
	}
}

func samplesEvery10s(rssMiB ...int64) []soakSample {
	var ss []soakSample
	for i, m := range rssMiB {
		ss = append(ss, soakSample{At: time.Duration(i+1) * 10 * time.Second, RSS: m << 20})
	}
	return ss
}

func TestSoakGrowth(t *testing.T) {
	// Three minutes: the first minute is 0:10–1:00, the last 2:10–3:00.
	ss := samplesEvery10s(20, 22, 21, 21, 21, 21, 21, 23, 21, 21, 21, 21, 21, 21, 21, 24, 21, 21)
	first, last := soakGrowth(ss)
	if first != 22<<20 || last != 24<<20 {
		t.Errorf("soakGrowth = %d, %d MiB; want 22, 24", first>>20, last>>20)
	}
	// Shorter than a minute: both are the largest of all.
	first, last = soakGrowth(samplesEvery10s(20, 25, 21))
	if first != 25<<20 || last != 25<<20 {
		t.Errorf("short soak: soakGrowth = %d, %d MiB; want 25, 25", first>>20, last>>20)
	}
	if first, last := soakGrowth(nil); first != 0 || last != 0 {
		t.Errorf("no samples: %d, %d", first, last)
	}
}

func TestPrintSoak(t *testing.T) {
	ss := samplesEvery10s(20, 21, 23)
	for i := range ss {
		ss[i].ReqPerSec = 40000
		ss[i].P99 = 2 * time.Millisecond
		ss[i].CPUPerReq = 20 * time.Microsecond
	}
	var b strings.Builder
	printSoak(&b, ss)
	out := b.String()
	for _, want := range []string{
		"time  RSS MiB  req/s  p99     CPU µs/req",
		"0:30  23.0     40.0k  2.00ms  20.00",
		"soak RSS growth: +0.0 MiB (largest in the first minute 23.0 MiB, in the last minute 23.0 MiB); target: no growth",
		"overlap",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("soak output lacks %q:\n%s", want, out)
		}
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second:                      "0:10",
		10 * time.Minute:                      "10:00",
		90*time.Second + 400*time.Millisecond: "1:30",
	} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %s, want %s", d, got, want)
		}
	}
}
