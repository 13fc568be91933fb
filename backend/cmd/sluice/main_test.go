package main

// End-to-end tests of the sluice command: the binary is built once, and each
// test runs it as a subprocess on scripts written to a temporary folder,
// talking to it over real sockets and reading its log on stderr.

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sluice/backend/engine"
)

// sluiceBin is the binary under test, built by TestMain.
var sluiceBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sluiceBin = filepath.Join(dir, "sluice")
	args := []string{"build"}
	if raceEnabled {
		// The subprocess is race-checked too.
		args = append(args, "-race")
	}
	args = append(args, "-o", sluiceBin, ".")
	build := exec.Command(goTool(), args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building sluice: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// ---------------------------------------------------------------------------
// Subprocesses

// logPrefix is what Pipy (and Sluice) put before every log line.
var logPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(INF|DBG|WRN|ERR)\] `)

type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu      sync.Mutex
	lines   []string      // stderr, line by line
	changed chan struct{} // closed when a line arrives or the process ends
	stdout  bytes.Buffer

	done     chan struct{} // closed when the process has exited
	exitCode int
}

// start runs sluice in dir with args and kills it when the test ends.
func start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: strings.Join(args, " "), changed: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.Command(sluiceBin, args...)
	p.cmd.Dir = dir
	if os.Getenv("GORACE") == "" {
		// A race-enabled binary otherwise sleeps a second before exiting.
		p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=10")
	}
	p.cmd.Stdout = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.stdout.Write(b)
	})
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting sluice %s: %v", p.name, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
		err := p.cmd.Wait()
		code := 0
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				code = -1
			}
		}
		p.mu.Lock()
		p.exitCode = code
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Errorf("sluice %s: did not exit after SIGKILL", p.name)
			}
		}
		log := p.log()
		if strings.Contains(log, "WARNING: DATA RACE") {
			t.Errorf("sluice %s: the race detector found a data race:\n%s", p.name, log)
		} else if t.Failed() {
			t.Logf("stderr of sluice %s:\n%s", p.name, log)
		}
	})
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// runToExit runs sluice and waits for it to exit.
func runToExit(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p := start(t, dir, args...)
	p.wait(20 * time.Second)
	return p
}

func (p *proc) snapshot() ([]string, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lines[:len(p.lines):len(p.lines)], p.changed
}

func (p *proc) log() string {
	lines, _ := p.snapshot()
	return strings.Join(lines, "\n")
}

func (p *proc) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// mark is a position in the log, for waiting on lines logged after it.
func (p *proc) mark() int {
	lines, _ := p.snapshot()
	return len(lines)
}

// waitFor waits until a stderr line logged at or after from matches re, and
// returns its index and text.
func (p *proc) waitFor(from int, re string, timeout time.Duration) (int, string) {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		lines, changed := p.snapshot()
		for i := from; i < len(lines); i++ {
			if rx.MatchString(lines[i]) {
				return i, lines[i]
			}
		}
		select {
		case <-p.done:
			// One more look: the last lines may have come with the exit.
			lines, _ := p.snapshot()
			for i := from; i < len(lines); i++ {
				if rx.MatchString(lines[i]) {
					return i, lines[i]
				}
			}
			p.t.Fatalf("sluice %s exited (status %d) before logging /%s/", p.name, p.exitCode, re)
		case <-deadline.C:
			p.t.Fatalf("sluice %s: no log line /%s/ within %v", p.name, re, timeout)
		case <-changed:
		}
	}
}

// listening waits for the listener on port to be up.
func (p *proc) listening(port int) {
	p.t.Helper()
	p.waitFor(0, fmt.Sprintf(`\[listener\] Listening on port %d\b`, port), 20*time.Second)
}

// wait waits for the process to exit and returns its status.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.exitCode
	case <-time.After(timeout):
		p.t.Fatalf("sluice %s did not exit within %v", p.name, timeout)
		return 0
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// ---------------------------------------------------------------------------
// Scripts, ports and requests

var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// freePort picks a free 127.0.0.1 port not handed out before in this run.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		portsMu.Lock()
		seen := ports[port]
		ports[port] = true
		portsMu.Unlock()
		if !seen {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// subst replaces @NAME@ placeholders: subst(s, "P", 8080, ...).
func subst(s string, kv ...any) string {
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "@"+kv[i].(string)+"@", fmt.Sprint(kv[i+1]))
	}
	return s
}

// writeFiles writes a codebase (paths relative to dir) and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyTestdata copies the codebase testdata/name to a temporary folder,
// with placeholders substituted as by subst, and returns the folder.
func copyTestdata(t *testing.T, name string, kv ...any) string {
	t.Helper()
	root := filepath.Join("testdata", name)
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = subst(string(b), kv...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return writeFiles(t, t.TempDir(), files)
}

// client returns an HTTP client with a deadline; keepAlive false opens a new
// connection per request.
func client(t *testing.T, keepAlive bool) *http.Client {
	tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

type reply struct {
	status string // e.g. "200 OK"
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, url, body string) reply {
	t.Helper()
	r, err := tryDo(c, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

func tryDo(c *http.Client, method, url, body string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.Status, code: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

func url(port int, path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", port, path) }

func expectReply(t *testing.T, r reply, code int, body string) {
	t.Helper()
	if r.code != code || r.body != body {
		t.Fatalf("got %s %q, want %d %q", r.status, r.body, code, body)
	}
}

// stripPrefix removes the timestamp and level from a log line.
func stripPrefix(line string) string { return logPrefix.ReplaceAllString(line, "") }

// ---------------------------------------------------------------------------
// 1. Hello

const helloJS = `pipy()

