// Command sluice-bench measures sluice against nginx (and Pipy, when PIPY
// names its binary) on loopback, side by side in one run: a "hello" HTTP
// responder and a keep-alive reverse proxy to an upstream embedded here.
// In the proxy's block sluice and Pipy also run the same proxy without its
// per-request script callback (sluice-nocb, pipy-nocb), each back to back
// with its own contender in every round, which prices one callback. Load
// comes from wrk; CPU time and memory come from /proc.
//
// After that table come sluice's throughput with one and two threads when
// not pinned to a CPU (-threads-curve), every contender's memory idle and
// holding idle keep-alive connections (-memory, -idle-conns), and, when
// asked for, a long run of the proxy watching sluice's memory (-soak).
//
//	sluice-bench [-scenario all|none|hello,proxy] [-rounds 5] [-duration 5s]
//	             [-threads-curve=true] [-memory=true] [-idle-conns 1000] [-soak 10m]
//	             [-sluice bin/sluice]
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
	Curve       bool          // measure sluice with one and two threads
	Memory      bool          // measure memory idle and with idle connections
	IdleConns   int           // idle keep-alive connections for the memory check
	Soak        time.Duration // length of the soak run, or 0 for none
}

func main() {
	var o options
	flag.StringVar(&o.Scenario, "scenario", "all", "scenarios for the main table: all, none, or names separated by commas (hello, proxy)")
	flag.IntVar(&o.Rounds, "rounds", 5, "measured rounds per contender (this machine's noise needs several)")
	flag.DurationVar(&o.Duration, "duration", 5*time.Second, "length of one round (whole seconds)")
	flag.DurationVar(&o.Warmup, "warmup", 2*time.Second, "warm-up load before the rounds")
	flag.IntVar(&o.Connections, "connections", 50, "wrk connections")
	flag.StringVar(&o.Sluice, "sluice", "bin/sluice", "sluice binary")
	flag.StringVar(&o.Nginx, "nginx", "nginx", "nginx binary")
	flag.StringVar(&o.Wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&o.PipyFlags, "pipy-flags", "", "flags passed to Pipy after the script (Pipy runs one thread unless told otherwise)")
	flag.BoolVar(&o.Curve, "threads-curve", true, "also run sluice's hello and proxy with 1 and 2 threads, not pinned to a CPU")
	flag.BoolVar(&o.Memory, "memory", true, "also measure each contender's RSS idle and holding -idle-conns keep-alive connections")
	flag.IntVar(&o.IdleConns, "idle-conns", 1000, "idle keep-alive connections held open for the memory check")
	flag.DurationVar(&o.Soak, "soak", 0, "also load sluice's proxy for this long, sampling its RSS every 10s (e.g. 10m; 0 for none)")
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
	wrkCPU     int      // the CPU wrk is pinned to, when wrkPin is set
	contenders []contender
}

func run(ctx context.Context, o options) error {
	if _, err := selectScenarios(o.Scenario); err != nil {
		return err
	}
	if o.Rounds < 1 || o.Duration < time.Second {
		return errors.New("need -rounds >= 1 and -duration >= 1s")
	}
	if o.Soak < 0 || (o.Soak > 0 && o.Soak < time.Second) {
		return errors.New("need -soak >= 1s, or 0 for none")
	}
	if o.Memory && o.IdleConns < 1 {
		return errors.New("need -idle-conns >= 1")
	}
	b := &bench{opts: o}
	var err error
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
	if limit, err := raiseFileLimit(); err != nil {
		fmt.Printf("open files: could not raise the limit (%v); it stays at %d\n", err, limit)
	} else {
		fmt.Printf("open files: limit %d (raised to the hard limit; servers inherit it)\n", limit)
	}
	cpus := allowedCPUs()
	_, tasksetErr := exec.LookPath("taskset")
	switch {
	case len(cpus) >= 2 && tasksetErr == nil:
		b.serverPin = []string{"taskset", "-c", strconv.Itoa(cpus[0])}
		b.wrkPin = []string{"taskset", "-c", strconv.Itoa(cpus[1])}
		b.wrkCPU = cpus[1]
		fmt.Printf("pinning: each server on CPU %d (the proxy upstream shares it), wrk on CPU %d\n", cpus[0], cpus[1])
	case tasksetErr != nil:
		fmt.Println("pinning: off (taskset not found); servers, upstream and wrk share all CPUs")
	default:
		fmt.Println("pinning: off (one CPU); servers, upstream and wrk share it")
	}
	fmt.Printf("load: wrk -t1 -c%d, %d rounds × %v per contender after a %v warm-up, contenders alternating, each -nocb variant back to back with its contender\n",
		o.Connections, o.Rounds, o.Duration, o.Warmup)

	sections := []func(context.Context) error{b.mainTable}
	if o.Curve {
		sections = append(sections, b.threadsCurve)
	}
	if o.Memory {
		sections = append(sections, b.memory)
	}
	if o.Soak > 0 {
		sections = append(sections, b.soak)
	}
	for _, section := range sections {
		if err := section(ctx); err != nil {
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			return err
		}
	}
	return nil
}

