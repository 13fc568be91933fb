package filters

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// compressHTTP / compressMessage compress message bodies as they stream;
// decompressHTTP / decompressMessage undo it. Compression is push-style
// (the standard writers); decompression runs the standard pull-style readers
// as coroutines (iter.Pull) fed with each Data event, so bodies stream
// through without being collected and without another goroutine touching
// the pipeline.

func init() {
	engine.Register(&engine.FilterKind{
		Name:      "compressHTTP",
		Signature: "compressHTTP(options?: {enabled?: boolean | (start: MessageStart) => boolean, method?: 'gzip' | 'deflate' | 'brotli' | (start: MessageStart) => string, level?: 'default' | 'none' | 'speed' | 'best'})",
		Help: "Compresses HTTP message bodies (gzip by default) and sets content-encoding (gzip, deflate or br), dropping content-length. " +
			"A message that already has a content-encoding other than identity, or a status without a body (1xx, 204, 304), passes unchanged. " +
			"enabled and method may be functions of the MessageStart, e.g. to follow the request's accept-encoding.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return parseCompress(args, true)
		},
	})
	engine.Register(&engine.FilterKind{
		Name:      "compressMessage",
		Signature: "compressMessage(options?: {enabled?: boolean | (start: MessageStart) => boolean, method?: 'gzip' | 'deflate' | 'brotli' | (start: MessageStart) => string, level?: 'default' | 'none' | 'speed' | 'best'})",
		Help:      "Compresses every message body (gzip by default). When the head has headers, content-encoding is set and content-length dropped.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return parseCompress(args, false)
		},
	})
	engine.Register(&engine.FilterKind{
		Name:      "decompressHTTP",
		Signature: "decompressHTTP(enable?: boolean | (start: MessageStart) => boolean)",
		Help: "Decompresses HTTP message bodies whose content-encoding is gzip, deflate or br, and removes content-encoding and content-length from the head. " +
			"A corrupt body is cut where it breaks (with a warning in the log).",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			const sig = "decompressHTTP(enable?: boolean | () => boolean)"
			if err := argCount(args, 0, 1, sig); err != nil {
				return nil, err
			}
			c := &decompressConfig{http: true}
			if len(args) == 1 && !engine.IsNullish(args[0]) {
				if _, isFn := goja.AssertFunction(args[0]); !isFn && !isBoolean(args[0]) {
					return nil, fmt.Errorf("enable must be a boolean or a function; usage: %s", sig)
				}
				c.enable = engine.NewValue(args[0])
			}
			return c, nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name:      "decompressMessage",
		Signature: "decompressMessage(algorithm: 'inflate' | 'gzip' | 'deflate' | 'brotli' | (start: MessageStart) => string)",
		Help: "Decompresses every message body with the algorithm given (or returned for the message; null or undefined leaves it as it is). " +
			"inflate accepts gzip, zlib or raw deflate data. A content-encoding header, if the head has one, is removed with content-length.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			const sig = "decompressMessage(algorithm: string | (start: MessageStart) => string)"
			if err := argCount(args, 1, 1, sig); err != nil {
				return nil, err
			}
			c := &decompressConfig{algo: engine.NewValue(args[0])}
			if !c.algo.IsFunc() {
				if _, ok := args[0].Export().(string); !ok {
					return nil, fmt.Errorf("algorithm must be a string or a function; usage: %s", sig)
				}
				if _, err := inflateAlgo(args[0].String()); err != nil {
					return nil, err
				}
			}
			return c, nil
		},
	})
}

func isBoolean(v goja.Value) bool {
	_, ok := v.Export().(bool)
	return ok
}

// ---- algorithms ----

type compressAlgo int

const (
	algoGzip compressAlgo = iota
	algoDeflate
	algoBrotli
	algoInflate // decompression only: gzip, zlib or raw deflate, detected
)

// token is the content-encoding token of the algorithm.
func (a compressAlgo) token() string {
	switch a {
	case algoDeflate:
		return "deflate"
	case algoBrotli:
		return "br"
	}
	return "gzip"
}

