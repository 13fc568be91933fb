// Package engine runs Pipy 0.30-style scripts: it compiles a codebase's
// modules, evaluates them on every worker, and runs the pipelines they
// declare.
//
// # Threading
//
// A Program has N workers. Each Worker owns one goja runtime and everything
// created on it: modules, layouts, filter configs, pipelines, contexts and
// script values. Code reaches a worker only through Worker.Post (or Do,
// After): the task runs with the worker held, one at a time. Socket readers,
// dialers and timers run on their own goroutines and Post their results.
// No goja value ever crosses workers.
//
// A worker is a lock and a task queue rather than a goroutine of its own:
// Post runs the task at once on the posting goroutine when the worker is
// idle and queues it otherwise, for the goroutine running the worker to
// drain. Against the alternative — one loop goroutine per worker, woken
// through a channel — it measured the same, and it answers a lone request
// without a wake-up.
//
// On Linux the worker's TCP sockets belong to its epoll loop
// (netio.Poller): one goroutine per worker collects the ready sockets
// (parking in Go's netpoller on the epoll set itself when none are), enters
// the worker with Exec, reads every ready socket there and hands each read
// to its handler at once; the writes the reads caused go out at the end of
// the turn, several requests to one shared upstream in one write. A
// request costs one read and one write; the epoll_wait is shared by every
// socket ready at that moment. The batch runs inside one script call
// (execInScript), so the callbacks it makes are nested goja calls that
// keep the runtime's value stack. Where there is no epoll (or with
// SLUICE_NETPOLL=go) each connection reads on its own goroutine through
// Go's netpoller and Posts what it read. docs/performance.md has the
// measurements behind these choices.
//
// # Writing a filter
//
// A filter kind registers itself in an init function:
//
//	func init() {
//		engine.Register(&engine.FilterKind{
//			Name:      "tagRequests",
//			Signature: "tagRequests(tag: string | () => string)",
//			Help:      "Adds an x-tag header to each request head.",
//			Parse:     parseTag,
//		})
//	}
//
// Parse runs while the script is evaluated (on the worker, once per worker):
// it validates the script's arguments and returns a Config, or an error that
// becomes a located script error. Arguments that may be a value or a
// function are wrapped with NewValue and evaluated per stream with
// Value.Eval. Names of sub-pipelines are taken with Builder.Ref; they are
// resolved after the module has loaded (a Config that uses sub-pipelines
// implements Linker, so the diagram shows them). Other modules are loaded
// with Builder.LoadModule.
//
// Config.New makes one Filter per pipeline instance, given the pipeline and
// the next target. A Filter gets events in OnEvent and passes what it
// produces to next; Reset makes it ready for another stream (instances are
// pooled with their pipeline). Inside a filter:
//
//   - p.W is the worker, p.Context the context script callbacks run for;
//     call script functions with p.W.Call(p.Context, fn, args...), which logs
//     a throw with its location and returns it as an error: end the stream
//     with event.NewStreamEnd(event.RuntimeError) then.
//   - p.Sub(ref, clone, out) starts a sub-pipeline sharing (link-style) or
//     cloning (demux-style) the context; Release it when done.
//   - Asynchronous work runs on its own goroutine and comes back with
//     p.W.Post; timers with p.W.After. Guard against results that arrive
//     after Reset (keep a per-stream token, as connect does).
//   - Sockets are netio.Conn: reads arrive as Handler calls on the worker,
//     writes are buffered and flushed at the end of the turn.
//
// Events cross into scripts with Worker.EventObject, MessageObject and
// DataObject, and come back with Worker.Events, AsMessage and AsData.
// Message heads are protocol values (*http1.RequestHead, ...) until a script
// touches them; HeadValue, RequestHead and ResponseHead convert.
//
// # Adding a global class
//
// RegisterGlobal adds an Extension that runs on every worker's runtime.
// Worker.Class defines a constructor (on the global object or a namespace
// object such as algo), Worker.Method adds methods to its prototype, and
// Worker.NewInstance makes instances backed by a Go value (a
// goja.DynamicObject; embed Props when all members live on the prototype).
// Methods reach the Go value with Worker.Impl(this).
package engine
