package classes_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/dop251/goja"

	_ "sluice/backend/classes"
	"sluice/backend/engine"
	"sluice/backend/logging"
)

func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_TEST_LOG") == "" {
		logging.SetOutput(io.Discard)
	}
	os.Exit(m.Run())
}

// report(key, value) records a value from a script (as a string).
var (
	reportMu sync.Mutex
	reports  map[string]string
)

func init() {
	engine.RegisterGlobal(func(w *engine.Worker, g *goja.Object) {
		g.Set("report", func(k, v string) {
			reportMu.Lock()
			reports[k] = v
			reportMu.Unlock()
		})
	})
}

type jsCase struct {
	expr string // evaluated in main.js; the result is shown as a string (JSON for objects)
	want string // "throw: ..." for a thrown error whose text contains the rest
}

// evalCases evaluates every case in one script, with the given codebase files.
func evalCases(t *testing.T, cases []jsCase, files map[string]string) {
	t.Helper()
	var src strings.Builder
	src.WriteString("const show = v => typeof v === 'string' ? v : v === undefined ? 'undefined' : JSON.stringify(v);\n")
	for i, c := range cases {
		fmt.Fprintf(&src, "try { report('%d', show((() => (%s))())) } catch (e) { report('%d', 'throw: ' + String(e)) }\n", i, c.expr, i)
	}
	src.WriteString("pipy()\n")
	fsys := fstest.MapFS{"main.js": {Data: []byte(src.String())}}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	reportMu.Lock()
	reports = map[string]string{}
	reportMu.Unlock()
	prog, err := engine.Load(engine.Options{FS: fsys, Main: "/main.js", Threads: 1})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	prog.Stop()
	reportMu.Lock()
	defer reportMu.Unlock()
	for i, c := range cases {
		got, ok := reports[fmt.Sprint(i)]
		if !ok {
			t.Errorf("%s: no result", c.expr)
			continue
		}
		if want, isThrow := strings.CutPrefix(c.want, "throw: "); isThrow {
			if !strings.HasPrefix(got, "throw: ") || !strings.Contains(got, want) {
				t.Errorf("%s\n got: %q\nwant a throw containing %q", c.expr, got, want)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s\n got: %q\nwant: %q", c.expr, got, c.want)
		}
	}
}

// loadError loads a script that must fail and returns the error text.
func loadError(t *testing.T, src string) string {
	t.Helper()
	prog, err := engine.Load(engine.Options{FS: fstest.MapFS{"main.js": {Data: []byte(src)}}, Main: "/main.js", Threads: 1})
	if err == nil {
		prog.Stop()
		t.Fatalf("script loaded; want an error")
	}
	return err.Error()
}

func TestLoadErrorsAreLocated(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"pipy({\n  _m: new Netmask('10.0.0.0/99'),\n})\n", `invalid CIDR notation "10.0.0.0/99"`},
		{"pipy({\n  _u: new URL('http://host:port/'),\n})\n", `bad port "port"`},
		{"pipy({\n  _x: XML.parse('<a>'),\n})\n", "XML.parse: invalid XML"},
		{"pipy({\n  _h: Hessian.decode(new Data([0x45])),\n})\n", "unknown code 0x45"},
	} {
		msg := loadError(t, tc.src)
		if !strings.Contains(msg, "main.js:2:") || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "TypeError") {
			t.Errorf("load error %q: want main.js:2:, TypeError and %q", msg, tc.want)
		}
	}
}
