package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is everything measured for one contender in one scenario.
type result struct {
	Scenario  string
	Contender string
	Err       error       // set when the contender could not be measured
	Rounds    []wrkResult // one per round
	CPU       time.Duration
	RSS       int64 // the largest VmRSS sampled after a round, in bytes
}

// summary condenses a result's rounds.
type summary struct {
	Median, Min, Max float64 // requests per second
	P50, P99         time.Duration
	RSSMiB           float64
	CPUPerReq        time.Duration
	Non2xx, SockErrs int64
}

func summarize(r result) summary {
	var s summary
	rates := make([]float64, 0, len(r.Rounds))
	var p50s, p99s []time.Duration
	var requests int64
	for _, w := range r.Rounds {
		rates = append(rates, w.ReqPerSec)
		p50s = append(p50s, w.P50())
		p99s = append(p99s, w.P99())
		requests += w.Requests
		s.Non2xx += w.Non2xx
		s.SockErrs += w.SockErrors
	}
	if len(rates) == 0 {
		return s
	}
	s.Median, s.Min, s.Max = median(rates), slices.Min(rates), slices.Max(rates)
	s.P50, s.P99 = median(p50s), median(p99s)
	s.RSSMiB = float64(r.RSS) / (1 << 20)
	if requests > 0 {
		s.CPUPerReq = time.Duration(float64(r.CPU) / float64(requests))
	}
	return s
}

func median[T int64 | float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread is (max-min)/median.
func (s summary) spread() float64 {
	if s.Median == 0 {
		return 0
	}
	return (s.Max - s.Min) / s.Median
}

// printTable writes the results table, the sluice ratios and any warnings.
// Results of one scenario are expected to be adjacent.
func printTable(w io.Writer, results []result) {
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tcontender\treq/s median (min–max)\tp50\tp99\tRSS MiB\tCPU µs/req\t")
	var warnings []string
	for i, r := range results {
		if i > 0 && r.Scenario != results[i-1].Scenario {
			fmt.Fprintln(tw, "\t\t\t\t\t\t\t")
		}
		if r.Err != nil {
			fmt.Fprintf(tw, "%s\t%s\tfailed\t\t\t\t\t\n", r.Scenario, r.Contender)
			warnings = append(warnings, fmt.Sprintf("%s/%s failed: %v", r.Scenario, r.Contender, r.Err))
		} else {
			s := summarize(r)
			fmt.Fprintf(tw, "%s\t%s\t%s (%s–%s)\t%s\t%s\t%.1f\t%s\t\n", r.Scenario, r.Contender,
				rate(s.Median), rate(s.Min), rate(s.Max), latency(s.P50), latency(s.P99),
				s.RSSMiB, micros(s.CPUPerReq))
			warnings = append(warnings, s.warnings(r.Scenario+"/"+r.Contender)...)
		}
		if i+1 == len(results) || results[i+1].Scenario != r.Scenario {
			printRatios(tw, results, r.Scenario)
		}
	}
	tw.Flush()
	writeTable(w, table.String())
	for _, warn := range warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
}

// warnings lists what makes s doubtful: rounds that disagree, failed
// requests. what names the measurement.
func (s summary) warnings(what string) []string {
	var out []string
	if sp := s.spread(); sp > 0.10 {
		out = append(out, fmt.Sprintf("%s: req/s spread %.0f%% of the median (min %s, max %s): noisy, rerun with more rounds",
			what, 100*sp, rate(s.Min), rate(s.Max)))
	}
	if s.Non2xx > 0 || s.SockErrs > 0 {
		out = append(out, fmt.Sprintf("%s: %d non-2xx responses, %d socket errors", what, s.Non2xx, s.SockErrs))
	}
	return out
}

// writeTable copies the text of a flushed tabwriter to w without the
// padding it leaves at the ends of lines.
func writeTable(w io.Writer, table string) {
	for _, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// callbackTarget is the most a proxy's one script callback per request may
// cost sluice in req/s.
const callbackTarget = 0.10

// printCallbackCost compares proxy with proxy-nocb for every contender
// measured in both: the difference is what one script callback per request
// costs.
func printCallbackCost(w io.Writer, results []result) {
	for _, r := range results {
		if r.Scenario != "proxy-nocb" {
			continue
		}
		without, ok1 := find(results, "proxy-nocb", r.Contender)
		with, ok2 := find(results, "proxy", r.Contender)
		if !ok1 || !ok2 {
			continue
		}
		a, b := summarize(with), summarize(without)
		if b.Median == 0 {
			continue
		}
		cost := 1 - a.Median/b.Median
		verdict := fmt.Sprintf("%.1f%% slower", 100*cost)
		if cost < 0 {
			verdict = fmt.Sprintf("%.1f%% faster", -100*cost)
		}
		line := fmt.Sprintf("callback cost (%s): proxy is %s than proxy-nocb (req/s %s vs %s; CPU µs/req %s vs %s)",
			r.Contender, verdict, rate(a.Median), rate(b.Median), micros(a.CPUPerReq), micros(b.CPUPerReq))
		if r.Contender == "sluice" {
			line += fmt.Sprintf("; target ≤ %.0f%%", 100*callbackTarget)
		}
		fmt.Fprintln(w, line)
	}
}

// printRatios adds a sluice/X row for every other contender measured in
// scenario: above 1× is better for req/s, worse for the other columns.
func printRatios(w io.Writer, results []result, scenario string) {
	r, ok := find(results, scenario, "sluice")
	if !ok {
		return
	}
	s := summarize(r)
	for _, other := range []string{"nginx", "pipy"} {
		o, ok := find(results, scenario, other)
		if !ok {
			continue
		}
		b := summarize(o)
		fmt.Fprintf(w, "%s\tsluice/%s\t%s\t%s\t%s\t%s\t%s\t\n", scenario, other,
			ratio(s.Median, b.Median), ratio(float64(s.P50), float64(b.P50)),
			ratio(float64(s.P99), float64(b.P99)), ratio(s.RSSMiB, b.RSSMiB),
			ratio(float64(s.CPUPerReq), float64(b.CPUPerReq)))
	}
}

// find returns the successful result for scenario and contender.
func find(results []result, scenario, contender string) (result, bool) {
	for _, r := range results {
		if r.Scenario == scenario && r.Contender == contender && r.Err == nil && len(r.Rounds) > 0 {
			return r, true
		}
	}
	return result{}, false
}

func rate(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.0f", v)
}

// micros formats a duration in microseconds, for CPU time per request.
func micros(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Microsecond))
}

func latency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// rotate returns v rotated left by n, so that each round starts with a
// different contender.
func rotate[T any](v []T, n int) []T {
	if len(v) == 0 {
		return nil
	}
	n %= len(v)
	return append(slices.Clone(v[n:]), v[:n]...)
}
