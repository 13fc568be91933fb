package graph

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

// Shorthands for building the inputs.
func root(name string, fs ...Filter) Pipeline {
	return Pipeline{Name: name, Root: true, Filters: fs}
}
func named(name string, fs ...Filter) Pipeline { return Pipeline{Name: name, Filters: fs} }
func f(name string) Filter                     { return Filter{Name: name} }
func link(name string, links ...string) Filter { return Filter{Name: name, Links: links} }
func fork(name string, links ...string) Filter { return Filter{Name: name, Links: links, Fork: true} }

// block turns a raw-string golden diagram into Text's lines. The literal
// starts with a newline (dropped) and every line, including the blank line
// Pipy prints after each root, ends with a newline.
func block(s string) []string {
	s = strings.TrimPrefix(s, "\n")
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

// The tutorial modules of Pipy 0.30.0-184 (tutorial/NN-*/), as
// Configuration::draw sees them.
var (
	hello01 = &Graph{Pipelines: []Pipeline{
		root("Listen on 8080 at 0.0.0.0", f("serveHTTP")),
	}}
	proxy03 = &Graph{Pipelines: []Pipeline{
		root("Listen on 8000 at 0.0.0.0", link("demuxHTTP", "forward")),
		named("forward", link("muxHTTP", "connection")),
		named("connection", f("connect")),
	}}
	routing04 = &Graph{Pipelines: []Pipeline{
		root("Listen on 8000 at 0.0.0.0", link("demuxHTTP", "request")),
		named("request", f("handleMessageStart"), link("link", "forward", "404")),
		named("forward", link("muxHTTP", "connection")),
		named("connection", f("connect")),
		named("404", f("replaceMessage")),
	}}
	router05 = &Graph{Pipelines: []Pipeline{ // 05-plugins/plugins/router.js
		named("request", f("handleMessageStart"), link("link", "forward", "")),
		named("forward", link("muxHTTP", "connection")),
		named("connection", f("connect")),
	}}
	default05 = &Graph{Pipelines: []Pipeline{ // 05-plugins/plugins/default.js
		named("request", f("replaceMessage")),
	}}
	proxy05 = &Graph{Pipelines: []Pipeline{ // 05-plugins/proxy.js
		root("Listen on 8000 at 0.0.0.0", link("demuxHTTP", "request")),
		named("request", f("use /plugins/router.js (plus 1 more) [request]")),
	}}
	logger11 = &Graph{Pipelines: []Pipeline{ // 11-logging/plugins/logger.js
		named("request", fork("fork", "log-request")),
		named("response", fork("fork", "log-response")),
		named("log-request", f("handleMessageStart"), f("decompressHTTP"), f("handleMessage")),
		named("log-response", f("handleMessageStart"), f("decompressHTTP"), f("replaceMessage"), fork("merge", "log-send")),
		named("log-send", f("pack"), f("replaceMessageStart"), f("encodeHTTPRequest"), f("connect")),
	}}
	tls18 = &Graph{Pipelines: []Pipeline{ // 18-tls/proxy.js
		root("Listen on 8000 at 0.0.0.0", link("link", "tls-offloaded")),
		root("Listen on 8443 at 0.0.0.0", f("handleStreamStart"), link("acceptTLS", "tls-offloaded")),
		named("tls-offloaded", f("use /plugins/router.js (plus 2 more) [session]"), link("demuxHTTP", "request")),
		named("request", f("use /plugins/router.js (plus 2 more) [request]")),
	}}
)

func TestTextGolden(t *testing.T) {
	tests := []struct {
		name string
		g    *Graph
		want string
	}{
		// PIPY-0.30.md §6.3, which matches docs/tutorial/01-hello.mdx.
		{"01-hello", hello01, `
[Listen on 8080 at 0.0.0.0]
----->|
      |
     serveHTTP
      |
<-----|

`},
		// PIPY-0.30.md §6.3.
		{"03-proxy", proxy03, `
[Listen on 8000 at 0.0.0.0]
----->|
      |
     demuxHTTP
      |
      |--> [forward]
            muxHTTP
             |
             |--> [connection]
                   connect -->|
                              |
<-----------------------------|

`},
		// PIPY-0.30.md §6.3.
		{"04-routing", routing04, `
[Listen on 8000 at 0.0.0.0]
----->|
      |
     demuxHTTP
      |
      |--> [request]
            handleMessageStart
            link
             |
             |--> [forward]
             |     muxHTTP
             |      |
             |      |--> [connection]
             |            connect -->|
             |                       |
             |--> [404]              |
                   replaceMessage -->|
                                     |
<------------------------------------|

`},
		// PIPY-0.30.md §6.3: an unreferenced named pipeline is a root and
		// '' is drawn as [[empty]].
		{"05-plugins/router.js", router05, `
[request]
----->|
      |
     handleMessageStart
     link
      |
      |--> [forward]
      |     muxHTTP
      |      |
      |      |--> [connection]
      |            connect -->|
      |                       |
      |--> [[empty]] -------->|
                              |
<-----------------------------|

`},
		// Hand-derived from graph.cpp from here on.
		{"05-plugins/default.js", default05, `
[request]
----->|
      |
     replaceMessage
      |
<-----|

`},
		{"05-plugins/proxy.js", proxy05, `
[Listen on 8000 at 0.0.0.0]
----->|
      |
     demuxHTTP
      |
      |--> [request]
            use /plugins/router.js (plus 1 more) [request] -->|
                                                              |
<-------------------------------------------------------------|

`},
		// Forks: no return arrow, a "|" after the fork's branches, and two
		// roots, each followed by a blank line.
		{"11-logging/plugins/logger.js", logger11, `
[request]
----->|
      |
     fork
      |
      |--> [log-request]
      |     handleMessageStart
      |     decompressHTTP
      |     handleMessage
      |
      |
<-----|

[response]
----->|
      |
     fork
      |
      |--> [log-response]
      |     handleMessageStart
      |     decompressHTTP
      |     replaceMessage
      |     merge
      |      |
      |      |--> [log-send]
      |      |     pack
      |      |     replaceMessageStart
      |      |     encodeHTTPRequest
      |      |     connect
      |      |
      |
      |
<-----|

`},
		// Two listen roots sharing a sub-pipeline; a link that ends its
		// pipeline hands its return to the outer link.
		{"18-tls/proxy.js", tls18, `
[Listen on 8000 at 0.0.0.0]
----->|
      |
     link
      |
      |--> [tls-offloaded]
            use /plugins/router.js (plus 2 more) [session]
            demuxHTTP
             |
             |--> [request]
                   use /plugins/router.js (plus 2 more) [request] -->|
                                                                     |
<--------------------------------------------------------------------|

[Listen on 8443 at 0.0.0.0]
----->|
      |
     handleStreamStart
     acceptTLS
      |
      |--> [tls-offloaded]
            use /plugins/router.js (plus 2 more) [session]
            demuxHTTP
             |
             |--> [request]
                   use /plugins/router.js (plus 2 more) [request] -->|
                                                                     |
<--------------------------------------------------------------------|

`},
		// Nested links two levels deep with three branches; the inner link
		// of branch b and the outer link both continue with a filter after
		// them (the v / |<---- lines).
		{"nested", &Graph{Pipelines: []Pipeline{
			root("Listen on 8000 at 0.0.0.0", link("demuxHTTP", "req")),
			named("req", f("handleMessageStart"), link("link", "a", "b", ""), f("replaceMessage")),
			named("a", f("print"), link("muxHTTP", "conn")),
			named("conn", f("connect")),
			named("b", link("link", "x", "y"), f("dump")),
			named("x", f("replaceMessage")),
			named("y"),
		}}, `
[Listen on 8000 at 0.0.0.0]
----->|
      |
     demuxHTTP
      |
      |--> [req]
            handleMessageStart
            link
             |
             |--> [a]
             |     print
             |     muxHTTP
             |      |
             |      |--> [conn]
             |            connect -------------->|
             |                                   |
             |--> [b]                            |
             |     link                          |
             |      |                            |
             |      |--> [x]                     |
             |      |     replaceMessage -->|    |
             |      |                       |    |
             |      |--> [y] -------------->|    |
             |                              |    |
             |                              v    |
             |      |<-----------------------    |
             |      |                            |
             |      v                            |
             |     dump ------------------------>|
             |                                   |
             |--> [[empty]] -------------------->|
                                                 |
                                                 v
             |<-----------------------------------
             |
             v
            replaceMessage -->|
                              |
<-----------------------------|

`},
		// A root-level link to an empty pipeline, then more filters.
		{"link to empty pipeline, filters after", &Graph{Pipelines: []Pipeline{
			root("Listen on 8080 at 0.0.0.0", link("link", "nothing"), f("print"), f("dump")),
			named("nothing"),
		}}, `
[Listen on 8080 at 0.0.0.0]
----->|
      |
     link
      |
      |--> [nothing] -->|
                        |
                        v
      |<-----------------
      |
      v
     print
     dump
      |
<-----|

`},
		// A fork at the root followed by another filter.
		{"fork then filter", &Graph{Pipelines: []Pipeline{
			root("Listen on 8080 at 0.0.0.0", fork("fork", "log"), f("serveHTTP")),
			named("log", f("print")),
		}}, `
[Listen on 8080 at 0.0.0.0]
----->|
      |
     fork
      |
      |--> [log]
      |     print
      |
     serveHTTP
      |
<-----|

`},
		// A root without filters.
		{"empty root", &Graph{Pipelines: []Pipeline{
			root("Task #1 (5s)"),
		}}, `
[Task #1 (5s)]
----->|
      |
      |
<-----|

`},
		// Root order: listen/read/task titles sorted as bytes ("10000" before
		// "8080", "#10" before "#2"), then unreferenced named pipelines by
		// name; referenced ones are not roots.
		{"root order", &Graph{Pipelines: []Pipeline{
			named("zeta", f("dump")),
			root("Task #2 (1s)", f("print")),
			root("Task #10 (1s)", link("link", "used")),
			root("Read /x", f("print")),
			root("Listen on 8080 at 0.0.0.0", f("serveHTTP")),
			root("Listen on 10000 at 0.0.0.0", f("serveHTTP")),
			named("used", f("dump")),
			named("alpha", f("dump")),
		}}, `
[Listen on 10000 at 0.0.0.0]
----->|
      |
     serveHTTP
      |
<-----|

[Listen on 8080 at 0.0.0.0]
----->|
      |
     serveHTTP
      |
<-----|

[Read /x]
----->|
      |
     print
      |
<-----|

[Task #10 (1s)]
----->|
      |
     link
      |
      |--> [used]
            dump -->|
                    |
<-------------------|

[Task #2 (1s)]
----->|
      |
     print
      |
<-----|

[alpha]
----->|
      |
     dump
      |
<-----|

[zeta]
----->|
      |
     dump
      |
<-----|

`},
		// Same names: the pipeline declared last wins, as in std::map.
		{"duplicate names", &Graph{Pipelines: []Pipeline{
			root("Listen on 8080 at 0.0.0.0", f("first")),
			named("x", f("old")),
			root("Listen on 8080 at 0.0.0.0", link("link", "x")),
			named("x", f("new")),
		}}, `
[Listen on 8080 at 0.0.0.0]
----->|
      |
     link
      |
      |--> [x]
            new -->|
                   |
<------------------|

`},
		// A cycle no root reaches references itself, so nothing is drawn.
		{"unreached cycle", &Graph{Pipelines: []Pipeline{
			named("a", link("link", "b")),
			named("b", link("link", "a")),
		}}, "\n"},
		{"no pipelines", &Graph{}, "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.g.Text()
			if err != nil {
				t.Fatalf("Text() error = %v", err)
			}
			want := block(tt.want)
			if tt.want == "\n" {
				want = []string{}
			}
			if !equalLines(got, want) {
				t.Errorf("Text() mismatch\n got:\n%s\nwant:\n%s", show(got), show(want))
			}
		})
	}
}