func compressMethod(name string) (compressAlgo, error) {
	switch name {
	case "gzip":
		return algoGzip, nil
	case "deflate":
		return algoDeflate, nil
	case "brotli", "br":
		return algoBrotli, nil
	}
	return 0, fmt.Errorf("unknown compression method %q (expected gzip, deflate or brotli)", name)
}

func inflateAlgo(name string) (compressAlgo, error) {
	switch name {
	case "inflate":
		return algoInflate, nil
	case "gzip":
		return algoGzip, nil
	case "deflate":
		return algoDeflate, nil
	case "brotli", "br":
		return algoBrotli, nil
	}
	return 0, fmt.Errorf("unknown decompression algorithm %q (expected inflate, gzip, deflate or brotli)", name)
}

type compressLevel int

const (
	levelDefault compressLevel = iota
	levelNone
	levelSpeed
	levelBest
)

func (l compressLevel) zlib() int {
	switch l {
	case levelNone:
		return flate.NoCompression
	case levelSpeed:
		return flate.BestSpeed
	case levelBest:
		return flate.BestCompression
	}
	return flate.DefaultCompression
}

func (l compressLevel) brotli() int {
	switch l {
	case levelNone, levelSpeed:
		return brotli.BestSpeed
	case levelBest:
		return brotli.BestCompression
	}
	return brotli.DefaultCompression
}

// ---- compression ----

type compressConfig struct {
	http    bool
	enabled engine.Value // boolean, or a function of the MessageStart; unset means true
	method  engine.Value // string, or a function of the MessageStart
	algo    compressAlgo // when method is constant
	level   compressLevel
}

func parseCompress(args []goja.Value, http bool) (engine.Config, error) {
	name := "compressMessage"
	if http {
		name = "compressHTTP"
	}
	sig := name + "(options?: {enabled, method, level})"
	if err := argCount(args, 0, 1, sig); err != nil {
		return nil, err
	}
	c := &compressConfig{http: http}
	if len(args) == 0 || engine.IsNullish(args[0]) {
		return c, nil
	}
	o, ok := args[0].(*goja.Object)
	if !ok {
		return nil, fmt.Errorf("options must be an object; usage: %s", sig)
	}
	if v := o.Get("enabled"); !engine.IsNullish(v) {
		if _, isFn := goja.AssertFunction(v); !isFn && !isBoolean(v) {
			return nil, fmt.Errorf("options.enabled must be a boolean or a function")
		}
		c.enabled = engine.NewValue(v)
	}
	if v := o.Get("method"); !engine.IsNullish(v) {
		c.method = engine.NewValue(v)
		if !c.method.IsFunc() {
			s, ok := v.Export().(string)
			if !ok {
				return nil, fmt.Errorf("options.method must be a string or a function")
			}
			a, err := compressMethod(s)
			if err != nil {
				return nil, fmt.Errorf("options.method: %v", err)
			}
			c.algo = a
		}
	}
	if v := o.Get("level"); !engine.IsNullish(v) {
		switch s, _ := v.Export().(string); s {
		case "default":
			c.level = levelDefault
		case "none":
			c.level = levelNone
		case "speed":
			c.level = levelSpeed
		case "best":
			c.level = levelBest
		default:
			return nil, fmt.Errorf("options.level must be one of 'default', 'none', 'speed' or 'best', got %s", v.String())
		}
	}
	return c, nil
}

func (c *compressConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &compressFilter{p: p, next: next, c: c}
}

type compressFilter struct {
	p      *engine.Pipeline
	next   event.Target
	c      *compressConfig
	in     bool
	enc    *bodyEncoder // nil when the body passes as it is
	failed bool
}

func (f *compressFilter) Reset() {
	f.release()
	f.in, f.failed = false, false
}

// release gives the encoder back to its pool.
func (f *compressFilter) release() {
	if f.enc != nil {
		encoderPools[f.enc.algo][f.c.level].Put(f.enc)
		f.enc = nil
	}
}

