package samples_test

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
	_ "sluice/backend/filters"
	"sluice/backend/metrics"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// codebase reads a sample codebase into memory with its ports replaced.
func codebase(t *testing.T, dir string, ports map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(b)
		for from, to := range ports {
			s = strings.ReplaceAll(s, from, to)
		}
		rel, _ := filepath.Rel(dir, path)
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: []byte(s)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func start(t *testing.T, fsys fstest.MapFS, main string) {
	t.Helper()
	p, err := engine.Load(engine.Options{FS: fsys, Main: main, Threads: 2})
	if err != nil {
		t.Fatalf("loading %s: %v", main, err)
	}
	srv := engine.NewServer()
	if err := srv.Start(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.StopListening(); p.Stop() })
}

func TestProxySample(t *testing.T) {
	ports := map[string]string{}
	for _, p := range []string{"8000", "8080", "8081", "8082"} {
		ports[p] = strconv.Itoa(freePort(t))
	}
	fsys := codebase(t, "../../codebases/proxy", ports)
	start(t, fsys, "/mock.js")
	start(t, fsys, "/proxy.js")
	base := "http://127.0.0.1:" + ports["8000"]

	client := &http.Client{Timeout: 5 * time.Second}
	get := func(c *http.Client, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	tellIP := "You are requesting /ip/x from 127.0.0.1\n"
	tests := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/echo", "hello", 200, "hello"},
		{"GET", "/ip/x", "", 200, tellIP},
		{"GET", "/nowhere", "", 404, "No handler found"},
		{"GET", "/echo/more", "", 404, "No handler found"},
	}
	for _, tt := range tests {
		status, body := get(client, tt.method, tt.path, tt.body)
		if status != tt.status || body != tt.want {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}

	// service-hi has two targets: a connection sticks to the one it got,
	// and new connections rotate between them.
	answers := map[string]bool{}
	for range 4 {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
		_, first := get(c, "GET", "/hi", "")
		_, second := get(c, "GET", "/hi", "")
		if first != second {
			t.Errorf("one connection got two targets: %q then %q", first, second)
		}
		answers[first] = true
		c.CloseIdleConnections()
	}
	if !answers["Hi, there!\n"] || !answers["You are requesting /hi from 127.0.0.1\n"] {
		t.Errorf("connections did not rotate over both targets of service-hi: %v", answers)
	}

	// The traffic shows in the built-in metrics, per listener and upstream.
	var sb strings.Builder
	if err := metrics.Write(&sb); err != nil {
		t.Fatal(err)
	}
	text := sb.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^pipy_inbound_in\{listen="0\.0\.0\.0:` + ports["8000"] + `",peer="127\.0\.0\.1"\} [1-9]`),
		regexp.MustCompile(`(?m)^pipy_inbound_out\{listen="0\.0\.0\.0:` + ports["8000"] + `",peer="127\.0\.0\.1"\} [1-9]`),
		regexp.MustCompile(`(?m)^pipy_outbound_out\{peer="127\.0\.0\.1:` + ports["8081"] + `"\} [1-9]`),
		regexp.MustCompile(`(?m)^pipy_outbound_in\{peer="127\.0\.0\.1:` + ports["8081"] + `"\} [1-9]`),
		regexp.MustCompile(`(?m)^pipy_outbound_conn_time_count\{peer="127\.0\.0\.1:` + ports["8081"] + `"\} [1-9]`),
		regexp.MustCompile(`(?m)^pipy_pipeline_count\{module="/plugins/balancer\.js",name="upstream"\} [0-9]`),
	} {
		if !want.MatchString(text) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// With the services down, the proxy answers 502 and keeps working.
func TestProxySampleUpstreamDown(t *testing.T) {
	ports := map[string]string{}
	for _, p := range []string{"8000", "8080", "8081", "8082"} {
		ports[p] = strconv.Itoa(freePort(t))
	}
	start(t, codebase(t, "../../codebases/proxy", ports), "/proxy.js")
	for range 2 {
		res, err := http.Post("http://127.0.0.1:"+ports["8000"]+"/echo", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 502 || res.Status != "502 Connection Refused" {
			t.Fatalf("got %q, want 502 Connection Refused", res.Status)
		}
	}
}
