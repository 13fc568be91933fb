package engine

import (
	"strings"
	"testing"
)

func knownGlobals(name string) bool {
	switch name {
	case "pipy", "Message", "JSON", "Object", "console", "algo", "undefined", "Math":
		return true
	}
	return false
}

func TestRewriteFreeIdentifiers(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings that must appear in the rewritten code
		notWant   []string
	}{
		{"context variable in callback", `pipy({_t: ''}).pipeline('x').handleMessageStart(msg => _t = msg.head.path)`,
			[]string{"__sx._t = msg.head.path"}, []string{"__sx.msg", "__sx.pipy"}},
		{"parameter shadows", `pipy().pipeline('x').handleMessageStart(_t => _t + 1)`,
			nil, []string{"__sx._t"}},
		{"closure parameter of an IIFE", `(config => pipy({_r: config.routes}))(JSON.decode(pipy.load('x')))`,
			nil, []string{"__sx.config", "__sx.JSON"}},
		{"shorthand property", `pipy().pipeline('x').replaceMessage(() => new Message({_a}))`,
			[]string{"{_a: __sx._a}"}, nil},
		{"member names are not references", `pipy().pipeline('x').handleMessageStart(m => m.head._t)`,
			nil, []string{"__sx._t"}},
		{"object keys are not references", `pipy({_t: 1}).pipeline('x').replaceMessage(() => ({_t: 2}))`,
			nil, []string{"__sx._t"}},
		{"local declarations", `const a = 1; let b = 2; function f(c) { var d = c; return a + b + d + e } pipy()`,
			[]string{"__sx.e"}, []string{"__sx.a", "__sx.b", "__sx.c", "__sx.d", "__sx.f"}},
		{"destructuring", `pipy().pipeline('x').handleMessage(({head: {path}, body}) => path + body + _z)`,
			[]string{"__sx._z"}, []string{"__sx.path", "__sx.body"}},
		{"catch and for bindings", `try { x() } catch (err) { err } for (const k of []) k; pipy()`,
			[]string{"__sx.x"}, []string{"__sx.err", "__sx.k"}},
		{"imported names", `pipy().import({__turnDown: 'proxy'}).pipeline('x').handleMessageStart(() => __turnDown = true)`,
			[]string{"__sx.__turnDown = true"}, nil},
		{"last expression is returned", `const x = 1;
(config => pipy())({})`, []string{"return (config"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw, err := rewriteModule("/t.js", tt.src, knownGlobals)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(rw.code, w) {
					t.Errorf("rewritten code lacks %q:\n%s", w, rw.code)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(rw.code, w) {
					t.Errorf("rewritten code has %q:\n%s", w, rw.code)
				}
			}
		})
	}
}

// Positions in the rewritten code map back to the user's line and column.
func TestRewritePositionsMapBack(t *testing.T) {
	src := "pipy({_a: 1, _b: 2})\n.pipeline('x')\n  .handleMessageStart(() => (_a = _b, oops()))\n"
	rw, err := rewriteModule("/t.js", src, knownGlobals)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(rw.code, "\n")
	// Find "oops" on line 3 of the rewritten code and map its column back.
	col := strings.Index(lines[2], "__sx.oops") + 1
	if col <= 0 {
		t.Fatalf("oops not rewritten:\n%s", rw.code)
	}
	gotLine, gotCol := rw.original(3, col+len("__sx."))
	wantCol := strings.Index(strings.Split(src, "\n")[2], "oops") + 1
	if gotLine != 3 || gotCol != wantCol {
		t.Fatalf("mapped to %d:%d, want 3:%d", gotLine, gotCol, wantCol)
	}
	// Line 1 carries the wrapper prefix.
	c1 := strings.Index(lines[0], "pipy") + 1
	if l, c := rw.original(1, c1); l != 1 || c != 1 {
		t.Fatalf("line 1 start mapped to %d:%d", l, c)
	}
}

// The return inserted before the last statement goes before a rewrite of
// the identifier the statement starts with.
func TestRewriteLastStatementStartsWithFreeName(t *testing.T) {
	rw, err := rewriteModule("/t.js", "const g = 'hi'\n\nsetUp(g)\n", knownGlobals)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rw.code, "return __sx.setUp(g)") {
		t.Fatalf("got:\n%s", rw.code)
	}
}
