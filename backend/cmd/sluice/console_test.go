package main

// End-to-end tests of the console (sluice with no script) and of workers
// (sluice http://HOST:PORT/repo/<codebase>/), as separate processes.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// startConsole runs a console on a free port with its data in dataDir.
func startConsole(t *testing.T, dataDir string, args ...string) (*proc, int) {
	t.Helper()
	port := freePort(t)
	p := start(t, t.TempDir(), append([]string{"--data", dataDir, "--admin-port", fmt.Sprint(port), "--threads", "2"}, args...)...)
	p.listening(port)
	return p, port
}

// waitOut waits for text on the process's stdout.
func waitOut(t *testing.T, p *proc, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.out(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("stdout lacks %q: %q", text, p.out())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// api sends a request to a console and checks the status.
func api(t *testing.T, port int, method, path, body string, want int) reply {
	t.Helper()
	r := do(t, client(t, true), method, url(port, path), body)
	if r.code != want {
		t.Fatalf("%s %s: %s %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}

// waitBody polls url on fresh connections until it replies body.
func waitBody(t *testing.T, u, body string, within time.Duration) time.Duration {
	t.Helper()
	c := client(t, false)
	c.Timeout = 2 * time.Second
	start := time.Now()
	var last string
	for time.Since(start) < within {
		r, err := tryDo(c, "GET", u, "")
		if err == nil && r.code == 200 && r.body == body {
			return time.Since(start)
		}
		last = fmt.Sprint(r.body, err)
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not reply %q within %v (last: %s)", u, body, within, last)
	return 0
}

const replyJS = `pipy()

.listen(@P@)
  .serveHTTP(
    new Message('@R@\n')
  )
`

// Pipy's repo workflow against the console, then a worker process pulling
// the codebase.
func TestConsolePipyWorkflowAndWorker(t *testing.T) {
	t.Parallel()
	console, cport := startConsole(t, t.TempDir())
	waitOut(t, console, fmt.Sprintf("You can now view the Sluice console in the browser: http://localhost:%d/\n", cport))
	console.waitFor(0, `\[admin\] Starting admin service`, time.Second)
	// The bundled samples are there on the first start.
	if r := api(t, cport, "GET", "/api/v1/repo", "", 200); !strings.Contains(r.body, "/proxy") {
		t.Fatalf("codebases on the first start: %q", r.body)
	}

	app := freePort(t)
	api(t, cport, "POST", "/api/v1/repo/hello", "{}", 201)
	api(t, cport, "POST", "/api/v1/repo/hello/hello.js", subst(replyJS, "P", app, "R", "Hello from the repo"), 201)
	api(t, cport, "POST", "/api/v1/repo/hello", `{"main":"/hello.js"}`, 201)
	api(t, cport, "POST", "/api/v1/repo/hello", `{"version":2}`, 201)
	r := api(t, cport, "GET", "/repo/hello/", "", 200)
	if r.body != "/hello.js\n/main.js" || r.header.Get("Etag") != "2" {
		t.Fatalf("manifest %q etag %q", r.body, r.header.Get("Etag"))
	}

	worker := start(t, t.TempDir(), url(cport, "/repo/hello/"), "--threads", "2", "--instance-name", "edge-1")
	worker.listening(app)
	worker.waitFor(0, `\[codebase\] GET http://127\.0\.0\.1:\d+/repo/hello/hello\.js -> \d+ bytes`, time.Second)
	expectReply(t, do(t, client(t, false), "GET", url(app, "/"), ""), 200, "Hello from the repo\n")

	// The worker shows in the codebase's instances.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var info struct {
			Instances map[string]struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"instances"`
		}
		if err := json.Unmarshal([]byte(api(t, cport, "GET", "/api/v1/repo/hello", "", 200).body), &info); err != nil {
			t.Fatal(err)
		}
		if in, ok := info.Instances["0"]; ok && in.Name == "edge-1" && in.Version == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances: %+v", info.Instances)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The console serves the worker's metrics as Pipy's does.
	if r := api(t, cport, "GET", "/metrics", "", 200); !strings.Contains(r.body, `pipy_inbound_count{instance="edge-1"}`) {
		t.Errorf("the console's metrics lack the worker's:\n%s", r.body)
	}

	// SIGINT stops the worker cleanly.
	worker.signal(syscall.SIGINT)
	if code := worker.wait(20 * time.Second); code != 0 {
		t.Fatalf("worker exit status %d", code)
	}
	console.signal(syscall.SIGINT)
	if code := console.wait(20 * time.Second); code != 0 {
		t.Fatalf("console exit status %d", code)
	}
	console.waitFor(0, `\[shutdown\] Stopped\.`, time.Second)
}

// A worker switches to a newly committed version while a load runs against
// it: no request fails, and the new reply is served within a second.
func TestWorkerSwitchesVersionsWithoutFailures(t *testing.T) {
	t.Parallel()
	_, cport := startConsole(t, t.TempDir())
	app := freePort(t)
	api(t, cport, "POST", "/api/v1/repo/z", "{}", 201)
	api(t, cport, "POST", "/api/v1/repo/z/main.js", subst(replyJS, "P", app, "R", "v1"), 201)
	api(t, cport, "POST", "/api/v1/repo/z", `{"version":2}`, 201)
	worker := start(t, t.TempDir(), url(cport, "/repo/z/"), "--threads", "2")
	worker.listening(app)
	waitBody(t, url(app, "/"), "v1\n", 10*time.Second)

	var total, failures, v2 atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half keep their connections, half open one per request.
			c := client(t, g%2 == 0)
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := tryDo(c, "GET", url(app, "/"), "")
				total.Add(1)
				switch {
				case err != nil:
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				case r.code != 200 || (r.body != "v1\n" && r.body != "v2\n"):
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, r.status+" "+r.body)
				case r.body == "v2\n":
					v2.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	api(t, cport, "POST", "/api/v1/repo/z/main.js", subst(replyJS, "P", app, "R", "v2"), 201)
	committed := time.Now()
	api(t, cport, "POST", "/api/v1/repo/z", `{"version":3}`, 201)
	waitBody(t, url(app, "/"), "v2\n", 5*time.Second)
	took := time.Since(committed)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed, %d answered by version 3; the new version served %v after the commit",
		total.Load(), failures.Load(), v2.Load(), took)
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed; the first: %v", failures.Load(), total.Load(), firstFailure.Load())
	}
	if total.Load() < 100 {
		t.Errorf("only %d requests in 3 s", total.Load())
	}
	if took > time.Second+200*time.Millisecond {
		t.Errorf("the new version served %v after the commit, want within a second", took)
	}
	if v2.Load() == 0 {
		t.Error("no request of the load was answered by the new version")
	}
	worker.waitFor(0, `\[program\] Started .*/repo/z/ \(version 3\)`, time.Second)
}

// Restarting the console keeps every codebase, version, main flag and
// draft; a script's pipy.exit() stops its program, not the console.
func TestConsoleRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	console, cport := startConsole(t, data)
	api(t, cport, "POST", "/api/v1/repo/a", "{}", 201)
	api(t, cport, "POST", "/api/v1/repo/a/a.js", "pipy()", 201)
	api(t, cport, "POST", "/api/v1/repo/a", `{"main":"/a.js","version":2}`, 201)
	api(t, cport, "POST", "/api/v1/repo/a/lib/x.js", "pipy() // x", 201)
	api(t, cport, "POST", "/api/v1/repo/a", `{"version":3}`, 201)
	api(t, cport, "POST", "/api/v1/repo/b", `{"base":"/a"}`, 201)
	api(t, cport, "POST", "/api/v1/repo/b/b.js", "pipy() // draft", 201)
	api(t, cport, "POST", "/api/v1/repo/b", `{"main":"/b.js"}`, 201)
	api(t, cport, "DELETE", "/api/v1/repo/proxy", "", 204)

	// pipy.exit() in a running program.
	app := freePort(t)
	api(t, cport, "POST", "/api/v1/repo/exit", "{}", 201)
	api(t, cport, "POST", "/api/v1/repo/exit/main.js",
		subst("pipy()\n.listen(@P@)\n.serveHTTP(() => (pipy.exit(3), new Message('bye\\n')))\n", "P", app), 201)
	api(t, cport, "POST", "/api/v1/program", "/exit", 201)
	tryDo(client(t, false), "GET", url(app, "/"), "")
	console.waitFor(0, `\[program\] Stopped /exit`, 10*time.Second)
	api(t, cport, "GET", "/api/v1/program", "", 200)

	snapshot := func(port int) map[string]string {
		out := map[string]string{}
		list := api(t, port, "GET", "/api/v1/repo", "", 200).body
		out["list"] = list
		for _, cb := range strings.Split(list, "\n") {
			info := api(t, port, "GET", "/api/v1/repo"+cb, "", 200).body
			out[cb] = regexp.MustCompile(`"instances":\{.*\}`).ReplaceAllString(info, "")
			if !strings.HasPrefix(cb, "/tutorials/") {
				out[cb+" versions"] = api(t, port, "GET", "/api/v1/versions"+cb, "", 200).body
			}
		}
		out["/b/b.js"] = api(t, port, "GET", "/api/v1/repo/b/b.js", "", 200).body
		out["/b manifest"] = api(t, port, "GET", "/repo/b/", "", 200).body
		return out
	}
	before := snapshot(cport)
	if !strings.Contains(before["/b"], `"main":"/b.js"`) || !strings.Contains(before["/a"], `"version":3`) {
		t.Fatalf("before the restart: %v", before)
	}
	console.signal(syscall.SIGINT)
	if code := console.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	_, cport2 := startConsole(t, data)
	after := snapshot(cport2)
	if !reflect.DeepEqual(before, after) {
		for k := range before {
			if before[k] != after[k] {
				t.Errorf("%s changed across the restart:\nbefore %s\nafter  %s", k, before[k], after[k])
			}
		}
		t.FailNow()
	}
	if strings.Contains(after["list"], "/proxy") {
		t.Fatal("a deleted sample came back")
	}
}

// Off loopback the console wants a token, generated and printed if none
// was given; on loopback with --admin-token too.
func TestConsoleToken(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	p := start(t, t.TempDir(), "--data", t.TempDir(), "--admin-listen", fmt.Sprintf("0.0.0.0:%d", port))
	p.listening(port)
	var token string
	deadline := time.Now().Add(5 * time.Second)
	for token == "" && time.Now().Before(deadline) {
		if m := regexp.MustCompile(`Admin token: ([0-9a-f]{40})`).FindStringSubmatch(p.out()); m != nil {
			token = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if token == "" {
		t.Fatalf("no token printed: %q", p.out())
	}
	if !strings.Contains(p.out(), "?token="+token) {
		t.Errorf("the printed address lacks the token: %q", p.out())
	}
	c := client(t, true)
	if r := do(t, c, "GET", url(port, "/api/v1/repo"), ""); r.code != http.StatusUnauthorized {
		t.Fatalf("without the token: %s", r.status)
	}
	req, _ := http.NewRequest("GET", url(port, "/api/v1/repo"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("with the token: %s", resp.Status)
	}

	port2 := freePort(t)
	p2 := start(t, t.TempDir(), "--data", t.TempDir(), "--admin-port", fmt.Sprint(port2), "--admin-token", "given")
	p2.listening(port2)
	if r := do(t, c, "GET", url(port2, "/api/v1/repo?token=given"), ""); r.code != 200 {
		t.Fatalf("with the given token: %s", r.status)
	}
	if r := do(t, c, "GET", url(port2, "/api/v1/repo"), ""); r.code != 401 {
		t.Fatalf("without the given token: %s", r.status)
	}
	if strings.Contains(p2.out(), "Admin token") {
		t.Errorf("a given token was printed: %q", p2.out())
	}
}
