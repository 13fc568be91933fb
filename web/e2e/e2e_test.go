// Package e2e tests the console in a real headless Chromium: a sluice
// console is built and started on a free port with an empty store, and the
// tests drive the page as a person would, through the controls' accessible
// names.
//
// The browser is Debian's chromium at /usr/bin/chromium (CHROMIUM names
// another); without it, or without the built front end (web/dist/app.js:
// npm ci && npm run build), the tests are skipped, and they fail instead
// when CI is set. Screenshots of the main views go to $SLUICE_SHOTS, by
// default $TMPDIR/sluice-console-shots.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The launch flags, exactly; chromedp adds --remote-debugging-port=0 to
// drive the browser.
var chromeFlags = []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
	"disable-component-update", "disable-sync", "no-first-run"}

var (
	consoleURL string          // http://127.0.0.1:PORT
	browser    context.Context // the browser; each test opens tabs in it
	shots      string          // where screenshots go
	skip       string          // why the tests cannot run
	serverLog  *syncBuffer
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// freePort returns a port nothing listens on now.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "^$" {
		return m.Run() // benchmarks only: there are none here
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	root := moduleRoot()
	switch {
	case fileMissing(chromium):
		skip = chromium + " is not installed (apt-get install chromium)"
	case fileMissing(filepath.Join(root, "web", "dist", "app.js")):
		skip = "the console's front end is not built (npm ci && npm run build)"
	}
	if skip != "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: cannot run in CI:", skip)
			return 1
		}
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	// The console, built from this tree (its front end embedded).
	bin := filepath.Join(tmp, "sluice")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(gobin, "build", "-o", bin, "./backend/cmd/sluice")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building sluice: %v\n%s", err, out)
		return 1
	}
	port := freePort()
	consoleURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	serverLog = &syncBuffer{}
	cmd := exec.Command(bin, "--data", filepath.Join(tmp, "data"), "--admin-port", fmt.Sprint(port), "--threads", "2")
	cmd.Stdout, cmd.Stderr = serverLog, serverLog
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting sluice:", err)
		return 1
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	}()
	if err := waitHTTP(consoleURL+"/api/v1/program", 15*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the console did not start: %v\n%s", err, serverLog.String())
		return 1
	}

	// The browser, with a fresh profile.
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.UserDataDir(filepath.Join(tmp, "profile"))}
	for _, f := range chromeFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting chromium:", err)
		return 1
	}
	browser = bctx

	shots = os.Getenv("SLUICE_SHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "sluice-console-shots")
	}
	os.MkdirAll(shots, 0o755)
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- the console's output:\n%s", serverLog.String())
	}
	return code
}

func fileMissing(p string) bool {
	_, err := os.Stat(p)
	return err != nil
}

func waitHTTP(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get fetches a URL with a short timeout and returns the body.
func get(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// api calls the console's API directly (to set things up).
func api(t *testing.T, method, path, body string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, consoleURL+path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s", method, path, resp.Status)
	}
	return resp
}

// ---------------------------------------------------------------------------
// Tabs

// tab is one browser tab, with the errors its page reported.
type tab struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// newTab opens a tab of width×height CSS pixels. Errors the page reports
// (exceptions, console.error, failed loads other than the API's expected
// 4xx answers) fail the test when it ends.
func newTab(t *testing.T, width, height int64) *tab {
	t.Helper()
	if skip != "" {
		t.Skip(skip)
	}
	ctx, cancel := chromedp.NewContext(browser)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			// The API answers 400 to a script that does not compile (the
			// editor's check) and 412 to a stale save: the page handles both.
			if m.Source == "network" && strings.Contains(m.URL, "/api/v1/") &&
				(strings.Contains(m.Text, " 400 ") || strings.Contains(m.Text, " 412 ")) {
				continue
			}
			tb.addError(m.String())
		}
	}()
	if err := tb.run(10*time.Second, chromedp.EmulateViewport(width, height)); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.errors {
			t.Errorf("browser: %s", e)
		}
	})
	return tb
}

