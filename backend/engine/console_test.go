package engine_test

import (
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"sluice/backend/engine"
	"sluice/backend/logging"
)

// A module's top-level console.log is said once, however many workers
// evaluate the module.
func TestTopLevelLogOnce(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	cancel := logging.Subscribe(func(line string) {
		mu.Lock()
		lines = append(lines, line)
		mu.Unlock()
	})
	defer cancel()
	src := "console.log('loading the top-level-log-once module')\npipy()\n"
	p, err := engine.Load(engine.Options{FS: fstest.MapFS{"main.js": {Data: []byte(src)}}, Main: "/main.js", Threads: 3})
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, l := range lines {
		if strings.Contains(l, "loading the top-level-log-once module") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the line was logged %d times by 3 workers, want once", n)
	}
}
