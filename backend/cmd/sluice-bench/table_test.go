package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func round(rate float64, requests int64) wrkResult {
	return wrkResult{ReqPerSec: rate, Requests: requests, Latency: map[int]time.Duration{
		50: 500 * time.Microsecond, 99: time.Millisecond}}
}

func TestPrintTable(t *testing.T) {
	results := []result{
		{Scenario: "hello", Contender: "sluice", Rounds: []wrkResult{round(90000, 450000), round(100000, 500000), round(110000, 550000)},
			CPU: 1500 * time.Millisecond, RSS: 20 << 20},
		{Scenario: "hello", Contender: "nginx", Rounds: []wrkResult{round(70000, 350000), round(71000, 355000), round(72000, 360000)},
			CPU: 1065 * time.Millisecond, RSS: 10 << 20},
		{Scenario: "proxy", Contender: "sluice", Err: errors.New("exited before answering")},
		{Scenario: "proxy", Contender: "nginx", Rounds: []wrkResult{round(30000, 150000)}, RSS: 12 << 20},
	}
	var b strings.Builder
	printTable(&b, results)
	out := b.String()
	for _, want := range []string{
		"hello     sluice        100.0k (90.0k–110.0k)",
		"1.00",  // sluice CPU µs/req: 1.5 s / 1.5 M requests
		"1.41×", // sluice/nginx req/s
		"2.00×", // sluice/nginx RSS
		"proxy     sluice        failed",
		"warning: hello/sluice: req/s spread 20%",
		"warning: proxy/sluice failed: exited before answering",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hello/nginx: req/s spread") {
		t.Errorf("nginx spread of 3%% reported:\n%s", out)
	}
	if strings.Contains(out, "proxy     sluice/nginx") {
		t.Errorf("ratio printed for a failed contender:\n%s", out)
	}
}

func TestRotate(t *testing.T) {
	v := []string{"a", "b", "c"}
	for n, want := range []string{"abc", "bca", "cab", "abc"} {
		if got := strings.Join(rotate(v, n), ""); got != want {
			t.Errorf("rotate(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	got := parseCPUList("0-2,5,7-8")
	want := []int{0, 1, 2, 5, 7, 8}
	if len(got) != len(want) {
		t.Fatalf("parseCPUList = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("parseCPUList = %v, want %v", got, want)
		}
	}
}

func TestPrintCallbackCost(t *testing.T) {
	results := []result{
		{Scenario: "proxy", Contender: "sluice", Rounds: []wrkResult{round(45000, 450000)}, CPU: 9 * time.Second},
		{Scenario: "proxy", Contender: "nginx", Rounds: []wrkResult{round(60000, 600000)}},
		{Scenario: "proxy", Contender: "pipy", Rounds: []wrkResult{round(42000, 420000)}},
		{Scenario: "proxy-nocb", Contender: "sluice", Rounds: []wrkResult{round(50000, 500000)}, CPU: 9 * time.Second},
		{Scenario: "proxy-nocb", Contender: "pipy", Rounds: []wrkResult{round(41000, 410000)}},
	}
	var b strings.Builder
	printCallbackCost(&b, results)
	want := "callback cost (sluice): proxy is 10.0% slower than proxy-nocb (req/s 45.0k vs 50.0k; CPU µs/req 20.00 vs 18.00); target ≤ 10%\n" +
		"callback cost (pipy): proxy is 2.4% faster than proxy-nocb (req/s 42.0k vs 41.0k; CPU µs/req 0.00 vs 0.00)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	// Nothing to compare without both scenarios.
	b.Reset()
	printCallbackCost(&b, results[:3])
	printCallbackCost(&b, append([]result{{Scenario: "proxy", Contender: "sluice", Err: errors.New("x")}}, results[3:]...))
	if b.Len() > 0 {
		t.Errorf("cost printed without a proxy result:\n%s", b.String())
	}
}

func TestPrintTableSkipsRatiosForAbsentContenders(t *testing.T) {
	results := []result{
		{Scenario: "proxy-nocb", Contender: "sluice", Rounds: []wrkResult{round(50000, 250000)}},
		{Scenario: "proxy-nocb", Contender: "pipy", Rounds: []wrkResult{round(40000, 200000)}},
	}
	var b strings.Builder
	printTable(&b, results)
	out := b.String()
	if !strings.Contains(out, "proxy-nocb  sluice/pipy  1.25×") || strings.Contains(out, "sluice/nginx") {
		t.Errorf("unexpected ratios:\n%s", out)
	}
}
