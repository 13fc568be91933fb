package admin

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"sluice/backend/store"
)

// Pipy's own repo workflow: create, upload, flag main, commit, then what a
// worker downloads.
func TestRepoWorkflow(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	c.expect(c.do("POST", "/api/v1/repo/hello", "{}"), 201, "")

	var info map[string]any
	r := c.do("GET", "/api/v1/repo/hello", "")
	c.expect(r, 200, "")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("info content type %q", ct)
	}
	r.json(t, &info)
	want := map[string]any{"version": 1.0, "path": "/hello", "main": "/main.js", "files": []any{"/main.js"},
		"editFiles": []any{}, "erasedFiles": []any{}, "baseFiles": []any{}, "derived": []any{},
		"readOnly": false, "instances": map[string]any{}}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("info = %v\nwant %v", info, want)
	}
	c.expect(c.do("GET", "/api/v1/repo/hello/main.js", ""), 200, store.NewMainScript)

	r = c.do("POST", "/api/v1/repo/hello/hello.js", "pipy().listen(8080).serveHTTP(new Message('hi'))")
	c.expect(r, 201, "")
	if r.header.Get("ETag") == "" {
		t.Fatal("no ETag on a save")
	}
	c.expect(c.do("POST", "/api/v1/repo/hello/config/a.json", `{"a":1}`), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/hello", `{"main":"/hello.js"}`), 201, "")
	c.expect(c.do("DELETE", "/api/v1/repo/hello/main.js", ""), 204, "")
	c.do("GET", "/api/v1/repo/hello", "").json(t, &info)
	if info["main"] != "/hello.js" || !reflect.DeepEqual(info["editFiles"], []any{"/config/a.json", "/hello.js"}) ||
		!reflect.DeepEqual(info["erasedFiles"], []any{"/main.js"}) {
		t.Fatalf("info after edits = %v", info)
	}
	// Workers see nothing new before the commit.
	r = c.do("GET", "/repo/hello/", "")
	c.expect(r, 200, "/main.js")
	if r.header.Get("Etag") != "1" {
		t.Fatalf("etag %q", r.header.Get("Etag"))
	}

	c.expect(c.do("POST", "/api/v1/repo/hello", `{"version":2}`), 201, "")
	r = c.do("GET", "/repo/hello/", "")
	c.expect(r, 200, "/hello.js\n/config/a.json")
	if r.header.Get("Etag") != "2" {
		t.Fatalf("etag %q", r.header.Get("Etag"))
	}
	r = c.do("HEAD", "/repo/hello/", "")
	if r.status != 200 || r.header.Get("Etag") != "2" {
		t.Fatalf("HEAD = %d %v", r.status, r.header)
	}
	// Pipy's workers download again when the date changes: there is none.
	if _, ok := r.header["Date"]; ok {
		t.Fatalf("HEAD has a Date: %v", r.header)
	}
	r = c.do("GET", "/repo/hello/hello.js", "")
	c.expect(r, 200, "pipy().listen(8080).serveHTTP(new Message('hi'))")
	if r.header.Get("Etag") != "2" {
		t.Fatalf("file etag %q", r.header.Get("Etag"))
	}
	c.expect(c.do("GET", "/repo/hello/main.js", ""), 404, "")
	c.expect(c.do("GET", "/api/v1/repo", ""), 200, "/hello")
	c.expect(c.do("GET", "/repo", ""), 200, "/hello/\n")
	c.expect(c.do("GET", "/repo/", ""), 200, "/hello/\n")

	// PATCH with a body saves, an empty one drops the draft.
	c.expect(c.do("PATCH", "/api/v1/repo/hello/hello.js", "pipy() // patched"), 201, "")
	c.expect(c.do("GET", "/api/v1/repo/hello/hello.js", ""), 200, "pipy() // patched")
	c.expect(c.do("PATCH", "/api/v1/repo/hello/hello.js", ""), 201, "")
	c.expect(c.do("GET", "/api/v1/repo/hello/hello.js", ""), 200, "pipy().listen(8080).serveHTTP(new Message('hi'))")

	// Versions (Sluice).
	var vs []store.VersionInfo
	c.do("GET", "/api/v1/versions/hello", "").json(t, &vs)
	if len(vs) != 2 || vs[1].Version != 2 || vs[1].Main != "/hello.js" {
		t.Fatalf("versions = %+v", vs)
	}

	// Derived codebases.
	c.expect(c.do("POST", "/api/v1/repo/hello2", `{"base":"/hello"}`), 201, "")
	c.do("GET", "/api/v1/repo/hello2", "").json(t, &info)
	if info["base"] != "/hello" || info["main"] != "/hello.js" ||
		!reflect.DeepEqual(info["baseFiles"], []any{"/config/a.json", "/hello.js"}) {
		t.Fatalf("derived info = %v", info)
	}
	c.expect(c.do("GET", "/repo/hello2/", ""), 200, "/hello.js\n/config/a.json")
	c.do("GET", "/api/v1/repo/hello", "").json(t, &info)
	if !reflect.DeepEqual(info["derived"], []any{"/hello2"}) {
		t.Fatalf("derived = %v", info["derived"])
	}
	c.expectError(c.do("DELETE", "/api/v1/repo/hello", ""), 409, "derives")
	c.expect(c.do("DELETE", "/api/v1/repo/hello2", ""), 204, "")
	c.expect(c.do("DELETE", "/api/v1/repo/hello", ""), 204, "")
	c.expect(c.do("GET", "/api/v1/repo", ""), 200, "")
}

