// Command sluice-bench measures sluice against nginx (and Pipy, when PIPY
// names its binary) on loopback, side by side in one run: a "hello" HTTP
// responder and a keep-alive reverse proxy to an upstream embedded here.
// Load comes from wrk; CPU time and memory come from /proc.
//
//	sluice-bench [-scenario hello|proxy|all] [-rounds 3] [-duration 5s] [-sluice bin/sluice]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	Scenario    string
	Rounds      int
	Duration    time.Duration
	Warmup      time.Duration
	Connections int
	Sluice      string
	Nginx       string
	Wrk         string
	Pipy        string
	PipyFlags   string
}

func main() {
	var o options
	flag.StringVar(&o.Scenario, "scenario", "all", "scenario to run: hello, proxy or all")
	flag.IntVar(&o.Rounds, "rounds", 3, "measured rounds per contender")
	flag.DurationVar(&o.Duration, "duration", 5*time.Second, "length of one round (whole seconds)")
	flag.DurationVar(&o.Warmup, "warmup", 2*time.Second, "warm-up load before the rounds")
	flag.IntVar(&o.Connections, "connections", 50, "wrk connections")
	flag.StringVar(&o.Sluice, "sluice", "bin/sluice", "sluice binary")
	flag.StringVar(&o.Nginx, "nginx", "nginx", "nginx binary")
	flag.StringVar(&o.Wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&o.PipyFlags, "pipy-flags", "", "flags passed to Pipy after the script (Pipy runs one thread unless told otherwise)")
	upstream := flag.String("upstream", "", "internal: only serve the benchmark upstream on this address")
	flag.Parse()
	o.Pipy = os.Getenv("PIPY")

	if *upstream != "" {
		if err := runUpstream(*upstream); err != nil {
			fmt.Fprintln(os.Stderr, "sluice-bench upstream:", err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluice-bench:", err)
		os.Exit(1)
	}
}

func runUpstream(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveUpstream(ln)
}

// bench holds what every scenario shares.
type bench struct {
	opts       options
	dir        string   // temporary directory for configs, scripts and logs
	self       string   // this executable, re-run as the upstream server
	serverPin  []string // taskset prefix for servers and the upstream, or nil
	wrkPin     []string // taskset prefix for wrk, or nil
	contenders []contender
}

func run(ctx context.Context, o options) error {
	scs, err := selectScenarios(o.Scenario)
	if err != nil {
		return err
	}
	if o.Rounds < 1 || o.Duration < time.Second {
		return errors.New("need -rounds >= 1 and -duration >= 1s")
	}
	b := &bench{opts: o}
	if o.Wrk, err = exec.LookPath(o.Wrk); err != nil {
		return fmt.Errorf("wrk not found (apt-get install -y wrk): %w", err)
	}
	if o.Nginx, err = lookPathSbin(o.Nginx); err != nil {
		return fmt.Errorf("nginx not found (apt-get install -y nginx-light): %w", err)
	}
	if o.Sluice, err = filepath.Abs(o.Sluice); err != nil {
		return err
	}
	b.opts = o
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	b.contenders = []contender{
		scriptContender("sluice", o.Sluice, []string{"--threads=1"}),
		nginxContender(o.Nginx),
	}
	if o.Pipy != "" {
		b.contenders = append(b.contenders, scriptContender("pipy", o.Pipy, strings.Fields(o.PipyFlags)))
	}
	if b.dir, err = os.MkdirTemp("", "sluice-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)

	m := readMachine()
	fmt.Printf("machine: %d CPUs available (nproc), %d in /proc/cpuinfo, %s; load average %s at start\n",
		runtime.NumCPU(), m.CPUs, m.Model, m.LoadAvg)
	cpus := allowedCPUs()
	_, tasksetErr := exec.LookPath("taskset")
	switch {
	case len(cpus) >= 2 && tasksetErr == nil:
		b.serverPin = []string{"taskset", "-c", strconv.Itoa(cpus[0])}
		b.wrkPin = []string{"taskset", "-c", strconv.Itoa(cpus[1])}
		fmt.Printf("pinning: each server on CPU %d (the proxy upstream shares it), wrk on CPU %d\n", cpus[0], cpus[1])
	case tasksetErr != nil:
		fmt.Println("pinning: off (taskset not found); servers, upstream and wrk share all CPUs")
	default:
		fmt.Println("pinning: off (one CPU); servers, upstream and wrk share it")
	}
	fmt.Printf("load: wrk -t1 -c%d, %d rounds × %v per contender after a %v warm-up, contenders alternating\n\n",
		o.Connections, o.Rounds, o.Duration, o.Warmup)

	var results []result
	for _, sc := range scs {
		rs, err := b.runScenario(ctx, sc)
		results = append(results, rs...)
		if err != nil {
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			return err
		}
	}
	fmt.Println()
	printTable(os.Stdout, results)
	return nil
}

// runScenario starts every contender for sc (and the upstream if sc needs
// one), warms them up, and measures them in alternating rounds. Everything
// it starts is stopped before it returns.
func (b *bench) runScenario(ctx context.Context, sc scenario) ([]result, error) {
	o := b.opts
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	upstreamPort := 0
	if sc.Upstream {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		p, err := startProcess("upstream-"+sc.Name, b.serverPin, []string{b.self, "-upstream", addr}, b.dir, "GOMAXPROCS=1")
		if err != nil {
			return nil, err
		}
		stops = append(stops, p.Stop)
		if _, _, err := waitHTTP(ctx, p, "http://"+addr+"/", 10*time.Second); err != nil {
			return nil, fmt.Errorf("upstream: %w", err)
		}
		upstreamPort = port
	}

	type live struct {
		res  *result
		proc *process
		url  string
	}
	results := make([]result, len(b.contenders))
	var running []live
	for i, c := range b.contenders {
		results[i] = result{Scenario: sc.Name, Contender: c.Name}
		p, url, err := b.start(ctx, c, sc, upstreamPort)
		if p != nil {
			stops = append(stops, p.Stop)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			results[i].Err = err
			fmt.Printf("%s/%s: %v\n", sc.Name, c.Name, err)
			continue
		}
		running = append(running, live{&results[i], p, url})
	}

	load := func(url string, d time.Duration) (wrkResult, error) {
		return wrkRun{Bin: o.Wrk, Pin: b.wrkPin, URL: url, Connections: o.Connections, Duration: d}.run(ctx)
	}
	for _, l := range running {
		fmt.Printf("%s/%s: warming up\n", sc.Name, l.res.Contender)
		if _, err := load(l.url, o.Warmup); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			l.res.Err = fmt.Errorf("warm-up: %w", err)
			fmt.Printf("%s/%s: %v\n", sc.Name, l.res.Contender, l.res.Err)
		}
	}
	for round := range o.Rounds {
		for _, l := range rotate(running, round) {
			if l.res.Err != nil {
				continue
			}
			cpu0 := treeCPU(l.proc.Pid())
			w, err := load(l.url, o.Duration)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			cpu1 := treeCPU(l.proc.Pid())
			if err == nil && l.proc.Exited() {
				err = l.proc.failure("exited during the run")
			}
			if err != nil {
				l.res.Err = err
				fmt.Printf("%s/%s round %d: %v\n", sc.Name, l.res.Contender, round+1, err)
				continue
			}
			l.res.Rounds = append(l.res.Rounds, w)
			l.res.CPU += cpu1 - cpu0
			l.res.RSS = max(l.res.RSS, treeRSS(l.proc.Pid()))
			fmt.Printf("%s/%s round %d/%d: %.0f req/s, p50 %s, p99 %s\n", sc.Name, l.res.Contender,
				round+1, o.Rounds, w.ReqPerSec, latency(w.P50()), latency(w.P99()))
		}
	}
	return results, nil
}

// start launches contender c for sc on a free port and waits until it
// answers correctly. The returned process, if any, must be stopped.
func (b *bench) start(ctx context.Context, c contender, sc scenario, upstreamPort int) (*process, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	argv, err := c.Prepare(b.dir, sc, port, upstreamPort)
	if err != nil {
		return nil, "", err
	}
	p, err := startProcess(c.Name+"-"+sc.Name, b.serverPin, argv, b.dir)
	if err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	status, body, err := waitHTTP(ctx, p, url, 15*time.Second)
	if err != nil {
		return p, "", err
	}
	if status != 200 || body != expectedBody {
		return p, "", fmt.Errorf("wrong answer: status %d, body %q (want 200, %q)", status, body, expectedBody)
	}
	return p, url, nil
}

// lookPathSbin is exec.LookPath that also tries the sbin directories, which
// are not on every user's PATH.
func lookPathSbin(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil || strings.Contains(name, "/") {
		return p, err
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if p, err2 := exec.LookPath(filepath.Join(dir, name)); err2 == nil {
			return p, nil
		}
	}
	return "", err
}
