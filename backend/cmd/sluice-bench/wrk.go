package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	Requests   int64         // total requests completed
	Elapsed    time.Duration // the run's measured duration
	ReqPerSec  float64       // the "Requests/sec:" line
	Latency    map[int]time.Duration
	Non2xx     int64         // "Non-2xx or 3xx responses: N"
	SockErrors int64         // sum of connect, read, write and timeout errors
	ClientCPU  time.Duration // wrk's own CPU time (user and system), when known
}

// ClientBusy is the share of the run wrk spent on a CPU, or 0 when
// unknown. Near 1 with one wrk thread, wrk set the pace, not the server.
func (r wrkResult) ClientBusy() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return r.ClientCPU.Seconds() / r.Elapsed.Seconds()
}

// P50 and P99 are the median and 99th percentile latencies.
func (r wrkResult) P50() time.Duration { return r.Latency[50] }
func (r wrkResult) P99() time.Duration { return r.Latency[99] }

// wrkRun describes one load run.
type wrkRun struct {
	Bin         string   // the wrk executable
	Pin         []string // a command prefix that pins wrk to a CPU, or nil
	URL         string
	Connections int
	Duration    time.Duration
}

// run executes wrk and parses its output. The process is killed when ctx is
// cancelled.
func (w wrkRun) run(ctx context.Context) (wrkResult, error) {
	secs := max(1, int((w.Duration+time.Second/2)/time.Second))
	args := append(append([]string{}, w.Pin...), w.Bin,
		"-t1", fmt.Sprintf("-c%d", w.Connections), fmt.Sprintf("-d%ds", secs), "--latency", w.URL)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	setProcessGroup(cmd)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return wrkResult{}, ctx.Err()
	}
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w: %s", w.URL, err, strings.TrimSpace(string(out)))
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w", w.URL, err)
	}
	// taskset execs wrk, so the process measured is wrk itself.
	res.ClientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

// parseWrk reads the text wrk prints with --latency.
func parseWrk(out string) (wrkResult, error) {
	res := wrkResult{Latency: map[int]time.Duration{}}
	var haveTotal, haveRate, inDist bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case line == "Latency Distribution":
			inDist = true
			continue
		case inDist && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			pct, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
			if err != nil {
				return res, fmt.Errorf("latency line %q: %w", line, err)
			}
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return res, fmt.Errorf("latency line %q: %w", line, err)
			}
			res.Latency[int(pct)] = d
			continue
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			// "141193 requests in 2.00s, 21.41MB read"
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return res, fmt.Errorf("total line %q: %w", line, err)
			}
			d, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return res, fmt.Errorf("total line %q: %w", line, err)
			}
			res.Requests, res.Elapsed, haveTotal = n, d, true
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return res, fmt.Errorf("rate line %q: %w", line, err)
			}
			res.ReqPerSec, haveRate = v, true
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
			if err != nil {
				return res, fmt.Errorf("non-2xx line %q: %w", line, err)
			}
			res.Non2xx = n
		case strings.HasPrefix(line, "Socket errors:"):
			// "Socket errors: connect 0, read 14428, write 0, timeout 0"
			for i := 2; i+1 < len(f); i += 2 {
				n, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil {
					return res, fmt.Errorf("socket errors line %q: %w", line, err)
				}
				res.SockErrors += n
			}
		}
		inDist = false
	}
	if !haveTotal || !haveRate {
		msg := strings.TrimSpace(out)
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		return res, fmt.Errorf("unrecognised wrk output: %q", msg)
	}
	for _, p := range []int{50, 99} {
		if _, ok := res.Latency[p]; !ok {
			return res, fmt.Errorf("wrk output lacks the %d%% latency (was --latency given?)", p)
		}
	}
	return res, nil
}

// parseWrkDuration reads wrk's time format: a number followed by us, ms, s,
// m or h.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(math.Round(v * float64(u.unit))), nil
		}
	}
	return 0, errors.New("bad duration " + strconv.Quote(s))
}
