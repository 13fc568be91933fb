package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPrintCurve(t *testing.T) {
	points := []curvePoint{
		{1, result{Scenario: "hello", Contender: "sluice-t1", Rounds: []wrkResult{round(100000, 500000)}, CPU: 5 * time.Second, RSS: 10 << 20}},
		{2, result{Scenario: "hello", Contender: "sluice-t2", Rounds: []wrkResult{round(150000, 750000)}, CPU: 9 * time.Second, RSS: 15 << 20}},
		{1, result{Scenario: "proxy", Contender: "sluice-t1", Rounds: []wrkResult{round(50000, 250000)}}},
		{2, result{Scenario: "proxy", Contender: "sluice-t2", Err: errors.New("exited during the run")}},
	}
	var b strings.Builder
	printCurve(&b, points)
	out := b.String()
	for _, want := range []string{
		"hello     1        100.0k (100.0k–100.0k)",
		"hello     2        150.0k (150.0k–150.0k)",
		"hello     2 vs 1   1.50×",
		"1.20×", // CPU per request: 12 µs against 10
		"proxy     2        failed",
		"warning: proxy with 2 threads failed: exited during the run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("curve lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "proxy     2 vs 1") {
		t.Errorf("ratio printed for a failed thread count:\n%s", out)
	}
}
