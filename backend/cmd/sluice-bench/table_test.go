package main

import (
	"errors"
	"slices"
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

// rounds makes one five-second round per rate.
func rounds(rates ...float64) []wrkResult {
	var out []wrkResult
	for _, r := range rates {
		out = append(out, round(r, int64(r)*5))
	}
	return out
}

func TestPrintCallbackCost(t *testing.T) {
	results := []result{
		// sluice's per-round costs are 10%, 12% and 5%; its medians (45k,
		// 50k) make 10% too, but from rounds that did not run together.
		{Scenario: "proxy", Contender: "sluice", Rounds: rounds(45000, 44000, 47500), CPU: 4500 * time.Millisecond},
		{Scenario: "proxy", Contender: "sluice-nocb", Rounds: rounds(50000, 50000, 50000), CPU: 4500 * time.Millisecond},
		{Scenario: "proxy", Contender: "nginx", Rounds: rounds(60000, 60000, 60000)},
		{Scenario: "proxy", Contender: "pipy", Rounds: rounds(42000)},
		{Scenario: "proxy", Contender: "pipy-nocb", Rounds: rounds(41000)},
	}
	var b strings.Builder
	printCallbackCost(&b, results)
	want := "callback cost (sluice): proxy is 10.0% slower than proxy-nocb (median of 3 per-round costs, 5.0% to 12.0%, each from sluice and sluice-nocb back to back); target ≤ 10%\n" +
		"  ratio of medians: 10.0% slower (req/s 45.0k vs 50.0k); CPU µs/req 6.59 vs 6.00 (+9.9%)\n" +
		"callback cost (pipy): proxy is 2.4% faster than proxy-nocb (one round of pipy and pipy-nocb back to back)\n" +
		"  ratio of medians: 2.4% faster (req/s 42.0k vs 41.0k); CPU µs/req 0.00 vs 0.00\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	// The headline pairs rounds, where the medians do not: here sluice-nocb
	// drifts down over the rounds exactly as sluice does.
	b.Reset()
	printCallbackCost(&b, []result{
		{Scenario: "proxy", Contender: "sluice", Rounds: rounds(90000, 72000, 45000)},
		{Scenario: "proxy", Contender: "sluice-nocb", Rounds: rounds(100000, 80000, 50000)},
	})
	if !strings.HasPrefix(b.String(), "callback cost (sluice): proxy is 10.0% slower than proxy-nocb (median of 3 per-round costs, 10.0% to 10.0%, each from sluice and sluice-nocb back to back)") ||
		!strings.Contains(b.String(), "ratio of medians: 10.0% slower (req/s 72.0k vs 80.0k)") {
		t.Errorf("drifting rounds:\n%s", b.String())
	}

	// Nothing to compare without both.
	b.Reset()
	printCallbackCost(&b, results[2:4])
	printCallbackCost(&b, append([]result{{Scenario: "proxy", Contender: "sluice", Err: errors.New("x")}}, results[1:3]...))
	printCallbackCost(&b, []result{results[0], {Scenario: "hello", Contender: "sluice-nocb", Rounds: rounds(50000)}})
	if b.Len() > 0 {
		t.Errorf("cost printed without both results of one scenario:\n%s", b.String())
	}
}

func TestPrintTableNoRatiosForVariants(t *testing.T) {
	results := []result{
		{Scenario: "proxy", Contender: "sluice", Rounds: []wrkResult{round(50000, 250000)}},
		{Scenario: "proxy", Contender: "sluice-nocb", Rounds: []wrkResult{round(55000, 275000)}},
		{Scenario: "proxy", Contender: "pipy", Rounds: []wrkResult{round(40000, 200000)}},
		{Scenario: "proxy", Contender: "pipy-nocb", Rounds: []wrkResult{round(44000, 220000)}},
	}
	var b strings.Builder
	printTable(&b, results)
	out := b.String()
	for _, want := range []string{
		"proxy     sluice-nocb  55.0k (55.0k–55.0k)",
		"proxy     pipy-nocb    44.0k (44.0k–44.0k)",
		"proxy     sluice/pipy  1.25×",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sluice/nginx") || strings.Contains(out, "nocb/") || strings.Contains(out, "/sluice-nocb") {
		t.Errorf("unexpected ratios:\n%s", out)
	}
}

func TestRoundOrder(t *testing.T) {
	groups := groupBy([]string{"s", "s-nocb", "n", "p", "p-nocb"}, func(s string) string {
		base, _ := strings.CutSuffix(s, "-nocb")
		return base
	})
	for n, want := range []string{
		"s s-nocb n p p-nocb",
		"n p-nocb p s-nocb s",
		"p p-nocb s s-nocb n",
		"s-nocb s n p-nocb p",
	} {
		if got := strings.Join(roundOrder(groups, n), " "); got != want {
			t.Errorf("round %d: %s, want %s", n, got, want)
		}
	}
	// Without variants it is rotate.
	single := groupBy([]string{"a", "b", "c"}, func(s string) string { return s })
	for n := range 4 {
		if got, want := roundOrder(single, n), rotate([]string{"a", "b", "c"}, n); !slices.Equal(got, want) {
			t.Errorf("round %d: %v, want %v", n, got, want)
		}
	}
}

// Paired ratios compare each round's runs, so drift that the medians of
// the table take for a difference cancels.
func TestPrintPairedRatios(t *testing.T) {
	results := []result{
		// The machine slows over the rounds: sluice's median (90k) is below
		// nginx's (100k), yet sluice was 1.2× in two of the three rounds.
		{Scenario: "hello", Contender: "sluice", Rounds: rounds(120000, 90000, 60000)},
		{Scenario: "hello", Contender: "nginx", Rounds: rounds(100000, 100000, 50000)},
		{Scenario: "hello", Contender: "pipy", Rounds: rounds(80000)},
		{Scenario: "proxy", Contender: "sluice", Err: errors.New("x")},
		{Scenario: "proxy", Contender: "nginx", Rounds: rounds(40000)},
	}
	var b strings.Builder
	printPairedRatios(&b, results)
	want := "hello sluice/nginx req/s, paired by round: 1.20× (median of 3 rounds, 0.90× to 1.20×)\n" +
		"hello sluice/pipy req/s, paired by round: 1.50×\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestPrintClientBound(t *testing.T) {
	busy := func(share float64, rates ...float64) []wrkResult {
		out := rounds(rates...)
		for i := range out {
			out[i].Elapsed = 5 * time.Second
			out[i].ClientCPU = time.Duration(share * float64(out[i].Elapsed))
		}
		return out
	}
	results := []result{
		// hello: wrk was 97–99 % busy against sluice and nginx, not against
		// pipy, which set its own pace.
		{Scenario: "hello", Contender: "sluice", Rounds: append(busy(0.99, 120000), busy(0.97, 110000)...)},
		{Scenario: "hello", Contender: "nginx", Rounds: busy(0.98, 115000, 118000)},
		{Scenario: "hello", Contender: "pipy", Rounds: append(busy(0.99, 90000), busy(0.8, 85000)...)},
		// proxy: one round left wrk idle half the time.
		{Scenario: "proxy", Contender: "sluice", Rounds: busy(0.99, 80000, 81000)},
		{Scenario: "proxy", Contender: "nginx", Rounds: append(busy(0.99, 40000), busy(0.5, 39000)...)},
		// echo: nginx failed, so sluice has no one to be compared with.
		{Scenario: "echo", Contender: "sluice", Rounds: busy(0.99, 1000)},
		{Scenario: "echo", Contender: "nginx", Err: errors.New("x")},
		// bare: two contenders were client-bound, but not sluice.
		{Scenario: "bare", Contender: "sluice", Rounds: busy(0.5, 1000)},
		{Scenario: "bare", Contender: "nginx", Rounds: busy(0.99, 1000)},
		{Scenario: "bare", Contender: "pipy", Rounds: busy(0.99, 1000)},
	}
	var b strings.Builder
	printClientBound(&b, results)
	want := "hello: wrk was 97–99% busy in every round against sluice, nginx: the load generator set their pace, so their req/s differ by what each server makes wrk do and by noise; compare CPU µs/req for the servers' own cost\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
