package filters_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// A client that stops reading a big proxied response slows the upstream
// down: the proxy does not read (and buffer) the whole response, and when
// the client reads again every byte arrives intact.
func TestProxyBackpressureSlowClient(t *testing.T) {
	const size = 32 << 20
	body := bigBody(size)
	want := sha256.Sum256(body)
	var written atomic.Int64
	up := newUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-length", fmt.Sprint(size))
		for off := 0; off < size; off += 64 << 10 {
			n, err := w.Write(body[off:min(off+64<<10, size)])
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	proxy := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .muxHTTP('up', () => '$UP')
.pipeline('up')
  .connect('$UP')
`, nil, "$UP", up.addr)

	c, err := net.Dial("tcp", proxy.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /big HTTP/1.1\r\nhost: x\r\n\r\n")

	// The client reads nothing for a while.
	time.Sleep(time.Second)
	n := written.Load()
	t.Logf("the upstream wrote %d bytes while the client read nothing", n)
	if n > size/2 {
		t.Fatalf("the upstream wrote %d of %d bytes to a proxy whose client reads nothing: the proxy buffers without limit", n, size)
	}

	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != size || sha256.Sum256(got) != want {
		t.Fatalf("got %d bytes (want %d); intact: %v", len(got), size, sha256.Sum256(got) == want)
	}
}
