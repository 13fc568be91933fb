package admin

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestRunStopAndLoadFailures(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{budget: 500 * time.Millisecond})
	port := freePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d/", port)
	c.expect(c.do("POST", "/api/v1/repo/hello", ""), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/hello/hello.js", helloScript(port, "v1\n")), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/hello", `{"main":"/hello.js","version":2}`), 201, "")

	c.expect(c.do("GET", "/api/v1/program", ""), 200, "")
	c.expectError(c.do("POST", "/api/v1/program", "/"), 400, "No codebase")
	c.expectError(c.do("POST", "/api/v1/program", "/nope"), 400, "No codebase")
	c.expectError(c.do("POST", "/api/v1/program?version=x", "/hello"), 400, "version")
	c.expectError(c.do("POST", "/api/v1/program?version=9", "/hello"), 400, "no version 9")

	r := c.do("POST", "/api/v1/program", "/hello")
	c.expect(r, 201, "")
	var started map[string]any
	r.json(t, &started)
	if started["codebase"] != "/hello" || started["version"] != "2+draft" {
		t.Fatalf("started %v", started)
	}
	c.expect(c.do("GET", "/api/v1/program", ""), 200, "/hello")
	if got, err := get(app); err != nil || got != "v1\n" {
		t.Fatalf("app replied %q %v", got, err)
	}
	var status struct {
		UUID    string `json:"uuid"`
		Name    string `json:"name"`
		Version string `json:"version"`
		Modules map[string]struct {
			Graph struct {
				Roots []int `json:"roots"`
				Nodes []struct {
					Name string `json:"name"`
					T    string `json:"t"`
				} `json:"nodes"`
			} `json:"graph"`
		} `json:"modules"`
	}
	c.do("GET", "/api/v1/status", "").json(t, &status)
	g := status.Modules["/hello.js"].Graph
	if status.UUID != "console-uuid" || status.Version != "2+draft" || len(g.Roots) != 1 ||
		g.Nodes[0].T != "root" || g.Nodes[1].Name != "serveHTTP" {
		t.Fatalf("status %+v", status)
	}

	// Run runs the edited files, not only committed ones.
	c.expect(c.do("POST", "/api/v1/repo/hello/hello.js", helloScript(port, "v2 draft\n")), 201, "")
	c.expect(c.do("POST", "/api/v1/program", "/hello"), 201, "")
	if got, _ := get(app); got != "v2 draft\n" {
		t.Fatalf("app replied %q after running the draft", got)
	}
	// ?version=N runs a committed version; "/" runs the last codebase again.
	c.expect(c.do("POST", "/api/v1/program?version=2", "/hello"), 201, "")
	if got, _ := get(app); got != "v1\n" {
		t.Fatalf("app replied %q for version 2", got)
	}
	c.expect(c.do("POST", "/api/v1/program", "/"), 201, "")
	if got, _ := get(app); got != "v1\n" {
		t.Fatalf("app replied %q after rerunning", got)
	}

	// A script that does not load: 400 with its place, and the running
	// program goes on.
	for _, tc := range []struct {
		script    string
		line, col int
		says      string
	}{
		{"pipy()\n\n.listen(8080)\n  .serveHTTP(new Message('x')\n", 5, 0, "Failed to start up"},
		{"pipy()\n.listen(8080)\n.connect(_nowhere)\n", 3, 10, "_nowhere"},
		{"let a = 1\nthrow new Error('boom at load')\n", 2, 7, "boom at load"},
		{"while (true) {}\npipy()\n", 1, 1, "interrupted"},
	} {
		c.expect(c.do("POST", "/api/v1/repo/hello/hello.js", tc.script), 201, "")
		e := c.expectError(c.do("POST", "/api/v1/program", "/hello"), 400, tc.says)
		if e.File != "/hello.js" || e.Line != tc.line || (tc.col != 0 && e.Column != tc.col) || e.Detail == "" {
			t.Errorf("%q: error %+v, want /hello.js:%d:%d", tc.script, e, tc.line, tc.col)
		}
		if !strings.HasPrefix(e.Message, "Failed to start up: /hello.js:") {
			t.Errorf("message %q", e.Message)
		}
		if got, err := get(app); err != nil || got != "v1\n" {
			t.Fatalf("after a failed start the app replied %q %v", got, err)
		}
	}
	lines, _ := c.srv.Log().Tail(0)
	if !strings.Contains(strings.Join(lines, "\n"), "[pjs] /hello.js:2:7: Error: boom at load") {
		t.Errorf("the log does not locate the error:\n%s", strings.Join(lines, "\n"))
	}
	// A port another program holds: 400, nothing changes.
	c.expect(c.do("POST", "/api/v1/repo/hello/hello.js", helloScript(freePortHeld(t), "x")), 201, "")
	c.expectError(c.do("POST", "/api/v1/program", "/hello"), 400, "cannot listen")
	// No main script.
	c.expect(c.do("POST", "/api/v1/repo/hello", `{"main":"/gone.js"}`), 201, "")
	c.expectError(c.do("POST", "/api/v1/program", "/hello"), 400, "No main script")
	if got, _ := get(app); got != "v1\n" {
		t.Fatalf("app replied %q", got)
	}

	c.expect(c.do("DELETE", "/api/v1/program", ""), 204, "")
	c.expect(c.do("GET", "/api/v1/program", ""), 200, "")
	if _, err := get(app); err == nil {
		t.Fatal("the app still answers after DELETE /api/v1/program")
	}
	var stopped map[string]any
	c.do("GET", "/api/v1/status", "").json(t, &stopped)
	if m, ok := stopped["modules"].(map[string]any); !ok || len(m) != 0 {
		t.Fatalf("status after stop: %v", stopped)
	}
	c.expect(c.do("DELETE", "/api/v1/program", ""), 204, "")
}