// TestTextMatchesHelloDoc compares the console block printed in
// docs/tutorial/01-hello.mdx at 0.30.0-184 (also in its .jp and .zh pages),
// byte for byte, with the listener title of that older build.
func TestTextMatchesHelloDoc(t *testing.T) {
	const doc = "[info] [config]  [Listen on :::8080]\n" +
		"[info] [config]  ----->|\n" +
		"[info] [config]        |\n" +
		"[info] [config]       serveHTTP\n" +
		"[info] [config]        |\n" +
		"[info] [config]  <-----|\n" +
		"[info] [config]  \n"
	g := &Graph{Pipelines: []Pipeline{root("Listen on :::8080", f("serveHTTP"))}}
	lines, err := g.Text()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("[info] [config]  " + l + "\n")
	}
	if b.String() != doc {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), doc)
	}
}

func TestTextErrors(t *testing.T) {
	tests := []struct {
		name    string
		g       *Graph
		is      error
		msg     string
		diagram string
	}{
		{"not found", &Graph{Pipelines: []Pipeline{
			root("Listen on 8080 at 0.0.0.0", link("link", "nope")),
		}}, ErrPipelineNotFound, "pipeline not found: nope", `
[Listen on 8080 at 0.0.0.0]
----->|
      |
     link
      |
      |--> [pipeline not found: nope] -->|
                                         |
<----------------------------------------|

`},
		{"recursive", &Graph{Pipelines: []Pipeline{
			root("Listen on 8080 at 0.0.0.0", link("link", "a")),
			named("a", link("link", "b")),
			named("b", f("print"), link("link", "a")),
		}}, ErrRecursivePipeline, "recursive pipeline: a", `
[Listen on 8080 at 0.0.0.0]
----->|
      |
     link
      |
      |--> [a]
            link
             |
             |--> [b]
                   print
                   link
                    |
                    |--> [recursive pipeline: a] -->|
                                                    |
<---------------------------------------------------|

`},
		{"self link", &Graph{Pipelines: []Pipeline{
			root("Listen on 8080 at 0.0.0.0", link("demuxHTTP", "loop")),
			named("loop", link("link", "loop")),
		}}, ErrRecursivePipeline, "recursive pipeline: loop", ""},
		// The first error in root order is reported.
		{"first of several", &Graph{Pipelines: []Pipeline{
			root("Task #1 (1s)", link("link", "zzz")),
			root("Listen on 8080 at 0.0.0.0", link("link", "aaa"), link("link", "bbb")),
		}}, ErrPipelineNotFound, "pipeline not found: aaa", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := tt.g.Text()
			if !errors.Is(err, tt.is) || err.Error() != tt.msg {
				t.Fatalf("Text() error = %v, want %q", err, tt.msg)
			}
			if tt.diagram != "" && !equalLines(lines, block(tt.diagram)) {
				t.Errorf("Text() mismatch\n got:\n%s\nwant:\n%s", show(lines), show(block(tt.diagram)))
			}
			out, jerr := tt.g.JSON()
			if jerr == nil || jerr.Error() != tt.msg {
				t.Errorf("JSON() error = %v, want %q", jerr, tt.msg)
			}
			// The JSON is still complete and carries the message as a
			// childless pipeline node.
			var doc jsonGraph
			if e := json.Unmarshal(out, &doc); e != nil {
				t.Fatalf("JSON() not valid: %v\n%s", e, out)
			}
			found := false
			for _, n := range doc.Nodes {
				if n.Name == tt.msg {
					found = n.T == "pipeline" && len(n.C) == 0
				}
			}
			if !found {
				t.Errorf("JSON() has no pipeline node %q:\n%s", tt.msg, out)
			}
		})
	}
}