func (f *compressFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if f.in {
			return // a start inside a message: ignored, as Pipy does
		}
		f.in = true
		algo, ok, err := f.choose(e)
		if err != nil {
			f.failed = true
			f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
			return
		}
		if !ok {
			f.next.OnEvent(e)
			return
		}
		f.enc = f.encoder(algo)
		head := e.Head
		if head == nil && f.c.http {
			head = f.p.W.Runtime().NewObject() // a response with no head says 200 and nothing else
		}
		if head != nil {
			head = headWithHeaders(f.p.W, head, headerChange{"content-encoding", algo.token()}, headerChange{"content-length", ""})
		}
		f.next.OnEvent(&event.MessageStart{Head: head})
	case *event.Data:
		if f.enc == nil {
			f.next.OnEvent(e)
			return
		}
		for _, c := range e.Chunks() {
			f.enc.w.Write(c)
		}
		f.enc.emit(f.next)
	case *event.MessageEnd:
		if !f.in {
			f.next.OnEvent(e)
			return
		}
		f.in = false
		if f.enc != nil {
			f.enc.w.Close()
			f.enc.emit(f.next)
			f.release()
		}
		f.next.OnEvent(e)
	case *event.StreamEnd:
		f.in = false
		f.release()
		f.next.OnEvent(e)
	}
}

// choose decides whether and how to compress the message.
func (f *compressFilter) choose(start *event.MessageStart) (compressAlgo, bool, error) {
	c := f.c
	if f.c.http {
		if s := headStatus(start.Head); s != 0 && (s < 200 || s == 204 || s == 304) {
			return 0, false, nil
		}
		if ce, ok := headHeader(start.Head, "content-encoding"); ok && ce != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity") {
			return 0, false, nil
		}
	}
	w := f.p.W
	var evt goja.Value
	startObj := func() goja.Value {
		if evt == nil {
			evt = w.EventObject(start)
		}
		return evt
	}
	if c.enabled.IsFunc() {
		v, err := c.enabled.Eval(f.p, startObj())
		if err != nil {
			return 0, false, err
		}
		if !v.ToBoolean() {
			return 0, false, nil
		}
	} else if c.enabled.Const != nil && !c.enabled.Const.ToBoolean() {
		return 0, false, nil
	}
	if !c.method.IsFunc() {
		return c.algo, true, nil
	}
	v, err := c.method.Eval(f.p, startObj())
	if err != nil {
		return 0, false, err
	}
	if engine.IsNullish(v) {
		return 0, false, nil
	}
	a, err := compressMethod(v.String())
	if err != nil {
		logging.Errorf("[%s] %v", f.name(), err)
		return 0, false, nil
	}
	return a, true, nil
}

func (f *compressFilter) name() string {
	if f.c.http {
		return "compressHTTP"
	}
	return "compressMessage"
}

// encoderPools keep idle encoders (they hold large buffers) by algorithm
// and level, shared by all pipelines and workers.
var encoderPools [3][4]sync.Pool

// encoder returns a ready encoder for algo.
func (f *compressFilter) encoder(algo compressAlgo) *bodyEncoder {
	if e, ok := encoderPools[algo][f.c.level].Get().(*bodyEncoder); ok {
		e.buf.Reset()
		e.w.Reset(&e.buf)
		return e
	}
	return newBodyEncoder(algo, f.c.level)
}

// compressWriter is what the gzip, zlib and brotli writers have in common.
type compressWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// bodyEncoder compresses into buf; emit hands what came out downstream.
type bodyEncoder struct {
	algo compressAlgo
	buf  bytes.Buffer
	w    compressWriter
}

func newBodyEncoder(algo compressAlgo, level compressLevel) *bodyEncoder {
	e := &bodyEncoder{algo: algo}
	switch algo {
	case algoDeflate:
		e.w, _ = zlib.NewWriterLevel(&e.buf, level.zlib())
	case algoBrotli:
		e.w = brotli.NewWriterLevel(&e.buf, level.brotli())
	default:
		e.w, _ = gzip.NewWriterLevel(&e.buf, level.zlib())
	}
	return e
}

func (e *bodyEncoder) emit(next event.Target) {
	if e.buf.Len() == 0 {
		return
	}
	out := bytes.Clone(e.buf.Bytes())
	e.buf.Reset()
	next.OnEvent(event.NewData(out))
}