// freePortHeld returns a port that stays bound until the test ends.
func freePortHeld(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// A callback that throws ends its own stream; one that loops is interrupted
// after the budget. The console answers all along.
func TestScriptsCannotTakeTheConsoleDown(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{budget: 2 * time.Second})
	port := freePort(t)
	script := fmt.Sprintf(`pipy()

.listen('127.0.0.1:%d')
  .serveHTTP(msg => {
    if (msg.head.path === '/throw') throw new Error('thrown by the handler')
    if (msg.head.path === '/spin') { while (true) {} }
    return new Message('ok\n')
  })
`, port)
	c.expect(c.do("POST", "/api/v1/repo/bad", ""), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/bad/main.js", script), 201, "")
	c.expect(c.do("POST", "/api/v1/program", "/bad"), 201, "")
	app := fmt.Sprintf("http://127.0.0.1:%d", port)

	var wg sync.WaitGroup
	wg.Add(1)
	spinDone := make(chan time.Duration, 1)
	go func() {
		defer wg.Done()
		start := time.Now()
		get(app + "/spin")
		spinDone <- time.Since(start)
	}()
	time.Sleep(100 * time.Millisecond)
	// The console answers while the script spins (for 2 s).
	start := time.Now()
	c.expect(c.do("GET", "/api/v1/program", ""), 200, "/bad")
	c.expect(c.do("GET", "/api/v1/status", ""), 200, "")
	if d := time.Since(start); d > time.Second {
		t.Errorf("the console took %v to answer while a script looped", d)
	}
	if _, err := get(app + "/throw"); err == nil {
		// The stream ends with an error: either no reply or a broken one.
		t.Log("the throwing request got a reply")
	}
	wg.Wait()
	if d := <-spinDone; d > 5*time.Second {
		t.Errorf("the looping callback ran %v", d)
	}
	if got, err := get(app + "/"); err != nil || got != "ok\n" {
		t.Fatalf("after a throw and a loop the app replied %q %v", got, err)
	}
	lines, _ := c.srv.Log().Tail(0)
	log := strings.Join(lines, "\n")
	for _, want := range []string{"thrown by the handler", "/main.js:5", "interrupted"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

func TestGraph(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	script := "pipy()\n\n.listen(8080)\n  .demuxHTTP('req')\n\n.pipeline('req')\n  .serveHTTP(new Message('hi'))\n"
	r := c.do("POST", "/api/v1/graph", script)
	c.expect(r, 200, "")
	var g struct {
		Roots []int `json:"roots"`
		Nodes []struct {
			Name string `json:"name"`
			T    string `json:"t"`
			P    *int   `json:"p"`
			C    []int  `json:"c"`
		} `json:"nodes"`
	}
	r.json(t, &g)
	if len(g.Roots) != 1 || g.Nodes[0].Name != "Listen on 8080 at 0.0.0.0" || g.Nodes[1].T != "link" ||
		g.Nodes[2].Name != "req" || g.Nodes[3].Name != "serveHTTP" {
		t.Fatalf("graph %s", r.body)
	}
	// Nothing listens: the graph is only loaded.
	if _, err := get("http://127.0.0.1:8080/"); err == nil {
		t.Log("something answers on 8080 (not ours)")
	}

	e := c.expectError(c.do("POST", "/api/v1/graph?path=/x.js", "pipy()\n.listen(8080)\n.serveHTTP(\n"), 400, "/x.js:")
	if e.File != "/x.js" || e.Line == 0 {
		t.Fatalf("error %+v", e)
	}
	e = c.expectError(c.do("POST", "/api/v1/graph", "pipy()\n.listen(8080)\n.link('nope')\n"), 400, "pipeline not found")
	start := time.Now()
	c.expectError(c.do("POST", "/api/v1/graph", "for (;;) {}"), 400, "interrupted")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a looping script took %v", d)
	}
	// TypeScript, by its name.
	c.expect(c.do("POST", "/api/v1/graph?path=/main.ts", "const p: number = 8080\npipy().listen(p).dummy()\n"), 200, "")
	// Over a codebase's files: modules the script uses are found.
	c.expect(c.do("POST", "/api/v1/repo/cb", ""), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/cb/plugin.js", "pipy()\n.pipeline('request')\n  .dummy()\n"), 201, "")
	r = c.do("POST", "/api/v1/graph?codebase=/cb&path=/main.js", "pipy()\n.listen(8080)\n.use('plugin.js', 'request')\n")
	c.expect(r, 200, "")
	if !strings.Contains(r.body, "use /plugin.js") {
		t.Fatalf("graph over the codebase: %s", r.body)
	}
	c.expectError(c.do("POST", "/api/v1/graph", "pipy()\n.listen(8080)\n.use('plugin.js', 'request')\n"), 400, "plugin.js")
	// A plugin that imports what the main module exports: alone it fails,
	// loaded from the main module it has its graph, and its own errors are
	// located in it.
	c.expect(c.do("POST", "/api/v1/repo/cb/main.js", "pipy()\n.export('proxy', {__x: 1})\n.listen(8080)\n.use('plugin.js', 'request')\n"), 201, "")
	plugin := "pipy()\n.import({__x: 'proxy'})\n.pipeline('request')\n  .handleMessageStart(() => __x++)\n"
	c.expectError(c.do("POST", "/api/v1/graph?codebase=/cb&path=/plugin.js", plugin), 400, "proxy")
	r = c.do("POST", "/api/v1/graph?codebase=/cb&path=/plugin.js&main=/main.js", plugin)
	c.expect(r, 200, "")
	if !strings.Contains(r.body, `"name":"request"`) || !strings.Contains(r.body, "handleMessageStart") || strings.Contains(r.body, "Listen") {
		t.Fatalf("the plugin's graph: %s", r.body)
	}
	e = c.expectError(c.do("POST", "/api/v1/graph?codebase=/cb&path=/plugin.js&main=/main.js", "pipy()\n.import({__x: 'proxy'})\n.nope()\n"), 400, "nope")
	if e.File != "/plugin.js" || e.Line != 3 {
		t.Fatalf("the plugin's error %+v", e)
	}
	// A module the main one does not use loads by itself.
	c.expect(c.do("POST", "/api/v1/graph?codebase=/cb&path=/other.js&main=/main.js", "pipy()\n.pipeline('x')\n.dummy()\n"), 200, `{"roots":[0],"nodes":[{"name":"x","t":"root","c":[1]},{"name":"dummy","t":"filter","p":0}]}`)
	c.expectError(c.do("POST", "/api/v1/graph?codebase=/nope", "pipy()"), 404, "not found")
	c.expectError(c.do("POST", "/api/v1/graph?path=../x.js", "pipy()"), 400, "invalid file path")
}

func TestAPIDescriptionAndMetrics(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	r := c.do("GET", "/api/v1/api", "")
	c.expect(r, 200, "")
	var api map[string]json.RawMessage
	r.json(t, &api)
	if len(api) == 0 || !strings.Contains(r.body, "serveHTTP") {
		t.Fatalf("api description: %.200s", r.body)
	}
	r = c.do("GET", "/metrics", "")
	c.expect(r, 200, "")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") ||
		!strings.Contains(r.body, "pipy_inbound_count 0") {
		t.Fatalf("metrics: %v %s", r.header, r.body)
	}
	// The process's metrics plug in, and the workers' metrics join them
	// with an instance label.
	c2 := newConsole(t, consoleOptions{})
	c2.srv.cfg.Metrics = prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		return parseFamilies("# HELP my_metric Mine.\n# TYPE my_metric gauge\nmy_metric 1\n")
	})
	c2.expect(c2.do("POST", "/api/v1/repo/w", ""), 201, "")
	for i, name := range []string{"edge-1", "edge-2"} {
		st := fmt.Sprintf(`{"timestamp":1,"uuid":"u%d","name":%q,"version":"1","modules":{},`+
			`"metrics":"# HELP my_metric Mine.\n# TYPE my_metric gauge\nmy_metric{x=\"y\"} %d\n# TYPE go_goroutines gauge\ngo_goroutines 7\n"}`, i, name, i+2)
		c2.expect(c2.do("POST", "/repo/w/", st), 201, "")
	}
	r = c2.do("GET", "/metrics", "")
	want := "# HELP my_metric Mine.\n# TYPE my_metric gauge\nmy_metric 1\n" +
		"my_metric{instance=\"edge-1\",x=\"y\"} 2\nmy_metric{instance=\"edge-2\",x=\"y\"} 3\n"
	c2.expect(r, 200, want)
}
