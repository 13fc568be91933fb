package engine_test

import (
	"testing"
	"testing/fstest"

	"sluice/backend/engine"
	"sluice/backend/event"
	_ "sluice/backend/filters"
	"sluice/backend/http1"
)

// loadOne loads a one-module program on one worker.
func loadOne(b testing.TB, src string) *engine.Program {
	b.Helper()
	p, err := engine.Load(engine.Options{FS: fstest.MapFS{"main.js": {Data: []byte(src)}}, Main: "/main.js", Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Stop)
	return p
}

func namedLayout(b testing.TB, p *engine.Program, name string) *engine.Layout {
	l := p.Modules()[0].Named(name)
	if l == nil {
		b.Fatalf("no pipeline %q", name)
	}
	return l
}

// Data events through a pipeline of pass-through joints: no script runs and
// nothing is allocated per event.
func BenchmarkDataThroughNoopPipeline(b *testing.B) {
	p := loadOne(b, `pipy().pipeline('p').link('q').pipeline('q').link('').link('')`)
	w := p.Workers[0]
	var sink int
	out := event.TargetFunc(func(e event.Event) {
		if d, ok := e.(*event.Data); ok {
			sink += d.Size()
		}
	})
	d := event.NewDataString("0123456789abcdef")
	w.Do(func() {
		pl := namedLayout(b, p, "p").Instantiate(w.NewContext(nil), out)
		pl.OnEvent(d)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			pl.OnEvent(d)
		}
		b.StopTimer()
	})
	if sink == 0 {
		b.Fatal("no data came out")
	}
}

// A small script callback on every message (handleMessageStart with an
// arrow function that updates a context variable).
func BenchmarkScriptCallbackPerMessage(b *testing.B) {
	p := loadOne(b, `pipy({_n: 0}).pipeline('p').handleMessageStart(() => _n++)`)
	w := p.Workers[0]
	start := &event.MessageStart{}
	w.Do(func() {
		pl := namedLayout(b, p, "p").Instantiate(w.NewContext(nil), event.Discard)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			pl.OnEvent(start)
			pl.OnEvent(event.End())
		}
		b.StopTimer()
	})
}

// The routing callback of the proxy benchmark on a request head, inside a
// batch as the epoll loop runs it.
func BenchmarkRoutingCallback(b *testing.B) {
	p := loadOne(b, `pipy({ _router: new algo.URLRouter({ '/*': '127.0.0.1:8080' }), _target: '' })
.pipeline('p').handleMessageStart(msg => _target = _router.find(msg.head.headers.host, msg.head.path))`)
	w := p.Workers[0]
	head := &http1.RequestHead{Method: "GET", Path: "/hello", Protocol: "HTTP/1.1", Headers: http1.Headers{{Name: "host", Value: "example.com"}}}
	pl := (*engine.Pipeline)(nil)
	w.Exec(func() { // a first batch that calls the script, as under load
		pl = namedLayout(b, p, "p").Instantiate(w.NewContext(nil), event.Discard)
		pl.OnEvent(&event.MessageStart{Head: head})
		pl.OnEvent(event.End())
	})
	w.Exec(func() {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			pl.OnEvent(&event.MessageStart{Head: head})
			pl.OnEvent(event.End())
		}
		b.StopTimer()
	})
}
