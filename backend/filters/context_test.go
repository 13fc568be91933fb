package filters_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestContextClonedPerRequest(t *testing.T) {
	in := run(t, `
pipy({
  _n: 0,
  _g: { count: 0 },
})
.listen('127.0.0.1:$PORT')
  .handleStreamStart(() => _n = 100)
  .demuxHTTP('request')
.pipeline('request')
  .replaceMessage(
    () => (
      _n++,
      _g.count++,
      new Message(_n + ' ' + _g.count)
    )
  )
`, []runOpt{threads(1)})
	c := dial(t, in.addr)
	// Each request clones the connection's context: both see 101. The
	// object in _g is the same in every context.
	c.write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "first", c.response("GET").body, "101 1")
	c.write("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "second", c.response("GET").body, "101 2")
	c.write("GET /3 HTTP/1.1\r\nHost: x\r\n\r\nGET /4 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "third (pipelined)", c.response("GET").body, "101 3")
	mustEqual(t, "fourth (pipelined)", c.response("GET").body, "101 4")
	c2 := dial(t, in.addr)
	c2.write("GET /5 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "other connection", c2.response("GET").body, "101 5")
}

func TestContextLinkShares(t *testing.T) {
	in := run(t, `
pipy({
  _seen: '',
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .link('inner')
  .replaceMessage(msg => new Message(msg.body.toString() + ' / after link: ' + _seen))
.pipeline('inner')
  .handleMessageStart(msg => _seen = 'set in link ' + msg.head.path)
  .replaceMessage(() => new Message('inner sees ' + _seen))
`, nil)
	c := dial(t, in.addr)
	for _, p := range []string{"/a", "/b"} {
		c.write("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "body", c.response("GET").body,
			fmt.Sprintf("inner sees set in link %s / after link: set in link %s", p, p))
	}
}

func TestContextInbound(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .replaceMessage(() => new Message(__inbound.remoteAddress + ' ' + (__inbound.localPort > 0)))
`, nil)
	c := dial(t, in.addr)
	c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "body", c.response("GET").body, "127.0.0.1 true")
}

// useFiles are three plugins with up ('request') and down ('response')
// pipelines that trace their order into a variable exported by main.js.
var useFiles = map[string]string{
	"/a.js": `
pipy()
.import({ __trace: 'main', __turnDown: 'main' })
.pipeline('request')
  .handleMessageStart(() => __trace += 'a>')
.pipeline('response')
  .handleMessageStart(() => __trace += '<a')
`,
	"/b.js": `
pipy()
.import({ __trace: 'main', __turnDown: 'main' })
.pipeline('request')
  .handleMessageStart(
    msg => (
      __trace += 'b>',
      __turnDown = msg.head.path === '/turn'
    )
  )
.pipeline('response')
  .handleMessageStart(() => __trace += '<b')
`,
	"/c.js": `
pipy()
.import({ __trace: 'main', __turnDown: 'main' })
.pipeline('request')
  .handleMessageStart(() => __trace += 'c>')
.pipeline('response')
  .handleMessageStart(() => __trace += '<c')
`,
}

func TestContextUseChain(t *testing.T) {
	in := run(t, `
pipy()
.export('main', {
  __trace: '',
  __turnDown: false,
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .use(['/a.js', '/b.js', '/c.js'], 'request', 'response', () => __turnDown)
  .replaceMessage(() => new Message(__trace + ' ' + __turnDown))
`, []runOpt{files(useFiles)})
	c := dial(t, in.addr)
	for _, tc := range []struct{ path, want string }{
		{"/", "a>b>c><c<b<a false"},
		{"/turn", "a>b><b<a true"},
		// Exported variables start fresh for every request.
		{"/", "a>b>c><c<b<a false"},
	} {
		c.write("GET " + tc.path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "trace of "+tc.path, c.response("GET").body, tc.want)
	}
	// Pipelined requests each get their own variables too.
	c.write("GET /turn HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "pipelined 1", c.response("GET").body, "a>b><b<a true")
	mustEqual(t, "pipelined 2", c.response("GET").body, "a>b>c><c<b<a false")
}

func TestContextImportWritesExporterSlot(t *testing.T) {
	fs := map[string]string{
		// p exports __who; q imports it and writes it.
		"/p.js": `
pipy()
.export('p', { __who: 'nobody' })
.pipeline('request')
  .replaceMessage(() => new Message(__who + ' seen by p'))
`,
		"/q.js": `
pipy()
.import({ __who: 'p' })
.pipeline('request')
  .handleMessageStart(() => __who = __who + '+q')
`,
	}
	in := run(t, `
pipy()
.import({ __who: 'p' })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .use(['/q.js', '/p.js'], 'request')
  .replaceMessage(msg => new Message(msg.body.toString() + ', main sees ' + __who))
`, []runOpt{files(fs)})
	c := dial(t, in.addr)
	for range 2 {
		c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "body", c.response("GET").body, "nobody+q seen by p, main sees nobody+q")
	}
}

func TestContextMuxSessionClonesFirstRequester(t *testing.T) {
	// The session pipeline runs in a clone of the context of the request
	// that opened it: it connects to that request's target, and what it
	// writes does not reach the requesters.
	up := newUpstream(t, goApp())
	in := run(t, `
pipy({
  _target: '',
  _tag: 'request',
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .handleMessageStart(() => _target = '$UP')
  .muxHTTP('connection', () => _target)
  .replaceMessage(msg => new Message(msg.body.toString() + ' tag=' + _tag))
.pipeline('connection')
  .handleStreamStart(() => _tag = 'session')
  .connect(() => _target)
`, []runOpt{threads(1)}, "$UP", up.addr)
	c := dial(t, in.addr)
	for _, p := range []string{"/up/1", "/up/2"} {
		c.write("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n")
		body := c.response("GET").body
		if !strings.HasSuffix(body, "tag=request") || !strings.HasPrefix(body, "GET "+p) {
			t.Fatalf("body %q", body)
		}
	}
}