func (tb *tab) addError(s string) {
	tb.mu.Lock()
	tb.errors = append(tb.errors, s)
	tb.mu.Unlock()
}

// run runs actions with a time limit.
func (tb *tab) run(d time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(tb.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// do runs actions and fails the test on error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := tb.run(15*time.Second, actions...); err != nil {
		tb.fail("%s: %v", what, err)
	}
}

func (tb *tab) fail(format string, a ...any) {
	tb.t.Helper()
	tb.shot("failure-" + strings.NewReplacer("/", "_", " ", "_").Replace(tb.t.Name()))
	tb.t.Fatalf(format, a...)
}

// open loads a page of the console and waits until the app is ready.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(consoleURL+path),
		chromedp.WaitReady(chromedp.CSS(`html[data-ready="true"]`)))
}

// waitJS polls a JavaScript expression until it is truthy.
func (tb *tab) waitJS(what, expr string, d time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, d+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingTimeout(d),
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		tb.fail("waiting for %s: %v", what, err)
	}
}

// eval evaluates JavaScript.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fail("eval %s: %v", expr, err)
	}
	return v
}

// click clicks the element a CSS selector names, once it is visible and
// enabled: a button rendered disabled a moment before the change that
// enables it (typing makes Commit possible) ignores a click that lands
// first. The views re-render as the console's state changes, so a node
// found may be replaced before the click lands: then it looks again.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		if err = tb.run(15*time.Second, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible, chromedp.NodeEnabled)); err == nil {
			return
		}
		if !strings.Contains(err.Error(), "Could not find node") && !strings.Contains(err.Error(), "not attached") &&
			!strings.Contains(err.Error(), "Could not compute box model") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.fail("click %s: %v", sel, err)
}

// button names a button by its accessible label.
func button(label string) string {
	return fmt.Sprintf(`button[aria-label=%q]`, label)
}

// shot saves a screenshot of the viewport.
func (tb *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
	}
}

// typeInEditor replaces the editor's text by typing, key by key. The text
// avoids what the editor would complete on Enter: each line ends with a
// bracket or a quote.
func (tb *tab) typeInEditor(text string) {
	tb.t.Helper()
	tb.do("focus the editor", chromedp.Focus(chromedp.CSS(".cm-content")))
	tb.do("select all", chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	tb.do("delete", chromedp.KeyEvent(kb.Backspace))
	for _, line := range strings.SplitAfter(text, "\n") {
		body := strings.TrimSuffix(line, "\n")
		if body != "" {
			tb.do("type", chromedp.KeyEvent(body))
		}
		if strings.HasSuffix(line, "\n") {
			tb.do("escape", chromedp.KeyEvent(kbEscape)) // close any completion
			tb.do("enter", pressEnter())
		}
	}
	tb.do("escape", chromedp.KeyEvent(kbEscape))
}

// editorText is the editor's document.
func (tb *tab) editorText() string {
	return eval[string](tb, `document.querySelector('.cm-content').innerText`)
}

func (tb *tab) save() {
	tb.t.Helper()
	tb.do("Ctrl+S", chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
}

const kbEscape = kb.Escape

func waitVisible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func focusSel(sel string) chromedp.Action[chromedp.Void] { return chromedp.Focus(chromedp.CSS(sel)) }

// setInput replaces an input's value by typing.
func setInput(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.SendKeys(chromedp.CSS(sel), value),
	)
}

// typeKeys types into whatever has the focus.
func typeKeys(keys string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(keys) }

// focusEditorEnd focuses the editor and moves to the end of the document.
func focusEditorEnd() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(".cm-content")),
		chromedp.KeyEvent(kb.End, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
}

// pressEnter sends the Enter key without the char event that KeyEvent adds:
// the editor handles Enter on keydown, and a browser sends no keypress after
// a keydown that was handled.
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := input.DispatchKeyEventParams{Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		for _, typ := range []input.DispatchKeyEventType{kb.KeyDown, kb.KeyUp} {
			p.Type = typ
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}
