package main

import (
	"slices"
	"strings"
	"testing"
)

func TestProxyScriptsDifferOnlyByTheCallback(t *testing.T) {
	with, _ := scenarioNamed("proxy")
	without, _ := scenarioNamed("proxy-nocb")
	a := strings.Split(with.Script(8000, 9000), "\n")
	b := strings.Split(without.Script(8000, 9000), "\n")
	if len(a) != len(b)+1 {
		t.Fatalf("proxy has %d lines, proxy-nocb %d; want one more", len(a), len(b))
	}
	if want := "pipy({ _target: '127.0.0.1:9000' })"; b[0] != want {
		t.Errorf("proxy-nocb starts %q, want %q", b[0], want)
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
			t.Errorf("proxy-nocb lacks %q", l)
		}
	}
}

func TestScenarioContenders(t *testing.T) {
	nocb, _ := scenarioNamed("proxy-nocb")
	hello, _ := scenarioNamed("hello")
	for _, tt := range []struct {
		sc   scenario
		name string
		want bool
	}{
		{nocb, "sluice", true}, {nocb, "pipy", true}, {nocb, "nginx", false},
		{hello, "sluice", true}, {hello, "nginx", true},
	} {
		if got := tt.sc.appliesTo(tt.name); got != tt.want {
			t.Errorf("%s.appliesTo(%s) = %v", tt.sc.Name, tt.name, got)
		}
	}
	if _, err := nginxContender("nginx").Prepare(t.TempDir(), nocb, 1, 2); err == nil {
		t.Error("nginx prepared a scenario it cannot express")
	}
}

func TestSelectScenarios(t *testing.T) {
	for spec, want := range map[string]string{
		"all":               "hello proxy proxy-nocb",
		"none":              "",
		"proxy":             "proxy",
		"proxy, proxy-nocb": "proxy proxy-nocb",
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
	for _, spec := range []string{"", "proxy,", "bogus"} {
		if _, err := selectScenarios(spec); err == nil {
			t.Errorf("%q selected without error", spec)
		}
	}
}
