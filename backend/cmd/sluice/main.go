// Command sluice runs Pipy-style proxy scripts.
//
//	sluice FILE.js [options]
//	sluice --tutorial NN [options]
//	sluice [options]                                  the console (console.go)
//	sluice http://HOST:6060/repo/<codebase>/ [opts]   a worker pulling from a console (worker.go)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"sluice/backend/engine"
	_ "sluice/backend/filters"
	"sluice/backend/logging"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type options struct {
	threads     int
	logLevel    string
	verify      bool
	help        bool
	version     bool
	listFilters bool
	helpFilters bool
	describeAPI bool
	budget      time.Duration
	tutorial    string

	// The console and workers (console.go, worker.go).
	adminPort    int
	adminListen  string
	adminToken   string
	data         string
	instanceName string
	instanceUUID string
}

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC collects less often than Go's default unless GOGC says otherwise.
// A proxy's live heap is small (a few MiB: the script runtimes and the
// open connections), so with GOGC=100 the collector runs some fifty times
// a second under load, about 4% of the CPU; at 300 it runs a quarter as
// often, for a few MiB more of memory under load.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
}

// newFlags defines the command's flags on a fresh set bound to o.
func newFlags(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("sluice", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "")
	fs.StringVar(&o.logLevel, "log-level", "info", "")
	fs.BoolVar(&o.verify, "verify", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.BoolVar(&o.help, "h", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.version, "v", false, "")
	fs.BoolVar(&o.listFilters, "list-filters", false, "")
	fs.BoolVar(&o.helpFilters, "help-filters", false, "")
	fs.BoolVar(&o.describeAPI, "describe-api", false, "")
	fs.DurationVar(&o.budget, "callback-budget", 5*time.Second, "")
	fs.StringVar(&o.tutorial, "tutorial", "", "")
	fs.IntVar(&o.adminPort, "admin-port", 6060, "")
	fs.StringVar(&o.adminListen, "admin-listen", "", "")
	fs.StringVar(&o.adminToken, "admin-token", "", "")
	fs.StringVar(&o.data, "data", "", "")
	fs.StringVar(&o.instanceName, "instance-name", "", "")
	fs.StringVar(&o.instanceUUID, "instance-uuid", "", "")
	return fs
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags(&o)

	// Flags may come before or after the script, as with Pipy.
	var flagArgs, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" {
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if fs.Lookup(name) == nil {
				// Name the option as it was typed, as Pipy does.
				fmt.Fprintf(stderr, "sluice: unknown option: %s\n\n", strings.SplitN(a, "=", 2)[0])
				usage(stderr)
				return 2
			}
			flagArgs = append(flagArgs, a)
			if !hasValue && !isBoolFlag(fs.Lookup(name)) && i+1 < len(args) {
				flagArgs = append(flagArgs, args[i+1])
				i++
			}
			continue
		}
		positional = append(positional, a)
	}
	if err := fs.Parse(flagArgs); err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n\n", err)
		usage(stderr)
		return 2
	}
	switch {
	case o.help:
		usage(stdout)
		return 0
	case o.version:
		fmt.Fprintf(stdout, "Sluice %s\nGo: %s\nPlatform: %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case o.listFilters:
		listFilters(stdout)
		return 0
	case o.describeAPI:
		stdout.Write(append(engine.DescribeJSON(), '\n'))
		return 0
	case o.helpFilters:
		helpFilters(stdout)
		return 0
	}
	level, err := logging.ParseLevel(o.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return 2
	}
	logging.SetLevel(level)
	logging.SetOutput(stderr)
	if o.tutorial != "" && len(positional) > 0 {
		fmt.Fprintf(stderr, "sluice: give a script or --tutorial, not both\n\n")
		usage(stderr)
		return 2
	}
	if len(positional) > 1 {
		fmt.Fprintf(stderr, "sluice: one script expected, got %d: %s\n", len(positional), strings.Join(positional, " "))
		usage(stderr)
		return 2
	}
	if o.threads < 1 {
		fmt.Fprintln(stderr, "sluice: --threads must be at least 1")
		return 2
	}
	if o.verify && (len(positional) == 0 || isRepoURL(positional[0])) {
		fmt.Fprintln(stderr, "sluice: --verify needs a script file")
		return 2
	}
	switch {
	case o.tutorial != "":
		return serveTutorial(o.tutorial, o, stdout)
	case len(positional) == 0:
		return console(o, stdout)
	case isRepoURL(positional[0]):
		return worker(positional[0], o)
	}
	return serve(positional[0], o)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice [options] <script.js | script.ts>
       sluice [options]
       sluice [options] http://HOST:6060/repo/<codebase>/

The first form runs the codebase rooted at the script's folder, with the
script as its main module. With no script, sluice serves the console (a
browser IDE and Pipy's admin API) on 127.0.0.1:6060, keeping codebases in
--data. With a repo URL, sluice is a worker: it pulls the codebase's
committed version from a console, runs it, and switches to every new
version as it is committed.

Options:
  -h, --help              Show this help
  -v, --version           Show version information
  --threads=N             Number of worker threads (default: number of CPUs)
  --log-level=LEVEL       debug, info, warn or error (default: info)
  --verify                Load the script, print its pipeline diagrams, and exit
  --list-filters          List every filter with its signature
  --help-filters          List every filter with its signature and description
  --describe-api          Print the scripting API (configuration methods, filters,
                          classes) as JSON, as the console's completion uses it
  --callback-budget=DUR   Interrupt a script callback that runs longer (default 5s)
  --tutorial=NN           Run step NN of the bundled tutorials, with the services
                          it talks to (--tutorial=list lists the steps)

Console and worker options:
  --admin-port=N          Console port on 127.0.0.1 (default 6060)
  --admin-listen=ADDR:N   Console address; off loopback a token is required
  --admin-token=TOKEN     The console's API token (also SLUICE_ADMIN_TOKEN); off
                          loopback one is generated and printed if not given.
                          A worker sends it to its console.
  --data=DIR              Where the console keeps its codebases (default: the
                          user's data folder, e.g. ~/.local/share/sluice)
  --instance-name=NAME    The worker's name in the console (default: host name)
  --instance-uuid=UUID    The worker's id in the console (default: random)

Signals: SIGINT/SIGTERM stop accepting, let requests in flight finish, then
exit; SIGHUP reloads the codebase from disk (the console: restarts the
running codebase; a worker: downloads its codebase again).
`)
}

func listFilters(w io.Writer) {
	for _, k := range engine.Filters() {
		fmt.Fprintf(w, "%s\n", k.Signature)
	}
}

func helpFilters(w io.Writer) {
	for _, k := range engine.Filters() {
		fmt.Fprintf(w, "%s\n", k.Signature)
		fmt.Fprintf(w, "  %s\n\n", k.Help)
	}
}

func load(file string, o options) (*engine.Program, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", file, errors.Unwrap(err))
	} else if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder; give the main script, e.g. %s", file, filepath.Join(file, "main.js"))
	}
	return engine.Load(engine.Options{
		FS:             os.DirFS(filepath.Dir(abs)),
		Main:           "/" + filepath.Base(abs),
		Threads:        o.threads,
		CallbackBudget: o.budget,
	})
}

func reportLoadError(err error) {
	var se *engine.ScriptError
	if errors.As(err, &se) {
		logging.Errorf("[pjs] %s", se.Detail())
	} else {
		logging.Errorf("%v", err)
	}
}

func printDiagrams(p *engine.Program) {
	for _, m := range p.Modules() {
		for _, line := range m.Diagram() {
			logging.Infof("[config]%s", prefixSpace(line))
		}
	}
}

func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func serve(file string, o options) int {
	if path := os.Getenv("SLUICE_CPUPROFILE"); path != "" {
		// For performance work: a CPU profile of the whole run.
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv("SLUICE_TRACE"); path != "" {
		// For latency work: an execution trace of the whole run.
		if f, err := os.Create(path); err == nil {
			trace.Start(f)
			defer trace.Stop()
		}
	}
	if path := os.Getenv("SLUICE_MEMPROFILE"); path != "" {
		// For allocation work: every allocation of the run, sampled every 4 KiB.
		runtime.MemProfileRate = 4096
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	p, err := load(file, o)
	if err != nil {
		reportLoadError(err)
		logging.Errorf("Failed to load %s", file)
		return 1
	}
	printDiagrams(p)
	if o.verify {
		logging.Infof("[verify] %s is valid", file)
		return 0
	}
	srv := engine.NewServer()
	exit := make(chan int, 1)
	engine.SetProcessHooks(func(code int) {
		select {
		case exit <- code:
		default:
		}
	}, func() { syscall.Kill(os.Getpid(), syscall.SIGHUP) })
	// Catch the signals before the listeners open: once "Listening on port"
	// is logged, a SIGHUP must reload rather than kill the process.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := srv.Start(p); err != nil {
		logging.Errorf("%v", err)
		return 1
	}
	for {
		select {
		case code := <-exit:
			srv.Shutdown(10 * time.Second)
			return code
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				logging.Infof("[reload] Reloading %s", file)
				np, err := load(file, o)
				if err != nil {
					reportLoadError(err)
					logging.Errorf("[reload] Failed to reload; the previous version keeps running")
					continue
				}
				printDiagrams(np)
				if err := srv.Start(np); err != nil {
					logging.Errorf("[reload] %v; the previous version keeps running", err)
					continue
				}
				logging.Infof("[reload] Reloaded")
				continue
			}
			logging.Infof("[shutdown] Shutting down...")
			go func() {
				// A second signal forces the stop.
				<-sigs
				logging.Infof("[shutdown] Forced to stop")
				os.Exit(1)
			}()
			if left := srv.Shutdown(30 * time.Second); left > 0 {
				logging.Warnf("[shutdown] %d requests still in flight were dropped", left)
			}
			logging.Infof("[shutdown] Stopped.")
			return 0
		}
	}
}
