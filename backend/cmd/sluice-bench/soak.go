package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// soakWindow is how often the soak samples sluice's memory: the load runs
// as back-to-back wrk runs of this length.
const soakWindow = 10 * time.Second

// soakSample is what one window of the soak measured.
type soakSample struct {
	At        time.Duration // the window's end, from the start of the soak
	RSS       int64         // sampled near the end of the window, under load
	ReqPerSec float64
	P99       time.Duration
	CPUPerReq time.Duration
}

// soak loads sluice's proxy scenario for the -soak duration, sampling its
// RSS every soakWindow, and prints the samples and how much memory grew.
func (b *bench) soak(ctx context.Context) error {
	total := b.opts.Soak
	sc, _ := scenarioNamed("proxy")
	sluice := b.contenders[0]
	fmt.Printf("\nsoak: sluice, proxy scenario, %v of back-to-back %v wrk runs (-c%d), pinned as above; RSS sampled under load near the end of each run\n",
		total, soakWindow, b.opts.Connections)

	upstream, port, err := b.startUpstream(ctx, sc, b.serverPin)
	if upstream != nil {
		defer upstream.Stop()
	}
	if err != nil {
		return err
	}
	p, url, err := b.start(ctx, sluice, sc, port, b.serverPin)
	if p != nil {
		defer p.Stop()
	}
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}

	var samples []soakSample
	var at time.Duration
	var failure error
	for _, w := range soakWindows(total, soakWindow) {
		at += w
		s, err := b.soakOnce(ctx, p, url, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failure = err
			fmt.Printf("soak %s: %v\n", clock(at), err)
			break
		}
		s.At = at
		samples = append(samples, s)
		fmt.Printf("soak %s: RSS %s MiB, %s req/s, p99 %s, %s µs/req CPU\n",
			clock(s.At), mib(s.RSS), rate(s.ReqPerSec), latency(s.P99), micros(s.CPUPerReq))
	}
	fmt.Println()
	printSoak(os.Stdout, samples)
	if failure != nil {
		fmt.Println("warning: soak stopped early:", failure)
	}
	return nil
}

// soakOnce loads url for w, sampling p's RSS shortly before the load ends.
func (b *bench) soakOnce(ctx context.Context, p *process, url string, w time.Duration) (soakSample, error) {
	type outcome struct {
		res wrkResult
		err error
	}
	done := make(chan outcome, 1)
	cpu0 := treeCPU(p.Pid())
	go func() {
		res, err := b.load(ctx, url, w)
		done <- outcome{res, err}
	}()
	settle(ctx, w-min(time.Second, w/2))
	rss := treeRSS(p.Pid())
	out := <-done
	cpu1 := treeCPU(p.Pid())
	if out.err == nil && p.Exited() {
		out.err = p.failure("exited during the soak")
	}
	if out.err != nil {
		return soakSample{}, out.err
	}
	if n := out.res.Non2xx + out.res.SockErrors; n > 0 {
		return soakSample{}, fmt.Errorf("%d non-2xx responses, %d socket errors", out.res.Non2xx, out.res.SockErrors)
	}
	s := soakSample{RSS: rss, ReqPerSec: out.res.ReqPerSec, P99: out.res.P99()}
	if out.res.Requests > 0 {
		s.CPUPerReq = (cpu1 - cpu0) / time.Duration(out.res.Requests)
	}
	return s, nil
}

// soakWindows splits total into windows of length window, the last one
// shorter if need be; wrk counts whole seconds, so the last is rounded to
// one, and dropped if that leaves nothing.
func soakWindows(total, window time.Duration) []time.Duration {
	var ws []time.Duration
	for ; total >= window; total -= window {
		ws = append(ws, window)
	}
	if rest := total.Round(time.Second); rest > 0 {
		ws = append(ws, rest)
	}
	return ws
}

// soakGrowth returns the largest RSS of the soak's first minute and of its
// last minute (which overlap when it ran less than two).
func soakGrowth(samples []soakSample) (first, last int64) {
	if len(samples) == 0 {
		return 0, 0
	}
	end := samples[len(samples)-1].At
	for i, s := range samples {
		if s.At <= time.Minute || i == 0 {
			first = max(first, s.RSS)
		}
		if s.At > end-time.Minute {
			last = max(last, s.RSS)
		}
	}
	return first, last
}

// printSoak writes the soak's samples and its memory growth.
func printSoak(w io.Writer, samples []soakSample) {
	if len(samples) == 0 {
		fmt.Fprintln(w, "soak: no samples")
		return
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "time\tRSS MiB\treq/s\tp99\tCPU µs/req\t")
	for _, s := range samples {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", clock(s.At), mib(s.RSS), rate(s.ReqPerSec), latency(s.P99), micros(s.CPUPerReq))
	}
	tw.Flush()
	writeTable(w, table.String())
	first, last := soakGrowth(samples)
	fmt.Fprintf(w, "soak RSS growth: %+.1f MiB (largest in the first minute %s MiB, in the last minute %s MiB); target: no growth\n",
		float64(last-first)/(1<<20), mib(first), mib(last))
	if samples[len(samples)-1].At < 2*time.Minute {
		fmt.Fprintln(w, "(the soak ran less than two minutes, so its first and last minutes overlap)")
	}
}

// clock formats a time from the start of the soak as m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
