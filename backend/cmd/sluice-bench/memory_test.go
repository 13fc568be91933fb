package main

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestPrintMemory(t *testing.T) {
	rs := []memResult{
		{Contender: "sluice", Idle: 12 << 20, Conns: 1000, Held: 112 << 20},
		{Contender: "nginx", Idle: 4 << 20, Conns: 1000, Held: 8 << 20},
		{Contender: "pipy", Conns: 1000, Err: errors.New("exited before answering")},
	}
	var b strings.Builder
	printMemory(&b, rs)
	out := b.String()
	for _, want := range []string{
		"RSS MiB with 1000 idle conns",
		"sluice     12.0          112.0                         102.4",
		"nginx      4.0           8.0                           4.1",
		"pipy       failed",
		"(nginx: master and worker together)",
		"memory targets (sluice): idle 12.0 MiB (target ≤ 30): met; with 1000 idle conns 112.0 MiB (target ≤ 100): MISSED",
		"warning: memory/pipy failed: exited before answering",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("memory table lacks %q:\n%s", want, out)
		}
	}
}

func TestMemoryVerdictOtherConnCount(t *testing.T) {
	got := memoryVerdict(memResult{Contender: "sluice", Idle: 40 << 20, Conns: 10, Held: 41 << 20})
	want := "memory targets (sluice): idle 40.0 MiB (target ≤ 30): MISSED; the 1000-connection target needs -idle-conns 1000"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestHoldIdleConns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveUpstream(ln)
	conns, err := holdIdleConns(t.Context(), ln.Addr().String(), 20)
	for _, c := range conns {
		defer c.Close()
	}
	if err != nil || len(conns) != 20 {
		t.Fatalf("holdIdleConns = %d connections, %v; want 20", len(conns), err)
	}
	// Each connection is still usable: the server kept it open.
	if err := exchangeOnce(conns[7]); err != nil {
		t.Errorf("second request on a held connection: %v", err)
	}
}

func TestExchangeOnceRejectsClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		c.Read(buf)
		c.Write([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"))
	}()
	_, err = holdIdleConns(t.Context(), ln.Addr().String(), 1)
	if err == nil || !strings.Contains(err.Error(), "closes the connection") {
		t.Errorf("err = %v, want one about closing", err)
	}
}
