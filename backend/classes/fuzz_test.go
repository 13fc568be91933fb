package classes

import (
	"testing"

	"github.com/dop251/goja"
)

// FuzzHessianDecode: any bytes decode or fail cleanly, and what decodes
// encodes again.
func FuzzHessianDecode(f *testing.F) {
	for _, s := range [][]byte{
		{0x91}, {'N', 'T', 'F'}, {0x05, 'h', 'e', 'l', 'l', 'o'},
		{'H', 0x01, 'a', 0x91, 'Z'}, {0x57, 0x91, 0x92, 'Z'},
		{0x43, 0x01, 'A', 0x91, 0x01, 'x', 0x60, 0x91},
		{0x72, 0x04, '[', 'i', 'n', 't', 0x91, 0x92},
		{'H', 0x01, 'a', 0x51, 0x90, 'Z'}, {0x4a, 0, 0, 0, 0, 0, 0, 0, 1},
		{0x52, 0x00, 0x01, 'a', 0x01, 'b'}, {0x41, 0x00, 0x01, 'a', 0x21, 'b'},
	} {
		f.Add(s)
	}
	rt := goja.New()
	data := func(b []byte) goja.Value { return rt.ToValue(rt.NewArrayBuffer(b)) }
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := hessianDecode(rt, b, data)
		if err != nil {
			return
		}
		// References may make cycles, which encode refuses; nothing else fails.
		if _, err := hessianEncode(v); err != nil && err.Error() != "nesting too deep (does a value contain itself?)" {
			t.Fatalf("encode: %v", err)
		}
	})
}

// FuzzURL: any string parses or fails cleanly; a parsed URL with a host
// reads back the same from its href.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"http://user:pass@example.com:8080/a/b?x=1#f", "/hi?name=pipy", "https://[::1]:443/", "ws://h", "//h/p", "c/d",
	} {
		f.Add(s, "")
		f.Add(s, "http://base/dir/file")
	}
	f.Fuzz(func(t *testing.T, raw, base string) {
		u, err := parseURL(raw, base, base != "")
		if err != nil || u.host == "" {
			return
		}
		again, err := parseURL(u.href, "", false)
		if err != nil {
			t.Fatalf("href %q of %q does not parse: %v", u.href, raw, err)
		}
		if *again != *u {
			t.Fatalf("href %q of %q parses to %+v, want %+v", u.href, raw, *again, *u)
		}
	})
}