.listen(@P@)
  .serveHTTP(
    new Message('Hi, there!\n')
  )
`

func TestHello(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"hello.js": subst(helloJS, "P", port)})
	p := start(t, dir, "hello.js")
	p.listening(port)

	r := do(t, client(t, true), "GET", url(port, "/"), "")
	expectReply(t, r, 200, "Hi, there!\n")
	if got := r.header.Get("Content-Length"); got != "11" {
		t.Errorf("content-length: %q, want 11", got)
	}
	for _, h := range []string{"Date", "Server"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("unexpected header %s: %s (Pipy sends none)", h, v)
		}
	}

	lines, _ := p.snapshot()
	for _, l := range lines {
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[INF\] `).MatchString(l) {
			t.Errorf("log line not in Pipy's format: %q", l)
		}
	}
	title := "Module /hello.js"
	want := []string{
		"[config]",
		"[config] " + title,
		"[config] " + strings.Repeat("=", len(title)),
		"[config]",
		fmt.Sprintf("[config]  [Listen on %d at 0.0.0.0]", port),
		"[config]  ----->|",
		"[config]        |",
		"[config]       serveHTTP",
		"[config]        |",
		"[config]  <-----|",
		"[config]  ",
		fmt.Sprintf("[listener] Listening on port %d at 0.0.0.0", port),
	}
	var got []string
	for _, l := range lines {
		got = append(got, stripPrefix(l))
	}
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("startup log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ---------------------------------------------------------------------------
// 2. Echo and the client's address

const echoJS = `pipy()

.listen(@ECHO@)
  .serveHTTP(
    msg => new Message(msg.body)
  )

.listen(@IP@)
  .serveHTTP(
    msg => new Message(
      ` + "`You are requesting ${msg.head.path} from ${__inbound.remoteAddress}`" + `
    )
  )
`

func TestEcho(t *testing.T) {
	t.Parallel()
	echo, ip := freePort(t), freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"echo.js": subst(echoJS, "ECHO", echo, "IP", ip)})
	p := start(t, dir, "echo.js")
	p.listening(echo)
	p.listening(ip)
	c := client(t, true)
	expectReply(t, do(t, c, "POST", url(echo, "/"), "hello"), 200, "hello")
	expectReply(t, do(t, c, "POST", url(echo, "/any/path"), strings.Repeat("0123456789", 1000)), 200, strings.Repeat("0123456789", 1000))
	expectReply(t, do(t, c, "GET", url(ip, "/hello"), ""), 200, "You are requesting /hello from 127.0.0.1")
}

// ---------------------------------------------------------------------------
// 3. A plugin proxy with JSON configuration

