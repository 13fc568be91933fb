package engine

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/logging"
	"sluice/backend/netio"
)

// Worker owns one goja runtime and every pipeline, context and connection
// created on it. Nothing it owns may be touched except from a task running on
// the worker.
//
// A worker is not bound to one goroutine: it is a lock plus a task queue.
// Post runs the task at once on the calling goroutine when the worker is idle
// (so a socket reader hands its bytes over without a goroutine switch), and
// otherwise queues it for whichever goroutine is running the worker, which
// drains the queue before it lets go. Either way tasks run one at a time, in
// the order they were posted from any one goroutine, and never in parallel
// with each other.
type Worker struct {
	ID      int
	Program *Program
	rt      *goja.Runtime

	run   sync.Mutex // held while the worker runs tasks
	qmu   sync.Mutex
	queue []func()
	spare []func()

	// Guarded by run.
	deferred      []func()
	deferredSpare []func()
	ctx           *Context    // context of the script callback now running
	reading       *netio.Conn // connection whose input is being processed
	poller        *netio.Poller
	callDepth     int              // Call1 nesting
	calls         uint64           // script callbacks made (Call)
	scriptBatches int              // Exec batches left to run in a script frame (see Exec)
	strs          *strCache        // script values of repeated strings
	argBufs       [4][1]goja.Value // Call1's argument lists, by depth
	execFn        func()           // what Exec runs now
	execInJS      goja.Callable    // a script function that calls execNative
	execNative    goja.Value       // runs execFn
	execArgs      []goja.Value     // {execNative}, so the call allocates no argument list
	execWrapped   func()           // w.execInScript, made once
	api           *jsAPI
	lent          *lentStart   // event objects lent to confined handlers
	implObj       *goja.Object // Impl's last object
	implVal       any          // and its Go value
	modules       []*Module
	byPath        map[string]*Module
	loading       []*Module
	runningTasks  map[*TaskSpec]*taskRun
	closed        bool

	// The callback budget: busySeq counts entries to and exits from
	// outermost script callbacks, so it is odd while one runs. The
	// watchdog notes when it first saw the current odd value (watchSeq,
	// watchFrom, its own) and interrupts once that is longer ago than the
	// budget: entering a callback costs an atomic store, not a clock read.
	busySeq   atomic.Uint64
	watchSeq  uint64
	watchFrom time.Time
	interrupt atomic.Bool
	imu       sync.Mutex // orders the watchdog's interrupt against leaveScript

	// Counters read by the status endpoints.
	Pipelines atomic.Int64
	Conns     atomic.Int64 // open inbound connections
}

func newWorker(id int, p *Program) *Worker {
	w := &Worker{ID: id, Program: p, rt: goja.New()}
	w.rt.SetFieldNameMapper(goja.UncapFieldNameMapper())
	return w
}

// Runtime returns the worker's goja runtime. Worker only.
func (w *Worker) Runtime() *goja.Runtime { return w.rt }

// Post runs fn on the worker: now, on this goroutine, if the worker is idle,
// otherwise after the tasks already queued. Safe from any goroutine, and
// from a task on the same worker (the task is then queued, not nested).
func (w *Worker) Post(fn func()) {
	w.qmu.Lock()
	w.queue = append(w.queue, fn)
	w.qmu.Unlock()
	w.pump()
}

// pump runs queued tasks until the queue is empty, unless another goroutine
// is running the worker. After letting go it looks again: a task queued by a
// goroutine whose TryLock failed just before the unlock must not be stranded.
func (w *Worker) pump() {
	for w.run.TryLock() {
		w.drain()
		w.run.Unlock()
		w.qmu.Lock()
		empty := len(w.queue) == 0
		w.qmu.Unlock()
		if empty {
			return
		}
	}
}

// drain runs queued tasks. The deferred work of a turn (flushing sockets,
// releasing pipelines) runs when the queue has emptied, or after turnTasks
// tasks under a steady stream of them: writes that several tasks made to
// the same connection (requests multiplexed onto one upstream) go out in
// one system call, and output never waits long.
func (w *Worker) drain() {
	ran := 0
	for {
		w.qmu.Lock()
		tasks := w.queue
		if len(tasks) == 0 {
			w.qmu.Unlock()
			if len(w.deferred) == 0 {
				return
			}
			w.EndTurn()
			ran = 0
			continue
		}
		w.queue = w.spare[:0]
		w.qmu.Unlock()
		for i, fn := range tasks {
			w.runTask(fn)
			tasks[i] = nil
		}
		w.spare = tasks
		if ran += len(tasks); ran >= turnTasks {
			w.EndTurn()
			ran = 0
		}
	}
}

// turnTasks bounds how many tasks run before a turn's deferred work.
const turnTasks = 64

func (w *Worker) runTask(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			w.leaveScript() // in case it broke out of a script callback
			logging.Errorf("[worker %d] internal error: %v\n%s", w.ID, r, debug.Stack())
		}
	}()
	fn()
}

// EndTurn runs the deferred work of the turn: flushes and releases. The
// worker calls it when a turn ends; the epoll loop (netio.Executor) calls
// it mid-turn to send what an upstream's responses caused before it reads
// new requests. Worker only.
func (w *Worker) EndTurn() {
	for len(w.deferred) > 0 {
		d := w.deferred
		w.deferred = w.deferredSpare[:0]
		for i, fn := range d {
			w.runTask(fn)
			d[i] = nil
		}
		w.deferredSpare = d
	}
}