type jsonNode struct {
	Name string `json:"name"`
	T    string `json:"t"`
	P    *int   `json:"p"`
	C    []int  `json:"c"`
}

type jsonGraph struct {
	Roots []int      `json:"roots"`
	Nodes []jsonNode `json:"nodes"`
}

func TestJSONHelloExact(t *testing.T) {
	const want = `{"roots":[0],"nodes":[{"name":"Listen on 8080 at 0.0.0.0","t":"root","c":[1]},{"name":"serveHTTP","t":"filter","p":0}]}`
	out, err := hello01.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestJSONEmpty(t *testing.T) {
	out, err := (&Graph{}).JSON()
	if err != nil || string(out) != `{"roots":[],"nodes":[]}` {
		t.Errorf("got %s, %v", out, err)
	}
}

// TestJSONRouting checks the 04-routing tree: depth-first numbering, each
// child's "p" pointing at the node listing it in "c".
func TestJSONRouting(t *testing.T) {
	out, err := routing04.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var g jsonGraph
	if err := json.Unmarshal(out, &g); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	type want struct {
		name, t string
		p       int // -1: none
		c       []int
	}
	wants := []want{
		{"Listen on 8000 at 0.0.0.0", "root", -1, []int{1}},
		{"demuxHTTP", "link", 0, []int{2}},
		{"request", "pipeline", 1, []int{3, 4}},
		{"handleMessageStart", "filter", 2, nil},
		{"link", "link", 2, []int{5, 9}},
		{"forward", "pipeline", 4, []int{6}},
		{"muxHTTP", "link", 5, []int{7}},
		{"connection", "pipeline", 6, []int{8}},
		{"connect", "filter", 7, nil},
		{"404", "pipeline", 4, []int{10}},
		{"replaceMessage", "filter", 9, nil},
	}
	if len(g.Roots) != 1 || g.Roots[0] != 0 {
		t.Errorf("roots = %v, want [0]", g.Roots)
	}
	if len(g.Nodes) != len(wants) {
		t.Fatalf("%d nodes, want %d:\n%s", len(g.Nodes), len(wants), out)
	}
	for i, w := range wants {
		n := g.Nodes[i]
		p := -1
		if n.P != nil {
			p = *n.P
		}
		if n.Name != w.name || n.T != w.t || p != w.p || !equalInts(n.C, w.c) {
			t.Errorf("node %d = %+v (p=%d), want %+v", i, n, p, w)
		}
		for _, c := range n.C {
			if cp := g.Nodes[c].P; cp == nil || *cp != i {
				t.Errorf("node %d lists child %d whose parent is not %d", i, c, i)
			}
		}
	}
}

// TestJSONRootsAndKinds: several roots, fork nodes and [empty] pipelines.
func TestJSONRootsAndKinds(t *testing.T) {
	for _, g := range []*Graph{logger11, router05, tls18} {
		out, err := g.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var doc jsonGraph
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		text, _ := g.Text()
		var titles []string
		for _, l := range text {
			if strings.HasPrefix(l, "[") && !strings.HasPrefix(l, "[[") {
				titles = append(titles, l)
			}
		}
		if len(doc.Roots) != len(titles) {
			t.Fatalf("roots %v vs titles %v", doc.Roots, titles)
		}
		for i, r := range doc.Roots {
			n := doc.Nodes[r]
			if n.T != "root" || n.P != nil || "["+n.Name+"]" != titles[i] {
				t.Errorf("root %d = %+v, want title %s", i, n, titles[i])
			}
		}
	}
	out, _ := logger11.JSON()
	if !strings.Contains(string(out), `{"name":"fork","t":"fork","p":0,"c":[2]}`) {
		t.Errorf("no fork node: %s", out)
	}
	if !strings.Contains(string(out), `"roots":[0,6]`) {
		t.Errorf("roots: %s", out)
	}
	out, _ = router05.JSON()
	if !strings.Contains(string(out), `{"name":"[empty]","t":"pipeline","p":2}`) {
		t.Errorf("no [empty] node: %s", out)
	}
}

func TestJSONEscape(t *testing.T) {
	g := &Graph{Pipelines: []Pipeline{root("Read /a\"b\\c", f("x\n\ty\a\v\x01é"))}}
	out, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"roots":[0],"nodes":[{"name":"Read /a\"b\\c","t":"root","c":[1]},{"name":"x\n\ty\u0007\u000b\u0001é","t":"filter","p":0}]}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	var doc jsonGraph
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Nodes[1].Name != "x\n\ty\a\v\x01é" {
		t.Errorf("round trip: %q", doc.Nodes[1].Name)
	}
}

// TestConcurrent: Text and JSON only read the Graph.
func TestConcurrent(t *testing.T) {
	g := &Graph{Pipelines: append([]Pipeline(nil), routing04.Pipelines...)}
	want, _ := g.Text()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, _ := g.Text()
				if !equalLines(got, want) {
					t.Error("Text() differs between calls")
					return
				}
				if _, err := g.JSON(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func show(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "$\n")
	}
	return b.String()
}