func TestPluginProxy(t *testing.T) {
	t.Parallel()
	port, hi, echo, ip := freePort(t), freePort(t), freePort(t), freePort(t)
	vars := []any{"P", port, "HI", hi, "ECHO", echo, "IP", ip}

	upDir := copyTestdata(t, "mock", vars...)
	dir := copyTestdata(t, "plugin-proxy", vars...)

	up := start(t, upDir, "mock.js")
	proxy := start(t, dir, "proxy.js")
	up.listening(ip)
	proxy.listening(port)

	c := client(t, true)
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/hi/there", "", 200, "Hi, there!\n"},
		{"POST", "/echo", "ping", 200, "ping"},
		{"GET", "/ip/a", "", 200, "You are requesting /ip/a from 127.0.0.1\n"},
		{"GET", "/bad/path", "", 404, "No handler"},
		// Once more on the same connections, in another order.
		{"GET", "/bad/path", "", 404, "No handler"},
		{"GET", "/ip/b", "", 200, "You are requesting /ip/b from 127.0.0.1\n"},
		{"POST", "/echo", strings.Repeat("big ", 50000), 200, strings.Repeat("big ", 50000)},
		{"GET", "/hi/again", "", 200, "Hi, there!\n"},
	} {
		r := do(t, c, tc.method, url(port, tc.path), tc.body)
		expectReply(t, r, tc.code, tc.want)
		// Every answer comes back through the first plugin's 'response'.
		if got, want := r.header.Get("X-Stamp"), "sluice "+tc.path; got != want {
			t.Errorf("%s %s: x-stamp %q, want %q", tc.method, tc.path, got, want)
		}
	}

	// Plugins are loaded while the main script evaluates, so their
	// diagrams come first, in the order they are used.
	var order []string
	for _, l := range strings.Split(proxy.log(), "\n") {
		if m := regexp.MustCompile(`\[config\] Module (\S+)$`).FindStringSubmatch(l); m != nil {
			order = append(order, m[1])
		}
	}
	if want := "/plugins/stamp.js /plugins/router.js /plugins/default.js /proxy.js"; strings.Join(order, " ") != want {
		t.Errorf("modules printed in the order %v, want %s", order, want)
	}

	// The router's diagram, as Pipy draws the one of its tutorial 05: a
	// named pipeline no link refers to is a root, and '' is [[empty]].
	want := []string{
		"[request]",
		"----->|",
		"      |",
		"     handleMessageStart",
		"     link",
		"      |",
		"      |--> [forward]",
		"      |     muxHTTP",
		"      |      |",
		"      |      |--> [connection]",
		"      |            connect -->|",
		"      |                       |",
		"      |--> [[empty]] -------->|",
		"                              |",
		"<-----------------------------|",
		"",
	}
	if got := diagram(proxy.log(), "/plugins/router.js"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagram of /plugins/router.js:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Stop the upstream: the proxy answers 502.
	up.signal(syscall.SIGINT)
	if code := up.wait(15 * time.Second); code != 0 {
		t.Errorf("upstream exited with status %d", code)
	}
	// The proxy may first see its pooled upstream connection close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := do(t, c, "GET", url(port, "/hi/there"), "")
		if r.code == 502 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with the upstream stopped: got %s %q, want 502", r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := do(t, c, "GET", url(port, "/hi/there"), "")
	if r.status != "502 Connection Refused" || r.body != "" {
		t.Errorf("with the upstream stopped: got %s %q, want 502 Connection Refused and no body", r.status, r.body)
	}
	// Routes that need no upstream still work.
	expectReply(t, do(t, c, "GET", url(port, "/bad/path"), ""), 404, "No handler")
}

