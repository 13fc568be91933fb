package store

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustBe(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
}

func read(t *testing.T, s *Store, cb, file string) string {
	t.Helper()
	data, _, err := s.ReadFile(cb, file)
	must(t, err)
	return string(data)
}

func info(t *testing.T, s *Store, cb string) *Info {
	t.Helper()
	i, err := s.Info(cb)
	must(t, err)
	return i
}

func TestCreateEditCommit(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	must(t, s.Create("/hello", ""))
	mustBe(t, s.Create("/hello", ""), ErrExists)

	i := info(t, s, "/hello")
	want := &Info{Path: "/hello", Version: 1, Main: "/main.js", Files: []string{"/main.js"},
		EditFiles: []string{}, ErasedFiles: []string{}, BaseFiles: []string{}, Derived: []string{}}
	if !reflect.DeepEqual(i, want) {
		t.Fatalf("info = %+v\nwant %+v", i, want)
	}
	if got := read(t, s, "/hello", "/main.js"); got != NewMainScript {
		t.Fatalf("main.js = %q", got)
	}

	_, err := s.WriteFile("/hello", "/hello.js", []byte("pipy().listen(8080)"), "")
	must(t, err)
	must(t, s.SetMain("/hello", "/hello.js"))
	must(t, s.EraseFile("/hello", "/main.js", ""))
	i = info(t, s, "/hello")
	if i.Main != "/hello.js" || !reflect.DeepEqual(i.EditFiles, []string{"/hello.js"}) ||
		!reflect.DeepEqual(i.ErasedFiles, []string{"/main.js"}) || !reflect.DeepEqual(i.Files, []string{"/main.js"}) {
		t.Fatalf("info after edits = %+v", i)
	}
	// Workers still see version 1.
	v, paths, err := s.Manifest("/hello")
	must(t, err)
	if v != 1 || !reflect.DeepEqual(paths, []string{"/main.js"}) {
		t.Fatalf("manifest = %d %v", v, paths)
	}
	// The working copy has the drafts.
	d, err := s.Draft("/hello")
	must(t, err)
	if d.Main != "/hello.js" || !reflect.DeepEqual(d.Paths(), []string{"/hello.js"}) {
		t.Fatalf("draft = %+v", d)
	}

	mustBe(t, firstErr(s.Commit("/hello", 0)), ErrInvalid)
	up, err := s.Commit("/hello", 2)
	must(t, err)
	if !reflect.DeepEqual(up, []Update{{"/hello", 2}}) {
		t.Fatalf("updates = %v", up)
	}
	// Committing the current version again does nothing, as in Pipy.
	up, err = s.Commit("/hello", 2)
	must(t, err)
	if len(up) != 0 {
		t.Fatalf("updates = %v", up)
	}
	i = info(t, s, "/hello")
	if i.Version != 2 || !reflect.DeepEqual(i.Files, []string{"/hello.js"}) || len(i.EditFiles)+len(i.ErasedFiles) != 0 {
		t.Fatalf("info after commit = %+v", i)
	}
	v, paths, err = s.Manifest("/hello")
	must(t, err)
	if v != 2 || !reflect.DeepEqual(paths, []string{"/hello.js"}) {
		t.Fatalf("manifest = %d %v", v, paths)
	}

	// Versions are immutable: version 1 still has main.js.
	_, err = s.WriteFile("/hello", "/hello.js", []byte("pipy().listen(9090)"), "")
	must(t, err)
	_, err = s.Commit("/hello", 3)
	must(t, err)
	v1, err := s.Snapshot("/hello", 1)
	must(t, err)
	if v1.Main != "/main.js" || string(v1.Files["/main.js"]) != NewMainScript || len(v1.Files) != 1 {
		t.Fatalf("version 1 = %+v", v1)
	}
	v2, err := s.Snapshot("/hello", 2)
	must(t, err)
	if string(v2.Files["/hello.js"]) != "pipy().listen(8080)" {
		t.Fatalf("version 2 = %q", v2.Files["/hello.js"])
	}
	latest, err := s.Snapshot("/hello", 0)
	must(t, err)
	if latest.Version != 3 || string(latest.Files["/hello.js"]) != "pipy().listen(9090)" {
		t.Fatalf("latest = %+v", latest)
	}
	data, err := fs.ReadFile(latest.FS(), "hello.js")
	must(t, err)
	if string(data) != "pipy().listen(9090)" {
		t.Fatalf("FS read %q", data)
	}
	_, err = s.Snapshot("/hello", 9)
	mustBe(t, err, ErrNotFound)
	vs, err := s.Versions("/hello")
	must(t, err)
	if len(vs) != 3 || vs[0].Main != "/main.js" || vs[2].Version != 3 {
		t.Fatalf("versions = %+v", vs)
	}
	got, ver, err := s.CommittedFile("/hello", "/hello.js")
	must(t, err)
	if ver != 3 || string(got) != "pipy().listen(9090)" {
		t.Fatalf("committed file = %d %q", ver, got)
	}
	_, _, err = s.CommittedFile("/hello", "/main.js")
	mustBe(t, err, ErrNotFound)
}

