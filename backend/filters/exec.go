package filters

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "exec", Signature: "exec(command: string | string[] | () => string | string[])",
		Help:  "Starts the command (split at spaces, or given as an array of arguments; not run through a shell) on the first event, feeds it the input's Data on its standard input and outputs its standard output as Data; the input's end closes its standard input, and its exit ends the stream. Other events are dropped; its standard error goes to the log. The process is killed when the pipeline goes away.",
		Parse: parseExec,
	})
}

type execConfig struct{ command engine.Value }

func parseExec(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "exec(command)"); err != nil {
		return nil, err
	}
	c := &execConfig{command: engine.NewValue(args[0])}
	if !c.command.IsFunc() {
		argv, err := commandArgs(args[0])
		if err != nil {
			return nil, err
		}
		if len(argv) == 0 {
			return nil, fmt.Errorf("the command is empty")
		}
	}
	return c, nil
}

// commandArgs reads a command: a string split at spaces, or an array.
func commandArgs(v goja.Value) ([]string, error) {
	if isArray(v) {
		o := v.(*goja.Object)
		n := int(o.Get("length").ToInteger())
		out := make([]string, 0, n)
		for i := range n {
			out = append(out, o.Get(fmt.Sprint(i)).String())
		}
		return out, nil
	}
	if s, ok := v.Export().(string); ok {
		return strings.Fields(s), nil
	}
	return nil, fmt.Errorf("command must be a string, an array of arguments or a function, got %s", describeValue(v))
}

func (c *execConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &execFilter{c: c, p: p, next: next}
}

type execFilter struct {
	c       *execConfig
	p       *engine.Pipeline
	next    event.Target
	started bool
	proc    *execProc
	done    bool
}

// execProc is one child process. dead is worker-only: it tells the
// goroutines' posts that the filter has moved on.
type execProc struct {
	cmd   *exec.Cmd
	stdin *asyncWriter
	dead  bool
}

func (f *execFilter) Reset() {
	if f.proc != nil {
		f.proc.kill()
	}
	*f = execFilter{c: f.c, p: f.p, next: f.next}
}

func (pr *execProc) kill() {
	if pr.dead {
		return
	}
	pr.dead = true
	pr.stdin.Abort()
	if pr.cmd.Process != nil {
		pr.cmd.Process.Signal(syscall.SIGTERM)
	}
}

func (f *execFilter) OnEvent(e event.Event) {
	if f.done {
		return
	}
	if !f.started {
		f.started = true
		if !f.start() {
			return
		}
	}
	switch e := e.(type) {
	case *event.Data:
		f.proc.stdin.WriteData(e)
	case *event.StreamEnd:
		f.proc.stdin.Close()
	}
}

func (f *execFilter) start() bool {
	v, err := f.c.command.Eval(f.p)
	if err != nil {
		f.end(event.RuntimeError)
		return false
	}
	argv, err := commandArgs(v)
	if err == nil && len(argv) == 0 {
		err = fmt.Errorf("the command is empty")
	}
	if err != nil {
		logging.Errorf("[exec] %v", err)
		f.end(event.RuntimeError)
		return false
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	stderr, err3 := cmd.StderrPipe()
	if err = firstError(err1, err2, err3); err == nil {
		err = cmd.Start()
	}
	if err != nil {
		logging.Errorf("[exec] cannot start %s: %v", strings.Join(argv, " "), err)
		f.end(event.RuntimeError)
		return false
	}
	logging.Debugf("[exec] started %s [pid = %d]", strings.Join(argv, " "), cmd.Process.Pid)
	pr := &execProc{cmd: cmd}
	pr.stdin = newAsyncWriter(func() (io.WriteCloser, error) { return stdin, nil }, nil)
	f.proc = pr
	w := f.p.W
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 4096), 1<<20)
		for sc.Scan() {
			logging.Infof("[exec] [%s] %s", argv[0], sc.Text())
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		for {
			b := make([]byte, 32<<10)
			n, err := stdout.Read(b)
			if n > 0 {
				d := b[:n]
				w.Post(func() {
					if !pr.dead {
						f.next.OnEvent(event.NewData(d))
					}
				})
			}
			if err != nil {
				break
			}
		}
		wg.Wait()
		err := cmd.Wait()
		logging.Debugf("[exec] %s exited [pid = %d]: %v", argv[0], cmd.Process.Pid, err)
		w.Post(func() {
			if !pr.dead {
				pr.dead = true
				pr.stdin.Abort()
				f.end(event.NoError)
			}
		})
	}()
	return true
}

func (f *execFilter) end(code event.ErrorCode) {
	if !f.done {
		f.done = true
		f.next.OnEvent(event.NewStreamEnd(code))
	}
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
