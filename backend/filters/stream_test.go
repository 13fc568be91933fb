package filters_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestShapingLoadErrors: wrong arguments to the stream-shaping, queueing,
// throttling and tunnelling filters fail the load with a located message.
func TestShapingLoadErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		call string
		want string
	}{
		{`.deframe(42)`, "states must be an object"},
		{`.deframe({})`, "states is empty"},
		{`.deframe({ a: 'b' })`, `state "a" goes to unknown state "b"`},
		{`.deframe({ a: 5 })`, `state "a" must be a function, a state name or an array`},
		{`.split('x')`, "the callback must be a function"},
		{`.split()`, "wrong number of arguments"},
		{`.pack('ten')`, `batchSize must be a number, got "ten"`},
		{`.pack(0)`, "batchSize must be a whole number"},
		{`.pack(10, 5)`, "options must be an object"},
		{`.pack(10, { timout: 5 })`, `unknown option "timout"`},
		{`.pack(10, { timeout: 'soon' })`, `option timeout: invalid duration "soon"`},
		{`.pack(10, { timeout: [] })`, "option timeout expects a number of seconds"},
		{`.pack(10, { vacancy: 2 })`, "option vacancy expects a number from 0 to 1"},
		{`.handleMessageBody('1k')`, "the handler must be a function"},
		{`.handleMessageBody('lots', b => b)`, `invalid size "lots"`},
		{`.wait(true)`, "the condition must be a function"},
		{`.wait(() => true, { timeout: {} })`, "option timeout expects"},
		{`.demux()`, "wrong number of arguments; usage: demux(pipeline)"},
		{`.demuxQueue(42)`, "argument 1 must be a pipeline name, got 42"},
		{`.demux('nowhere')`, "pipeline not found: nowhere"},
		{`.merge('p', '', { maxIdle: {} })`, "option maxIdle expects"},
		{`.merge('p', '', { idle: 1 })`, `unknown option "idle"`},
		{`.muxQueue(() => 'p')`, "argument 1 must be a pipeline name, got a function"},
		{`.muxQueue('', 'k')`, "the pipeline name is empty"},
		{`.throttleMessageRate('fast')`, `invalid quota "fast"`},
		{`.throttleDataRate({})`, "quota must be a number, a string like '10k' or a function, got an object"},
		{`.throttleConcurrency()`, "wrong number of arguments"},
		{`.tee(5)`, "filename must be a file name or a function returning one, got 5"},
		{`.tee('')`, "filename must be a file name"},
		{`.depositMessage('x', { keep: 'yes' })`, `option keep expects a boolean, got "yes"`},
		{`.depositMessage('x', { threshold: 'big' })`, `option threshold: invalid size "big"`},
		{`.exec('')`, "the command is empty"},
		{`.exec(5)`, "command must be a string, an array of arguments or a function, got 5"},
		{`.acceptHTTPTunnel('p')`, "wrong number of arguments"},
		{`.acceptHTTPTunnel('p', 5)`, "the handler must be a function"},
		{`.connectHTTPTunnel('p', 'nohost')`, `invalid target "nohost"`},
		{`.connectHTTPTunnel('p', 42)`, "target must be 'host:port', a Message or a function returning one, got 42"},
		{`.acceptSOCKS('p', 'yes')`, "onConnect must be a function"},
		{`.connectSOCKS('p', 'bad:port')`, `invalid target "bad:port"`},
		{`.connectSOCKS('p', null)`, "target must be 'host:port'"},
	}
	for _, c := range cases {
		src := "pipy({ _line: '' })\n.listen(0)\n  " + c.call + "\n.pipeline('p')\n  .dummy()\n"
		got := shapeLoadError(t, src)
		if !strings.HasPrefix(got, "/main.js:3:") || !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got: %s\nwant: /main.js:3:... %s", c.call, got, c.want)
		}
	}
	if got := shapeLoadError(t, "pipy()\n.read(5)\n"); !strings.HasPrefix(got, "/main.js:2:") || !strings.Contains(got, "read(pathname): expects the pathname") {
		t.Errorf("read(5): got %s", got)
	}
}

// TestDeframe: functions, state names, reads into a Data, reads into an
// array, pass-through reads, and the restart at the stream's end.
func TestDeframe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		states string
		in     []string // written one after the other
		want   string
	}{
		{
			name:   "lines",
			states: `line: c => c === 10 ? [new MessageStart(), new Data(_line), new MessageEnd(), (_line = '', 'line')] : (_line += String.fromCharCode(c), 'line')`,
			in:     []string{"ab", "c\nde\n", "f\n"},
			want:   "<abc><de><f>",
		},
		{
			name: "length-prefixed into Data",
			states: `
				len: c => ['body', c, new Data()],
				body: d => [new MessageStart(), d, new MessageEnd(), 'len'],`,
			in:   []string{"\x03a", "bc\x02", "de"},
			want: "<abc><de>",
		},
		{
			name: "into an array",
			states: `
				len: c => ['sum', c, []],
				sum: a => [new MessageStart(), new Data(String(a.reduce((x, y) => x + y, 0))), new MessageEnd(), 'len'],`,
			in:   []string{"\x02\x01\x02\x03\x0a\x0a\x0a"},
			want: "<3><30>",
		},
		{
			name: "pass-through reads",
			states: `
				scan: c => c === 80 ? ['scan', 2] : 'scan',`,
			in:   []string{"xP12yyP3", "4z"},
			want: "1234",
		},
		{
			name:   "bad state stops the machine",
			states: `a: c => c === 33 ? 'nowhere' : [new MessageStart(), new Data(String.fromCharCode(c)), new MessageEnd(), 'a']`,
			in:     []string{"xy!z"},
			want:   "<x><y>",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := run(t, `
pipy({ _line: '' })
.listen('127.0.0.1:$PORT')
  .deframe({ $STATES })
  .replaceMessage(m => new Data('<' + m.body.toString() + '>'))
`, []runOpt{threads(1)}, "$STATES", c.states)
			conn := dial(t, in.addr)
			for _, s := range c.in {
				conn.write(s)
				time.Sleep(5 * time.Millisecond)
			}
			conn.halfClose()
			mustEqual(t, "output", conn.readToEnd(), c.want)
		})
	}
}

