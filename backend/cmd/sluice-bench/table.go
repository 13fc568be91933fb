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

// printCallbackCost compares every script contender in a scenario with
// its -nocb variant from the same rounds: the difference is what one script
// callback per request costs. The headline is the median of the per-round
// costs, each from a round's pair of runs back to back, which cancels most
// of the machine's drift; the ratio of the medians and the CPU per request
// of both follow.
func printCallbackCost(w io.Writer, results []result) {
	for _, r := range results {
		base, ok := strings.CutSuffix(r.Contender, nocbSuffix)
		if !ok {
			continue
		}
		without, ok1 := find(results, r.Scenario, r.Contender)
		with, ok2 := find(results, r.Scenario, base)
		if !ok1 || !ok2 {
			continue
		}
		var costs []float64
		for i := range min(len(with.Rounds), len(without.Rounds)) {
			if b := without.Rounds[i].ReqPerSec; b > 0 {
				costs = append(costs, 1-with.Rounds[i].ReqPerSec/b)
			}
		}
		a, b := summarize(with), summarize(without)
		if len(costs) == 0 || b.Median == 0 {
			continue
		}
		how := fmt.Sprintf("one round of %s and %s back to back", base, r.Contender)
		if len(costs) > 1 {
			how = fmt.Sprintf("median of %d per-round costs, %s to %s, each from %s and %s back to back", len(costs),
				percent(slices.Min(costs)), percent(slices.Max(costs)), base, r.Contender)
		}
		line := fmt.Sprintf("callback cost (%s): %s is %s than %s%s (%s)",
			base, r.Scenario, slowerOrFaster(median(costs)), r.Scenario, nocbSuffix, how)
		if base == "sluice" {
			line += fmt.Sprintf("; target ≤ %.0f%%", 100*callbackTarget)
		}
		fmt.Fprintln(w, line)
		line = fmt.Sprintf("  ratio of medians: %s (req/s %s vs %s); CPU µs/req %s vs %s",
			slowerOrFaster(1-a.Median/b.Median), rate(a.Median), rate(b.Median), micros(a.CPUPerReq), micros(b.CPUPerReq))
		if b.CPUPerReq > 0 {
			line += fmt.Sprintf(" (%+.1f%%)", 100*(float64(a.CPUPerReq)/float64(b.CPUPerReq)-1))
		}
		fmt.Fprintln(w, line)
	}
}

// printPairedRatios gives, for every scenario, sluice's req/s against each
// peer's as the median of the per-round ratios: each round runs every
// contender once, so a ratio from one round compares runs some seconds
// apart, and the machine's drift over minutes (which moves the medians of
// the table) mostly cancels. With several rounds the range follows.
func printPairedRatios(w io.Writer, results []result) {
	for _, r := range results {
		if r.Contender != "sluice" || r.Err != nil {
			continue
		}
		for _, other := range []string{"nginx", "pipy"} {
			o, ok := find(results, r.Scenario, other)
			if !ok {
				continue
			}
			var ratios []float64
			for i := range min(len(r.Rounds), len(o.Rounds)) {
				if b := o.Rounds[i].ReqPerSec; b > 0 {
					ratios = append(ratios, r.Rounds[i].ReqPerSec/b)
				}
			}
			if len(ratios) == 0 {
				continue
			}
			line := fmt.Sprintf("%s sluice/%s req/s, paired by round: %.2f×", r.Scenario, other, median(ratios))
			if len(ratios) > 1 {
				line += fmt.Sprintf(" (median of %d rounds, %.2f× to %.2f×)", len(ratios), slices.Min(ratios), slices.Max(ratios))
			}
			fmt.Fprintln(w, line)
		}
	}
}

// clientBoundShare is how busy wrk (one thread) must be, in every round
// against a contender, for that contender's req/s to count as measuring the
// load generator rather than the server.
const clientBoundShare = 0.9

// printClientBound names, for each scenario, the contenders against which
// wrk was at least clientBoundShare busy in every round, when sluice is one
// of two or more: between them req/s differ by what each server makes wrk
// do per request, and by the machine's noise, more than by the servers' own
// speed, which their CPU µs/req shows instead.
func printClientBound(w io.Writer, results []result) {
	var scenarios []string
	bound := map[string][]string{}
	busy := map[string][]float64{}
	for _, r := range results {
		if _, seen := bound[r.Scenario]; !seen {
			scenarios = append(scenarios, r.Scenario)
			bound[r.Scenario] = nil
		}
		if r.Err != nil || len(r.Rounds) == 0 {
			continue
		}
		var shares []float64
		for _, rd := range r.Rounds {
			shares = append(shares, rd.ClientBusy())
		}
		if slices.Min(shares) >= clientBoundShare {
			bound[r.Scenario] = append(bound[r.Scenario], r.Contender)
			busy[r.Scenario] = append(busy[r.Scenario], shares...)
		}
	}
	for _, sc := range scenarios {
		names := bound[sc]
		if len(names) < 2 || !slices.Contains(names, "sluice") {
			continue
		}
		fmt.Fprintf(w, "%s: wrk was %.0f–%.0f%% busy in every round against %s: the load generator set their pace, so their req/s differ by what each server makes wrk do and by noise; compare CPU µs/req for the servers' own cost\n",
			sc, 100*slices.Min(busy[sc]), 100*slices.Max(busy[sc]), strings.Join(names, ", "))
	}
}

// slowerOrFaster words a cost in req/s: a positive one is slower.
func slowerOrFaster(cost float64) string {
	if cost < 0 {
		return fmt.Sprintf("%.1f%% faster", -100*cost)
	}
	return fmt.Sprintf("%.1f%% slower", 100*cost)
}

// percent formats a fraction as a percentage.
func percent(v float64) string {
	return fmt.Sprintf("%.1f%%", 100*v)
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

// groupBy splits v into groups of the same key, in the order each key first
// appears.
func groupBy[T any](v []T, key func(T) string) [][]T {
	var groups [][]T
	index := map[string]int{}
	for _, x := range v {
		k := key(x)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], x)
	}
	return groups
}

// roundOrder is the order of round n: the groups rotated left by n, so
// that each round starts with a different one, and the members of each
// group back to back, rotated left by n as well, so that which of them
// goes first alternates.
func roundOrder[T any](groups [][]T, n int) []T {
	var out []T
	for _, g := range rotate(groups, n) {
		out = append(out, rotate(g, n)...)
	}
	return out
}
