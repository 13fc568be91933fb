package engine_test

import (
	"strings"
	"testing"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/http1"
)

func TestConfinesArg(t *testing.T) {
	confined := []string{
		`msg => _target = _router.find(msg.head.headers.host, msg.head.path)`,
		`msg => (_path = msg.head.path, _host = msg.head.headers.host)`,
		`msg => ((msg.head.path))`,
		`msg => msg.head.headers['x-cache'] = 'MISS'`,
		`msg => { msg.head.headers[_name.toLowerCase()] = msg.head.path.toUpperCase() }`,
		`msg => (msg.head.status || 200) === 200`,
		`msg => { msg.head = { status: 404 } }`,
		`msg => { msg.head.headers = { a: '1' } }`,
		`msg => { delete msg.head.headers.cookie }`,
		`msg => _n += msg.head.headers['content-length'] | 0`,
		`function (msg) { if (msg.head.method === 'GET') { return msg.head.path.length } }`,
		`(msg, other) => log(msg.head.path, other)`,
		`msg => _list.push(msg.head.path, msg.head.headers.host)`,
		`msg => { const p = msg.head.path; return () => p }`, // the closure keeps a string
	}
	kept := []string{
		`msg => _kept = msg`,
		`msg => _kept = msg.head`,
		`msg => _kept = msg.head.headers`,
		`msg => msg`,
		`msg => msg.head`,
		`msg => _list.push(msg)`,
		`msg => log(msg.head.headers)`,
		`msg => setTimeout(() => log(msg.head.path), 10)`,
		`msg => function () { return msg.head.path }`,
		`msg => msg['head']`,
		`msg => msg.head['headers']`,
		`msg => msg?.head.path`,
		`msg => msg.head.toString()`,
		`msg => msg.head.headers.hasOwnProperty('a')`,
		"msg => msg.head.headers.x``",
		`msg => typeof msg`,
		`msg => [...msg.head.headers]`,
		`msg => ({ ...msg.head })`,
		`msg => ({ msg })`,
		`msg => { let m = msg; log(m.head.path) }`,
		`msg => { msg = null }`,
		`msg => { msg.head += '' }`,
		`msg => arguments.length`,
		`msg => eval('msg.head.path')`,
		`function (msg) { with (msg) { log(head.path) } }`,
		`function (msg) { log(arguments[0].head.path) }`,
		`async msg => msg.head.path`,
		`function* (msg) { yield msg.head.path }`,
		`({ head }) => head.path`,
		`(msg = {}) => msg.head.path`,
		`(...args) => args[0].head.path`,
		`(msg, other = msg) => other.head.path`,
		`() => 1`,
		`msg => { class A { m() { return msg } } }`,
		`msg => _kept = msg.head.headers.host ? msg.head : null`,
		`msg => new msg.head.headers.x()`,
	}
	rt := goja.New()
	fn := func(src string) goja.Value {
		v, err := rt.RunString("(" + src + ")")
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return v
	}
	for _, src := range confined {
		if !engine.ConfinesArg(fn(src)) {
			t.Errorf("%s: not found confined", src)
		}
	}
	for _, src := range kept {
		if engine.ConfinesArg(fn(src)) {
			t.Errorf("%s: found confined, but it can keep its argument", src)
		}
	}
	for _, v := range []goja.Value{nil, goja.Undefined(), rt.ToValue("msg => msg.head.path"), rt.ToValue(strings.ToLower), fn(`(msg => msg.head.path).bind(null)`)} {
		if engine.ConfinesArg(v) {
			t.Errorf("%v: found confined", v)
		}
	}
}

