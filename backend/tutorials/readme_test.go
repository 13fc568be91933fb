package tutorials

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestCommands(t *testing.T) {
	readme := "# Title\n\n```sh\nsluice --tutorial 01\n```\n\n" +
		"```console\n$ curl localhost:8000/a\nline 1\nline 2\n$ sleep 1\n$ curl -d 'x y' \\\n  localhost:8000/b\n\n```\n\n" +
		"```console\n$ curl -s localhost:6060/metrics | grep 'x_total'\nx_total 1\n```\n"
	cmds, err := Commands(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Line: 8, Text: "curl localhost:8000/a", Args: []string{"curl", "localhost:8000/a"}, Output: "line 1\nline 2\n"},
		{Line: 11, Text: "sleep 1", Args: []string{"sleep", "1"}},
		{Line: 12, Text: "curl -d 'x y' \n  localhost:8000/b", Args: []string{"curl", "-d", "x y", "localhost:8000/b"}, Output: "\n"},
		{Line: 18, Text: "curl -s localhost:6060/metrics | grep 'x_total'", Args: []string{"curl", "-s", "localhost:6060/metrics"},
			Pipe: []string{"grep", "x_total"}, Output: "x_total 1\n"},
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("got  %#v\nwant %#v", cmds, want)
	}
	for _, bad := range []string{
		"```console\noutput first\n```\n",
		"```console\n$ curl x\n",
		"```console\n$ curl x | sort\n```\n",
		"```console\n$ curl $(cat f)\n```\n",
	} {
		if _, err := Commands(bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestSplitShell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`curl -H 'A: b c' x`, []string{"curl", "-H", "A: b c", "x"}},
		{`curl -d "{\"a\": 1}" x`, []string{"curl", "-d", `{"a": 1}`, "x"}},
		{`a\ b 'c'"d"`, []string{"a b", "cd"}},
		{`x|grep y`, []string{"x", "|", "grep", "y"}},
		{`''`, []string{""}},
	} {
		got, err := splitShell(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitShell(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, "a && b", "a; b", "a > f", "echo $HOME", "ls *"} {
		if _, err := splitShell(bad); err == nil {
			t.Errorf("splitShell(%q): no error", bad)
		}
	}
}

func TestRemapPorts(t *testing.T) {
	ports := map[int]int{8000: 20001, 8080: 20002}
	in := `{"listen": 8000, "targets": ["127.0.0.1:8080", "127.0.0.1:18080", "10.0.0.80:80800"]}`
	want := `{"listen": 20001, "targets": ["127.0.0.1:20002", "127.0.0.1:18080", "10.0.0.80:80800"]}`
	if got := string(RemapPorts([]byte(in), ports)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"hello":           "hello\n",
		"a\r\nb\r\n\r\nc": "a\nb\n\nc\n",
		"done\n":          "done\n",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	var e Expectation
	if err := json.Unmarshal([]byte(`{"sleep": "1.5s", "retryFor": 2}`), &e); err != nil {
		t.Fatal(err)
	}
	if time.Duration(e.Sleep) != 1500*time.Millisecond || time.Duration(e.RetryFor) != 2*time.Second {
		t.Errorf("sleep %v, retryFor %v", time.Duration(e.Sleep), time.Duration(e.RetryFor))
	}
	if err := json.Unmarshal([]byte(`{"sleep": "soon"}`), &e); err == nil {
		t.Error("no error for a bad duration")
	}
}