func TestETagsOnSaves(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	c.expect(c.do("POST", "/api/v1/repo/e", ""), 201, "")
	r := c.do("GET", "/api/v1/repo/e/main.js", "")
	tag := r.header.Get("ETag")
	if tag == "" || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v", r.header)
	}
	c.expect(c.do("GET", "/api/v1/repo/e/main.js", "", "If-None-Match", tag), 304, "")
	// Tab 1 saves; tab 2, still holding the old ETag, gets 412.
	r = c.do("POST", "/api/v1/repo/e/main.js", "pipy() // 1", "If-Match", tag)
	c.expect(r, 201, "")
	tag1 := r.header.Get("ETag")
	c.expectError(c.do("POST", "/api/v1/repo/e/main.js", "pipy() // 2", "If-Match", tag), 412, "changed")
	c.expectError(c.do("PATCH", "/api/v1/repo/e/main.js", "pipy() // 2", "If-Match", tag), 412, "changed")
	c.expectError(c.do("DELETE", "/api/v1/repo/e/main.js", "", "If-Match", tag), 412, "changed")
	c.expect(c.do("GET", "/api/v1/repo/e/main.js", ""), 200, "pipy() // 1")
	c.expect(c.do("POST", "/api/v1/repo/e/main.js", "pipy() // 3", "If-Match", tag1), 201, "")
	// If-None-Match: * creates only.
	c.expectError(c.do("POST", "/api/v1/repo/e/main.js", "x", "If-None-Match", "*"), 412, "exists")
	c.expect(c.do("POST", "/api/v1/repo/e/new.js", "x", "If-None-Match", "*"), 201, "")
}