// diagram returns the lines of a module's diagram in a log, without the
// "[config]  " before each.
func diagram(log, module string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(log, "\n") {
		l = stripPrefix(l)
		if m := regexp.MustCompile(`^\[config\] Module (\S+)$`).FindStringSubmatch(l); m != nil {
			in = m[1] == module
			continue
		}
		if in && strings.HasPrefix(l, "[config]  ") {
			out = append(out, strings.TrimPrefix(l, "[config]  "))
		} else if in && !strings.HasPrefix(l, "[config]") {
			break
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// 4. Command line

func TestVerify(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"hello.js": subst(helloJS, "P", port),
		"bad.js":   subst("pipy()\n.listen(@P@)\n  .link('nowhere')\n", "P", port),
		"undef.js": "const greeting = 'hi'\n\nsetUp(greeting)\n",
	})
	p := runToExit(t, dir, "--verify", "hello.js")
	if p.exitCode != 0 {
		t.Fatalf("--verify exited with status %d", p.exitCode)
	}
	log := p.log()
	for _, want := range []string{"[config] Module /hello.js", fmt.Sprintf("[config]  [Listen on %d at 0.0.0.0]", port), "[config]       serveHTTP"} {
		if !strings.Contains(log, want) {
			t.Errorf("--verify did not print %q", want)
		}
	}
	if strings.Contains(log, "[listener]") {
		t.Errorf("--verify opened a listener")
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Errorf("port %d is open after --verify", port)
	}

	for file, says := range map[string]string{"bad.js": "pipeline not found: nowhere", "undef.js": "setUp"} {
		bad := runToExit(t, dir, file, "--verify")
		if bad.exitCode == 0 {
			t.Errorf("--verify of the broken %s exited with status 0", file)
		}
		if !strings.Contains(bad.log(), says) {
			t.Errorf("--verify of the broken %s did not say %q", file, says)
		}
		if strings.Contains(bad.log(), "is valid") {
			t.Errorf("--verify called the broken %s valid", file)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, arg := range []string{"--help", "-h"} {
		p := runToExit(t, dir, arg)
		if p.exitCode != 0 {
			t.Errorf("%s exited with status %d", arg, p.exitCode)
		}
		help := p.out()
		newFlags(&options{}).VisitAll(func(f *flag.Flag) {
			name := "--" + f.Name
			if len(f.Name) == 1 {
				name = "-" + f.Name
			}
			if !regexp.MustCompile(`(?m)(^|[\s,])` + regexp.QuoteMeta(name) + `([\s,=]|$)`).MatchString(help) {
				t.Errorf("%s does not mention %s:\n%s", arg, name, help)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	p := runToExit(t, t.TempDir(), "--version")
	if p.exitCode != 0 || !strings.HasPrefix(p.out(), "Sluice ") {
		t.Errorf("--version: status %d, output %q", p.exitCode, p.out())
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	p := runToExit(t, t.TempDir(), "--list-filters")
	if p.exitCode != 0 {
		t.Fatalf("--list-filters exited with status %d", p.exitCode)
	}
	lines := strings.Split(strings.TrimRight(p.out(), "\n"), "\n")
	if len(lines) != len(engine.Filters()) {
		t.Errorf("--list-filters printed %d lines for %d filters", len(lines), len(engine.Filters()))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		m := regexp.MustCompile(`^(\w+)\(.*\)$`).FindStringSubmatch(l)
		if m == nil {
			t.Errorf("not a filter signature: %q", l)
			continue
		}
		if seen[m[1]] {
			t.Errorf("%s listed twice", m[1])
		}
		seen[m[1]] = true
	}
	for _, name := range []string{"serveHTTP", "demuxHTTP", "muxHTTP", "connect", "link", "use"} {
		if !seen[name] {
			t.Errorf("--list-filters lacks %s(", name)
		}
	}
}

func TestHelpFilters(t *testing.T) {
	t.Parallel()
	p := runToExit(t, t.TempDir(), "--help-filters")
	if p.exitCode != 0 {
		t.Fatalf("--help-filters exited with status %d", p.exitCode)
	}
	out := p.out()
	for _, k := range engine.Filters() {
		if k.Help == "" {
			t.Errorf("filter %s has no help text", k.Name)
		}
		if !strings.Contains(out, k.Signature+"\n  "+k.Help+"\n") {
			t.Errorf("--help-filters lacks the signature and help of %s", k.Name)
		}
	}
	if !strings.Contains(out, "serveHTTP(") {
		t.Errorf("--help-filters lacks serveHTTP")
	}
}

func TestUnknownFlag(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, t.TempDir(), map[string]string{"hello.js": subst(helloJS, "P", freePort(t))})
	for _, args := range [][]string{{"--bogus"}, {"hello.js", "--no-such-flag=3"}} {
		p := runToExit(t, dir, args...)
		if p.exitCode == 0 {
			t.Errorf("%v exited with status 0", args)
		}
		name := strings.SplitN(args[len(args)-1], "=", 2)[0]
		if !strings.Contains(p.log(), name) {
			t.Errorf("%v: the message does not name %s:\n%s", args, name, p.log())
		}
		if strings.Contains(p.log(), "[listener]") {
			t.Errorf("%v: started listening", args)
		}
	}
}

func TestFlagsAfterScript(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"hello.js", "--threads=1"},
		{"hello.js", "--threads", "1", "--log-level=info"},
		{"--threads=1", "hello.js"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			port := freePort(t)
			dir := writeFiles(t, t.TempDir(), map[string]string{"hello.js": subst(helloJS, "P", port)})
			p := start(t, dir, args...)
			p.listening(port)
			expectReply(t, do(t, client(t, false), "GET", url(port, "/"), ""), 200, "Hi, there!\n")
		})
	}
}

// ---------------------------------------------------------------------------
// 5. Errors a user can act on

// checkLocated checks that the log names file:line:col, shows the source
// line and puts a caret under the column.
func checkLocated(t *testing.T, log, file string, line, col int, src string) {
	t.Helper()
	loc := fmt.Sprintf("%s:%d:%d", file, line, col)
	lines := strings.Split(log, "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, loc) {
			at = i
			break
		}
	}
	if at < 0 {
		t.Errorf("the log does not name %s:\n%s", loc, log)
		return
	}
	for i := at + 1; i+1 < len(lines) && i <= at+3; i++ {
		text := stripPrefix(lines[i])
		k := strings.Index(text, src)
		if k < 0 {
			continue
		}
		caret := stripPrefix(lines[i+1])
		if strings.TrimSpace(caret) != "^" || strings.Index(caret, "^") != k+col-1 {
			t.Errorf("the caret is not under column %d:\n%s\n%s", col, text, caret)
		}
		return
	}
	t.Errorf("the log does not show the source line %q after %s:\n%s", src, loc, log)
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	cases := []struct {
		name      string
		file      string
		script    string
		line, col int
		src       string   // the source line shown, when located
		says      []string // the log contains these
	}{
		{
			name: "syntax error", file: "bad.js",
			script: `pipy()

.listen(@P@)
  .serveHTTP(msg => {
    return new Message(msg.body
  })
`,
			line: 6, col: 3, src: "  })", says: []string{"SyntaxError"},
		},
		{
			name: "undefined function", file: "undef.js",
			script: `pipy()
.listen(@P@)
  .serveHTTP(makeGreeting('hi'))
`,
			line: 3, col: 14, src: "  .serveHTTP(makeGreeting('hi'))", says: []string{"makeGreeting"},
		},
		{
			name: "undefined function in the last statement", file: "last.js",
			script: `const greeting = 'hi'

setUp(greeting)
`,
			line: 3, col: 1, src: "setUp(greeting)", says: []string{"setUp"},
		},
		{
			name: "context variable outside a callback", file: "ctx.js",
			script: `pipy({
  _target: '127.0.0.1:8080',
})

.listen(@P@)
  .connect(_target)
`,
			line: 6, col: 12, src: "  .connect(_target)", says: []string{"_target"},
		},
		{
			name: "unknown pipeline", file: "nowhere.js",
			script: `pipy()

.listen(@P@)
  .link('nowhere')
`,
			says: []string{"pipeline not found: nowhere"},
		},
		{
			name: "missing plugin", file: "plugged.js",
			script: `pipy()

.listen(@P@)
  .use('plugins/missing.js', 'x')
`,
			says: []string{"plugins/missing.js", "not found"},
		},
		{
			name: "TypeScript error", file: "main.ts",
			script: `interface Conf {
  port: number
}

type Name = string

const conf: Conf = { port: @P@ }
const who: Name = greet('x')

pipy()
.listen(conf.port)
  .serveHTTP(new Message(who))
`,
			line: 8, col: 19, src: "const who: Name = greet('x')", says: []string{"greet"},
		},
		{
			name: "TypeScript error in the last statement", file: "last.ts",
			script: `interface Conf {
  port: number
}

const conf: Conf = { port: @P@ }
start(conf)
`,
			line: 6, col: 1, src: "start(conf)", says: []string{"start"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, t.TempDir(), map[string]string{tc.file: subst(tc.script, "P", port)})
			p := runToExit(t, dir, tc.file)
			log := p.log()
			if p.exitCode == 0 {
				t.Errorf("exited with status 0")
			}
			if strings.Contains(log, "[listener]") {
				t.Errorf("started listening")
			}
			for _, bad := range []string{"panic", "goroutine ", "internal error"} {
				if strings.Contains(log, bad) {
					t.Errorf("the log shows %q: a crash, not a message for the user", bad)
				}
			}
			if tc.line > 0 {
				checkLocated(t, log, "/"+tc.file, tc.line, tc.col, tc.src)
			}
			for _, s := range tc.says {
				if !strings.Contains(log, s) {
					t.Errorf("the log does not say %q:\n%s", s, log)
				}
			}
			for _, l := range strings.Split(log, "\n") {
				if !logPrefix.MatchString(l) {
					t.Errorf("log line not in Pipy's format: %q", l)
				}
			}
		})
	}
}

const mainTS = `interface Reply {
  status: number
  text: string
}

type Handler = (req: Message) => Message

const reply = (r: Reply): Message => new Message({ status: r.status }, r.text)

const hello: Handler = (req: Message): Message =>
  reply({ status: 200, text: ` + "`TypeScript says hi to ${req.head.path}\\n`" + ` })

pipy()

.listen(@P@)
  .serveHTTP(hello)
`

func TestTypeScript(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"main.ts": subst(mainTS, "P", port)})
	p := start(t, dir, "main.ts")
	p.listening(port)
	expectReply(t, do(t, client(t, true), "GET", url(port, "/typed"), ""), 200, "TypeScript says hi to /typed\n")
	if !strings.Contains(p.log(), "[config] Module /main.ts") {
		t.Errorf("no diagram for /main.ts")
	}
}

