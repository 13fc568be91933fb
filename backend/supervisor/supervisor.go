// Package supervisor runs one program at a time, as generations on an
// engine.Server: starting a codebase loads it into a new Program and swaps
// it in; listeners on ports both generations use stay open and connections
// in flight finish on the generation that accepted them. A codebase that
// fails to load (a syntax error, a throw or an endless loop at the top
// level, a port that cannot be bound) leaves the running generation as it
// was. Script callbacks that throw or loop at run time are contained by the
// engine (the throw ends its stream; the loop is interrupted after the
// callback budget), so nothing a script does takes the process down.
//
// The console runs codebases with it (POST /api/v1/program), and so does a
// worker that pulls its codebase from a console.
//
// Threading: every method is safe for concurrent use. Start and Stop are
// serialized; the readers (State, Status, Counters) never wait for a load.
package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"sluice/backend/engine"
	"sluice/backend/logging"
)

// Options configures a supervisor.
type Options struct {
	Threads        int           // workers per program; 0 = number of CPUs
	CallbackBudget time.Duration // 0 = the engine's default (5s)
	UUID           string        // this instance, for Status
	Name           string        // this instance's name, for Status
}

// Supervisor owns the server and the current generation.
type Supervisor struct {
	opts  Options
	srv   *engine.Server
	mu    sync.Mutex // serializes Start and Stop
	state atomic.Pointer[State]

	cmu     sync.Mutex
	changed chan struct{}
}

// State describes the current generation.
type State struct {
	Running    bool   // a program is serving
	Codebase   string // what runs, e.g. "/hello"; "" when stopped
	Version    string // its version, e.g. "3" (a draft run: "3+draft")
	Main       string
	Generation int // counts successful starts
	Started    time.Time
	Program    *engine.Program
	// Modules are the graphs of the program's modules, as Pipy's
	// Status::to_json carries them.
	Modules map[string]ModuleStatus
}

// ModuleStatus is one module in a Status.
type ModuleStatus struct {
	Graph json.RawMessage `json:"graph"`
}

// Status is Pipy's status JSON: what a worker posts to its console and
// GET /api/v1/status returns.
type Status struct {
	Timestamp int64                   `json:"timestamp"`
	UUID      string                  `json:"uuid"`
	Name      string                  `json:"name"`
	Version   string                  `json:"version"`
	Modules   map[string]ModuleStatus `json:"modules"`
}

// New returns a supervisor with nothing running.
func New(opts Options) *Supervisor {
	s := &Supervisor{opts: opts, srv: engine.NewServer(), changed: make(chan struct{})}
	s.state.Store(&State{Modules: map[string]ModuleStatus{}})
	return s
}

// Server is the engine server the generations run on.
func (s *Supervisor) Server() *engine.Server { return s.srv }

// State returns the current generation's description. Do not modify it.
func (s *Supervisor) State() *State { return s.state.Load() }

// Changed returns a channel closed at the next change of State.
func (s *Supervisor) Changed() <-chan struct{} {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.changed
}

func (s *Supervisor) publish(st *State) {
	s.state.Store(st)
	s.cmu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.cmu.Unlock()
}

// LoadError is a codebase that could not start: Err is an
// *engine.ScriptError when the failure has a place in the scripts.
type LoadError struct {
	Codebase string
	Err      error
}

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// Script returns the located script error, if the failure has one.
func (e *LoadError) Script() *engine.ScriptError {
	var se *engine.ScriptError
	if errors.As(e.Err, &se) {
		return se
	}
	return nil
}

// Start loads the codebase (main in fsys) and makes it the running
// generation. On failure the error, a *LoadError, has been logged, and the
// previous generation, if any, keeps running.
func (s *Supervisor) Start(codebase, version string, fsys fs.FS, main string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := engine.Load(engine.Options{FS: fsys, Main: main, Threads: s.opts.Threads, CallbackBudget: s.opts.CallbackBudget})
	if err != nil {
		var se *engine.ScriptError
		if errors.As(err, &se) {
			logging.Errorf("[pjs] %s", se.Detail())
		} else {
			logging.Errorf("%v", err)
		}
		logging.Errorf("[program] Failed to start up %s", codebase)
		return &LoadError{Codebase: codebase, Err: err}
	}
	modules := map[string]ModuleStatus{}
	for _, m := range p.Modules() {
		for _, line := range m.Diagram() {
			if line == "" {
				logging.Infof("[config]")
			} else {
				logging.Infof("[config] %s", line)
			}
		}
		g, _ := m.Graph().JSON()
		modules[m.Path] = ModuleStatus{Graph: g}
	}
	if err := s.srv.Start(p); err != nil {
		p.Stop()
		logging.Errorf("[program] Failed to start up %s: %v", codebase, err)
		return &LoadError{Codebase: codebase, Err: err}
	}
	prev := s.State()
	s.publish(&State{Running: true, Codebase: codebase, Version: version, Main: p.Main(),
		Generation: prev.Generation + 1, Started: time.Now(), Program: p, Modules: modules})
	logging.Infof("[program] Started %s (version %s)", codebase, version)
	return nil
}

// Stop closes the listeners of the running program; connections already
// open finish on it. Stopping when nothing runs does nothing.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.State()
	if !prev.Running {
		return
	}
	s.srv.StopListening()
	if prev.Program != nil {
		prev.Program.Stop()
	}
	s.publish(&State{Generation: prev.Generation, Modules: map[string]ModuleStatus{}})
	logging.Infof("[program] Stopped %s", prev.Codebase)
}

// Shutdown stops accepting, waits up to timeout for requests in flight, and
// returns how many were left.
func (s *Supervisor) Shutdown(timeout time.Duration) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.Shutdown(timeout)
}

// Status returns Pipy's status JSON for this instance.
func (s *Supervisor) Status() Status {
	st := s.State()
	return Status{Timestamp: time.Now().UnixMilli(), UUID: s.opts.UUID, Name: s.opts.Name,
		Version: st.Version, Modules: st.Modules}
}

// Counters are live figures of the running program.
type Counters struct {
	Connections int64            `json:"connections"` // open inbound connections, every generation's
	Inflight    int64            `json:"inflight"`    // requests being served by the current generation
	Requests    int64            `json:"requests"`    // requests the current generation has started (for a rate)
	Pipelines   int64            `json:"pipelines"`   // live pipelines of the current generation
	Listeners   []string         `json:"listeners"`   // bound addresses
	Workers     []WorkerCounters `json:"workers"`
}

// WorkerCounters are one worker's figures.
type WorkerCounters struct {
	ID          int   `json:"id"`
	Connections int64 `json:"connections"`
	Pipelines   int64 `json:"pipelines"`
}

// Counters samples the running program's figures.
func (s *Supervisor) Counters() Counters {
	c := Counters{Connections: s.srv.Connections(), Listeners: []string{}, Workers: []WorkerCounters{}}
	st := s.State()
	if st.Running {
		for _, a := range s.srv.Addrs() {
			c.Listeners = append(c.Listeners, a.String())
		}
		sort.Strings(c.Listeners)
	}
	if p := st.Program; p != nil && st.Running {
		c.Inflight = p.Inflight.Load()
		c.Requests = p.Inflight.Started()
		for _, w := range p.Workers {
			wc := WorkerCounters{ID: w.ID, Connections: w.Conns.Load(), Pipelines: w.Pipelines.Load()}
			c.Pipelines += wc.Pipelines
			c.Workers = append(c.Workers, wc)
		}
	}
	return c
}

// DraftVersion is the version string of a run of a working copy that edits
// committed version v.
func DraftVersion(v int) string { return fmt.Sprintf("%d+draft", v) }
