package metrics

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// text renders a set alone in the Prometheus text format.
func text(t *testing.T, s *Set) string {
	t.Helper()
	r := prometheus.NewRegistry()
	r.MustRegister(s)
	var b bytes.Buffer
	if err := WriteGatherer(&b, r); err != nil {
		t.Fatalf("write: %v\n%s", err, b.String())
	}
	return b.String()
}

// samples are the non-comment lines of a text exposition.
func samples(out string) []string {
	var lines []string
	for l := range strings.SplitSeq(out, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func wantSamples(t *testing.T, got string, want ...string) {
	t.Helper()
	lines := samples(got)
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestCounterWithLabels(t *testing.T) {
	s := NewSet()
	c, err := s.Counter("http_requests", "method", "status")
	if err != nil {
		t.Fatal(err)
	}
	if out := text(t, s); len(samples(out)) != 0 {
		t.Errorf("a metric never given a value is exported:\n%s", out)
	}
	c.Increase(1)
	c.WithLabels("GET").Increase(2)
	c.WithLabels("GET", "200").Increase(1)
	c.WithLabels("GET").WithLabels("200").Increase(1)
	c.WithLabels("POST", "500", "ignored").Increase(0.5)
	if c.WithLabels("GET", "200").WithLabels("x") != nil {
		t.Error("WithLabels on a metric with every label given is not nil")
	}
	if c.WithLabels() != c {
		t.Error("WithLabels() is not the metric itself")
	}
	out := text(t, s)
	wantSamples(t, out,
		`http_requests 1`,
		`http_requests{method="GET"} 2`,
		`http_requests{method="GET",status="200"} 2`,
		`http_requests{method="POST",status="500"} 0.5`,
	)
	if !strings.Contains(out, "# TYPE http_requests counter") {
		t.Errorf("no TYPE line:\n%s", out)
	}

	c.WithLabels("GET").Zero()
	c.WithLabels("POST").Clear()
	wantSamples(t, text(t, s),
		`http_requests 1`,
		`http_requests{method="GET"} 0`,
		`http_requests{method="GET",status="200"} 2`,
	)
}

func TestGauge(t *testing.T) {
	s := NewSet()
	g, _ := s.Gauge("concurrency", "peer")
	g.Set(100)
	g.Increase(5)
	g.Decrease(10)
	g.WithLabels("127.0.0.1").Set(3)
	g.WithLabels("10.0.0.1").Decrease(1)
	wantSamples(t, text(t, s),
		`concurrency 95`,
		`concurrency{peer="10.0.0.1"} -1`,
		`concurrency{peer="127.0.0.1"} 3`,
	)
	g.Observe(3) // not a histogram: nothing happens
	if g.Value() != 95 {
		t.Errorf("value %v", g.Value())
	}
}

func TestHistogram(t *testing.T) {
	s := NewSet()
	h, err := s.Histogram("latency", []float64{1, 2, 4}, "service")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []float64{0.5, 1, 1.5, 3, 10} {
		h.Observe(x)
	}
	h.Observe(math.NaN()) // in the count only; the sum becomes NaN
	h.WithLabels("login").Observe(2)
	cum, count, _ := h.HistogramValue()
	if len(cum) != 3 || cum[0] != 2 || cum[1] != 3 || cum[2] != 4 || count != 6 {
		t.Errorf("cumulative %v count %d", cum, count)
	}
	h.Zero()
	h.Observe(3)
	h.Set(5) // not a counter: nothing happens
	wantSamples(t, text(t, s),
		`latency_bucket{le="1"} 0`,
		`latency_bucket{le="2"} 0`,
		`latency_bucket{le="4"} 1`,
		`latency_bucket{le="+Inf"} 1`,
		`latency_sum 3`,
		`latency_count 1`,
		`latency_bucket{service="login",le="1"} 0`,
		`latency_bucket{service="login",le="2"} 1`,
		`latency_bucket{service="login",le="4"} 1`,
		`latency_bucket{service="login",le="+Inf"} 1`,
		`latency_sum{service="login"} 2`,
		`latency_count{service="login"} 1`,
	)
}

func TestSameNameIsOneMetric(t *testing.T) {
	s := NewSet()
	a, _ := s.Counter("hits", "path")
	b, _ := s.Counter("hits", "path")
	if a != b {
		t.Fatal("the same name and shape gave two metrics")
	}
	a.Increase(1)
	b.Increase(1)
	if a.Value() != 2 {
		t.Errorf("value %v", a.Value())
	}
	// Another shape replaces the metric, as in Pipy.
	g, _ := s.Gauge("hits")
	if g == a || s.Lookup("hits") != g {
		t.Fatal("a gauge of the same name did not replace the counter")
	}
	g.Set(7)
	a.Increase(100) // the old handle no longer shows
	wantSamples(t, text(t, s), `hits 7`)
	h1, _ := s.Histogram("h", []float64{1, 2})
	h2, _ := s.Histogram("h", []float64{1, 3})
	if h1 == h2 {
		t.Error("other buckets did not give another histogram")
	}
}

func TestInvalidDefinitions(t *testing.T) {
	s := NewSet()
	for _, tt := range []struct {
		name string
		err  func() error
		want string
	}{
		{"metric name", func() error { _, err := s.Counter("my-metric"); return err }, `invalid metric name "my-metric"`},
		{"leading digit", func() error { _, err := s.Gauge("1x"); return err }, "invalid metric name"},
		{"label name", func() error { _, err := s.Counter("x", "content-type"); return err }, `invalid label name "content-type"`},
		{"reserved label", func() error { _, err := s.Counter("x", "__a"); return err }, "reserved"},
		{"twice", func() error { _, err := s.Counter("x", "a", "a"); return err }, `label "a" given twice`},
		{"le", func() error { _, err := s.Histogram("x", []float64{1}, "le"); return err }, "label named le"},
		{"no buckets", func() error { _, err := s.Histogram("x", nil); return err }, "no buckets"},
		{"descending", func() error { _, err := s.Histogram("x", []float64{2, 1}); return err }, "not in ascending order"},
		{"NaN", func() error { _, err := s.Histogram("x", []float64{math.NaN()}); return err }, "NaN"},
	} {
		err := tt.err()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if Reserved("my_metric") || !Reserved("pipy_inbound_count") {
		t.Error("Reserved")
	}
}

// Label values that are not UTF-8 are repaired, not a failed scrape.
func TestLabelValuesAreUTF8(t *testing.T) {
	s := NewSet()
	c, _ := s.Counter("odd", "v")
	c.WithLabels("a\xffb").Increase(1)
	wantSamples(t, text(t, s), `odd{v="a`+"\uFFFD"+`b"} 1`)
}

// Every worker updates the same metrics at once: no update is lost.
func TestConcurrentUpdates(t *testing.T) {
	s := NewSet()
	const goroutines, each = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := s.Counter("n", "k")
			h, _ := s.Histogram("d", []float64{1, 10})
			for i := range each {
				c.Increase(1)
				c.WithLabels([]string{"a", "b"}[(g+i)%2]).Increase(1)
				h.Observe(float64(i % 20))
			}
			text(t, s) // scrapes run alongside
		}()
	}
	wg.Wait()
	c := s.Lookup("n")
	if c.Value() != goroutines*each {
		t.Errorf("counter %v, want %d", c.Value(), goroutines*each)
	}
	if a, b := c.WithLabels("a").Value(), c.WithLabels("b").Value(); a+b != goroutines*each {
		t.Errorf("sub-counters %v + %v", a, b)
	}
	if _, n, _ := s.Lookup("d").HistogramValue(); n != goroutines*each {
		t.Errorf("histogram count %d", n)
	}
}

func TestBuiltinConnections(t *testing.T) {
	// Start from zero (for -count=N): nothing else feeds them in this test binary.
	for _, m := range []*Metric{inboundCount, inboundIn, inboundOut, outboundCount, outboundIn, outboundOut, outboundConnTime, pipelineCount} {
		m.Clear()
		m.Zero()
	}
	const listen = "Listen on 9 at 0.0.0.0"
	a := OpenInbound(listen, "192.0.2.1")
	b := OpenInbound(listen, "192.0.2.1")
	c := OpenInbound(listen, "192.0.2.2")
	a.Received(100)
	a.Sent(10)
	c.Received(1)
	if v := inboundCount.WithLabels(listen, "192.0.2.1").Value(); v != 2 {
		t.Errorf("peer gauge %v", v)
	}
	if v := inboundIn.WithLabels(listen, "192.0.2.1").Value(); v != 100 {
		t.Errorf("bytes in %v", v)
	}
	var out bytes.Buffer
	if err := Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`pipy_inbound_count{listen="Listen on 9 at 0.0.0.0",peer="192.0.2.1"} 2`,
		`pipy_inbound_count{listen="Listen on 9 at 0.0.0.0"} 3`,
		`pipy_inbound_in{listen="Listen on 9 at 0.0.0.0",peer="192.0.2.1"} 100`,
		`pipy_inbound_out{listen="Listen on 9 at 0.0.0.0",peer="192.0.2.1"} 10`,
		"# TYPE pipy_outbound_conn_time histogram",
		"go_goroutines ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	a.Close()
	a.Close() // once only
	b.Close()
	c.Close()
	byListen := inboundCount.WithLabels(listen)
	if len(byListen.children()) != 0 || byListen.Value() != 0 {
		t.Errorf("closed connections still counted: %v, %v", byListen.children(), byListen.Value())
	}

	o := OpenOutbound("127.0.0.1:8080")
	o.Connected(3 * time.Millisecond)
	o.Connected(time.Hour) // only the first counts
	o.Sent(5)
	o.Received(7)
	cum, n, _ := outboundConnTime.WithLabels("127.0.0.1:8080").HistogramValue()
	if n != 1 || cum[2] != 1 || cum[1] != 0 { // buckets 1, 2, 3, 5, ... ms
		t.Errorf("conn time %v %d", cum, n)
	}
	if outboundCount.WithLabels("127.0.0.1:8080").Value() != 1 || outboundOut.WithLabels("127.0.0.1:8080").Value() != 5 {
		t.Error("outbound accounting")
	}
	o.Close()
	if len(outboundCount.children()) != 0 {
		t.Error("closed outbound still counted")
	}

	p := Pipelines("/proxy.js", "request")
	p.Start()
	p.Start()
	p.End()
	if v := pipelineCount.WithLabels("/proxy.js", "request").Value(); v != 1 {
		t.Errorf("pipelines %v", v)
	}
	p.End()
}

func TestConnTimeBuckets(t *testing.T) {
	b := connTimeBuckets()
	want := []float64{1, 2, 3, 5, 7, 11, 17, 25, 38, 57, 86, 129, 194, 291, 437, 656, 985, 1477, 2216, 3325}
	if len(b) != len(want)+1 || !math.IsInf(b[len(b)-1], 1) {
		t.Fatalf("buckets %v", b)
	}
	for i := range want {
		if b[i] != want[i] {
			t.Fatalf("buckets %v, want %v then +Inf", b, want)
		}
	}
}

func TestHandler(t *testing.T) {
	c, _ := Default.Counter("metrics_test_handler_total")
	c.Increase(3)
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("status %d, content-type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "\nmetrics_test_handler_total 3\n") {
		t.Errorf("body:\n%s", body)
	}
	Default.Remove("metrics_test_handler_total")
}
