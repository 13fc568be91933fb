package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProxyScriptsDifferOnlyByTheCallback(t *testing.T) {
	proxy, _ := scenarioNamed("proxy")
	a := strings.Split(proxy.Script(8000, 9000), "\n")
	b := strings.Split(proxy.NoCallback(8000, 9000), "\n")
	if len(a) != len(b)+1 {
		t.Fatalf("proxy has %d lines, proxy without the callback %d; want one more", len(a), len(b))
	}
	if want := "pipy({ _target: '127.0.0.1:9000' })"; b[0] != want {
		t.Errorf("proxy without the callback starts %q, want %q", b[0], want)
	}
	if !strings.HasPrefix(a[0], "pipy({ _router: ") {
		t.Errorf("proxy starts %q", a[0])
	}
	cb := slices.IndexFunc(a, func(l string) bool { return strings.Contains(l, ".handleMessageStart(") })
	if cb < 0 {
		t.Fatal("proxy has no handleMessageStart")
	}
	rest := slices.Delete(slices.Clone(a), cb, cb+1)
	if !slices.Equal(rest[1:], b[1:]) {
		t.Errorf("beyond the globals and the callback, the scripts differ:\n%s\n---\n%s",
			strings.Join(rest[1:], "\n"), strings.Join(b[1:], "\n"))
	}
	for _, l := range []string{
		"  .link('forward', () => Boolean(_target), '404')",
		"  .muxHTTP('connection', () => _target)",
		"  .connect(() => _target)",
	} {
		if !slices.Contains(b, l) {
			t.Errorf("proxy without the callback lacks %q", l)
		}
	}
}

func TestBlockContenders(t *testing.T) {
	cs := []contender{
		scriptContender("sluice", "/bin/sluice", []string{"--threads=1"}),
		nginxContender("nginx"),
		scriptContender("pipy", "/bin/pipy", nil),
	}
	names := func(cs []contender) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name+"("+c.group()+")")
		}
		return strings.Join(out, " ")
	}
	hello, _ := scenarioNamed("hello")
	proxy, _ := scenarioNamed("proxy")
	if got, want := names(blockContenders(hello, cs)), "sluice(sluice) nginx(nginx) pipy(pipy)"; got != want {
		t.Errorf("hello block: %s, want %s", got, want)
	}
	block := blockContenders(proxy, cs)
	if got, want := names(block), "sluice(sluice) sluice-nocb(sluice) nginx(nginx) pipy(pipy) pipy-nocb(pipy)"; got != want {
		t.Fatalf("proxy block: %s, want %s", got, want)
	}

	// Each runs its own script file: the variant the one without the
	// callback, with its base's binary and flags.
	dir := t.TempDir()
	for _, tt := range []struct {
		c      contender
		script scriptFunc
		argv0  string
		flags  []string
	}{
		{block[0], proxy.Script, "/bin/sluice", []string{"--threads=1"}},
		{block[1], proxy.NoCallback, "/bin/sluice", []string{"--threads=1"}},
		{block[4], proxy.NoCallback, "/bin/pipy", nil},
	} {
		argv, err := tt.c.Prepare(dir, proxy, 8000, 9000)
		if err != nil {
			t.Fatalf("%s: %v", tt.c.Name, err)
		}
		if argv[0] != tt.argv0 || !slices.Equal(argv[2:], tt.flags) || filepath.Base(argv[1]) != tt.c.Name+"-proxy.js" {
			t.Errorf("%s: argv %q", tt.c.Name, argv)
			continue
		}
		text, err := os.ReadFile(argv[1])
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.script(8000, 9000); string(text) != want {
			t.Errorf("%s runs\n%s\nwant\n%s", tt.c.Name, text, want)
		}
	}
	if nginxContender("nginx").WithScript != nil {
		t.Error("nginx has a script variant")
	}
	if _, err := nginxContender("nginx").Prepare(dir, scenario{Name: "scripts-only"}, 1, 2); err == nil {
		t.Error("nginx prepared a scenario it cannot express")
	}
}

func TestSelectScenarios(t *testing.T) {
	for spec, want := range map[string]string{
		"all":          "hello proxy",
		"none":         "",
		"proxy":        "proxy",
		"proxy, hello": "proxy hello",
	} {
		scs, err := selectScenarios(spec)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		var names []string
		for _, sc := range scs {
			names = append(names, sc.Name)
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("%q selects %q, want %q", spec, got, want)
		}
	}
	for _, spec := range []string{"", "proxy,", "bogus", "proxy-nocb"} {
		if _, err := selectScenarios(spec); err == nil {
			t.Errorf("%q selected without error", spec)
		}
	}
}