func firstErr(_ []Update, err error) error { return err }

func TestResetAndSaveCommittedContent(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	must(t, s.Create("/a", ""))
	_, err := s.WriteFile("/a", "/main.js", []byte("pipy() // edited"), "")
	must(t, err)
	must(t, s.ResetFile("/a", "/main.js", ""))
	if got := read(t, s, "/a", "/main.js"); got != NewMainScript {
		t.Fatalf("after reset: %q", got)
	}
	// Saving the committed content leaves no draft behind.
	_, err = s.WriteFile("/a", "/main.js", []byte("x"), "")
	must(t, err)
	_, err = s.WriteFile("/a", "/main.js", []byte(NewMainScript), "")
	must(t, err)
	if i := info(t, s, "/a"); len(i.EditFiles) != 0 {
		t.Fatalf("edit files = %v", i.EditFiles)
	}
	// Erase then reset brings the file back.
	must(t, s.EraseFile("/a", "/main.js", ""))
	_, _, err = s.ReadFile("/a", "/main.js")
	mustBe(t, err, ErrNotFound)
	mustBe(t, s.EraseFile("/a", "/main.js", ""), ErrNotFound)
	must(t, s.ResetFile("/a", "/main.js", ""))
	read(t, s, "/a", "/main.js")
	// A new file erased before any commit simply goes.
	_, err = s.WriteFile("/a", "/new.js", []byte("n"), "")
	must(t, err)
	must(t, s.EraseFile("/a", "/new.js", ""))
	if i := info(t, s, "/a"); len(i.EditFiles)+len(i.ErasedFiles) != 0 {
		t.Fatalf("info = %+v", i)
	}
	// A commit needs the main entry to exist.
	must(t, s.SetMain("/a", "/missing.js"))
	mustBe(t, firstErr(s.Commit("/a", 2)), ErrInvalid)
}

func TestETags(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	must(t, s.Create("/e", ""))
	_, tag1, err := s.ReadFile("/e", "/main.js")
	must(t, err)
	if tag1 != ETagOf([]byte(NewMainScript)) || !strings.HasPrefix(tag1, `"`) {
		t.Fatalf("etag %s", tag1)
	}
	tag2, err := s.WriteFile("/e", "/main.js", []byte("pipy() // tab 1"), tag1)
	must(t, err)
	if tag2 == tag1 {
		t.Fatal("etag did not change")
	}
	// Tab 2 still holds tag1.
	_, err = s.WriteFile("/e", "/main.js", []byte("pipy() // tab 2"), tag1)
	mustBe(t, err, ErrPrecondition)
	mustBe(t, s.EraseFile("/e", "/main.js", tag1), ErrPrecondition)
	mustBe(t, s.ResetFile("/e", "/main.js", tag1), ErrPrecondition)
	if got := read(t, s, "/e", "/main.js"); got != "pipy() // tab 1" {
		t.Fatalf("content %q", got)
	}
	_, err = s.WriteFile("/e", "/main.js", []byte("pipy() // tab 1 again"), "W/"+tag2+", \"other\"")
	must(t, err)
	// If-Match: * needs the file to exist.
	_, err = s.WriteFile("/e", "/nope.js", []byte("x"), "*")
	mustBe(t, err, ErrPrecondition)
	_, err = s.WriteFile("/e", "/main.js", []byte("y"), "*")
	must(t, err)
}

