package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// curveThreads are the thread counts of the threads curve; the first is
// the base the others are compared with.
var curveThreads = []int{1, 2}

// curveScenarios are the scenarios the threads curve runs.
var curveScenarios = []string{"hello", "proxy"}

// curvePoint is sluice measured with one thread count in one scenario.
type curvePoint struct {
	Threads int
	Res     result
}

// threadsCurve measures sluice with each of curveThreads, its threads free
// to run on every CPU, and prints how throughput and CPU per request change
// with them.
func (b *bench) threadsCurve(ctx context.Context) error {
	var contenders []contender
	for _, n := range curveThreads {
		flags := []string{fmt.Sprintf("--threads=%d", n)}
		contenders = append(contenders, scriptContender(fmt.Sprintf("sluice-t%d", n), b.opts.Sluice, flags))
	}
	fmt.Printf("\nthreads curve: sluice with %s threads; %s\n\n", joinInts(curveThreads, ", "), b.curvePinning())
	var points []curvePoint
	for _, name := range curveScenarios {
		sc, _ := scenarioNamed(name)
		rs, err := b.runScenario(ctx, sc, contenders, nil)
		if err != nil {
			return err
		}
		for i, r := range rs {
			points = append(points, curvePoint{Threads: curveThreads[i], Res: r})
		}
	}
	fmt.Println()
	printCurve(os.Stdout, points)
	return nil
}

// curvePinning says where the threads curve runs what.
func (b *bench) curvePinning() string {
	if b.wrkPin == nil {
		return "sluice, the proxy upstream and wrk all unpinned, sharing every CPU"
	}
	return fmt.Sprintf("sluice and the proxy upstream unpinned (all CPUs), wrk pinned to CPU %d, so sluice shares that CPU with wrk", b.wrkCPU)
}

// printCurve writes the threads curve: a row per scenario and thread count,
// then each thread count's ratios to the first one's (req/s: above 1× is
// better; latency and CPU per request: above 1× is worse).
func printCurve(w io.Writer, points []curvePoint) {
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tthreads\treq/s median (min–max)\tp50\tp99\tRSS MiB\tCPU µs/req\t")
	var warnings []string
	for i, p := range points {
		r := p.Res
		if i > 0 && r.Scenario != points[i-1].Res.Scenario {
			fmt.Fprintln(tw, "\t\t\t\t\t\t\t")
		}
		if r.Err != nil || len(r.Rounds) == 0 {
			fmt.Fprintf(tw, "%s\t%d\tfailed\t\t\t\t\t\n", r.Scenario, p.Threads)
			warnings = append(warnings, fmt.Sprintf("%s with %d threads failed: %v", r.Scenario, p.Threads, r.Err))
		} else {
			s := summarize(r)
			fmt.Fprintf(tw, "%s\t%d\t%s (%s–%s)\t%s\t%s\t%.1f\t%s\t\n", r.Scenario, p.Threads,
				rate(s.Median), rate(s.Min), rate(s.Max), latency(s.P50), latency(s.P99), s.RSSMiB, micros(s.CPUPerReq))
			warnings = append(warnings, s.warnings(fmt.Sprintf("%s with %d threads", r.Scenario, p.Threads))...)
		}
		if i+1 == len(points) || points[i+1].Res.Scenario != r.Scenario {
			printCurveRatios(tw, points, r.Scenario)
		}
	}
	tw.Flush()
	writeTable(w, table.String())
	for _, warn := range warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
}

// printCurveRatios adds an "N vs B" row for every measured thread count N
// in scenario but the first, B.
func printCurveRatios(w io.Writer, points []curvePoint, scenario string) {
	var base *curvePoint
	for i := range points {
		p := &points[i]
		if p.Res.Scenario != scenario || p.Res.Err != nil || len(p.Res.Rounds) == 0 {
			continue
		}
		if base == nil {
			base = p
			continue
		}
		s, b := summarize(p.Res), summarize(base.Res)
		fmt.Fprintf(w, "%s\t%d vs %d\t%s\t%s\t%s\t%s\t%s\t\n", scenario, p.Threads, base.Threads,
			ratio(s.Median, b.Median), ratio(float64(s.P50), float64(b.P50)),
			ratio(float64(s.P99), float64(b.P99)), ratio(s.RSSMiB, b.RSSMiB),
			ratio(float64(s.CPUPerReq), float64(b.CPUPerReq)))
	}
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, sep)
}
