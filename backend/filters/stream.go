package filters

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// Stream-shaping filters: deframe, split, pack, handleMessageBody, wait.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "deframe", Signature: "deframe(states: {[state]: string | any[] | ((byte | buffer) => string | any[])})",
		Help:  "A byte-level state machine over Data. The first state is the start; each byte goes to the current state: a function gets the byte and returns the next state, or an array [...events, nextState, readSize?, readBuffer?] that outputs the events and, with readSize, reads that many bytes into readBuffer (a Data or an array, handed to the state's function afterwards) or passes them through (no buffer). Only what the states output comes out; StreamEnd passes and restarts the machine.",
		Parse: parseDeframe,
	})
	engine.Register(&engine.FilterKind{
		Name: "split", Signature: "split(callback: (byte: number) => undefined | null | true | Event | Message | Event[])",
		Help:  "Calls callback with every byte of the Data it receives and cuts the Data after the bytes for which it returns null (or true), or an event, a Message or an array of them, which are then inserted after the cut. undefined (or false) keeps going. Message events are dropped; StreamEnd passes.",
		Parse: parseSplit,
	})
	engine.Register(&engine.FilterKind{
		Name: "pack", Signature: "pack(batchSize?: number, options?: {timeout, interval, vacancy})",
		Help:  "Concatenates the bodies of batchSize messages (default 1) into one message with the first one's head. timeout (seconds or '5s'): a partial batch is sent at the latest that long after its first message. interval: a batch is sent at a message end when that long has passed since the last one was. The stream's end sends what is left.",
		Parse: parsePack,
	})
	engine.Register(&engine.FilterKind{
		Name: "handleMessageBody", Signature: "handleMessageBody([sizeLimit: number | string,] handler: (body: Data) => void)",
		Help:  "Collects each message body (up to sizeLimit bytes, e.g. '256k'; the rest is counted and dropped) and calls handler with it at the message's end; every event passes on unchanged.",
		Parse: parseHandleMessageBody,
	})
	engine.Register(&engine.FilterKind{
		Name: "wait", Signature: "wait(condition: () => bool, options?: {timeout})",
		Help:  "Holds every event back until condition() is true (asked on each event and every 10 ms while holding), or until timeout (seconds or '5s') has passed since the first held event; then lets them all through.",
		Parse: parseWait,
	})
}

// ---- shared argument helpers ----

