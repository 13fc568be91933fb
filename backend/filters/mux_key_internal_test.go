package filters

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// Session keys: a string is its text whichever way goja holds it (short
// ASCII, long imported from Go, built by the script, non-ASCII), so equal
// targets share one session; null and undefined are one key; other kinds
// never collide with strings; objects go by identity. Strings cost nothing.
func TestSessionKeys(t *testing.T) {
	rt := goja.New()
	long := "backend-service.internal.example:8080" // over 16 bytes: goja imports it
	eval := func(src string) goja.Value {
		v, err := rt.RunString(src)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	same := [][]goja.Value{
		{rt.ToValue("127.0.0.1:8080"), eval(`'127.0.0.1:' + 8080`)},
		{rt.ToValue(long), eval(`'backend-service.internal.' + 'example:8080'`), eval(`JSON.parse('"` + long + `"')`)},
		{rt.ToValue("hôte:80"), eval(`'hô' + 'te:80'`)},
		{goja.Null(), goja.Undefined()},
		{rt.ToValue(8080), eval(`8000 + 80`)},
	}
	for i, group := range same {
		for _, v := range group[1:] {
			if keyOf(v) != keyOf(group[0]) {
				t.Errorf("group %d: %v (%T) and %v (%T) make different keys", i, group[0], group[0], v, v)
			}
		}
	}
	distinct := []goja.Value{rt.ToValue(""), goja.Null(), rt.ToValue("8080"), rt.ToValue(8080), eval(`({})`), eval(`({})`), eval(`new String('8080')`)}
	seen := map[sessionKey]int{}
	for i, v := range distinct {
		if j, dup := seen[keyOf(v)]; dup {
			t.Errorf("%v (#%d) and %v (#%d) make one key", distinct[j], j, v, i)
		}
		seen[keyOf(v)] = i
	}
	short, imported := rt.ToValue("127.0.0.1:8080"), rt.ToValue(long)
	if n := testing.AllocsPerRun(100, func() { keyOf(short); keyOf(imported) }); n != 0 {
		t.Errorf("string keys: %v allocations", n)
	}
	if !strings.HasPrefix(keyOf(imported).s, "backend-service") {
		t.Errorf("long key %q", keyOf(imported).s)
	}
}
