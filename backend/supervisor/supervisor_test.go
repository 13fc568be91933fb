package supervisor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"testing/fstest"
	"time"

	_ "sluice/backend/filters"
	"sluice/backend/logging"
)

func TestMain(m *testing.M) {
	logging.SetOutput(io.Discard)
	os.Exit(m.Run())
}

func codebase(port int, reply string) fstest.MapFS {
	return fstest.MapFS{"main.js": {Data: []byte(fmt.Sprintf(
		"pipy()\n.listen('127.0.0.1:%d')\n.serveHTTP(new Message(%q))\n", port, reply))}}
}

func get(port int) (string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestGenerations(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := New(Options{Threads: 2, UUID: "u", Name: "n"})
	defer s.Shutdown(time.Second)
	if st := s.State(); st.Running || st.Generation != 0 {
		t.Fatalf("initial state %+v", st)
	}
	changed := s.Changed()
	if err := s.Start("/a", "1", codebase(port, "one"), "/main.js"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Changed was not closed by Start")
	}
	if got, err := get(port); err != nil || got != "one" {
		t.Fatalf("%q %v", got, err)
	}
	st := s.Status()
	if st.UUID != "u" || st.Name != "n" || st.Version != "1" || len(st.Modules["/main.js"].Graph) == 0 {
		t.Fatalf("status %+v", st)
	}
	c := s.Counters()
	if len(c.Listeners) != 1 || len(c.Workers) != 2 || c.Requests != 1 {
		t.Fatalf("counters %+v", c)
	}

	// A failure keeps the running generation.
	err := s.Start("/a", "2", fstest.MapFS{"main.js": {Data: []byte("pipy(")}}, "/main.js")
	var le *LoadError
	if !errors.As(err, &le) || le.Script() == nil || le.Script().File != "/main.js" {
		t.Fatalf("err = %v", err)
	}
	if s.State().Generation != 1 {
		t.Fatalf("generation %d", s.State().Generation)
	}
	if got, _ := get(port); got != "one" {
		t.Fatalf("after a failed start: %q", got)
	}
	// The next generation takes the same port over.
	if err := s.Start("/a", "3", codebase(port, "three"), "/main.js"); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(port); got != "three" {
		t.Fatalf("generation 2 replied %q", got)
	}
	s.Stop()
	if st := s.State(); st.Running || st.Generation != 2 || len(s.Status().Modules) != 0 {
		t.Fatalf("stopped state %+v", st)
	}
	if _, err := get(port); err == nil {
		t.Fatal("still listening after Stop")
	}
	s.Stop() // twice is fine
	if err := s.Start("/a", "4", codebase(port, "four"), "/main.js"); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(port); got != "four" {
		t.Fatalf("after a restart: %q", got)
	}
}
