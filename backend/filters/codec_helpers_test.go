package filters_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"sluice/backend/engine"
)

// loadError loads main.js (and files) and returns the load error's text;
// the test fails if the script loads.
func loadError(t testing.TB, src string, fs map[string]string) string {
	t.Helper()
	fsys := fstest.MapFS{"main.js": {Data: []byte(src)}}
	for name, body := range fs {
		fsys[strings.TrimPrefix(name, "/")] = &fstest.MapFile{Data: []byte(body)}
	}
	prog, err := engine.Load(engine.Options{FS: fsys, Main: "/main.js", Threads: 1})
	if err == nil {
		prog.Stop()
		t.Fatalf("script loaded; want an error")
	}
	return err.Error()
}

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: %q does not contain %q", what, got, w)
		}
	}
}