// ---- decompression ----

type decompressConfig struct {
	http   bool
	enable engine.Value // decompressHTTP: boolean or function of the MessageStart; unset means true
	algo   engine.Value // decompressMessage: string or function of the MessageStart
}

func (c *decompressConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &decompressFilter{p: p, next: next, c: c}
}

type decompressFilter struct {
	p      *engine.Pipeline
	next   event.Target
	c      *decompressConfig
	in     bool
	dec    *inflater // nil when the body passes as it is
	broken bool      // the body was corrupt: drop the rest of it
	failed bool
}

func (f *decompressFilter) Reset() {
	f.stopDecoder()
	f.in, f.broken, f.failed = false, false, false
}

func (f *decompressFilter) name() string {
	if f.c.http {
		return "decompressHTTP"
	}
	return "decompressMessage"
}

func (f *decompressFilter) stopDecoder() {
	if f.dec != nil {
		f.dec.stop()
		f.dec = nil
	}
}

func (f *decompressFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if f.in {
			return
		}
		f.in, f.broken = true, false
		algo, ok, err := f.choose(e)
		if err != nil {
			f.failed = true
			f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
			return
		}
		if !ok {
			f.next.OnEvent(e)
			return
		}
		f.dec = newInflater(algo)
		head := e.Head
		if _, has := headHeader(head, "content-encoding"); has || f.c.http && head != nil {
			head = headWithHeaders(f.p.W, head, headerChange{"content-encoding", ""}, headerChange{"content-length", ""})
		}
		f.next.OnEvent(&event.MessageStart{Head: head})
	case *event.Data:
		if f.broken {
			return
		}
		if f.dec == nil {
			f.next.OnEvent(e)
			return
		}
		for _, c := range e.Chunks() {
			if !f.feed(c, false) {
				return
			}
		}
	case *event.MessageEnd:
		if !f.in {
			f.next.OnEvent(e)
			return
		}
		f.in = false
		if f.dec != nil {
			f.feed(nil, true)
			f.stopDecoder()
		}
		f.next.OnEvent(e)
	case *event.StreamEnd:
		f.stopDecoder()
		f.in = false
		f.next.OnEvent(e)
	}
}

// feed gives the decoder more input (or the end of it) and passes on what
// comes out. It returns false when the body turned out corrupt.
func (f *decompressFilter) feed(b []byte, end bool) bool {
	err := f.dec.feed(b, end, func(out []byte) { f.next.OnEvent(event.NewData(out)) })
	if err != nil {
		logging.Warnf("[%s] corrupt body, the rest of it is dropped: %v", f.name(), err)
		f.stopDecoder()
		f.broken = true
		return false
	}
	return true
}

func (f *decompressFilter) choose(start *event.MessageStart) (compressAlgo, bool, error) {
	w := f.p.W
	c := f.c
	if c.http {
		ce, ok := headHeader(start.Head, "content-encoding")
		if !ok {
			return 0, false, nil
		}
		var algo compressAlgo
		switch strings.ToLower(strings.TrimSpace(ce)) {
		case "gzip", "x-gzip":
			algo = algoGzip
		case "deflate":
			algo = algoDeflate
		case "br":
			algo = algoBrotli
		default:
			return 0, false, nil
		}
		if c.enable.IsFunc() {
			v, err := c.enable.Eval(f.p, w.EventObject(start))
			if err != nil {
				return 0, false, err
			}
			if !v.ToBoolean() {
				return 0, false, nil
			}
		} else if c.enable.Const != nil && !c.enable.Const.ToBoolean() {
			return 0, false, nil
		}
		return algo, true, nil
	}
	v := c.algo.Const
	if c.algo.IsFunc() {
		var err error
		if v, err = c.algo.Eval(f.p, w.EventObject(start)); err != nil {
			return 0, false, err
		}
	}
	if engine.IsNullish(v) {
		return 0, false, nil
	}
	algo, err := inflateAlgo(v.String())
	if err != nil {
		logging.Errorf("[decompressMessage] %v", err)
		return 0, false, nil
	}
	return algo, true, nil
}

