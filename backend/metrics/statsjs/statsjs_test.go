package statsjs_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"sluice/backend/engine"
	"sluice/backend/metrics"
	_ "sluice/backend/metrics/statsjs"
)

func load(t *testing.T, threads int, script string) (*engine.Program, error) {
	t.Helper()
	fsys := fstest.MapFS{"main.js": {Data: []byte(script + "\npipy()\n")}}
	p, err := engine.Load(engine.Options{FS: fsys, Main: "/main.js", Threads: threads})
	if err == nil {
		t.Cleanup(p.Stop)
	}
	return p, err
}

// fresh forgets the named metrics (they are process-wide and would carry
// values from an earlier run of the test, as with -count).
func fresh(t *testing.T, names ...string) {
	for _, n := range names {
		metrics.Default.Remove(n)
	}
	t.Cleanup(func() {
		for _, n := range names {
			metrics.Default.Remove(n)
		}
	})
}

func exposition(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	if err := metrics.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Every worker evaluates the script; they all update one metric.
func TestStatsSharedByWorkers(t *testing.T) {
	fresh(t, "statsjs_requests", "statsjs_conns", "statsjs_latency")
	p, err := load(t, 3, `
globalThis.c = new stats.Counter('statsjs_requests', ['method', 'status']),
c.increase(),
c.withLabels('GET').increase(2),
c.withLabels('GET', 200).increase(),
globalThis.g = new stats.Gauge('statsjs_conns'),
g.set(10), g.increase(), g.decrease(3),
globalThis.h = new stats.Histogram('statsjs_latency', [1, 10, 100], ['service']),
h.withLabels('hi').observe(5),
globalThis.out = {
  name: c.name,
  same: c.withLabels('GET') === c.withLabels('GET'),
  full: c.withLabels('GET', 200).withLabels('x'),
  self: c.withLabels() === c,
}`)
	if err != nil {
		t.Fatal(err)
	}
	out := exposition(t)
	for _, want := range []string{
		"# TYPE statsjs_requests counter\n",
		"\nstatsjs_requests 3\n",
		"\nstatsjs_requests{method=\"GET\"} 6\n",
		"\nstatsjs_requests{method=\"GET\",status=\"200\"} 3\n",
		"\nstatsjs_conns 8\n", // each worker set 10, then +1 -3: the last set wins, then the rest
		"\nstatsjs_latency_bucket{service=\"hi\",le=\"10\"} 3\n",
		"\nstatsjs_latency_count{service=\"hi\"} 3\n",
		"# HELP statsjs_requests Defined by a script with stats.Counter.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	w := p.Workers[0]
	var got string
	w.Do(func() {
		b, _ := json.Marshal(w.Runtime().Get("out").Export())
		got = string(b)
	})
	if got != `{"full":null,"name":"statsjs_requests","same":true,"self":true}` {
		t.Errorf("got %s", got)
	}
}

// A reload (a new program) gets the same metric, whose value carries on.
func TestStatsSurviveReload(t *testing.T) {
	fresh(t, "statsjs_reloaded")
	for range 2 {
		if _, err := load(t, 1, `new stats.Counter('statsjs_reloaded').increase(5)`); err != nil {
			t.Fatal(err)
		}
	}
	if v := metrics.Default.Lookup("statsjs_reloaded").Value(); v != 10 {
		t.Errorf("value %v, want 10", v)
	}
}

func TestStatsErrors(t *testing.T) {
	for _, tt := range []struct{ script, want string }{
		{`new stats.Counter()`, "stats.Counter: expects a metric name"},
		{`new stats.Counter('pipy_mine')`, "reserved for built-in metrics"},
		{`new stats.Gauge('bad-name')`, `stats.Gauge: invalid metric name "bad-name"`},
		{`new stats.Counter('statsjs_x', 'method')`, "label names must be an array"},
		{`new stats.Counter('statsjs_y', ['a-b'])`, `invalid label name "a-b"`},
		{`new stats.Histogram('statsjs_h')`, "stats.Histogram: expects an array of bucket limits"},
		{`new stats.Histogram('statsjs_h', [5, 1])`, "not in ascending order"},
		{`new stats.Gauge('statsjs_g').set()`, "Gauge.set: expects a number"},
		{`new stats.Histogram('statsjs_h2', [1]).observe()`, "Histogram.observe: expects a number"},
	} {
		_, err := load(t, 1, tt.script+",")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.script, err, tt.want)
		}
	}
}

func TestStatsDescribed(t *testing.T) {
	names := map[string]bool{}
	for _, c := range engine.Classes() {
		names[c.Name] = true
	}
	for _, n := range []string{"stats.Counter", "stats.Gauge", "stats.Histogram"} {
		if !names[n] {
			t.Errorf("%s is not described", n)
		}
	}
}
