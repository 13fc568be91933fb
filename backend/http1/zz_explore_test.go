package http1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func FuzzExploreDiff(f *testing.F) {
	for _, c := range diffAgree {
		f.Add(c.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// skip documented deviations
		low := strings.ToLower(raw)
		if strings.HasPrefix(raw, "\r") || strings.HasPrefix(raw, "\n") || strings.Contains(raw, "\n ") || strings.Contains(raw, "\n\t") ||
			!strings.Contains(low, "\nhost:") || strings.Contains(low, "transfer-encoding") || strings.Contains(raw, " :") || strings.Contains(raw, "\t:") ||
			strings.Contains(raw, "HTTP/2") || strings.Contains(raw, ",") {
			return
		}
		if i := strings.Index(raw, "\n"); i < 0 || !(strings.HasSuffix(raw[:i], "HTTP/1.1") || strings.HasSuffix(raw[:i], "HTTP/1.1\r") || strings.HasSuffix(raw[:i], "HTTP/1.0") || strings.HasSuffix(raw[:i], "HTTP/1.0\r")) {
			return
		}
		if hd, _, ok := strings.Cut(raw, "\n"); ok {
			_ = hd
			for _, l := range strings.Split(raw, "\n")[1:] {
				if l == "" || l == "\r" {
					break
				}
				if n, _, ok := strings.Cut(l, ":"); ok && strings.ContainsAny(n, " \t") {
					return
				}
			}
		}
		if strings.Contains(raw, "  ") {
			return
		}
		br := oracleDecodeNoFatal(raw)
		ours := oursDecodeNoFatal(raw)
		if br.err != nil && br.err.Error() == "leftover" {
			return
		}
		if (ours.err == nil) != (br.err == nil) {
			t.Fatalf("ours %v, net/http %v", ours.err, br.err)
		}
	})
}

func oracleDecodeNoFatal(raw string) diffResult {
	br := bufio.NewReader(strings.NewReader(raw))
	req, err := http.ReadRequest(br)
	if err != nil {
		return diffResult{err: err}
	}
	if _, err := io.ReadAll(req.Body); err != nil {
		return diffResult{err: err}
	}
	if br.Buffered() > 0 {
		return diffResult{err: errString("leftover")}
	}
	return diffResult{}
}
func oursDecodeNoFatal(raw string) (r diffResult) {
	rec := &recorder{}
	d := NewRequestDecoder(rec, Limits{})
	err := d.Feed([]byte(raw))
	if err == nil {
		err = d.EOF()
	}
	if err == nil && len(rec.bodies) != 1 {
		return diffResult{err: errString("count")}
	}
	return diffResult{err: err}
}

type errString string

func (e errString) Error() string { return string(e) }
