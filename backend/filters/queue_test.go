package filters_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDemuxOrder: each line becomes a message answered by its own
// sub-pipeline after the delay the line gives; demux outputs the answers as
// they finish, demuxQueue in the input's order. Both end the stream once
// the input has ended and every answer is out.
func TestDemuxOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		filter string
		want   string
	}{
		{"demux", "done 0 #3\ndone 100 #2\ndone 300 #1\n"},
		{"demuxQueue", "done 300 #1\ndone 100 #2\ndone 0 #3\n"},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			t.Parallel()
			in := run(t, `
pipy({ _line: '', _n: 0, _until: 0 })
.listen('127.0.0.1:$PORT')
  $FRAMING
  .handleMessageStart(() => _n++)
  .$FILTER('job')
  $OUTPUT
.pipeline('job')
  .handleMessageStart(m => _until = Date.now() + m.head.delay)
  .wait(() => Date.now() >= _until)
  .replaceMessage(m => new Message('done ' + m.body.toString() + ' #' + _n))
`, []runOpt{threads(1)}, "$FRAMING", lineFraming, "$OUTPUT", lineOutput, "$FILTER", c.filter)
			conn := dial(t, in.addr)
			conn.write("300\n100\n0\n")
			conn.halfClose()
			mustEqual(t, "answers", conn.readToEnd(), c.want)
		})
	}
}

// TestDemuxQueueStreamsFront: the front answer streams out as it comes
// (Data by Data) while the ones behind it wait, buffered; the answer of a
// sub-pipeline that ends without one is an empty message.
func TestDemuxQueueStreamsFront(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _line: '', _until: 0 })
.listen('127.0.0.1:$PORT')
  $FRAMING
  .demuxQueue('job')
  .replaceData(d => new Data('(' + d.toString() + ')'))
  .replaceMessageEnd(() => new Data('.\n'))
.pipeline('job')
  .handleMessageStart(m => _until = Date.now() + m.head.delay)
  .wait(() => Date.now() >= _until)
  .replaceMessage(
    m => m.body.toString() === 'none' ? new StreamEnd() : [
      new MessageStart(), new Data('a' + m.body), new Data('b' + m.body), new MessageEnd(),
    ]
  )
`, []runOpt{threads(1)}, "$FRAMING", lineFraming)
	conn := dial(t, in.addr)
	conn.write("100\n0\nnone\n")
	conn.halfClose()
	mustEqual(t, "answers", conn.readToEnd(), "(a100)(b100).\n(a0b0).\n.\n")
}

// TestMerge: messages from several streams go whole, in order, into one
// shared session (one upstream connection) whose output is discarded;
// every event passes on; the session ends maxIdle after its last stream.
func TestMerge(t *testing.T) {
	t.Parallel()
	sink := newSink(t)
	in := run(t, `
pipy({ _line: '' })
.listen('127.0.0.1:$PORT')
  $FRAMING
  .merge('log', 'the-key', { maxIdle: 0.2 })
  .replaceMessage(m => new Data('ok ' + m.body.toString() + '\n'))
.pipeline('log')
  .replaceMessage(m => new Data('[' + m.body.toString() + ']'))
  .connect('$SINK')
`, []runOpt{threads(1)}, "$FRAMING", lineFraming, "$SINK", sink.addr)
	c1 := dial(t, in.addr)
	c2 := dial(t, in.addr)
	c1.write("a\n")
	mustEqual(t, "passed on", c1.readTextLine(), "ok a")
	c2.write("b\nc\n")
	mustEqual(t, "passed on", c2.readTextLine(), "ok b")
	mustEqual(t, "passed on", c2.readTextLine(), "ok c")
	c1.write("d\n")
	mustEqual(t, "passed on", c1.readTextLine(), "ok d")
	sink.waitData(t, "[a][b][c][d]", ioTimeout)
	mustEqual(t, "upstream connections", len(sink.conns), 1)
	// Once both streams are gone the session closes after maxIdle: the
	// upstream sees the end of its connection.
	c1.halfClose()
	c1.readToEnd()
	c2.halfClose()
	c2.readToEnd()
	select {
	case <-sink.ended:
	case <-time.After(ioTimeout):
		t.Fatal("the session did not end after maxIdle")
	}
}

// TestMuxQueue: two clients' messages share one session with one upstream
// connection; the answers come back first in, first out, each to its own
// stream. After the upstream goes away, a new session is opened.
func TestMuxQueue(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	conns := 0
	up := rawUpstream(t, func(c net.Conn) {
		defer c.Close()
		mu.Lock()
		conns++
		n := conns
		mu.Unlock()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.TrimSpace(line) == "quit" {
				return
			}
			time.Sleep(2 * time.Millisecond)
			c.Write([]byte(strings.ToUpper(strings.TrimSpace(line)) + "@" + string(rune('0'+n)) + "\n"))
		}
	})
	in := run(t, `
pipy({ _line: '' })
.listen('127.0.0.1:$PORT')
  $FRAMING
  .muxQueue('session', 'k')
  $OUTPUT
.pipeline('session')
  $OUTPUT
  .connect('$UP')
  $FRAMING
`, []runOpt{threads(1)}, "$FRAMING", lineFraming, "$OUTPUT", lineOutput, "$UP", up)
	c1 := dial(t, in.addr)
	c2 := dial(t, in.addr)
	var wg sync.WaitGroup
	for i, c := range []*rawConn{c1, c2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := string(rune('a' + i))
			for j := range 20 {
				c.write(prefix + string(rune('a'+j)) + "\n")
			}
		}()
	}
	wg.Wait()
	for i, c := range []*rawConn{c1, c2} {
		prefix := string(rune('a' + i))
		for j := range 20 {
			want := strings.ToUpper(prefix+string(rune('a'+j))) + "@1"
			mustEqual(t, "answer", c.readTextLine(), want)
		}
	}
	// The upstream closes the session's connection: the stream waiting
	// for an answer ends; the next message opens a new session.
	c1.write("quit\n")
	c1.expectClosed()
	c2.write("again\n")
	mustEqual(t, "answer from a new session", c2.readTextLine(), "AGAIN@2")
}
