package metrics

import (
	"math"
	"sync/atomic"
	"time"
)

// The built-in metrics. Their names, labels and units are Pipy 0.30's, so
// dashboards made for Pipy work unchanged:
//
//	pipy_inbound_count{listen, peer}    open accepted connections (gauge)
//	pipy_inbound_in{listen, peer}       bytes received from clients (counter)
//	pipy_inbound_out{listen, peer}      bytes sent to clients (counter)
//	pipy_outbound_count{peer}           open upstream connections (gauge)
//	pipy_outbound_in{peer}              bytes received from upstreams (counter)
//	pipy_outbound_out{peer}             bytes sent to upstreams (counter)
//	pipy_outbound_conn_time{peer}       connect time in milliseconds (histogram)
//	pipy_pipeline_count{module, name}   live pipelines per layout (gauge)
//
// listen is the listening pipeline's title ("Listen on 8000 at 0.0.0.0"),
// peer a client's IP address or an upstream's host:port. Each metric also
// has its total without labels, and the connection gauges their subtotal
// per listener.
//
// The engine calls OpenInbound, OpenOutbound and Pipelines; nothing here
// touches a script.
var (
	inboundCount     = builtin(Gauge, "pipy_inbound_count", "Open accepted connections.", nil, "listen", "peer")
	inboundIn        = builtin(Counter, "pipy_inbound_in", "Bytes received from clients.", nil, "listen", "peer")
	inboundOut       = builtin(Counter, "pipy_inbound_out", "Bytes sent to clients.", nil, "listen", "peer")
	outboundCount    = builtin(Gauge, "pipy_outbound_count", "Open upstream connections.", nil, "peer")
	outboundIn       = builtin(Counter, "pipy_outbound_in", "Bytes received from upstreams.", nil, "peer")
	outboundOut      = builtin(Counter, "pipy_outbound_out", "Bytes sent to upstreams.", nil, "peer")
	outboundConnTime = builtin(Histogram, "pipy_outbound_conn_time", "Time to connect to upstreams, in milliseconds.", connTimeBuckets(), "peer")
	pipelineCount    = builtin(Gauge, "pipy_pipeline_count", "Live pipelines per pipeline layout.", nil, "module", "name")
)

func builtin(kind Kind, name, help string, buckets []float64, labelNames ...string) *Metric {
	m, err := Default.Define(kind, name, help, labelNames, buckets)
	if err != nil {
		panic("metrics: " + err.Error())
	}
	m.Zero() // exported from the start, at 0
	return m
}

// connTimeBuckets are Pipy's: floor(1.5^k) for k = 1..20 milliseconds,
// then +Inf.
func connTimeBuckets() []float64 {
	var b []float64
	limit := 1.5
	for range 20 {
		if f := math.Floor(limit); len(b) == 0 || f > b[len(b)-1] {
			b = append(b, f)
		}
		limit *= 1.5
	}
	return append(b, math.Inf(1))
}

// Inbound accounts for one accepted connection. Open it when the
// connection is accepted, report bytes as they pass, and Close it once.
// Safe for concurrent use.
type Inbound struct {
	listen, peer string
	in, out      *Metric
	closed       atomic.Bool
}

// OpenInbound counts a new connection from peer (the client's IP address)
// on the listener titled listen.
func OpenInbound(listen, peer string) *Inbound {
	inboundCount.Increase(1)
	byListen := inboundCount.WithLabels(listen)
	byListen.Increase(1)
	byListen.adjust(peer, 1)
	return &Inbound{
		listen: listen, peer: peer,
		in:  inboundIn.WithLabels(listen, peer),
		out: inboundOut.WithLabels(listen, peer),
	}
}

// Received counts n bytes read from the client.
func (c *Inbound) Received(n int) {
	c.in.Increase(float64(n))
	inboundIn.Increase(float64(n))
}

// Sent counts n bytes written to the client.
func (c *Inbound) Sent(n int) {
	c.out.Increase(float64(n))
	inboundOut.Increase(float64(n))
}

// Close counts the connection as closed. Later calls do nothing.
func (c *Inbound) Close() {
	if c.closed.Swap(true) {
		return
	}
	inboundCount.Decrease(1)
	byListen := inboundCount.WithLabels(c.listen)
	byListen.Decrease(1)
	byListen.adjust(c.peer, -1)
}

// Outbound accounts for one upstream connection, like Inbound. Safe for
// concurrent use.
type Outbound struct {
	peer      string
	in, out   *Metric
	connected atomic.Bool
	closed    atomic.Bool
	connTime  *Metric
}

// OpenOutbound counts a new connection to peer (host:port), from the
// moment it is being made.
func OpenOutbound(peer string) *Outbound {
	outboundCount.Increase(1)
	outboundCount.adjust(peer, 1)
	return &Outbound{
		peer:     peer,
		in:       outboundIn.WithLabels(peer),
		out:      outboundOut.WithLabels(peer),
		connTime: outboundConnTime.WithLabels(peer),
	}
}

// Connected records how long connecting took. Only the first call counts.
func (c *Outbound) Connected(d time.Duration) {
	if c.connected.Swap(true) {
		return
	}
	ms := float64(d) / float64(time.Millisecond)
	c.connTime.Observe(ms)
	outboundConnTime.Observe(ms)
}

// Received counts n bytes read from the upstream.
func (c *Outbound) Received(n int) {
	c.in.Increase(float64(n))
	outboundIn.Increase(float64(n))
}

// Sent counts n bytes written to the upstream.
func (c *Outbound) Sent(n int) {
	c.out.Increase(float64(n))
	outboundOut.Increase(float64(n))
}

// Close counts the connection as closed. Later calls do nothing.
func (c *Outbound) Close() {
	if c.closed.Swap(true) {
		return
	}
	outboundCount.Decrease(1)
	outboundCount.adjust(c.peer, -1)
}

// PipelineGauge counts the live pipelines of one layout. Get it once per
// layout with Pipelines and call Start and End as pipelines are made and
// released. Safe for concurrent use.
type PipelineGauge struct{ m *Metric }

// Pipelines returns the gauge of the layout name of module (its path, or
// "" for layouts outside modules).
func Pipelines(module, name string) PipelineGauge {
	return PipelineGauge{pipelineCount.WithLabels(module, name)}
}

// Start counts one more live pipeline.
func (g PipelineGauge) Start() {
	g.m.Increase(1)
	pipelineCount.Increase(1)
}

// End counts one fewer.
func (g PipelineGauge) End() {
	g.m.Decrease(1)
	pipelineCount.Decrease(1)
}
