package filters_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fetchHTTP gives each stream its own upstream connection (where muxHTTP
// shares one per key) and closes it when the stream is done.
func TestFetchHTTPPrivateSession(t *testing.T) {
	up := newUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "got "+r.URL.Path)
	}))
	proxy := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .fetchHTTP('up')
.pipeline('up')
  .connect('$UP')
`, []runOpt{threads(1)}, "$UP", up.addr)

	for i, path := range []string{"/a", "/b", "/c"} {
		c := dial(t, proxy.addr)
		c.write("GET " + path + " HTTP/1.1\r\nhost: x\r\n\r\n")
		res := c.response("GET")
		mustEqual(t, "status", res.StatusCode, 200)
		mustEqual(t, "body", res.body, "got "+path)
		mustEqual(t, "upstream connections", up.accepted.Load(), int64(i+1))
		select {
		case <-up.closed:
		case <-time.After(3 * time.Second):
			t.Fatalf("the upstream connection of request %s stayed open after its stream ended", path)
		}
		c.c.Close()
	}
}

// A bad argument is a load error with the script location.
func TestFetchHTTPBadArguments(t *testing.T) {
	msg := loadError(t, "pipy()\n.pipeline('x')\n  .fetchHTTP()\n", nil)
	if !strings.Contains(msg, "/main.js:3:") || !strings.Contains(msg, "fetchHTTP") {
		t.Fatalf("error %q lacks the location or the filter's name", msg)
	}
}
