package filters_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
)

// TestExec: Data goes through a child process's standard input and output;
// the end of the input closes its standard input and its exit ends the
// stream. The command is a string split at spaces or an array.
func TestExec(t *testing.T) {
	t.Parallel()
	cases := []struct {
		command string
		in      string
		want    string
	}{
		{`'tr a-z A-Z'`, "hello exec", "HELLO EXEC"},
		{`['cat']`, "as is\n", "as is\n"},
		{`() => 'tr -d 0-9'`, "a1b2c3", "abc"},
	}
	for _, c := range cases {
		t.Run(c.command, func(t *testing.T) {
			t.Parallel()
			in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .exec($COMMAND)
`, nil, "$COMMAND", c.command)
			conn := dial(t, in.addr)
			conn.write(c.in)
			conn.halfClose()
			mustEqual(t, "output", conn.readToEnd(), c.want)
		})
	}
	t.Run("cannot start", func(t *testing.T) {
		t.Parallel()
		in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .exec('/no/such/command')
`, nil)
		conn := dial(t, in.addr)
		conn.write("x")
		conn.expectClosed()
	})
	t.Run("killed with its pipeline", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .exec(['sh', '-c', 'trap "touch $DIR/killed; exit" TERM; echo started; sleep 30 & wait'])
`, nil, "$DIR", dir)
		conn := dial(t, in.addr)
		conn.write("x")
		conn.expect("started\n")
		// A reset connection ends its pipeline at once, and the process
		// with it.
		conn.c.(*net.TCPConn).SetLinger(0)
		conn.c.Close()
		waitFor(t, "the process to be killed", ioTimeout, func() bool {
			_, err := os.Stat(filepath.Join(dir, "killed"))
			return err == nil
		})
	})
}

// TestTee: the Data of each stream goes to a file as well as on.
func TestTee(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := run(t, `
pipy({ _n: 0, _g: { n: 0 } })
.listen('127.0.0.1:$PORT')
  .handleStreamStart(() => _n = ++_g.n)
  .tee(() => '$DIR/sub/tee-' + _n + '.txt')
  .replaceData(d => new Data(d.toString().toUpperCase()))
`, []runOpt{threads(1)}, "$DIR", dir)
	for i, s := range []string{"first stream", "second"} {
		c := dial(t, in.addr)
		c.write(s)
		c.expect(strings.ToUpper(s))
		c.halfClose()
		c.readToEnd()
		path := filepath.Join(dir, "sub", fmt.Sprintf("tee-%d.txt", i+1))
		waitFor(t, path, ioTimeout, func() bool {
			b, _ := os.ReadFile(path)
			return string(b) == s
		})
	}
}

// TestDepositMessage: a body over the threshold waits in a file and comes
// back whole; the file is kept only with keep.
func TestDepositMessage(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep ", keep), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "body")
			in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .depositMessage('$PATH', { threshold: '1k', keep: $KEEP })
  .replaceMessage(m => new Message(m.body.size + ' ' + m.body.toString().slice(0, 8)))
`, nil, "$PATH", path, "$KEEP", keep)
			body := bigBody(300 << 10)
			_, got := post(t, newClient(t), in.url("/"), bytes.NewReader(body), int64(len(body)))
			mustEqual(t, "answer", got, fmt.Sprintf("%d %s", len(body), body[:8]))
			b, err := os.ReadFile(path)
			switch {
			case keep && err != nil:
				t.Fatalf("the file was not kept: %v", err)
			case keep && sha256.Sum256(b) != sha256.Sum256(body):
				t.Fatalf("the file holds %d bytes, not the body", len(b))
			case !keep:
				waitFor(t, "the file to go", ioTimeout, func() bool { _, err := os.Stat(path); return os.IsNotExist(err) })
			}
		})
	}
}

// TestRead: a read() pipeline gets the file's contents once at start; the
// diagram calls it "Read <path>".
func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "input.txt")
	content := strings.Repeat("line of input\n", 3000) // several reads' worth
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSink(t)
	run(t, `
pipy()
.read('$PATH')
  .replaceData(d => new Data(d.toString().toUpperCase()))
  .connect('$SINK')
`, nil, "$PATH", path, "$SINK", s.addr)
	got := s.waitData(t, strings.ToUpper(content), ioTimeout)
	mustEqual(t, "bytes", len(got), len(content))
	select {
	case <-s.ended:
	case <-time.After(ioTimeout):
		t.Fatal("the read pipeline did not end")
	}

	src := "pipy()\n.read('" + path + "')\n  .merge('x', '')\n  .muxQueue('x', '')\n.pipeline('x')\n  .dummy()\n"
	prog, err := engine.Load(engine.Options{FS: fstest.MapFS{"main.js": {Data: []byte(src)}}, Main: "/main.js", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Stop()
	diagram := strings.Join(prog.Modules()[0].Diagram(), "\n")
	// muxQueue is "mux" in Pipy 0.30's diagrams.
	for _, want := range []string{"[Read " + path + "]", " merge\n", " mux\n", "|--> [x]", "dummy"} {
		if !strings.Contains(diagram, want) {
			t.Errorf("diagram lacks %q:\n%s", want, diagram)
		}
	}
}
