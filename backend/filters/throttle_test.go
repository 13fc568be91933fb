package filters_test

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestThrottleMessageRate: eight keep-alive clients spread over four
// workers hammer a route throttled to 40 requests/s for two seconds. The
// quota is shared by the workers: about 40 at once, then 40 per second
// (counts in a generous window; per-worker quotas would give four times as
// many).
func TestThrottleMessageRate(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .throttleMessageRate(() => 40)
  .replaceMessage(new Message('ok'))
`, []runOpt{threads(4)})
	var count atomic.Int64
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for range 8 {
		c := dial(t, in.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.c.SetDeadline(deadline)
			for time.Now().Before(deadline) {
				if _, err := io.WriteString(c.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					return
				}
				resp, err := http.ReadResponse(c.br, nil)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	n := count.Load()
	t.Logf("%d requests in 2s at 40/s", n)
	if n < 60 || n > 130 {
		t.Errorf("%d requests went through in 2s; want about 80-120 at 40/s", n)
	}
}

// TestThrottleAccounts: each account has its own quota: one that has used
// its quota up waits for the next second while another goes through.
func TestThrottleAccounts(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _user: '' })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .handleMessageStart(m => _user = m.head.headers['x-user'])
  .throttleMessageRate(5, () => _user)
  .replaceMessage(() => new Message('ok ' + _user))
`, nil)
	cl := newClient(t)
	req := func(user string) string {
		r, _ := http.NewRequest("GET", in.url("/"), nil)
		r.Header.Set("x-user", user)
		resp, err := cl.Do(r)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for range 5 {
		mustEqual(t, "within a's quota", req("a"), "ok a")
	}
	sixth := make(chan string, 1)
	go func() { sixth <- req("a") }()
	for range 5 {
		mustEqual(t, "b's own quota", req("b"), "ok b")
	}
	select {
	case s := <-sixth:
		t.Fatalf("a's sixth request went through (%q) before b's five; want it to wait for the next second", s)
	default:
	}
	select {
	case s := <-sixth:
		mustEqual(t, "a's sixth, a second later", s, "ok a")
	case <-time.After(ioTimeout):
		t.Fatal("a's sixth request never went through")
	}
}

// TestThrottleConcurrency: with a quota of 2, six slow requests at once are
// served two at a time; the others wait (Pipy queues, it does not refuse)
// and all are answered.
func TestThrottleConcurrency(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _g: { active: 0, max: 0 }, _until: 0 })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .throttleConcurrency(2)
  .handleMessageStart(() => (_g.active++, _g.max = Math.max(_g.max, _g.active), _until = Date.now() + 100))
  .wait(() => Date.now() >= _until)
  .replaceMessage(() => (_g.active--, new Message('max ' + _g.max)))
`, []runOpt{threads(1)})
	var wg sync.WaitGroup
	results := make(chan string, 6)
	start := time.Now()
	for range 6 {
		cl := newClient(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cl.Get(in.url("/"))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			results <- string(b)
		}()
	}
	wg.Wait()
	close(results)
	n := 0
	for r := range results {
		n++
		if r != "max 1" && r != "max 2" {
			t.Errorf("answer %q: more than 2 requests ran at once", r)
		}
	}
	mustEqual(t, "answers", n, 6)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("six 100ms requests two at a time took %v", d)
	}
}

// TestThrottleDataRate: 1500 bytes through a 1000-bytes/s throttle: the
// first 1000 pass at once, the rest a second later; nothing is lost.
func TestThrottleDataRate(t *testing.T) {
	t.Parallel()
	up := tcpEcho(t)
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .throttleDataRate('1000')
  .connect('$UP')
`, nil, "$UP", up)
	c := dial(t, in.addr)
	body := bigBody(1500)
	start := time.Now()
	c.write(string(body))
	got := c.readN(1000)
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("the first 1000 bytes took %v", d)
	}
	got += c.readN(500)
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Errorf("1500 bytes went through a 1000 bytes/s throttle in %v", d)
	}
	if !bytes.Equal([]byte(got), body) {
		t.Error("the bytes changed on the way")
	}
}

// TestThrottleHoldsSender: while a throttle holds data back it stops
// reading the connection the data came from (as Pipy closes its input
// tap): a fast sender is left waiting in its socket, not in our memory.
// (Like Pipy, a held connection notices its peer going away only when the
// throttle lets it read again, minutes later here: the harness is told not
// to wait for it to close.)
func TestThrottleHoldsSender(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .throttleDataRate('10k')
  .dummy()
`, []runOpt{asUpstream()})
	c := dial(t, in.addr)
	c.c.SetWriteDeadline(time.Now().Add(time.Second))
	n, err := c.c.Write(make([]byte, 64<<20))
	if err == nil {
		t.Fatalf("wrote all %d bytes through a 10k/s throttle in a second", n)
	}
	t.Logf("wrote %d bytes before the sender was held back", n)
}

// TestThrottleObjectAccount: an object as the account (here the inbound
// connection) gives each object its own quota: one request at a time per
// connection, but two connections at once.
func TestThrottleObjectAccount(t *testing.T) {
	t.Parallel()
	in := run(t, `
pipy({ _g: { active: 0, max: 0 }, _until: 0 })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .throttleConcurrency(1, () => __inbound)
  .handleMessageStart(() => (_g.active++, _g.max = Math.max(_g.max, _g.active), _until = Date.now() + 100))
  .wait(() => Date.now() >= _until)
  .replaceMessage(() => (_g.active--, new Message('max ' + _g.max)))
`, []runOpt{threads(1)})
	c1, c2 := dial(t, in.addr), dial(t, in.addr)
	// Two pipelined requests on each connection: they run one after the
	// other on their connection, alongside the other connection's.
	for _, c := range []*rawConn{c1, c2} {
		c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	for _, c := range []*rawConn{c1, c2} {
		for range 2 {
			mustEqual(t, "answer", c.response("GET").body, "max 2")
		}
	}
}
