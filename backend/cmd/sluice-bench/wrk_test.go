package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file       string
		requests   int64
		elapsed    time.Duration
		rate       float64
		p50, p99   time.Duration
		non2xx     int64
		sockErrors int64
	}{
		{"wrk-ok.txt", 141193, 2 * time.Second, 70510.41, 508 * time.Microsecond, 1150 * time.Microsecond, 0, 0},
		{"wrk-non2xx.txt", 76848, 1100 * time.Millisecond, 69800.65, 510 * time.Microsecond, 1300 * time.Microsecond, 76848, 0},
		{"wrk-socket-errors.txt", 0, 1100 * time.Millisecond, 0, 0, 0, 0, 14428},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseWrk(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if got.Requests != tt.requests || got.Elapsed != tt.elapsed || got.ReqPerSec != tt.rate {
				t.Errorf("requests, elapsed, rate = %d, %v, %v; want %d, %v, %v",
					got.Requests, got.Elapsed, got.ReqPerSec, tt.requests, tt.elapsed, tt.rate)
			}
			if got.P50() != tt.p50 || got.P99() != tt.p99 {
				t.Errorf("p50, p99 = %v, %v; want %v, %v", got.P50(), got.P99(), tt.p50, tt.p99)
			}
			if len(got.Latency) != 4 {
				t.Errorf("got %d percentiles, want 4: %v", len(got.Latency), got.Latency)
			}
			if got.Non2xx != tt.non2xx || got.SockErrors != tt.sockErrors {
				t.Errorf("non2xx, socket errors = %d, %d; want %d, %d", got.Non2xx, got.SockErrors, tt.non2xx, tt.sockErrors)
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	refused, err := os.ReadFile("testdata/wrk-refused.txt")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := os.ReadFile("testdata/wrk-ok.txt")
	if err != nil {
		t.Fatal(err)
	}
	noLatency := strings.Replace(string(ok), "  Latency Distribution\n", "", 1)
	for name, out := range map[string]string{
		"refused":    string(refused),
		"empty":      "",
		"no latency": noLatency,
	} {
		if _, err := parseWrk(out); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"508.00us": 508 * time.Microsecond,
		"1.15ms":   1150 * time.Microsecond,
		"2.00s":    2 * time.Second,
		"1.50m":    90 * time.Second,
		"0.00us":   0,
	} {
		got, err := parseWrkDuration(in)
		if err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.0", "abcms", "5ns"} {
		if _, err := parseWrkDuration(in); err == nil {
			t.Errorf("parseWrkDuration(%q) succeeded", in)
		}
	}
}