// TestSplit: null (or true) cuts after the byte, an event or Message is
// inserted after the cut, undefined goes on.
func TestSplit(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .split(c => c === 44 ? null : c === 59 ? new Message('X') : c === 124 ? true : undefined)
  .replaceMessage(m => new Data('<' + m.body.toString() + '>'))
  .replaceData(d => new Data('[' + d.toString() + ']'))
`, []runOpt{threads(1)})
	c := dial(t, in.addr)
	c.write("a,b;c|de")
	c.halfClose()
	mustEqual(t, "output", c.readToEnd(), "[a,][b;][<X>][c|][de]")
}

// TestPack: batches of batchSize messages; a partial batch goes out after
// the timeout, again and again (Pipy 0.30 checked the timeout only once);
// the stream's end sends the rest.
func TestPack(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _line: '' })
.listen('127.0.0.1:$PORT')
  $FRAMING
  .pack(3, { timeout: 0.3 })
  .replaceMessage(m => new Data('[' + m.body.toString() + ']\n'))
`, []runOpt{threads(1)}, "$FRAMING", lineFraming)
	c := dial(t, in.addr)
	c.write("a\nb\nc\nd\ne\nf\ng\n")
	mustEqual(t, "first batch", c.readTextLine(), "[abc]")
	mustEqual(t, "second batch", c.readTextLine(), "[def]")
	start := time.Now()
	mustEqual(t, "partial batch after the timeout", c.readTextLine(), "[g]")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("the partial batch came after %v, before the timeout", d)
	}
	// The timeout works for every batch, not just the first.
	c.write("h\n")
	mustEqual(t, "second partial batch", c.readTextLine(), "[h]")
	c.write("i\nj\n")
	mustEqual(t, "third partial batch", c.readTextLine(), "[ij]")
	c.write("k\n")
	c.halfClose()
	mustEqual(t, "the rest at the end", c.readToEnd(), "[k]\n")
}

// TestPackInterval: with interval, a batch goes out at a message end once
// that long has passed since the last batch, full or not.
func TestPackInterval(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _line: '' })
.listen('127.0.0.1:$PORT')
  $FRAMING
  .pack(100, { interval: 0.2 })
  .replaceMessage(m => new Data('[' + m.body.toString() + ']\n'))
`, []runOpt{threads(1)}, "$FRAMING", lineFraming)
	c := dial(t, in.addr)
	c.write("a\n") // the first message end flushes (nothing was sent yet)
	mustEqual(t, "first", c.readTextLine(), "[a]")
	c.write("b\nc\n")
	time.Sleep(250 * time.Millisecond)
	c.write("d\n")
	mustEqual(t, "after the interval", c.readTextLine(), "[bcd]")
}

// TestHandleMessageBody: the handler gets each whole body (cut at the size
// limit); the message passes unchanged.
func TestHandleMessageBody(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _body: '' })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .handleMessageBody(4, b => _body = b.toString())
  .replaceMessage(m => new Message(_body + '|' + m.body.toString()))
`, nil)
	cl := newClient(t)
	for _, body := range []string{"hello", "hi", ""} {
		want := body
		if len(want) > 4 {
			want = want[:4]
		}
		_, got := post(t, cl, in.url("/"), strings.NewReader(body), int64(len(body)))
		mustEqual(t, "body "+body, got, want+"|"+body)
	}
}

// TestWait: events are held until the condition holds (asked again while
// holding) or the timeout passes.
func TestWait(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _until: 0 })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .handleMessageStart(m => _until = Date.now() + Number(m.head.headers['x-delay'] || 0))
  .wait(() => Date.now() >= _until)
  .replaceMessage(m => new Message('waited ' + m.head.path))
`, nil)
	cl := newClient(t)
	req := func(path, delay string) string {
		r, err := http.NewRequest("GET", in.url(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("x-delay", delay)
		resp, err := cl.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mustEqual(t, "no wait", req("/now", "0"), "waited /now")
	start := time.Now()
	mustEqual(t, "waited", req("/later", "200"), "waited /later")
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Errorf("answered after %v: did not wait", d)
	}

	in2 := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .wait(() => false, { timeout: 0.2 })
  .replaceMessage(new Message('released'))
`, nil)
	start = time.Now()
	_, body, _ := get(t, newClient(t), in2.url("/"))
	mustEqual(t, "after the timeout", body, "released")
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Errorf("released after %v, before the timeout", d)
	}
}