// inflater runs a standard decompressing reader as a coroutine. The reader
// pulls input from src; when src runs dry the coroutine yields, and the next
// feed refills it. All of it runs on the caller's goroutine in turn, never
// in parallel.
type inflater struct {
	src  *inflateSource
	next func() (inflateStep, bool)
	stop func()
}

type inflateStep struct {
	out  []byte
	need bool // src is empty: feed more
	done bool
	err  error
}

var errInflateStopped = errors.New("decompression stopped")

type inflateSource struct {
	chunks [][]byte
	eof    bool
	yield  func(inflateStep) bool
}

func (s *inflateSource) fill() error {
	for len(s.chunks) == 0 {
		if s.eof {
			return io.EOF
		}
		if !s.yield(inflateStep{need: true}) {
			return errInflateStopped
		}
	}
	return nil
}

func (s *inflateSource) Read(p []byte) (int, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	n := copy(p, s.chunks[0])
	if s.chunks[0] = s.chunks[0][n:]; len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

func (s *inflateSource) ReadByte() (byte, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	c := s.chunks[0][0]
	if s.chunks[0] = s.chunks[0][1:]; len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	return c, nil
}

// inflateByteReader is flate's input interface: with it, flate reads no further
// than it needs, so nothing after the compressed stream is swallowed.
type inflateByteReader interface {
	io.Reader
	io.ByteReader
}

// inflatePrefixed puts bytes already read back in front of a source.
type inflatePrefixed struct {
	head []byte
	rest inflateByteReader
}

func (p *inflatePrefixed) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.rest.Read(b)
}

func (p *inflatePrefixed) ReadByte() (byte, error) {
	if len(p.head) > 0 {
		c := p.head[0]
		p.head = p.head[1:]
		return c, nil
	}
	return p.rest.ReadByte()
}

// openInflateReader makes the decompressing reader for algo over src. For deflate
// and inflate it looks at the first bytes: a gzip member (inflate only), a
// zlib stream, or else raw deflate data.
func openInflateReader(algo compressAlgo, src *inflateSource) (io.Reader, error) {
	switch algo {
	case algoGzip:
		return gzip.NewReader(src)
	case algoBrotli:
		return brotli.NewReader(src), nil
	}
	var head []byte
	for len(head) < 2 {
		c, err := src.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		head = append(head, c)
	}
	r := &inflatePrefixed{head: head, rest: src}
	switch {
	case len(head) == 0:
		return bytes.NewReader(nil), nil
	case algo == algoInflate && len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b:
		return gzip.NewReader(r)
	case len(head) == 2 && head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0:
		return zlib.NewReader(r)
	}
	return flate.NewReader(r), nil
}

func newInflater(algo compressAlgo) *inflater {
	src := &inflateSource{}
	seq := func(yield func(inflateStep) bool) {
		src.yield = yield
		r, err := openInflateReader(algo, src)
		if err != nil {
			if err != errInflateStopped {
				yield(inflateStep{err: err})
			}
			return
		}
		buf := make([]byte, 16<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 && !yield(inflateStep{out: bytes.Clone(buf[:n])}) {
				return
			}
			switch {
			case err == io.EOF:
				yield(inflateStep{done: true})
				return
			case err == errInflateStopped:
				return
			case err != nil:
				if err == io.ErrUnexpectedEOF {
					err = errors.New("the compressed data ends early")
				}
				yield(inflateStep{err: err})
				return
			}
		}
	}
	next, stop := iter.Pull(seq)
	return &inflater{src: src, next: next, stop: stop}
}

// feed adds input (end: there is no more) and runs the reader until it
// needs more input or finishes, passing each piece of output to emit.
func (d *inflater) feed(b []byte, end bool, emit func([]byte)) error {
	if len(b) > 0 {
		d.src.chunks = append(d.src.chunks, b)
	}
	if end {
		d.src.eof = true
	}
	for {
		step, ok := d.next()
		switch {
		case !ok || step.done:
			return nil
		case step.err != nil:
			return step.err
		case step.need:
			return nil
		default:
			emit(step.out)
		}
	}
}