// mainTable measures every contender in the chosen scenarios, each server
// pinned to its CPU, and prints the table and the cost of a callback.
func (b *bench) mainTable(ctx context.Context) error {
	scs, err := selectScenarios(b.opts.Scenario)
	if err != nil || len(scs) == 0 {
		return err
	}
	fmt.Println()
	var results []result
	for _, sc := range scs {
		rs, err := b.runScenario(ctx, sc, blockContenders(sc, b.contenders), b.serverPin)
		results = append(results, rs...)
		if err != nil {
			return err
		}
	}
	fmt.Println()
	printTable(os.Stdout, results)
	printPairedRatios(os.Stdout, results)
	printClientBound(os.Stdout, results)
	printCallbackCost(os.Stdout, results)
	return nil
}

// runScenario starts contenders for sc (and the upstream if sc needs one),
// each prefixed with pin, warms them up, and measures them in alternating
// rounds, a variant back to back with its base (see roundOrder). Results
// come in the order of contenders. Everything it starts is stopped before
// it returns.
func (b *bench) runScenario(ctx context.Context, sc scenario, contenders []contender, pin []string) ([]result, error) {
	o := b.opts
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	upstreamPort := 0
	if sc.Upstream {
		p, port, err := b.startUpstream(ctx, sc, pin)
		if p != nil {
			stops = append(stops, p.Stop)
		}
		if err != nil {
			return nil, err
		}
		upstreamPort = port
	}

	type live struct {
		res   *result
		proc  *process
		url   string
		group string // see contender.group
	}
	results := make([]result, len(contenders))
	var running []live
	for i, c := range contenders {
		results[i] = result{Scenario: sc.Name, Contender: c.Name}
		p, url, err := b.start(ctx, c, sc, upstreamPort, pin)
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
		running = append(running, live{&results[i], p, url, c.group()})
	}

	for _, l := range running {
		fmt.Printf("%s/%s: warming up\n", sc.Name, l.res.Contender)
		if _, err := b.load(ctx, l.url, o.Warmup); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			l.res.Err = fmt.Errorf("warm-up: %w", err)
			fmt.Printf("%s/%s: %v\n", sc.Name, l.res.Contender, l.res.Err)
		}
	}
	groups := groupBy(running, func(l live) string { return l.group })
	for round := range o.Rounds {
		for _, l := range roundOrder(groups, round) {
			if l.res.Err != nil {
				continue
			}
			cpu0 := treeCPU(l.proc.Pid())
			w, err := b.load(ctx, l.url, o.Duration)
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
			fmt.Printf("%s/%s round %d/%d: %.0f req/s, p50 %s, p99 %s, wrk %.0f%% busy\n", sc.Name, l.res.Contender,
				round+1, o.Rounds, w.ReqPerSec, latency(w.P50()), latency(w.P99()), 100*w.ClientBusy())
		}
	}
	return results, nil
}

// load runs wrk against url for d.
func (b *bench) load(ctx context.Context, url string, d time.Duration) (wrkResult, error) {
	o := b.opts
	return wrkRun{Bin: o.Wrk, Pin: b.wrkPin, URL: url, Connections: o.Connections, Duration: d}.run(ctx)
}

// startUpstream launches the embedded upstream for sc, prefixed with pin,
// and waits until it answers. The returned process, if any, must be
// stopped.
func (b *bench) startUpstream(ctx context.Context, sc scenario, pin []string) (*process, int, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := startProcess("upstream-"+sc.Name, pin, []string{b.self, "-upstream", addr}, b.dir, "GOMAXPROCS=1")
	if err != nil {
		return nil, 0, err
	}
	if _, _, err := waitHTTP(ctx, p, "http://"+addr+"/", 10*time.Second); err != nil {
		return p, 0, fmt.Errorf("upstream: %w", err)
	}
	return p, port, nil
}

// start launches contender c for sc on a free port, prefixed with pin, and
// waits until it answers correctly. The returned process, if any, must be
// stopped.
func (b *bench) start(ctx context.Context, c contender, sc scenario, upstreamPort int, pin []string) (*process, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	argv, err := c.Prepare(b.dir, sc, port, upstreamPort)
	if err != nil {
		return nil, "", err
	}
	p, err := startProcess(c.Name+"-"+sc.Name, pin, argv, b.dir)
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

// raiseFileLimit lifts this process's open-file limit to its hard limit,
// so that it and the servers it starts (which inherit it) can hold the
// memory check's connections. It returns the limit in force.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	// Go raises the soft limit of its own process already, but restores the
	// original in the processes it starts unless the program sets the limit
	// itself, which is what passes it on to the servers.
	want := lim
	want.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return lim.Cur, err
	}
	return want.Cur, nil
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