func TestDerived(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	must(t, s.Create("/base", ""))
	_, err := s.WriteFile("/base", "/main.js", []byte("base main"), "")
	must(t, err)
	_, err = s.WriteFile("/base", "/lib.js", []byte("base lib"), "")
	must(t, err)
	_, err = s.Commit("/base", 2)
	must(t, err)

	mustBe(t, s.Create("/d", "/nope"), ErrNotFound)
	must(t, s.Create("/d", "/base"))
	must(t, s.Create("/dd", "/d"))
	i := info(t, s, "/d")
	if i.Base != "/base" || i.Main != "/main.js" || len(i.Files) != 0 ||
		!reflect.DeepEqual(i.BaseFiles, []string{"/lib.js", "/main.js"}) || !reflect.DeepEqual(i.Derived, []string{"/dd"}) {
		t.Fatalf("derived info = %+v", i)
	}
	if got := read(t, s, "/dd", "/lib.js"); got != "base lib" {
		t.Fatalf("dd lib = %q", got)
	}
	// The derived codebase owns only what it changes.
	_, err = s.WriteFile("/d", "/lib.js", []byte("d lib"), "")
	must(t, err)
	_, err = s.Commit("/d", 2)
	must(t, err)
	var own int
	must(t, s.db.QueryRow(`SELECT COUNT(*) FROM version_files f JOIN codebases c ON c.id = f.codebase_id
		WHERE c.path = '/d' AND f.version = 2`).Scan(&own))
	if own != 1 {
		t.Fatalf("d owns %d files at version 2", own)
	}
	if got := read(t, s, "/dd", "/lib.js"); got != "d lib" {
		t.Fatalf("dd lib = %q", got)
	}
	// A base file cannot be erased from a derived codebase.
	mustBe(t, s.EraseFile("/d", "/main.js", ""), ErrInvalid)
	// Committing the base re-versions every codebase derived from it.
	_, err = s.WriteFile("/base", "/main.js", []byte("base main v3"), "")
	must(t, err)
	up, err := s.Commit("/base", 3)
	must(t, err)
	if !reflect.DeepEqual(up, []Update{{"/base", 3}, {"/d", 3}, {"/dd", 3}}) {
		t.Fatalf("updates = %v", up)
	}
	sn, err := s.Snapshot("/dd", 0)
	must(t, err)
	if sn.Version != 3 || string(sn.Files["/main.js"]) != "base main v3" || string(sn.Files["/lib.js"]) != "d lib" {
		t.Fatalf("dd latest = %+v", sn)
	}
	old, err := s.Snapshot("/dd", 1)
	must(t, err)
	if string(old.Files["/main.js"]) != "base main" || string(old.Files["/lib.js"]) != "base lib" {
		t.Fatalf("dd v1 = %v", old.Files)
	}
	// Erasing the derived codebase's own copy uncovers the base's.
	must(t, s.EraseFile("/d", "/lib.js", ""))
	if got := read(t, s, "/d", "/lib.js"); got != "base lib" {
		t.Fatalf("uncovered lib = %q", got)
	}
	_, err = s.Commit("/d", 4)
	must(t, err)
	if got, _, _ := s.CommittedFile("/dd", "/lib.js"); string(got) != "base lib" {
		t.Fatalf("dd lib after d's erase = %q", got)
	}
	// Bases cannot be deleted while something derives from them.
	mustBe(t, s.Delete("/base"), ErrConflict)
	must(t, s.Delete("/dd"))
	must(t, s.Delete("/d"))
	must(t, s.Delete("/base"))
	mustBe(t, s.Delete("/base"), ErrNotFound)
	var blobs int
	must(t, s.db.QueryRow(`SELECT COUNT(*) FROM blobs`).Scan(&blobs))
	if blobs != 0 {
		t.Fatalf("%d blobs left after deleting everything", blobs)
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/a", "/a/b", "/tutorials/01-hello", "/x.y_z-1"} {
		if _, err := CleanCodebasePath(p); err != nil {
			t.Errorf("codebase %q: %v", p, err)
		}
	}
	for _, p := range []string{"", "/", "a", "//a", "/a//b", "/../a", "/a/..", "/.hidden", "/a b", "/a\x00", "/a\\b", "/ä"} {
		if _, err := CleanCodebasePath(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("codebase %q: err = %v", p, err)
		}
	}
	for _, p := range []string{"/a.js", "/plugins/router.js", "/config/a b.json", "/.env", "/ünï.js"} {
		if _, err := CleanFilePath(p); err != nil {
			t.Errorf("file %q: %v", p, err)
		}
	}
	for _, p := range []string{"", "/", "a.js", "/a/", "//etc/passwd", "/../x", "/a/../../x", "/./a", "/a\x00b",
		"/a\\..\\b", "/a\nb", "/" + strings.Repeat("x", MaxPathLen), "/\xff"} {
		if _, err := CleanFilePath(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("file %q: err = %v", p, err)
		}
	}
}