// Defer runs fn at the end of the current turn: once the task queue has
// emptied (or after a bounded number of tasks under steady load). Worker only.
func (w *Worker) Defer(fn func()) { w.deferred = append(w.deferred, fn) }

// Reading is the connection whose input is being processed (netio.Loop).
func (w *Worker) Reading() *netio.Conn { return w.reading }

// SetReading sets it (netio.Loop).
func (w *Worker) SetReading(c *netio.Conn) { w.reading = c }

// Do runs fn on the worker and waits for it to finish. It must not be called
// from a task on the same worker.
func (w *Worker) Do(fn func()) {
	done := make(chan struct{})
	w.Post(func() {
		defer close(done)
		fn()
	})
	<-done
}

// After runs fn on the worker once d has passed, unless the returned
// function is called first (on the worker) to cancel it.
func (w *Worker) After(d time.Duration, fn func()) (cancel func()) {
	var cancelled bool
	t := time.AfterFunc(d, func() {
		w.Post(func() {
			if !cancelled {
				fn()
			}
		})
	})
	return func() { cancelled = true; t.Stop() }
}

// Exec runs fn on the worker and waits until it and the turn's deferred
// work are done (netio.Executor): the worker's epoll loop enters the worker
// this way, so the sockets it reads are handled on its goroutine with no
// hand-off. It must not be called from a task on the same worker.
func (w *Worker) Exec(fn func()) {
	w.run.Lock()
	w.callDepth = 0 // in case a panic broke out of a Call1
	w.execFn = fn
	if w.execWrapped == nil {
		w.execWrapped = w.execInScript
	}
	// The script frame pays off only when the batch calls scripts: guess
	// from the recent batches, so a program without callbacks (a constant
	// serveHTTP) makes no goja call at all. Recent, not the last one: a
	// proxy's batches of upstream responses call nothing, and under light
	// load they alternate with the requests' batches, which do.
	calls := w.calls
	if w.scriptBatches > 0 {
		w.scriptBatches--
		w.runTask(w.execWrapped)
	} else {
		w.runTask(fn)
	}
	if w.calls != calls {
		w.scriptBatches = scriptFrameBatches
	}
	w.execFn = nil
	w.drain()
	w.run.Unlock()
	w.qmu.Lock()
	empty := len(w.queue) == 0
	w.qmu.Unlock()
	if !empty {
		w.pump()
	}
}

// scriptFrameBatches is how many Exec batches after one that called a
// script still run inside a script frame (execInScript).
const scriptFrameBatches = 64

// execInScript runs execFn inside one call of a script function. goja
// drops its value stack whenever control leaves the runtime, so each
// top-level call reallocates it; callbacks made from inside a call are
// nested and reuse it. A batch of reads that runs many callbacks (one per
// request) thus costs one stack instead of one per callback. Errors and
// interrupts in the callbacks are still reported by each nested call.
func (w *Worker) execInScript() {
	if w.execInJS == nil {
		v, err := w.rt.RunString("(function (run) { run() })")
		fn, ok := goja.AssertFunction(v)
		if err != nil || !ok {
			w.execFn()
			return
		}
		w.execInJS = fn
		w.execNative = w.rt.ToValue(func(goja.FunctionCall) goja.Value {
			w.execFn()
			return goja.Undefined()
		})
		w.execArgs = []goja.Value{w.execNative}
	}
	if _, err := w.execInJS(goja.Undefined(), w.execArgs...); err != nil {
		// A Go panic passes through as itself, and script errors are
		// reported by the nested calls; this is an interrupt that came
		// between them.
		logging.Debugf("[worker %d] %v", w.ID, err)
	}
}

// NetPoller returns the worker's epoll loop (netio.Executor). Worker only.
func (w *Worker) NetPoller() *netio.Poller {
	if w.poller == nil {
		w.poller = netio.NewPoller(w)
	}
	return w.poller
}

// watch interrupts a script callback that has run longer than budget.
// Called periodically by the program's watchdog.
func (w *Worker) watch(budget time.Duration) {
	if budget <= 0 {
		return
	}
	w.imu.Lock()
	defer w.imu.Unlock()
	seq := w.busySeq.Load()
	if seq&1 == 0 {
		return
	}
	if seq != w.watchSeq {
		w.watchSeq, w.watchFrom = seq, time.Now()
		return
	}
	if time.Since(w.watchFrom) > budget && !w.interrupt.Swap(true) {
		w.rt.Interrupt(fmt.Sprintf("script ran longer than %v and was interrupted", budget))
	}
}

// enterScript starts the budget of a script callback. The budget is per
// callback, not per task: a task that runs many short callbacks (a batch
// of pipelined requests) must not have the last ones interrupted. A nested
// call counts as part of the outermost one, which alone returns true.
func (w *Worker) enterScript() bool {
	seq := w.busySeq.Load()
	if seq&1 == 1 {
		return false
	}
	w.busySeq.Store(seq + 1)
	return true
}

// leaveScript ends the budget. Under imu, so that the watchdog cannot
// interrupt a callback that has already returned: its interrupt would hit
// the next, innocent, one.
func (w *Worker) leaveScript() {
	w.imu.Lock()
	w.busySeq.Add(1)
	if w.interrupt.Swap(false) {
		w.rt.ClearInterrupt()
	}
	w.imu.Unlock()
}
