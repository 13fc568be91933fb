package filters

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// Filters that write to files: tee and depositMessage. Files are opened,
// written and read on goroutines of their own (an asyncWriter, a reader
// that Posts back), never on the worker.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "tee", Signature: "tee(filename: string | () => string)",
		Help:  "Writes the bytes of every Data event to a file ('-' for standard output), which is created (with its directories) or emptied on the stream's first Data; every event passes on unchanged.",
		Parse: parseTee,
	})
	engine.Register(&engine.FilterKind{
		Name: "depositMessage", Signature: "depositMessage(filename: string | () => string, options?: {threshold, keep})",
		Help:  "Spools each message body beyond threshold bytes (default 0) to a file and, at the message's end, reads it back out, so a big body waits on disk rather than in memory. The file is deleted afterwards unless keep is true.",
		Parse: parseDeposit,
	})
}

// asyncWriter writes to a file on its own goroutine, in order, so the
// worker never waits for the disk or a pipe.
//
// Threading: Write, Close and Abort may be called from any goroutine; the
// byte slices given to Write must not change afterwards (event chunks
// never do).
type asyncWriter struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	closing bool
	abort   bool
	then    func(error) // called after done, see closeThen
}

// newAsyncWriter starts a writer that opens its destination with open (on
// its goroutine), writes what it is given, and, once closed, calls done
// (on its goroutine) with the first error.
func newAsyncWriter(open func() (io.WriteCloser, error), done func(error)) *asyncWriter {
	a := &asyncWriter{}
	a.cond = sync.NewCond(&a.mu)
	go a.run(open, done)
	return a
}

func (a *asyncWriter) Write(b []byte) {
	if len(b) == 0 {
		return
	}
	a.mu.Lock()
	if !a.closing {
		a.queue = append(a.queue, b)
		a.cond.Signal()
	}
	a.mu.Unlock()
}

// WriteData queues the chunks of d.
func (a *asyncWriter) WriteData(d *event.Data) {
	for _, c := range d.Chunks() {
		a.Write(c)
	}
}

// Close finishes the queued writes, then closes.
func (a *asyncWriter) Close() {
	a.mu.Lock()
	a.closing = true
	a.cond.Signal()
	a.mu.Unlock()
}

// Abort drops the queued writes and closes.
func (a *asyncWriter) Abort() {
	a.mu.Lock()
	a.closing, a.abort = true, true
	a.queue = nil
	a.cond.Signal()
	a.mu.Unlock()
}

func (a *asyncWriter) run(open func() (io.WriteCloser, error), done func(error)) {
	f, err := open()
	for {
		a.mu.Lock()
		for len(a.queue) == 0 && !a.closing {
			a.cond.Wait()
		}
		q := a.queue
		a.queue = nil
		closing := a.closing && len(q) == 0
		aborted := a.abort
		a.mu.Unlock()
		if err == nil && !aborted {
			for _, b := range q {
				if _, err = f.Write(b); err != nil {
					break
				}
			}
		}
		if closing || aborted {
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if done != nil {
				done(err)
			}
			a.mu.Lock()
			then := a.then
			a.mu.Unlock()
			if then != nil {
				then(err)
			}
			return
		}
	}
}