func TestResolveAndNesting(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	must(t, s.Create("/tutorials/01-hello", ""))
	must(t, s.Create("/a", ""))
	mustBe(t, s.Create("/a/b", ""), ErrConflict)
	mustBe(t, s.Create("/tutorials", ""), ErrConflict)
	for _, tc := range []struct{ in, cb, file string }{
		{"/a", "/a", ""},
		{"/a/", "/a", ""},
		{"/a/main.js", "/a", "/main.js"},
		{"/a/x/y.js", "/a", "/x/y.js"},
		{"/tutorials/01-hello/hello.js", "/tutorials/01-hello", "/hello.js"},
	} {
		cb, file, err := s.Resolve(tc.in)
		if err != nil || cb != tc.cb || file != tc.file {
			t.Errorf("Resolve(%q) = %q %q %v", tc.in, cb, file, err)
		}
	}
	for _, tc := range []struct {
		in   string
		kind error
	}{
		{"/nope", ErrNotFound},
		{"/tutorials", ErrNotFound},
		{"/a/../etc", ErrInvalid},
		{"/a//x", ErrInvalid},
		{"/a/x\x00", ErrInvalid},
	} {
		_, _, err := s.Resolve(tc.in)
		if !errors.Is(err, tc.kind) {
			t.Errorf("Resolve(%q): err = %v, want %v", tc.in, err, tc.kind)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	must(t, s.Create("/l", ""))
	_, err := s.WriteFile("/l", "/big", make([]byte, MaxFileSize+1), "")
	mustBe(t, err, ErrTooLarge)
	_, err = s.WriteFile("/l", "/big", make([]byte, MaxFileSize), "")
	must(t, err)
	s.maxFiles = 3
	_, err = s.WriteFile("/l", "/c", nil, "")
	must(t, err)
	_, err = s.WriteFile("/l", "/d", nil, "")
	mustBe(t, err, ErrTooLarge)
	// Overwriting a file is still fine at the limit.
	_, err = s.WriteFile("/l", "/c", []byte("c"), "")
	must(t, err)
}

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	must(t, s.Create("/r", ""))
	_, err := s.WriteFile("/r", "/r.js", []byte("pipy()"), "")
	must(t, err)
	must(t, s.SetMain("/r", "/r.js"))
	_, err = s.Commit("/r", 2)
	must(t, err)
	must(t, s.Create("/r2", "/r"))
	_, err = s.WriteFile("/r2", "/draft.js", []byte("draft"), "")
	must(t, err)
	must(t, s.SetMain("/r2", "/draft.js"))
	before := []*Info{info(t, s, "/r"), info(t, s, "/r2")}
	must(t, s.Close())

	s2, err := Open(dir)
	must(t, err)
	defer s2.Close()
	after := []*Info{info(t, s2, "/r"), info(t, s2, "/r2")}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("before %+v\nafter %+v", before, after)
	}
	if got := read(t, s2, "/r2", "/draft.js"); got != "draft" {
		t.Fatalf("draft = %q", got)
	}
	var n int
	must(t, s2.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
	if n != 1 {
		t.Fatalf("%d migrations recorded", n)
	}
	var mode string
	must(t, s2.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	if mode != "wal" {
		t.Fatalf("journal mode %s", mode)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	_, err := s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`)
	must(t, err)
	s.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("err = %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	must(t, s.Create("/c", ""))
	// A second Store on the same file competes through SQLite's locks.
	s2, err := Open(dir)
	must(t, err)
	defer s2.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if g%2 == 1 {
				st = s2
			}
			for i := range 10 {
				if _, err := st.WriteFile("/c", fmt.Sprintf("/f%d-%d.js", g, i), []byte("x"), ""); err != nil {
					errs <- err
				}
				if _, err := st.Info("/c"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if i := info(t, s, "/c"); len(i.EditFiles) != 40 {
		t.Fatalf("%d edits", len(i.EditFiles))
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	assets := fstest.MapFS{
		"codebases/README.md":                {Data: []byte("samples")},
		"codebases/proxy/proxy.js":           {Data: []byte("pipy()")},
		"codebases/proxy/mock.js":            {Data: []byte("pipy()")},
		"codebases/proxy/plugins/router.js":  {Data: []byte("pipy()")},
		"codebases/proxy/config/router.json": {Data: []byte("{}")},
		"codebases/proxy/.hidden":            {Data: []byte("no")},
		"codebases/group/ts/app.ts":          {Data: []byte("pipy()")},
	}
	samples, err := FindCodebases(assets, "codebases", "/", nil)
	must(t, err)
	tutorials := func(hello string) []Bundled {
		// Listed derived first: Import puts bases first.
		return []Bundled{
			{Path: "/tutorials/02-echo", Base: "/tutorials/01-hello", Main: "/echo.js",
				Files: map[string][]byte{"/echo.js": []byte("pipy() // 2"), "/README.md": []byte("# Echo")}},
			{Path: "/tutorials/01-hello", Main: "/hello.js",
				Files: map[string][]byte{"/hello.js": []byte(hello), "/README.md": []byte("# Hello")}},
		}
	}
	changed, err := s.ImportBundled(samples, tutorials("pipy() // 1"))
	must(t, err)
	want := []string{"/group/ts", "/proxy", "/tutorials/01-hello", "/tutorials/02-echo"}
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("imported %v", changed)
	}
	p := info(t, s, "/proxy")
	if p.Main != "/proxy.js" || p.ReadOnly || !reflect.DeepEqual(p.Files,
		[]string{"/config/router.json", "/mock.js", "/plugins/router.js", "/proxy.js"}) {
		t.Fatalf("proxy = %+v", p)
	}
	if m := info(t, s, "/group/ts").Main; m != "/app.ts" {
		t.Fatalf("ts main = %s", m)
	}
	h := info(t, s, "/tutorials/01-hello")
	if !h.ReadOnly || h.Main != "/hello.js" || h.Version != 1 || !reflect.DeepEqual(h.Derived, []string{"/tutorials/02-echo"}) {
		t.Fatalf("tutorial = %+v", h)
	}
	e := info(t, s, "/tutorials/02-echo")
	if e.Base != "/tutorials/01-hello" || !reflect.DeepEqual(e.Files, []string{"/README.md", "/echo.js"}) ||
		!reflect.DeepEqual(e.BaseFiles, []string{"/README.md", "/hello.js"}) {
		t.Fatalf("derived tutorial = %+v", e)
	}
	_, err = s.WriteFile("/tutorials/01-hello", "/hello.js", []byte("x"), "")
	mustBe(t, err, ErrReadOnly)
	mustBe(t, s.SetMain("/tutorials/01-hello", "/README.md"), ErrReadOnly)
	mustBe(t, firstErr(s.Commit("/tutorials/01-hello", 2)), ErrReadOnly)
	mustBe(t, s.Delete("/tutorials/01-hello"), ErrReadOnly)
	// Users derive from a tutorial to change it.
	must(t, s.Create("/mine", "/tutorials/02-echo"))
	_, err = s.WriteFile("/mine", "/echo.js", []byte("pipy() // mine"), "")
	must(t, err)

	// The next start imports no sample again (even one the user deleted)
	// and leaves unchanged tutorials alone...
	must(t, s.Delete("/proxy"))
	changed, err = s.ImportBundled(samples, tutorials("pipy() // 1"))
	must(t, err)
	if len(changed) != 0 {
		t.Fatalf("second start imported %v", changed)
	}
	// ...but a newer binary's tutorial becomes a new version, and the
	// codebases derived from it follow.
	changed, err = s.ImportBundled(samples, tutorials("pipy() // 1, revised"))
	must(t, err)
	if !reflect.DeepEqual(changed, []string{"/tutorials/01-hello"}) {
		t.Fatalf("third start changed %v", changed)
	}
	if v := info(t, s, "/tutorials/01-hello").Version; v != 2 {
		t.Fatalf("tutorial version %d", v)
	}
	if v := info(t, s, "/mine").Version; v != 2 {
		t.Fatalf("derived version %d", v)
	}
	sn, err := s.Snapshot("/mine", 0)
	must(t, err)
	if string(sn.Files["/hello.js"]) != "pipy() // 1, revised" || string(sn.Files["/README.md"]) != "# Echo" || sn.Main != "/echo.js" {
		t.Fatalf("derived snapshot %+v", sn)
	}
	if got := read(t, s, "/mine", "/echo.js"); got != "pipy() // mine" {
		t.Fatalf("derived draft %q", got)
	}
	// A bundled codebase with a bad path is refused.
	_, err = s.Import([]Bundled{{Path: "/bad name", Main: "/a.js"}}, ImportOptions{})
	mustBe(t, err, ErrInvalid)
}

func TestMeta(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	v, err := s.Meta("k")
	must(t, err)
	if v != "" {
		t.Fatal(v)
	}
	must(t, s.SetMeta("k", "1"))
	must(t, s.SetMeta("k", "2"))
	v, err = s.Meta("k")
	must(t, err)
	if v != "2" {
		t.Fatal(v)
	}
}
