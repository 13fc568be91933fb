package tutorials

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
	"sluice/backend/logging"
	"sluice/backend/metrics"
)

// Options says how to run a step.
type Options struct {
	// Ports maps the documented ports to the ones to use; nil runs the
	// step on the ports its text gives.
	Ports map[int]int
	// Threads is the step's number of workers (0: number of CPUs). Helper
	// services always run on one worker, so what they remember (a log
	// collector's records) is the same for every connection.
	Threads int
	// CallbackBudget is passed to engine.Options.
	CallbackBudget time.Duration
	// OnLoad is called with each program once it has loaded and before it
	// starts (the command prints diagrams with it); name is the service's
	// name, or "" for the step itself.
	OnLoad func(name string, p *engine.Program)
}

// Instance is a running step: its services and itself, each a program with
// a server of its own.
type Instance struct {
	Step     *Step
	Codebase fstest.MapFS // the step's files, ports remapped
	ports    map[int]int
	servers  []*engine.Server
	byPort   map[int]*engine.Server // actual port → server listening on it
	names    []string
	http     *http.Server // the metrics, when the step has a MetricsPort
}

// Start runs the step's services, then the step. On an error whatever had
// started is stopped.
func (st *Step) Start(o Options) (*Instance, error) {
	in := &Instance{Step: st, ports: o.Ports, byPort: map[int]*engine.Server{}}
	start := func(name string, files map[string][]byte, main string, threads int) (fstest.MapFS, error) {
		fsys := codebaseFS(files, o.Ports)
		p, err := engine.Load(engine.Options{FS: fsys, Main: "/" + main, Threads: threads, CallbackBudget: o.CallbackBudget})
		if err != nil {
			return nil, err
		}
		if o.OnLoad != nil {
			o.OnLoad(name, p)
		}
		srv := engine.NewServer()
		if err := srv.Start(p); err != nil {
			p.Stop()
			return nil, err
		}
		in.servers = append(in.servers, srv)
		in.names = append(in.names, name)
		for _, l := range p.Listens {
			in.byPort[l.Port] = srv
		}
		return fsys, nil
	}
	for _, sv := range st.Services {
		files, err := st.set.codebaseFiles(sv.Codebase)
		if err == nil {
			_, err = start(sv.Name, files, sv.Main, 1)
		}
		if err != nil {
			in.Stop()
			return nil, fmt.Errorf("service %s (%s/%s): %w", sv.Name, sv.Codebase, sv.Main, err)
		}
	}
	files, err := st.Files()
	if err == nil {
		in.Codebase, err = start("", files, st.Main, o.Threads)
	}
	if err == nil && st.MetricsPort != 0 {
		err = in.serveMetrics(in.Port(st.MetricsPort))
	}
	if err != nil {
		in.Stop()
		return nil, err
	}
	return in, nil
}

// serveMetrics serves the process's metrics on 127.0.0.1:port.
func (in *Instance) serveMetrics(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	in.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go in.http.Serve(ln)
	logging.Infof("[tutorial] Metrics on http://localhost:%d/metrics", port)
	return nil
}

// Port maps a documented port to the one in use.
func (in *Instance) Port(documented int) int {
	if p, ok := in.ports[documented]; ok {
		return p
	}
	return documented
}

// Stop stops every program of the instance: it stops listening and waits a
// moment for requests in flight.
func (in *Instance) Stop() {
	if in.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		in.http.Shutdown(ctx)
		cancel()
		in.http = nil
	}
	for i := len(in.servers) - 1; i >= 0; i-- {
		srv := in.servers[i]
		srv.Shutdown(time.Second)
		if p := srv.Program(); p != nil {
			p.Stop()
		}
	}
	in.servers = nil
}

// connections is the number of inbound connections open on the server
// listening on the actual port, or -1.
func (in *Instance) connections(port int) int64 {
	srv := in.byPort[port]
	if srv == nil || srv.Program() == nil {
		return -1
	}
	// The workers' counts, which the engine updates last when a
	// connection ends: once they are down, a new connection is assigned
	// as if the old one had never been.
	n := int64(0)
	for _, w := range srv.Program().Workers {
		n += w.Conns.Load()
	}
	return n
}

// waitIdle waits until the server listening on port has at most n inbound
// connections open (it has seen the client leave), for up to a second.
func (in *Instance) waitIdle(port int, n int64) {
	deadline := time.Now().Add(time.Second)
	for in.connections(port) > n && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}

// Requirements

var (
	probeOnce sync.Once
	probe     *engine.Program
	probeErr  error
	probeMu   sync.Mutex
	defined   = map[string]bool{}
)

var globalName = regexp.MustCompile(`^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$`)

// Available reports whether name is a registered filter or a global (a
// dotted path like "crypto.JWT" or "http.File") defined in a worker's
// runtime.
func Available(name string) bool {
	for _, k := range engine.Filters() {
		if k.Name == name {
			return true
		}
	}
	if !globalName.MatchString(name) {
		return false
	}
	probeMu.Lock()
	defer probeMu.Unlock()
	if v, ok := defined[name]; ok {
		return v
	}
	probeOnce.Do(func() {
		probe, probeErr = engine.Load(engine.Options{
			FS:      fstest.MapFS{"probe.js": {Data: []byte("pipy()\n")}},
			Main:    "/probe.js",
			Threads: 1,
		})
		if probeErr == nil {
			probe.Stop()
		}
	})
	if probeErr != nil {
		return false
	}
	ok := false
	w := probe.Workers[0]
	w.Do(func() {
		v, err := w.Runtime().RunString(`(() => { try { return typeof (` + name + `) !== 'undefined' } catch (e) { return false } })()`)
		ok = err == nil && v.Export() == true
	})
	defined[name] = ok
	return ok
}

// Missing returns the names that are not Available, sorted.
func Missing(names []string) []string {
	var out []string
	for _, n := range names {
		if !Available(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