const throwJS = `pipy()

.listen(@P@)
  .serveHTTP(msg => {
    if (msg.head.path === '/boom') {
      throw new Error('kaboom')
    }
    return new Message('fine\n')
  })
`

func TestThrowAtRequestTime(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"throw.js": subst(throwJS, "P", port)})
	p := start(t, dir, "throw.js")
	p.listening(port)
	for _, keepAlive := range []bool{false, true} {
		c := client(t, keepAlive)
		m := p.mark()
		r := do(t, c, "GET", url(port, "/boom"), "")
		if r.code != 500 {
			t.Errorf("a throwing handler answered %s, want 500", r.status)
		}
		_, line := p.waitFor(m, `/throw\.js:6:13\b.*kaboom`, 10*time.Second)
		if !strings.Contains(line, "[ERR]") {
			t.Errorf("the error is not logged at [ERR]: %q", line)
		}
		checkLocated(t, strings.Join(func() []string { l, _ := p.snapshot(); return l[m:] }(), "\n"),
			"/throw.js", 6, 13, "      throw new Error('kaboom')")
		// The server keeps answering.
		expectReply(t, do(t, c, "GET", url(port, "/next"), ""), 200, "fine\n")
		expectReply(t, do(t, c, "GET", url(port, "/next"), ""), 200, "fine\n")
	}
}