func TestRepoBadInput(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	c.expect(c.do("POST", "/api/v1/repo/hello", ""), 201, "")
	_, err := c.store.Import([]store.Bundled{{Path: "/tutorials/01-hello", Main: "/hello.js",
		Files: map[string][]byte{"/hello.js": []byte("pipy()")}}}, store.ImportOptions{ReadOnly: true})
	must(t, err)
	before := dump(t, c)

	for _, tc := range []struct {
		method, path, body string
		headers            []string
		status             int
		says               string
	}{
		{"GET", "/api/v1/repo/nope", "", nil, 404, "not found"},
		{"GET", "/api/v1/repo/hello/nope.js", "", nil, 404, "not found"},
		{"POST", "/api/v1/repo/", "{}", nil, 400, "invalid codebase"},
		{"POST", "/api/v1/repo/hello/", "{}", nil, 400, "slash"},
		{"POST", "/api/v1/repo/new", "{bad", nil, 400, "invalid JSON"},
		{"POST", "/api/v1/repo/new", "[1]", nil, 400, "invalid JSON"},
		{"POST", "/api/v1/repo/hello", `{"version":"2"}`, nil, 400, "version"},
		{"POST", "/api/v1/repo/hello", `{"version":1.5}`, nil, 400, "version"},
		{"POST", "/api/v1/repo/hello", `{"version":-1}`, nil, 400, "version"},
		{"POST", "/api/v1/repo/hello", `{"main":5}`, nil, 400, "main"},
		{"POST", "/api/v1/repo/hello", `{"main":"../x.js"}`, nil, 400, "invalid file path"},
		{"POST", "/api/v1/repo/hello", `{"main":"/nope.js","version":2}`, nil, 400, "does not exist"},
		{"POST", "/api/v1/repo/new", `{"base":"/nope"}`, nil, 400, "not found"},
		{"POST", "/api/v1/repo/new", `{"base":7}`, nil, 400, "base"},
		{"POST", "/api/v1/repo/bad%20name", `{}`, nil, 400, "invalid codebase path"},
		{"POST", "/api/v1/repo/.hidden", `{}`, nil, 400, "dot"},
		{"PATCH", "/api/v1/repo/hello", "x", nil, 400, "files"},
		{"PATCH", "/api/v1/repo/nope/x.js", "x", nil, 404, "not found"},
		{"DELETE", "/api/v1/repo/hello/nope.js", "", nil, 404, "not found"},
		{"DELETE", "/api/v1/repo/nope", "", nil, 404, "not found"},
		{"PUT", "/api/v1/repo/hello", "", nil, 405, "not allowed"},
		{"PUT", "/api/v1/program", "", nil, 405, "not allowed"},
		{"GET", "/api/v1/nope", "", nil, 404, "no such API"},
		{"POST", "/api/v1/repo/tutorials/01-hello/hello.js", "x", nil, 403, "read-only"},
		{"POST", "/api/v1/repo/tutorials/01-hello", `{"version":2}`, nil, 403, "read-only"},
		{"DELETE", "/api/v1/repo/tutorials/01-hello", "", nil, 403, "read-only"},
		{"POST", "/api/v1/repo/hello/big.js", strings.Repeat("x", store.MaxFileSize+1), nil, 413, "larger"},
		{"POST", "/api/v1/repo/hello/big.js", strings.Repeat("x", MaxBodySize+1), nil, 413, "larger"},
		{"GET", "/repo/hello", "", nil, 404, "trailing slash"},
		{"GET", "/repo/nope/", "", nil, 404, "no codebase"},
		{"GET", "/repo/hello/nope.js", "", nil, 404, "not found"},
		{"POST", "/repo/hello/", "{}", nil, 400, "invalid JSON"},
		{"POST", "/repo/hello/", "nonsense", nil, 400, "invalid JSON"},
		{"POST", "/repo/nope/", `{}`, nil, 404, "not found"},
		{"POST", "/repo/hello", `{}`, nil, 405, "/repo/<codebase>/"},
		{"GET", "/api/v1/versions/nope", "", nil, 404, "not found"},
		{"GET", "/api/v1/log/stream", "", nil, 400, "websocket"},
		{"GET", "/api/v1/status/stream", "", nil, 400, "websocket"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			c := *c
			c.t = t
			c.expectError(c.do(tc.method, tc.path, tc.body, tc.headers...), tc.status, tc.says)
		})
	}

	// Paths that try to leave the codebase or carry NULs, sent as they
	// are (no client-side cleaning), escaped or not.
	for _, p := range []string{
		"/api/v1/repo/hello/../../../etc/passwd",
		"/api/v1/repo/hello/%2e%2e/%2e%2e/etc/passwd",
		"/api/v1/repo/hello/%2E%2E%2Fx.js",
		"/api/v1/repo/hello//etc/passwd",
		"/api/v1/repo/hello/a%00.js",
		"/api/v1/repo/hello/a%5c..%5cb.js",
		"/api/v1/repo/hello/./x.js",
		"/api/v1/repo/%2e%2e/x",
		"/repo/hello/../../etc/passwd",
		"/repo/hello/%2e%2e/x.js",
	} {
		for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
			if strings.HasPrefix(p, "/repo/") && (m == "PATCH" || m == "DELETE") {
				continue
			}
			r := c.raw(m, p, "pwned")
			if r.status < 400 || r.status >= 500 {
				t.Errorf("%s %s: %d %s", m, p, r.status, r.body)
			}
		}
	}
	if after := dump(t, c); !reflect.DeepEqual(before, after) {
		t.Fatalf("bad input changed the store:\nbefore %v\nafter  %v", before, after)
	}
	entries, err := os.ReadDir(c.dir)
	must(t, err)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "sluice.db") {
			t.Errorf("unexpected file in the data folder: %s", e.Name())
		}
	}
}

// dump is every codebase's info and working copy.
func dump(t *testing.T, c *console) map[string]any {
	t.Helper()
	out := map[string]any{}
	list, err := c.store.List()
	must(t, err)
	for _, cb := range list {
		i, err := c.store.Info(cb)
		must(t, err)
		d, err := c.store.Draft(cb)
		must(t, err)
		out[cb] = []any{i, d.Files}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInstances(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	c.expect(c.do("POST", "/api/v1/repo/w", ""), 201, "")
	status := `{"timestamp":1700000000000,"uuid":"u-1","name":"edge-1","version":"1",` +
		`"modules":{"/main.js":{"graph":{"roots":[],"nodes":[]}}}}`
	c.expect(c.do("POST", "/repo/w/", status, "Content-Type", "application/json"), 201, "")
	c.expect(c.do("POST", "/repo/w/", strings.Replace(status, "u-1", "u-2", 1)), 201, "")
	c.expect(c.do("POST", "/repo/w/", status), 201, "") // again: the same instance
	var info struct {
		Instances map[string]json.RawMessage `json:"instances"`
	}
	c.do("GET", "/api/v1/repo/w", "").json(t, &info)
	if len(info.Instances) != 2 {
		t.Fatalf("instances = %v", info.Instances)
	}
	var st map[string]any
	must(t, json.Unmarshal(info.Instances["0"], &st))
	if st["uuid"] != "u-1" || st["name"] != "edge-1" || st["version"] != "1" {
		t.Fatalf("instance 0 = %v", st)
	}
	if _, ok := st["modules"].(map[string]any)["/main.js"]; !ok {
		t.Fatalf("instance 0 modules = %v", st["modules"])
	}
}