// optionsArg returns args[i] as an options object, or nil when it is absent,
// null or undefined. Keys other than known ones are an error, so a typo in
// an option is reported at load.
func optionsArg(args []goja.Value, i int, known ...string) (*goja.Object, error) {
	if len(args) <= i || engine.IsNullish(args[i]) {
		return nil, nil
	}
	o, ok := args[i].(*goja.Object)
	if !ok || isFunction(args[i]) {
		return nil, fmt.Errorf("options must be an object, got %s", describeValue(args[i]))
	}
	for _, k := range o.Keys() {
		found := false
		for _, n := range known {
			if k == n {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return o, nil
}

// optionValue returns o[name], or nil when o is nil or the option is unset.
func optionValue(o *goja.Object, name string) goja.Value {
	if o == nil {
		return nil
	}
	v := o.Get(name)
	if engine.IsNullish(v) {
		return nil
	}
	return v
}

// durationOption reads a duration option (seconds, or a string with a unit).
func durationOption(o *goja.Object, name string, def time.Duration) (time.Duration, error) {
	v := optionValue(o, name)
	if v == nil {
		return def, nil
	}
	if !isNumber(v) && !isString(v) {
		return 0, fmt.Errorf("option %s expects a number of seconds or a string like '5s', got %s", name, describeValue(v))
	}
	d, err := engine.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("option %s: %v", name, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("option %s: negative duration %s", name, v.String())
	}
	return d, nil
}

// sizeOption reads a size option (bytes, or a string like '256k').
func sizeOption(o *goja.Object, name string, def int) (int, error) {
	v := optionValue(o, name)
	if v == nil {
		return def, nil
	}
	if !isNumber(v) && !isString(v) {
		return 0, fmt.Errorf("option %s expects a number of bytes or a string like '256k', got %s", name, describeValue(v))
	}
	n, err := engine.ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("option %s: %v", name, err)
	}
	return n, nil
}

// pipelineName requires a sub-pipeline name argument.
func pipelineName(args []goja.Value, i int) (string, error) {
	if len(args) <= i {
		return "", fmt.Errorf("expects a pipeline name")
	}
	s, ok := args[i].Export().(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a pipeline name, got %s", i+1, describeValue(args[i]))
	}
	if s == "" {
		return "", fmt.Errorf("argument %d: the pipeline name is empty", i+1)
	}
	return s, nil
}

func isFunction(v goja.Value) bool { _, ok := goja.AssertFunction(v); return ok }

func isNumber(v goja.Value) bool {
	switch v.Export().(type) {
	case int64, float64:
		return true
	}
	return false
}

func isString(v goja.Value) bool { _, ok := v.Export().(string); return ok }

func isArray(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	return ok && o.ClassName() == "Array"
}

// describeValue names a script value in an error message.
func describeValue(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case isFunction(v):
		return "a function"
	case isString(v):
		return strconv.Quote(v.String())
	case isArray(v):
		return "an array"
	}
	if _, ok := v.(*goja.Object); ok {
		return "an object"
	}
	return v.String()
}

// ---- deframe ----

type deframeConfig struct {
	names  []string
	states []goja.Value
	index  map[string]int
}

func parseDeframe(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "deframe(states)"); err != nil {
		return nil, err
	}
	o, ok := args[0].(*goja.Object)
	if !ok || isFunction(args[0]) || isArray(args[0]) {
		return nil, fmt.Errorf("states must be an object mapping state names to states, got %s", describeValue(args[0]))
	}
	c := &deframeConfig{index: map[string]int{}}
	for _, k := range o.Keys() {
		c.index[k] = len(c.states)
		c.names = append(c.names, k)
		c.states = append(c.states, o.Get(k))
	}
	if len(c.states) == 0 {
		return nil, fmt.Errorf("states is empty: it needs at least the start state")
	}
	for i, v := range c.states {
		switch {
		case isFunction(v), isArray(v):
		case isString(v):
			if _, ok := c.index[v.String()]; !ok {
				return nil, fmt.Errorf("state %q goes to unknown state %q", c.names[i], v.String())
			}
		default:
			return nil, fmt.Errorf("state %q must be a function, a state name or an array, got %s", c.names[i], describeValue(v))
		}
	}
	return c, nil
}

func (c *deframeConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &deframe{c: c, p: p, next: next}
}

type deframe struct {
	c       *deframeConfig
	p       *engine.Pipeline
	next    event.Target
	state   int
	readLen int
	readTo  *event.Data  // reading into a Data
	readArr *goja.Object // reading into an array of byte values
	readObj goja.Value   // the buffer read into, for the state's function
	failed  bool
}

func (f *deframe) Reset() {
	*f = deframe{c: f.c, p: f.p, next: f.next}
}

func (f *deframe) OnEvent(e event.Event) {
	switch e := e.(type) {
	case *event.Data:
		if !f.failed {
			f.feed(e.Bytes())
		}
	case *event.StreamEnd:
		if !f.failed {
			f.next.OnEvent(e)
		}
		f.Reset()
	}
}

func (f *deframe) feed(b []byte) {
	i := 0
	for i < len(b) && f.state >= 0 && !f.failed {
		if f.readLen > 0 {
			n := min(f.readLen, len(b)-i)
			chunk := b[i : i+n]
			i += n
			switch {
			case f.readTo != nil:
				f.readTo.Push(chunk)
			case f.readArr != nil:
				push, _ := goja.AssertFunction(f.readArr.Get("push"))
				vals := make([]goja.Value, len(chunk))
				rt := f.p.W.Runtime()
				for j, c := range chunk {
					vals[j] = rt.ToValue(int(c))
				}
				if push != nil {
					push(f.readArr, vals...)
				}
			default:
				f.next.OnEvent(event.NewData(chunk))
			}
			f.readLen -= n
			if f.readLen == 0 {
				f.state = f.step(f.state, -1)
			}
			continue
		}
		c := b[i]
		i++
		f.state = f.step(f.state, int(c))
	}
}