// ---------------------------------------------------------------------------
// 6. Signals

const forwardJS = `pipy()

.listen(@P@)
  .demuxHTTP('request')

.pipeline('request')
  .muxHTTP('upstream')

.pipeline('upstream')
  .connect('127.0.0.1:@UP@')
`

// slowUpstream is a Go HTTP server whose /slow answers once released.
type slowUpstream struct {
	port    int
	arrived chan struct{}
	release chan struct{}
}

func newSlowUpstream(t *testing.T) *slowUpstream {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &slowUpstream{port: l.Addr().(*net.TCPAddr).Port, arrived: make(chan struct{}, 16), release: make(chan struct{})}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			u.arrived <- struct{}{}
			select {
			case <-u.release:
			case <-time.After(15 * time.Second):
			}
		}
		io.WriteString(w, "done "+r.URL.Path)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return u
}

func TestSIGINTLetsRequestsFinish(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"forward.js": subst(forwardJS, "P", port, "UP", up.port)})
	p := start(t, dir, "forward.js")
	p.listening(port)
	expectReply(t, do(t, client(t, false), "GET", url(port, "/quick"), ""), 200, "done /quick")

	type result struct {
		r   reply
		err error
	}
	res := make(chan result, 1)
	slow := client(t, false)
	go func() {
		r, err := tryDo(slow, "GET", url(port, "/slow"), "")
		res <- result{r, err}
	}()
	select {
	case <-up.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}

	p.signal(syscall.SIGINT)
	p.waitFor(0, `\[INF\] \[shutdown\] Shutting down`, 10*time.Second)
	// New connections are refused while the request is in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after SIGINT")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case r := <-res:
		t.Fatalf("the in-flight request ended before the upstream answered: %+v", r)
	default:
	}

	close(up.release)
	select {
	case r := <-res:
		if r.err != nil {
			t.Fatalf("the in-flight request failed: %v", r.err)
		}
		expectReply(t, r.r, 200, "done /slow")
	case <-time.After(15 * time.Second):
		t.Fatal("the in-flight request did not complete")
	}
	if code := p.wait(15 * time.Second); code != 0 {
		t.Errorf("exited with status %d after SIGINT, want 0", code)
	}
	p.waitFor(0, `\[shutdown\] Stopped`, time.Second)
}

