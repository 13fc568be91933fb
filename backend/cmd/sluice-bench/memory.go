package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Memory targets for sluice running the hello script.
const (
	idleTargetMiB = 30  // just started, no load
	heldTargetMiB = 100 // holding 1,000 idle keep-alive connections
	heldTargetFor = 1000
)

// memResult is one contender's memory running the hello script.
type memResult struct {
	Contender string
	Err       error
	Idle      int64 // RSS after start, before any load, in bytes
	Conns     int   // idle keep-alive connections held open
	Held      int64 // RSS while holding them, in bytes
}

// memory measures every contender's RSS idle and while holding idle
// keep-alive connections, and prints it.
func (b *bench) memory(ctx context.Context) error {
	n := b.opts.IdleConns
	fmt.Printf("\nmemory: hello script; RSS when idle, then with %d idle keep-alive connections (one request answered on each)\n", n)
	var rs []memResult
	for _, c := range b.contenders {
		r := b.measureMemory(ctx, c, n)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.Err != nil {
			fmt.Printf("memory/%s: %v\n", c.Name, r.Err)
		} else {
			fmt.Printf("memory/%s: %s MiB idle, %s MiB with %d connections\n", c.Name, mib(r.Idle), mib(r.Held), r.Conns)
		}
		rs = append(rs, r)
	}
	fmt.Println()
	printMemory(os.Stdout, rs)
	return nil
}

// measureMemory starts c with the hello script, reads its RSS once it
// answers, then opens conns keep-alive connections, has each answer one
// request, and reads its RSS again a second later. Everything it starts
// and opens is closed before it returns.
func (b *bench) measureMemory(ctx context.Context, c contender, conns int) memResult {
	r := memResult{Contender: c.Name, Conns: conns}
	sc, _ := scenarioNamed("hello")
	p, url, err := b.start(ctx, c, sc, 0, b.serverPin)
	if p != nil {
		defer p.Stop()
	}
	if err != nil {
		r.Err = err
		return r
	}
	settle(ctx, 500*time.Millisecond)
	r.Idle = treeRSS(p.Pid())

	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	held, err := holdIdleConns(ctx, addr, conns)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	if err != nil {
		r.Err = fmt.Errorf("after %d connections: %w", len(held), err)
		return r
	}
	settle(ctx, time.Second)
	if p.Exited() {
		r.Err = p.failure("exited while holding connections")
		return r
	}
	r.Held = treeRSS(p.Pid())
	return r
}

// holdIdleConns opens n connections to addr one after another, sends one
// GET on each and reads its answer, and returns them open. On error it
// returns the connections opened so far, which the caller must close.
func holdIdleConns(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	var conns []net.Conn
	d := net.Dialer{Timeout: 5 * time.Second}
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return conns, err
		}
		conns = append(conns, c)
		if err := exchangeOnce(c); err != nil {
			return conns, err
		}
	}
	return conns, nil
}

// exchangeOnce sends one keep-alive GET on c and reads the full answer,
// which must leave the connection open.
func exchangeOnce(c net.Conn) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	switch {
	case resp.StatusCode != 200:
		return fmt.Errorf("status %d", resp.StatusCode)
	case resp.Close:
		return errors.New("the server closes the connection after one request")
	}
	return nil
}

// settle waits d, or less if ctx ends.
func settle(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// printMemory writes the memory table and how sluice stands against its
// targets.
func printMemory(w io.Writer, rs []memResult) {
	if len(rs) == 0 {
		return
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "contender\tidle RSS MiB\tRSS MiB with %d idle conns\tKiB per conn\t\n", rs[0].Conns)
	var notes []string
	nginx := false
	for _, r := range rs {
		nginx = nginx || r.Contender == "nginx"
		if r.Err != nil {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t\n", r.Contender)
			notes = append(notes, fmt.Sprintf("warning: memory/%s failed: %v", r.Contender, r.Err))
			continue
		}
		perConn := float64(r.Held-r.Idle) / float64(r.Conns) / 1024
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t\n", r.Contender, mib(r.Idle), mib(r.Held), perConn)
		if r.Contender == "sluice" {
			notes = append(notes, memoryVerdict(r))
		}
	}
	tw.Flush()
	writeTable(w, table.String())
	if nginx {
		fmt.Fprintln(w, "(nginx: master and worker together)")
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

// memoryVerdict compares sluice's memory with its targets.
func memoryVerdict(r memResult) string {
	idle := fmt.Sprintf("idle %s MiB (target ≤ %d): %s", mib(r.Idle), idleTargetMiB, verdict(r.Idle <= idleTargetMiB<<20))
	if r.Conns != heldTargetFor {
		return "memory targets (sluice): " + idle + fmt.Sprintf("; the %d-connection target needs -idle-conns %d", heldTargetFor, heldTargetFor)
	}
	held := fmt.Sprintf("with %d idle conns %s MiB (target ≤ %d): %s", r.Conns, mib(r.Held), heldTargetMiB, verdict(r.Held <= heldTargetMiB<<20))
	return "memory targets (sluice): " + idle + "; " + held
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f", float64(n)/(1<<20))
}