// step runs state on byte c (-1 when a read has completed) and returns the
// next state, or -1 when the machine stops.
func (f *deframe) step(state, c int) int {
	if state < 0 || state >= len(f.c.states) {
		return -1
	}
	w := f.p.W
	v := f.c.states[state]
	if fn, ok := goja.AssertFunction(v); ok {
		var arg goja.Value
		if f.readObj != nil {
			arg, f.readObj = f.readObj, nil
		} else {
			arg = w.Runtime().ToValue(c)
		}
		ret, err := w.Call(f.p.Context, fn, arg)
		if err != nil {
			f.fail()
			return -1
		}
		v = ret
	}
	if arr, ok := v.(*goja.Object); ok && arr.ClassName() == "Array" {
		n := int(arr.Get("length").ToInteger())
		i := 0
		for ; i < n; i++ {
			e := arr.Get(strconv.Itoa(i))
			if _, isObj := e.(*goja.Object); !isObj || engine.IsNullish(e) {
				break
			}
			if err := w.Events(e, f.next.OnEvent); err != nil {
				logging.Errorf("[deframe] state %q: %v", f.c.names[state], err)
				return -1
			}
		}
		next, size, buf := arr.Get(strconv.Itoa(i)), arr.Get(strconv.Itoa(i+1)), arr.Get(strconv.Itoa(i+2))
		if !engine.IsNullish(size) {
			n := int(size.ToInteger())
			if n <= 0 {
				logging.Errorf("[deframe] state %q: invalid reading length %s", f.c.names[state], size.String())
				return -1
			}
			f.readTo, f.readArr, f.readObj = nil, nil, nil
			switch {
			case engine.IsNullish(buf):
			case isArray(buf):
				f.readArr, f.readObj = buf.(*goja.Object), buf
			default:
				d, ok := engine.AsData(buf)
				if !ok {
					logging.Errorf("[deframe] state %q: the read buffer must be a Data, an array or null, got %s", f.c.names[state], describeValue(buf))
					return -1
				}
				f.readTo, f.readObj = d, buf
			}
			f.readLen = n
		}
		v = next
	}
	if v == nil {
		v = goja.Undefined()
	}
	if s, ok := v.Export().(string); ok {
		if i, ok := f.c.index[s]; ok {
			return i
		}
		logging.Errorf("[deframe] state %q: invalid state %q", f.c.names[state], s)
		return -1
	}
	logging.Errorf("[deframe] state %q: invalid state returned: %s", f.c.names[state], describeValue(v))
	return -1
}

func (f *deframe) fail() {
	f.failed = true
	f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
}

// ---- split ----

type splitConfig struct{ fn goja.Callable }

func parseSplit(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "split(callback)"); err != nil {
		return nil, err
	}
	fn, err := engine.Func(args[0], "the callback")
	if err != nil {
		return nil, err
	}
	return &splitConfig{fn: fn}, nil
}

func (c *splitConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &split{c: c, p: p, next: next}
}

type split struct {
	c      *splitConfig
	p      *engine.Pipeline
	next   event.Target
	failed bool
}

func (f *split) Reset() { f.failed = false }

func (f *split) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		f.split(e.Bytes())
	case *event.StreamEnd:
		f.next.OnEvent(e)
	}
}