const versionJS = `pipy()

.listen(@P@)
  .serveHTTP(new Message('@V@'))
`

func TestSIGHUPReloads(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"main.js": subst(versionJS, "P", port, "V", "v1")})
	p := start(t, dir, "main.js")
	p.listening(port)
	c := client(t, false)
	expectReply(t, do(t, c, "GET", url(port, "/"), ""), 200, "v1")

	m := p.mark()
	writeFiles(t, dir, map[string]string{"main.js": subst(versionJS, "P", port, "V", "v2")})
	p.signal(syscall.SIGHUP)
	p.waitFor(m, `\[reload\] Reloaded`, 15*time.Second)
	expectReply(t, do(t, c, "GET", url(port, "/"), ""), 200, "v2")

	// A broken edit is reported and the running version stays.
	m = p.mark()
	writeFiles(t, dir, map[string]string{"main.js": subst("pipy()\n\n.listen(@P@)\n  .serveHTTP(new Message('v3')\n", "P", port)})
	p.signal(syscall.SIGHUP)
	p.waitFor(m, `\[ERR\] .*/main\.js:\d+:\d+`, 15*time.Second)
	p.waitFor(m, `\[ERR\] .*previous version keeps running`, 15*time.Second)
	expectReply(t, do(t, c, "GET", url(port, "/"), ""), 200, "v2")
	select {
	case <-p.done:
		t.Fatalf("exited with status %d after a failed reload", p.exitCode)
	default:
	}

	// And a fixed edit is picked up again.
	m = p.mark()
	writeFiles(t, dir, map[string]string{"main.js": subst(versionJS, "P", port, "V", "v4")})
	p.signal(syscall.SIGHUP)
	p.waitFor(m, `\[reload\] Reloaded`, 15*time.Second)
	expectReply(t, do(t, c, "GET", url(port, "/"), ""), 200, "v4")

	// A new version on another port: the old port closes, the new one opens.
	port2 := freePort(t)
	m = p.mark()
	writeFiles(t, dir, map[string]string{"main.js": subst(versionJS, "P", port2, "V", "v5")})
	p.signal(syscall.SIGHUP)
	p.waitFor(m, `\[reload\] Reloaded`, 15*time.Second)
	expectReply(t, do(t, c, "GET", url(port2, "/"), ""), 200, "v5")
	if r, err := tryDo(c, "GET", url(port, "/"), ""); err == nil {
		t.Errorf("the dropped port %d still answers: %s %q", port, r.status, r.body)
	}
}

func TestSIGHUPKeepsRequestsInFlight(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"main.js": subst(forwardJS, "P", port, "UP", up.port)})
	p := start(t, dir, "main.js")
	p.listening(port)

	res := make(chan error, 1)
	slow := client(t, false)
	go func() {
		r, err := tryDo(slow, "GET", url(port, "/slow"), "")
		if err == nil && (r.code != 200 || r.body != "done /slow") {
			err = fmt.Errorf("got %s %q, want 200 %q", r.status, r.body, "done /slow")
		}
		res <- err
	}()
	select {
	case <-up.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}

	m := p.mark()
	writeFiles(t, dir, map[string]string{"main.js": subst(versionJS, "P", port, "V", "v2")})
	p.signal(syscall.SIGHUP)
	p.waitFor(m, `\[reload\] Reloaded`, 15*time.Second)
	expectReply(t, do(t, client(t, false), "GET", url(port, "/"), ""), 200, "v2")

	// The request in flight finishes on the version it started on.
	close(up.release)
	select {
	case err := <-res:
		if err != nil {
			t.Fatalf("the request in flight during the reload: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the request in flight during the reload did not complete")
	}
}

func TestSecondSIGINTForcesStop(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	t.Cleanup(func() { close(up.release) })
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"forward.js": subst(forwardJS, "P", port, "UP", up.port)})
	p := start(t, dir, "forward.js")
	p.listening(port)
	go tryDo(client(t, false), "GET", url(port, "/slow"), "")
	select {
	case <-up.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}
	p.signal(syscall.SIGINT)
	p.waitFor(0, `\[shutdown\] Shutting down`, 10*time.Second)
	p.signal(syscall.SIGINT)
	if code := p.wait(10 * time.Second); code == 0 {
		t.Errorf("a forced stop exited with status 0")
	}
	p.waitFor(0, `\[shutdown\] Forced to stop`, time.Second)
}