// createFile opens path for writing, emptied, creating its directories;
// "-" is standard output (which is not closed).
func createFile(path string) (io.WriteCloser, error) {
	if path == "-" {
		return nopWriteCloser{os.Stdout}, nil
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return os.Create(path)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// filenameArg checks a file name argument: a non-empty string or a function.
func filenameArg(args []goja.Value) (engine.Value, error) {
	v := engine.NewValue(args[0])
	if !v.IsFunc() {
		if s, ok := args[0].Export().(string); !ok || s == "" {
			return v, fmt.Errorf("filename must be a file name or a function returning one, got %s", describeValue(args[0]))
		}
	}
	return v, nil
}

// ---- tee ----

type teeConfig struct{ filename engine.Value }

func parseTee(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "tee(filename)"); err != nil {
		return nil, err
	}
	v, err := filenameArg(args)
	if err != nil {
		return nil, err
	}
	return &teeConfig{filename: v}, nil
}

func (c *teeConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &tee{c: c, p: p, next: next}
}

type tee struct {
	c      *teeConfig
	p      *engine.Pipeline
	next   event.Target
	file   *asyncWriter
	opened bool
}

func (t *tee) Reset() {
	if t.file != nil {
		t.file.Close()
	}
	t.file, t.opened = nil, false
}

func (t *tee) OnEvent(e event.Event) {
	switch e := e.(type) {
	case *event.Data:
		if !t.opened && e.Size() > 0 {
			t.opened = true
			v, err := t.c.filename.Eval(t.p)
			if err != nil {
				t.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
			path := v.String()
			t.file = newAsyncWriter(func() (io.WriteCloser, error) { return createFile(path) }, func(err error) {
				if err != nil {
					logging.Errorf("[tee] %s: %v", path, err)
				}
			})
		}
		if t.file != nil {
			t.file.WriteData(e)
		}
	case *event.StreamEnd:
		if t.file != nil {
			t.file.Close()
			t.file = nil
		}
	}
	t.next.OnEvent(e)
}

// ---- depositMessage ----

type depositConfig struct {
	filename  engine.Value
	threshold int
	keep      bool
}

func parseDeposit(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 2, "depositMessage(filename, options?)"); err != nil {
		return nil, err
	}
	v, err := filenameArg(args)
	if err != nil {
		return nil, err
	}
	c := &depositConfig{filename: v}
	o, err := optionsArg(args, 1, "threshold", "keep")
	if err != nil {
		return nil, err
	}
	if c.threshold, err = sizeOption(o, "threshold", 0); err != nil {
		return nil, err
	}
	if k := optionValue(o, "keep"); k != nil {
		b, ok := k.Export().(bool)
		if !ok {
			return nil, fmt.Errorf("option keep expects a boolean, got %s", describeValue(k))
		}
		c.keep = b
	}
	return c, nil
}

func (c *depositConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &deposit{c: c, p: p, next: next}
}

// deposit spools one message at a time; events that arrive while a body is
// being read back wait their turn.
type deposit struct {
	c       *depositConfig
	p       *engine.Pipeline
	next    event.Target
	inMsg   bool
	below   event.Data // the body's first bytes, already passed on
	file    *asyncWriter
	path    string
	run     *depositRun // the read-back under way
	pending []event.Event
	failed  bool
}

// depositRun ties the goroutines of one spooled body to the filter state
// that started them, so that what they post after a Reset is ignored.
type depositRun struct{ dead bool }

func (f *deposit) Reset() {
	if f.run != nil {
		f.run.dead = true
	}
	if f.file != nil {
		f.file.Abort()
		if !f.c.keep {
			path := f.path
			go os.Remove(path)
		}
	}
	*f = deposit{c: f.c, p: f.p, next: f.next}
}

func (f *deposit) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	if f.run != nil {
		f.pending = append(f.pending, e)
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		f.inMsg = true
		f.below.Clear()
	case *event.Data:
		if !f.inMsg || e.Size() == 0 {
			break
		}
		if f.file == nil && f.below.Size() < f.c.threshold {
			f.below.PushData(e)
			break
		}
		if f.file == nil && !f.open() {
			return
		}
		f.file.WriteData(e)
		return
	case *event.MessageEnd, *event.StreamEnd:
		if f.inMsg {
			f.inMsg = false
			if f.file != nil {
				f.readBack(e)
				f.below.Clear()
				return
			}
			f.below.Clear()
		}
	}
	f.next.OnEvent(e)
}

// open starts the spool file with the bytes already passed on, so that it
// holds the whole body.
func (f *deposit) open() bool {
	v, err := f.c.filename.Eval(f.p)
	if err != nil {
		f.failed = true
		f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
		return false
	}
	f.path = v.String()
	path := f.path
	f.file = newAsyncWriter(func() (io.WriteCloser, error) { return createFile(path) }, nil)
	f.file.WriteData(&f.below)
	return true
}

// readBack closes the spool file and reads it out after the part already
// passed on, then sends end.
func (f *deposit) readBack(end event.Event) {
	w := f.p.W
	run := &depositRun{}
	f.run = run
	offset := int64(f.below.Size())
	path, keep := f.path, f.c.keep
	file := f.file
	f.file = nil
	// The writer's completion starts the reader, on the writer's goroutine.
	done := func(writeErr error) {
		go func() {
			err := readFileFrom(path, offset, writeErr, func(b []byte) {
				w.Post(func() {
					if !run.dead {
						f.next.OnEvent(event.NewData(b))
					}
				})
			})
			if !keep {
				os.Remove(path)
			}
			w.Post(func() {
				if run.dead {
					return
				}
				if err != nil {
					logging.Errorf("[depositMessage] %s: %v", path, err)
					f.failed = true
					f.run = nil
					f.next.OnEvent(event.NewStreamEnd(event.WriteError))
					return
				}
				f.run = nil
				f.next.OnEvent(end)
				pending := f.pending
				f.pending = nil
				for _, e := range pending {
					f.OnEvent(e)
				}
			})
		}()
	}
	file.closeThen(done)
}

// closeThen closes the writer and calls done with its result.
func (a *asyncWriter) closeThen(done func(error)) {
	a.mu.Lock()
	a.then = done
	a.mu.Unlock()
	a.Close()
}

func readFileFrom(path string, offset int64, werr error, emit func([]byte)) error {
	if werr != nil {
		return werr
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if _, err := fh.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	for {
		b := make([]byte, 64<<10)
		n, err := fh.Read(b)
		if n > 0 {
			emit(b[:n])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
