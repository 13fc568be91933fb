package repoworker

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sluice/backend/admin"
	_ "sluice/backend/filters"
	"sluice/backend/logging"
	"sluice/backend/store"
	"sluice/backend/supervisor"
)

func TestMain(m *testing.M) {
	logging.SetOutput(io.Discard)
	os.Exit(m.Run())
}

type console struct {
	t     *testing.T
	url   string
	store *store.Store
}

// newConsole serves a console; wrap, when set, stands between it and the
// socket.
func newConsole(t *testing.T, token string, wrap func(http.Handler) http.Handler) *console {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sup := supervisor.New(supervisor.Options{Threads: 1})
	srv := admin.New(admin.Config{Store: st, Supervisor: sup, Token: token})
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
		srv.Log().Detach()
		st.Close()
	})
	return &console{t: t, url: hs.URL, store: st}
}

// publish saves the files and commits them as the next version.
func (c *console) publish(cb string, files map[string]string) {
	c.t.Helper()
	if _, err := c.store.Version(cb); err != nil {
		if err := c.store.Create(cb, ""); err != nil {
			c.t.Fatal(err)
		}
	}
	for p, body := range files {
		if _, err := c.store.WriteFile(cb, p, []byte(body), ""); err != nil {
			c.t.Fatal(err)
		}
	}
	v, _ := c.store.Version(cb)
	// Through the API, so that the console pushes the new version.
	req, _ := http.NewRequest("POST", c.url+"/api/v1/repo"+cb, strings.NewReader(fmt.Sprintf(`{"main":"/main.js","version":%d}`, v+1)))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		c.t.Fatalf("commit: %s", resp.Status)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func hello(port int, reply string) string {
	return fmt.Sprintf("pipy()\n.listen('127.0.0.1:%d')\n.serveHTTP(new Message(%q))\n", port, reply)
}

func get(url string) (string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// waitReply waits until url replies want, and returns how long that took.
func waitReply(t *testing.T, url, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got string
	var err error
	for time.Since(start) < within {
		if got, err = get(url); err == nil && got == want {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: still %q %v after %v, want %q", url, got, err, within, want)
	return 0
}

func startWorker(t *testing.T, o Options) *Worker {
	t.Helper()
	o.Threads = 1
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		w.Supervisor().Shutdown(time.Second)
	})
	return w
}

func TestPullRunAndFollow(t *testing.T) {
	t.Parallel()
	c := newConsole(t, "", nil)
	port := freePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d/", port)
	c.publish("/hello", map[string]string{"/main.js": hello(port, "v1"), "/config/x.json": "{}"})
	w := startWorker(t, Options{URL: c.url + "/repo/hello/", UUID: "w-1", Name: "edge", ReportInterval: 200 * time.Millisecond,
		Metrics: func(w io.Writer) error {
			_, err := io.WriteString(w, "# TYPE worker_metric gauge\nworker_metric 5\n")
			return err
		}})
	waitReply(t, app, "v1", 5*time.Second)
	if st := w.Supervisor().State(); st.Version != "2" || st.Main != "/main.js" {
		t.Fatalf("state %+v", st)
	}

	// The worker reports to the console.
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := http.Get(c.url + "/api/v1/repo/hello")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"uuid":"w-1"`) && strings.Contains(string(b), `"/main.js":{"graph":{"roots":[0]`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no instance in %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Its metrics are the console's, labelled.
	resp, err := http.Get(c.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `worker_metric{instance="edge"} 5`) {
		t.Fatalf("console metrics:\n%s", b)
	}

	// A commit is pushed: the new version serves within a second.
	c.publish("/hello", map[string]string{"/main.js": hello(port, "v2")})
	if d := waitReply(t, app, "v2", 3*time.Second); d > time.Second {
		t.Errorf("the new version took %v", d)
	}
	// A version that fails to load leaves the running one.
	c.publish("/hello", map[string]string{"/main.js": "pipy(\n"})
	time.Sleep(300 * time.Millisecond)
	if got, _ := get(app); got != "v2" {
		t.Fatalf("after a broken version the app replied %q", got)
	}
	c.publish("/hello", map[string]string{"/main.js": hello(port, "v4")})
	waitReply(t, app, "v4", 3*time.Second)
	if st := w.Supervisor().State(); st.Version != "5" {
		t.Fatalf("version %q", st.Version)
	}
}

// Against a console that has no push link (Pipy's), the worker polls.
func TestPollingWithoutTheLink(t *testing.T) {
	t.Parallel()
	noWS := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") != "" {
				http.Error(w, "no", http.StatusMethodNotAllowed)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	c := newConsole(t, "", noWS)
	port := freePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d/", port)
	c.publish("/p", map[string]string{"/main.js": hello(port, "one")})
	startWorker(t, Options{URL: c.url + "/repo/p/", PollInterval: 200 * time.Millisecond})
	waitReply(t, app, "one", 5*time.Second)
	c.publish("/p", map[string]string{"/main.js": hello(port, "two")})
	if d := waitReply(t, app, "two", 3*time.Second); d > time.Second {
		t.Errorf("polling took %v", d)
	}
}

// A commit that lands between the manifest and the files is not mixed into
// the version being downloaded.
func TestCommitDuringDownload(t *testing.T) {
	t.Parallel()
	var c *console
	var once atomic.Bool
	port := freePort(t)
	mid := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "GET" && r.URL.Path == "/repo/m/lib.js" && once.CompareAndSwap(false, true) {
				c.publish("/m", map[string]string{"/main.js": "pipy.load('lib.js');\n" + hello(port, "new"), "/lib.js": "new"})
			}
			h.ServeHTTP(w, r)
		})
	}
	c = newConsole(t, "", mid)
	c.publish("/m", map[string]string{"/main.js": "pipy.load('lib.js');\n" + hello(port, "old"), "/lib.js": "old"})
	w := startWorker(t, Options{URL: c.url + "/repo/m/"})
	waitReply(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "new", 5*time.Second)
	if v := w.Supervisor().State().Version; v != "3" {
		t.Fatalf("version %q", v)
	}
}

func TestTokenAndSingleScript(t *testing.T) {
	t.Parallel()
	c := newConsole(t, "s3cret", nil)
	port := freePort(t)
	c.publish("/t", map[string]string{"/main.js": hello(port, "secret")})
	// Without the token nothing is pulled.
	w := startWorker(t, Options{URL: c.url + "/repo/t/"})
	time.Sleep(300 * time.Millisecond)
	if w.Supervisor().State().Running {
		t.Fatal("a worker without the token runs the codebase")
	}
	startWorker(t, Options{URL: c.url + "/repo/t/", Token: "s3cret"})
	waitReply(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "secret", 5*time.Second)

	// A URL that serves a script rather than a manifest runs it.
	port2 := freePort(t)
	script := hello(port2, "single")
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, script)
	}))
	defer hs.Close()
	startWorker(t, Options{URL: hs.URL + "/x/hello.js"})
	waitReply(t, fmt.Sprintf("http://127.0.0.1:%d/", port2), "single", 5*time.Second)

	if _, err := New(Options{URL: "ftp://x/"}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}