func (f *split) split(b []byte) {
	w := f.p.W
	rt := w.Runtime()
	start := 0
	for i, c := range b {
		ret, err := w.Call(f.p.Context, f.c.fn, rt.ToValue(int(c)))
		if err != nil {
			f.failed = true
			f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
			return
		}
		if ret == nil || goja.IsUndefined(ret) {
			continue
		}
		cut := goja.IsNull(ret)
		if v, ok := ret.Export().(bool); ok {
			cut = v
		}
		_, isObj := ret.(*goja.Object)
		if !cut && !isObj {
			continue
		}
		f.next.OnEvent(event.NewData(b[start : i+1]))
		start = i + 1
		if isObj && !goja.IsNull(ret) {
			if err := w.Events(ret, f.next.OnEvent); err != nil {
				logging.Errorf("[split] %v", err)
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
		}
	}
	if start < len(b) {
		f.next.OnEvent(event.NewData(b[start:]))
	}
}

// ---- pack ----

type packConfig struct {
	batch    int
	timeout  time.Duration
	interval time.Duration
}

func parsePack(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 0, 2, "pack(batchSize?, options?)"); err != nil {
		return nil, err
	}
	c := &packConfig{batch: 1}
	if len(args) > 0 && !engine.IsNullish(args[0]) {
		if !isNumber(args[0]) {
			return nil, fmt.Errorf("batchSize must be a number, got %s", describeValue(args[0]))
		}
		f := args[0].ToFloat()
		if f < 1 || f != math.Trunc(f) || f > math.MaxInt32 {
			return nil, fmt.Errorf("batchSize must be a whole number of messages, 1 or more, got %s", args[0].String())
		}
		c.batch = int(f)
	}
	o, err := optionsArg(args, 1, "timeout", "interval", "vacancy")
	if err != nil {
		return nil, err
	}
	if c.timeout, err = durationOption(o, "timeout", 0); err != nil {
		return nil, err
	}
	if c.interval, err = durationOption(o, "interval", 0); err != nil {
		return nil, err
	}
	if v := optionValue(o, "vacancy"); v != nil {
		// Pipy's chunk defragmentation ratio: validated, nothing to do here.
		if !isNumber(v) || v.ToFloat() < 0 || v.ToFloat() > 1 {
			return nil, fmt.Errorf("option vacancy expects a number from 0 to 1, got %s", describeValue(v))
		}
	}
	return c, nil
}

func (c *packConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &pack{c: c, p: p, next: next}
}

type pack struct {
	c         *packConfig
	p         *engine.Pipeline
	next      event.Target
	head      any
	body      *event.Data
	starts    int
	ends      int
	lastFlush time.Time
	timer     func() // cancels the pending timeout check
}

func (f *pack) Reset() {
	if f.timer != nil {
		f.timer()
	}
	*f = pack{c: f.c, p: f.p, next: f.next}
}

func (f *pack) OnEvent(e event.Event) {
	switch e := e.(type) {
	case *event.MessageStart:
		if f.starts == 0 {
			f.head, f.body = e.Head, &event.Data{}
		}
		f.starts++
		f.arm(f.c.timeout)
	case *event.Data:
		if f.body != nil {
			f.body.PushData(e)
		}
	case *event.MessageEnd:
		f.ends++
		if f.starts == f.ends && f.ends >= f.c.batch ||
			f.c.interval > 0 && time.Since(f.lastFlush) >= f.c.interval {
			f.flush(e)
		}
	case *event.StreamEnd:
		if f.starts == f.ends && f.ends > 0 {
			f.flush(event.End())
		}
		if f.timer != nil {
			f.timer()
			f.timer = nil
		}
		f.next.OnEvent(e)
	}
}

// arm schedules a timeout check unless one is pending. Pipy 0.30 checks
// once and never again (its timer is not re-armed), so a partial batch
// waits for the stream's end; here each batch is checked until it is sent.
func (f *pack) arm(d time.Duration) {
	if d <= 0 || f.timer != nil {
		return
	}
	f.timer = f.p.W.After(d, func() {
		f.timer = nil
		switch {
		case f.ends > 0 && f.starts == f.ends:
			f.flush(event.End())
		case f.starts > 0:
			// A message is still coming in: look again shortly.
			f.arm(min(f.c.timeout, time.Second))
		}
	})
}

func (f *pack) flush(end *event.MessageEnd) {
	head, body := f.head, f.body
	f.head, f.body, f.starts, f.ends = nil, nil, 0, 0
	if f.timer != nil {
		f.timer()
		f.timer = nil
	}
	if f.c.interval > 0 {
		f.lastFlush = time.Now()
	}
	f.next.OnEvent(&event.MessageStart{Head: head})
	if body != nil && body.Size() > 0 {
		f.next.OnEvent(body)
	}
	f.next.OnEvent(end)
}

// ---- handleMessageBody ----

func parseHandleMessageBody(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	limit, fn, err := limitAndFunc(args, "handleMessageBody([sizeLimit,] handler)")
	if err != nil {
		return nil, err
	}
	return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
		return &handleBody{p: p, next: next, fn: fn, limit: limit}
	}), nil
}