// ---------------------------------------------------------------------------
// 7. Threads

func TestThreadsUnderLoad(t *testing.T) {
	t.Parallel()
	echo, ip := freePort(t), freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"echo.js": subst(echoJS, "ECHO", echo, "IP", ip)})
	p := start(t, dir, "echo.js", "--threads=2")
	p.listening(echo)
	p.listening(ip)

	const clients, requests = 32, 8
	var wg sync.WaitGroup
	errs := make(chan error, clients*requests)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 0}}
			defer c.Transport.(*http.Transport).CloseIdleConnections()
			for j := range requests {
				body := "client " + strconv.Itoa(i) + " request " + strconv.Itoa(j)
				r, err := tryDo(c, "POST", url(echo, "/"), body)
				if err == nil && (r.code != 200 || r.body != body) {
					err = fmt.Errorf("got %s %q, want 200 %q", r.status, r.body, body)
				}
				if err == nil {
					r, err = tryDo(c, "GET", url(ip, "/c"+strconv.Itoa(i)), "")
					if want := "You are requesting /c" + strconv.Itoa(i) + " from 127.0.0.1"; err == nil && r.body != want {
						err = fmt.Errorf("got %s %q, want 200 %q", r.status, r.body, want)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d clients failed", n, clients)
	}
}

func TestSIGINTWithIdleConnections(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"hello.js": subst(helloJS, "P", port)})
	p := start(t, dir, "hello.js")
	p.listening(port)
	// A client keeps its connection open after an answer, as browsers do.
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	rd := bufio.NewReader(conn)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "Hi, there!\n" {
		t.Fatalf("got %q", b)
	}

	p.signal(syscall.SIGTERM)
	// Idle connections do not hold the process up.
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exited with status %d after SIGTERM, want 0", code)
	}
	p.waitFor(0, `\[shutdown\] Stopped`, time.Second)
	if n, err := rd.Read(make([]byte, 1)); err == nil {
		t.Errorf("the idle connection is still open (read %d bytes)", n)
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, t.TempDir(), map[string]string{"hello.js": subst(helloJS, "P", freePort(t))})
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--admin-port=70000"}, "admin-port"}, // no script: the console, on a bad port
		{[]string{"--admin-listen=nowhere"}, "admin-listen"},
		{[]string{"--verify"}, "needs a script"},
		{[]string{"ftp://example.com/repo/x/"}, "ftp://example.com/repo/x/"},
		{[]string{"nope.js"}, "nope.js"},
		{[]string{"hello.js", "other.js"}, "other.js"},
		{[]string{"hello.js", "--threads=0"}, "threads"},
		{[]string{"hello.js", "--threads=many"}, "threads"},
		{[]string{"hello.js", "--log-level=loud"}, "loud"},
	} {
		p := runToExit(t, dir, tc.args...)
		if p.exitCode == 0 {
			t.Errorf("%v exited with status 0", tc.args)
		}
		if !strings.Contains(p.log(), tc.says) {
			t.Errorf("%v: the message does not mention %q:\n%s", tc.args, tc.says, p.log())
		}
		if strings.Contains(p.log(), "[listener]") {
			t.Errorf("%v: started listening", tc.args)
		}
	}
}

const spinJS = `pipy()

.listen(@P@)
  .serveHTTP(msg => {
    let n = 0
    while (msg.head.path === '/spin') { n++ }
    return new Message('still here\n')
  })
`

func TestCallbackBudget(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := writeFiles(t, t.TempDir(), map[string]string{"spin.js": subst(spinJS, "P", port)})
	p := start(t, dir, "spin.js", "--callback-budget=200ms", "--threads=1")
	p.listening(port)
	c := client(t, true)
	m := p.mark()
	if r := do(t, c, "GET", url(port, "/spin"), ""); r.code != 500 {
		t.Errorf("a callback that never returns answered %s, want 500", r.status)
	}
	p.waitFor(m, `\[ERR\] .*/spin\.js:6:\d+: .*interrupted`, 10*time.Second)
	// The only worker is free again.
	expectReply(t, do(t, c, "GET", url(port, "/"), ""), 200, "still here\n")
}
