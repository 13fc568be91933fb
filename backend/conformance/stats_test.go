package conformance_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"sluice/backend/metrics"
)

// Request metrics kept by a script with stats.*: a counter by method and
// status, a histogram of request body sizes by method, and a gauge of
// requests in flight. Every worker updates the same metrics.
const statsScript = `pipy({
  _requests: new stats.Counter('conformance_requests', ['method', 'status']),
  _sizes: new stats.Histogram('conformance_request_bytes', [0, 10, 100, 1000], ['method']),
  _inflight: new stats.Gauge('conformance_inflight'),
  _method: '',
})

.listen($PORT)
  .demuxHTTP('request')

.pipeline('request')
  .handleMessage(
    msg => (
      _method = msg.head.method,
      _inflight.increase(),
      _sizes.withLabels(_method).observe(msg.body.size)
    )
  )
  .replaceMessage(
    msg => new Message(
      { status: msg.head.path === '/missing' ? 404 : 200 },
      'ok'
    )
  )
  .handleMessageStart(
    msg => (
      _requests.increase(),
      _requests.withLabels(_method, msg.head.status).increase(),
      _inflight.decrease()
    )
  )
`

func TestStatsInPrometheusText(t *testing.T) {
	names := []string{"conformance_requests", "conformance_request_bytes", "conformance_inflight"}
	// Metrics are process-wide: start from none (for -count=N).
	for _, n := range names {
		metrics.Default.Remove(n)
	}
	t.Cleanup(func() {
		for _, n := range names {
			metrics.Default.Remove(n)
		}
	})
	p := startProxy(t, 2, "/proxy.js", map[string]string{"/proxy.js": statsScript}, nil)

	// Four clients at once, spread over both workers.
	const clients, each = 4, 5
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, "")
			for i := range each {
				c.get(p.base + "/hi")
				c.do("POST", p.base+"/echo", strings.Repeat("x", 50))
				if i == 0 {
					c.get(p.base + "/missing")
				}
			}
		}()
	}
	wg.Wait()

	srv := httptest.NewServer(metrics.Handler()) // what GET /metrics serves
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	out := string(b)

	gets, posts := clients*each, clients*each
	for _, want := range []string{
		"# TYPE conformance_requests counter",
		fmt.Sprintf("conformance_requests %d", gets+posts+clients),
		fmt.Sprintf(`conformance_requests{method="GET",status="200"} %d`, gets),
		fmt.Sprintf(`conformance_requests{method="GET",status="404"} %d`, clients),
		fmt.Sprintf(`conformance_requests{method="POST",status="200"} %d`, posts),
		"# TYPE conformance_request_bytes histogram",
		fmt.Sprintf(`conformance_request_bytes_bucket{method="GET",le="0"} %d`, gets+clients),
		`conformance_request_bytes_bucket{method="POST",le="10"} 0`,
		fmt.Sprintf(`conformance_request_bytes_bucket{method="POST",le="100"} %d`, posts),
		fmt.Sprintf(`conformance_request_bytes_sum{method="POST"} %d`, posts*50),
		fmt.Sprintf(`conformance_request_bytes_count{method="POST"} %d`, posts),
		"# TYPE conformance_inflight gauge",
		"conformance_inflight 0",
	} {
		if !strings.Contains(out, "\n"+want+"\n") {
			t.Errorf("no line %q in the exposition:\n%s", want, grep(out, "conformance_"))
		}
	}
}

// grep keeps the lines of s that contain sub.
func grep(s, sub string) string {
	var keep []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