type handleBody struct {
	p         *engine.Pipeline
	next      event.Target
	fn        goja.Callable
	limit     int
	body      *event.Data
	discarded int
	failed    bool
}

func (h *handleBody) Reset() {
	h.body, h.discarded, h.failed = nil, 0, false
}

func (h *handleBody) OnEvent(e event.Event) {
	if h.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		h.body, h.discarded = &event.Data{}, 0
	case *event.Data:
		if h.body != nil && e.Size() > 0 {
			room := e.Size()
			if h.limit >= 0 {
				room = max(0, min(room, h.limit-h.body.Size()))
			}
			switch {
			case room == e.Size():
				h.body.PushData(e)
			case room > 0:
				h.body.PushData(e.Clone().Shift(room))
			}
			h.discarded += e.Size() - room
		}
	case *event.MessageEnd, *event.StreamEnd:
		if h.body != nil {
			if h.discarded > 0 {
				logging.Errorf("[handleMessageBody] %d bytes were discarded due to the size limit of %d", h.discarded, h.limit)
			}
			body := h.body
			h.body, h.discarded = nil, 0
			if _, err := h.p.W.Call(h.p.Context, h.fn, h.p.W.DataObject(body)); err != nil {
				h.failed = true
				h.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
		}
	}
	h.next.OnEvent(e)
}

// ---- wait ----

// waitPoll is how often a held condition is asked again. Pipy asks when
// something asynchronous happens in the context's group; asking on a timer
// covers every such cause (and conditions on time) at a small cost, paid
// only while events are held.
const waitPoll = 10 * time.Millisecond

type waitConfig struct {
	cond    goja.Callable
	timeout time.Duration
}

func parseWait(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 2, "wait(condition, options?)"); err != nil {
		return nil, err
	}
	fn, err := engine.Func(args[0], "the condition")
	if err != nil {
		return nil, err
	}
	o, err := optionsArg(args, 1, "timeout")
	if err != nil {
		return nil, err
	}
	c := &waitConfig{cond: fn}
	if c.timeout, err = durationOption(o, "timeout", 0); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *waitConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &waitFilter{c: c, p: p, next: next}
}

type waitFilter struct {
	c         *waitConfig
	p         *engine.Pipeline
	next      event.Target
	fulfilled bool
	failed    bool
	held      []event.Event
	timer     func()
	poll      func()
}

func (f *waitFilter) Reset() {
	f.cancel()
	*f = waitFilter{c: f.c, p: f.p, next: f.next, held: f.held[:0]}
}

func (f *waitFilter) cancel() {
	if f.timer != nil {
		f.timer()
		f.timer = nil
	}
	if f.poll != nil {
		f.poll()
		f.poll = nil
	}
}

func (f *waitFilter) OnEvent(e event.Event) {
	if f.fulfilled {
		f.next.OnEvent(e)
		return
	}
	if f.failed {
		return
	}
	ok, err := f.check()
	if err != nil {
		return
	}
	if ok {
		f.fulfill()
		f.next.OnEvent(e)
		return
	}
	if len(f.held) == 0 && f.c.timeout > 0 {
		f.timer = f.p.W.After(f.c.timeout, func() {
			f.timer = nil
			f.fulfill()
		})
	}
	f.held = append(f.held, e)
	f.schedulePoll()
}

func (f *waitFilter) schedulePoll() {
	if f.poll != nil {
		return
	}
	f.poll = f.p.W.After(waitPoll, func() {
		f.poll = nil
		if f.fulfilled || f.failed {
			return
		}
		ok, err := f.check()
		switch {
		case err != nil:
		case ok:
			f.fulfill()
		default:
			f.schedulePoll()
		}
	})
}

func (f *waitFilter) check() (bool, error) {
	v, err := f.p.W.Call(f.p.Context, f.c.cond)
	if err != nil {
		f.failed = true
		f.cancel()
		f.held = f.held[:0]
		f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
		return false, err
	}
	return v.ToBoolean(), nil
}

func (f *waitFilter) fulfill() {
	if f.fulfilled {
		return
	}
	f.cancel()
	f.fulfilled = true
	held := f.held
	f.held = nil
	for _, e := range held {
		f.next.OnEvent(e)
	}
}
