package algo

import (
	"errors"
	"fmt"
	"testing"
)

func mustRouter(t testing.TB, routes map[string]string) *URLRouter[string] {
	t.Helper()
	r := NewURLRouter[string]()
	for p, v := range routes {
		if err := r.Add(p, v); err != nil {
			t.Fatalf("Add(%q): %v", p, err)
		}
	}
	return r
}

type findCase struct {
	parts []string
	want  string // "" = not found
}

func runFindCases(t *testing.T, r *URLRouter[string], cases []findCase) {
	t.Helper()
	for _, c := range cases {
		got, ok := r.Find(c.parts...)
		if c.want == "" {
			if ok {
				t.Errorf("Find(%q) = %q, want no match", c.parts, got)
			}
			continue
		}
		if !ok || got != c.want {
			t.Errorf("Find(%q) = %q, %v; want %q", c.parts, got, ok, c.want)
		}
	}
}

// The routes of tutorials 04-routing and 07-load-balancing.
func TestURLRouterTutorial(t *testing.T) {
	r := mustRouter(t, map[string]string{
		"/hi/*": "A",
		"/echo": "B",
		"/ip/*": "C",
	})
	runFindCases(t, r, []findCase{
		{[]string{"localhost:8000", "/hi"}, "A"},
		{[]string{"localhost:8000", "/hi/"}, "A"},
		{[]string{"localhost:8000", "/hi/there"}, "A"},
		{[]string{"localhost:8000", "/hi/a/b"}, "A"},
		{[]string{"localhost:8000", "/hi//x"}, "A"},
		{[]string{"localhost:8000", "/hix"}, ""},
		{[]string{"localhost:8000", "/echo"}, "B"},
		{[]string{"localhost:8000", "/echo?x=1"}, "B"},
		{[]string{"localhost:8000", "/echo/"}, ""},
		{[]string{"localhost:8000", "/echo/x"}, ""},
		{[]string{"localhost:8000", "/bad/path"}, ""},
		{[]string{"localhost:8000", "/"}, ""},
		{[]string{"localhost:8000", "/ip?x=1"}, "C"},
		{[]string{"localhost:8000", "/ip/?x=/hi"}, "C"},
		{[]string{"localhost", "/hi"}, "A"},
		{[]string{"127.0.0.1:8000", "/ip"}, "C"},
		{[]string{"[::1]:8000", "/ip"}, "C"},
		{[]string{"/hi"}, "A"},             // host header missing (undefined dropped)
		{[]string{"", "/echo"}, "B"},       // empty first part is skipped
		{[]string{"localhost", "hi"}, "A"}, // path_join adds the '/'
		{[]string{"localhost/", "/hi"}, "A"},
		{[]string{"localhost:8000"}, ""}, // no path at all
		{[]string{}, ""},
		{[]string{"/echo", "x"}, ""}, // joined to /echo/x
	})
}

func TestURLRouterHostPrecedence(t *testing.T) {
	r := mustRouter(t, map[string]string{
		"example.com/api/*":   "host-api",
		"example.com/exact":   "host-exact",
		"*.example.com/api/*": "wild-api",
		"/api/*":              "path-api",
		"/exact":              "path-exact",
		"/*":                  "any",
	})
	runFindCases(t, r, []findCase{
		{[]string{"example.com:8080", "/api/x"}, "host-api"},
		{[]string{"example.com", "/api"}, "host-api"},
		{[]string{"example.com", "/exact"}, "host-exact"},
		// host patterns that do not match the path fall back to "*." then
		// to path-only patterns.
		{[]string{"example.com", "/other"}, "any"},
		{[]string{"www.example.com", "/api/x"}, "wild-api"},
		{[]string{"www.example.com:443", "/api"}, "wild-api"},
		{[]string{"www.example.com", "/exact"}, "path-exact"},
		// "*" matches exactly one label.
		{[]string{"a.b.example.com", "/api/x"}, "path-api"},
		{[]string{"other.com", "/api/x"}, "path-api"},
		{[]string{"/api/x"}, "path-api"},
		// host labels are compared case-sensitively, as in Pipy.
		{[]string{"Example.com", "/exact"}, "path-exact"},
		{[]string{"example.com.", "/exact"}, "path-exact"},
		{[]string{"x", "/"}, "any"},
		{[]string{"x", ""}, "any"}, // "x/"
	})
}

func TestURLRouterPathPrecedence(t *testing.T) {
	r := mustRouter(t, map[string]string{
		"/a/*":     "X",
		"/a/b/*":   "Y",
		"/a/b/c":   "Z",
		"/":        "root",
		"/m/*/n/*": "M",
	})
	runFindCases(t, r, []findCase{
		{[]string{"/a/b/c"}, "Z"},
		{[]string{"/a/b/c/d"}, "Y"},
		{[]string{"/a/b/"}, "Y"},
		{[]string{"/a/b"}, "Y"},
		{[]string{"/a/bc"}, "X"},
		{[]string{"/a"}, "X"},
		{[]string{"/"}, "root"},
		{[]string{"/?q"}, "root"},
		{[]string{"h", "/"}, "root"},
		{[]string{"/x"}, ""},
		// Pipy quirk: a "*" in the middle of a pattern is only descended
		// through by a literal "*" segment; any other segment there ends
		// the search at the valueless inner "*" node.
		{[]string{"/m/x/n/y"}, ""},
		{[]string{"/m/x/n"}, ""},
		{[]string{"/m/x/y"}, ""},
		{[]string{"/m/*/n/y"}, "M"},
		{[]string{"/m/*/n"}, "M"},
	})

	// The quirk hides broader patterns too.
	if err := r.Add("/*", "any"); err != nil {
		t.Fatal(err)
	}
	runFindCases(t, r, []findCase{
		{[]string{"/m/x/y"}, ""},
		{[]string{"/m"}, ""}, // ends at the valueless inner "*" of /m/*/n/*
		{[]string{"/x"}, "any"},
	})
}