// Handlers that keep their MessageStart, its head or its headers see each
// message's own values later, whether or not another handler in the same
// pipeline is lent reused objects.
func TestKeptMessageStartsKeepTheirValues(t *testing.T) {
	p := loadOne(t, `pipy({ _kept: [], _seen: [] })
.pipeline('p')
  .handleMessageStart(msg => _seen.push(msg.head.path + ' ' + msg.head.headers.host))
  .handleMessageStart(msg => _kept.push([msg, msg.head, msg.head.headers]))
  .handleMessageStart(msg => msg.head.headers['x-seen'] = msg.head.path)
  .handleStreamEnd(() => _report(_seen.join(',') + '|' + _kept.map(([m, h, hs]) => m.head.path + ' ' + h.path + ' ' + hs.host + ' ' + hs['x-seen']).join(',')))`)
	w := p.Workers[0]
	var report string
	var heads []*http1.RequestHead
	w.Exec(func() {
		ctx := w.NewContext(nil)
		w.Runtime().Set("_report", func(s string) { report = s })
		pl := namedLayout(t, p, "p").Instantiate(ctx, event.Discard)
		for i, path := range []string{"/a", "/b", "/c"} {
			h := &http1.RequestHead{Method: "GET", Path: path, Protocol: "HTTP/1.1", Headers: http1.Headers{{Name: "host", Value: "h" + string(rune('1'+i))}}}
			heads = append(heads, h)
			pl.OnEvent(&event.MessageStart{Head: h})
			pl.OnEvent(event.End())
		}
		pl.OnEvent(event.NewStreamEnd(event.NoError))
	})
	want := "/a h1,/b h2,/c h3|/a /a h1 /a,/b /b h2 /b,/c /c h3 /c"
	if report != want {
		t.Fatalf("report\n got %q\nwant %q", report, want)
	}
	for _, h := range heads {
		if got, _ := h.Headers.Get("x-seen"); got != h.Path {
			t.Errorf("head %s: x-seen = %q, written through a lent headers object", h.Path, got)
		}
	}
}

// The routing callback of the proxy allocates nothing per message: its
// event, head and headers objects are lent and the router's lookup is
// allocation-free.
func TestConfinedRoutingCallbackAllocatesNothing(t *testing.T) {
	p := loadOne(t, `pipy({ _router: new algo.URLRouter({ '/*': '127.0.0.1:8080' }), _target: '' })
.pipeline('p').handleMessageStart(msg => _target = _router.find(msg.head.headers.host, msg.head.path))
.pipeline('q').link('p').handleMessageStart(() => _report(_target))`)
	w := p.Workers[0]
	start := &event.MessageStart{Head: &http1.RequestHead{Method: "GET", Path: "/hello", Protocol: "HTTP/1.1", Headers: http1.Headers{{Name: "host", Value: "example.com"}}}}
	var target string
	var allocs float64
	var pl *engine.Pipeline
	w.Exec(func() { // a batch that calls scripts, so that the next one runs as under load
		w.Runtime().Set("_report", func(s string) { target = s })
		namedLayout(t, p, "q").Instantiate(w.NewContext(nil), event.Discard).OnEvent(start)
		pl = namedLayout(t, p, "p").Instantiate(w.NewContext(nil), event.Discard)
	})
	w.Exec(func() {
		allocs = testing.AllocsPerRun(200, func() { pl.OnEvent(start) })
	})
	if target != "127.0.0.1:8080" {
		t.Fatalf("routed to %q", target)
	}
	if allocs != 0 {
		t.Fatalf("%v allocations per message", allocs)
	}
}

// While the worker's objects are lent, a nested handler gets objects of its
// own; once they are returned they are lent again, bound to the new event.
func TestLendEventObjectNested(t *testing.T) {
	p := loadOne(t, `pipy()`)
	w := p.Workers[0]
	ev := func(path string) *event.MessageStart {
		return &event.MessageStart{Head: &http1.RequestHead{Method: "GET", Path: path, Protocol: "HTTP/1.1"}}
	}
	path := func(o *goja.Object) string { return o.Get("head").(*goja.Object).Get("path").String() }
	w.Exec(func() {
		o1, lent1 := w.LendEventObject(ev("/outer"))
		o2, lent2 := w.LendEventObject(ev("/inner"))
		if !lent1 || lent2 || o1 == o2 {
			t.Fatalf("lent %v then %v, same object %v", lent1, lent2, o1 == o2)
		}
		if path(o1) != "/outer" || path(o2) != "/inner" {
			t.Fatalf("outer sees %s, inner sees %s", path(o1), path(o2))
		}
		w.ReturnEventObject()
		o3, lent3 := w.LendEventObject(ev("/next"))
		if !lent3 || o3 != o1 || path(o3) != "/next" {
			t.Fatalf("after return: lent %v, reused %v, path %s", lent3, o3 == o1, path(o3))
		}
		w.ReturnEventObject()
		if _, lent := w.LendEventObject(event.End()); lent {
			t.Fatal("a MessageEnd was lent")
		}
	})
}
