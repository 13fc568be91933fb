package engine_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
)

// A script whose top-level code loops fails to load with a located error
// once the callback budget has passed, and the runtime stays usable.
func TestLoadLoopIsInterrupted(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := engine.Load(engine.Options{
		FS:             fstest.MapFS{"main.js": {Data: []byte("let n = 0\nwhile (true) { n++ }\npipy()\n")}},
		Main:           "/main.js",
		Threads:        2,
		CallbackBudget: 200 * time.Millisecond,
	})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("load took %v", took)
	}
	var se *engine.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a ScriptError", err)
	}
	if se.File != "/main.js" || se.Line != 2 || !strings.Contains(se.Message, "while loading") {
		t.Fatalf("err = %v", se)
	}
	// A script that loads quickly is not interrupted later by the guard.
	p, err := engine.Load(engine.Options{
		FS:             fstest.MapFS{"main.js": {Data: []byte("pipy()\n")}},
		Main:           "/main.js",
		Threads:        1,
		CallbackBudget: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
}