func TestURLRouterOverwriteAndOrder(t *testing.T) {
	r := NewURLRouter[int]()
	for _, p := range []string{"/echo", "/hi/*", "/echo"} {
		_ = r.Add(p, len(p))
	}
	_ = r.Add("/echo", 42)
	if v, ok := r.Find("/echo"); !ok || v != 42 {
		t.Fatalf("overwrite: got %v %v", v, ok)
	}
	// Insertion order does not matter.
	r1 := NewURLRouter[string]()
	r2 := NewURLRouter[string]()
	pats := []string{"/*", "/a/*", "/a/b", "h.com/*"}
	for i := range pats {
		_ = r1.Add(pats[i], pats[i])
		_ = r2.Add(pats[len(pats)-1-i], pats[len(pats)-1-i])
	}
	for _, u := range []string{"/a/b", "/a/c", "/z", "h.com/a/b", "/a"} {
		v1, ok1 := r1.FindURL(u)
		v2, ok2 := r2.FindURL(u)
		if v1 != v2 || ok1 != ok2 {
			t.Errorf("%s: %q/%v vs %q/%v", u, v1, ok1, v2, ok2)
		}
	}
}

func TestURLRouterBadPatterns(t *testing.T) {
	r := NewURLRouter[string]()
	for _, p := range []string{"", "echo", "*", "example.com", "example.com:80/x", ":80/x"} {
		err := r.Add(p, "x")
		if err == nil {
			t.Errorf("Add(%q) succeeded", p)
			continue
		}
		if !errors.Is(err, ErrInvalidURLPattern) {
			t.Errorf("Add(%q) error %v is not ErrInvalidURLPattern", p, err)
		}
		var pe *URLPatternError
		if !errors.As(err, &pe) || pe.Pattern != p {
			t.Errorf("Add(%q) error %#v", p, err)
		}
	}
	for _, p := range []string{"/", "/a:b", "/*", "a.b/", "/a/*/b"} {
		if err := r.Add(p, p); err != nil {
			t.Errorf("Add(%q): %v", p, err)
		}
	}
	// A '*' that is not the last segment is literal in an exact pattern.
	if v, ok := r.Find("/a/*/b"); !ok || v != "/a/*/b" {
		t.Errorf("literal star: %q %v", v, ok)
	}
}

func TestURLRouterLongURL(t *testing.T) {
	r := mustRouter(t, map[string]string{"/hi/*": "A"})
	long := "/hi"
	for len(long) < 1000 {
		long += "/segment"
	}
	if v, ok := r.Find("localhost", long); !ok || v != "A" {
		t.Fatalf("long URL: %q %v", v, ok)
	}
}

func TestURLRouterFindNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	r := mustRouter(t, map[string]string{"/hi/*": "A", "/echo": "B", "example.com/ip/*": "C"})
	n := testing.AllocsPerRun(100, func() {
		r.Find("localhost:8000", "/hi/there")
		r.Find("www.example.com", "/ip/x?y=1")
		r.FindURL("localhost:8000/echo")
	})
	if n != 0 {
		t.Fatalf("Find allocates %v times", n)
	}
}

func BenchmarkURLRouterFind(b *testing.B) {
	r := mustRouter(b, map[string]string{
		"/hi/*":                "A",
		"/echo":                "B",
		"/ip/*":                "C",
		"example.com/api/v1/*": "D",
		"*.example.com/*":      "E",
	})
	cases := [][2]string{
		{"localhost:8000", "/hi/there"},
		{"localhost:8000", "/echo"},
		{"localhost:8000", "/ip?x=1"},
		{"example.com", "/api/v1/users/42"},
		{"www.example.com", "/bad/path"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := cases[i%len(cases)]
		if _, ok := r.Find(c[0], c[1]); !ok {
			b.Fatal("no match", c)
		}
	}
}

// A node with many children (hosts, services, exact paths) finds every one
// of them, before and after it outgrows its small list, and a pattern
// added again still replaces its value.
func TestURLRouterManySiblings(t *testing.T) {
	r := NewURLRouter[string]()
	for i := range 3 * smallChildren {
		for _, p := range []string{"/svc%d/*", "/exact%d", "host%d.example/*"} {
			pat := fmt.Sprintf(p, i)
			if err := r.Add(pat, pat); err != nil {
				t.Fatal(err)
			}
		}
		for j := 0; j <= i; j++ { // everything added so far is still found
			for _, c := range [][3]string{
				{"any", fmt.Sprintf("/svc%d/x/y", j), fmt.Sprintf("/svc%d/*", j)},
				{"any", fmt.Sprintf("/exact%d", j), fmt.Sprintf("/exact%d", j)},
				{fmt.Sprintf("host%d.example:80", j), "/", fmt.Sprintf("host%d.example/*", j)},
			} {
				if got, ok := r.Find(c[0], c[1]); !ok || got != c[2] {
					t.Fatalf("after %d rounds Find(%q, %q) = %q, %v; want %q", i+1, c[0], c[1], got, ok, c[2])
				}
			}
		}
	}
	if _, ok := r.Find("any", "/exact99"); ok {
		t.Fatal("an unknown exact path matched")
	}
	if err := r.Add("/svc3/*", "again"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Find("any", "/svc3/z"); got != "again" {
		t.Fatalf("re-added pattern gives %q", got)
	}
}
