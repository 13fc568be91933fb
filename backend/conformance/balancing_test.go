package conformance_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"sluice/backend/algo"
)

// A weighted round robin over upstreams, one pick per request, with one
// shared upstream connection per target (muxHTTP keyed by the target).
const roundRobinScript = `(config =>

pipy({
  _balancer: new algo.RoundRobinLoadBalancer(config.weights),
  _target: '',
})

.listen($PORT)
  .demuxHTTP('request')

.pipeline('request')
  .handleMessageStart(
    () => _target = _balancer.select()
  )
  .muxHTTP(
    'connection',
    () => _target
  )

.pipeline('connection')
  .connect(
    () => _target
  )

)(JSON.decode(pipy.load('config/balancer.json')))
`

func TestRoundRobinWithWeights(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	p := startProxy(t, 1, "/proxy.js", map[string]string{
		"/proxy.js": roundRobinScript,
		// Keys keep their order: a first.
		"/config/balancer.json": `{"weights": {"` + a.addr + `": 2, "` + b.addr + `": 1}}`,
	}, nil)

	// Every request is on a new connection: the rotation spans connections.
	c := fresh(t)
	var got []string
	for range 9 {
		r := c.get(p.base + "/x")
		got = append(got, strings.Fields(r.body)[0])
	}
	if want := "a b a a b a a b a"; strings.Join(got, " ") != want {
		t.Errorf("targets %q, want %q", strings.Join(got, " "), want)
	}
	// One upstream connection per target, kept across client connections.
	if a.connections() != 1 || b.connections() != 1 {
		t.Errorf("upstream connections: a %d, b %d; want 1 each", a.connections(), b.connections())
	}
}

// The proxy of tutorials 08 and 09: a 'session' pipeline that every plugin
// may have runs once per client connection, before demuxHTTP, so what it
// creates lives as long as the connection; each request's context is a
// clone that shares those objects.
const pluginProxyScript = `(config =>

pipy()

.export('proxy', {
  __turnDown: false,
})

.listen($PORT)
  .use(config.plugins, 'session')
  .demuxHTTP('request')

.pipeline('request')
  .use(
    config.plugins,
    'request',
    'response',
    () => __turnDown
  )

)(JSON.decode(pipy.load('config/proxy.json')))
`

// The balancer plugin keeps, per client connection, the target its
// balancer chose (an algo.Cache created in the session pipeline, cleared
// when the connection ends, which gives the target back with deselect).
const stickyBalancerScript = `(config =>

pipy({
  _balancer: new algo[config.algorithm](config.targets),
  _balancerCache: null,
  _target: '',
})

.import({
  __turnDown: 'proxy',
})

.pipeline('session')
  .handleStreamStart(
    () => _balancerCache = new algo.Cache(
      balancer => balancer.select(),
      (balancer, target) => balancer.deselect(target),
    )
  )
  .handleStreamEnd(
    () => _balancerCache.clear()
  )

.pipeline('request')
  .handleMessageStart(
    () => (
      _target = _balancerCache.get(_balancer),
      __turnDown = Boolean(_target)
    )
  )
  .link(
    'forward', () => __turnDown,
    ''
  )

.pipeline('forward')
  .muxHTTP(
    'connection',
    () => _target
  )

.pipeline('connection')
  .connect(
    () => _target
  )

)(JSON.decode(pipy.load('config/balancer.json')))
`

const defaultPluginScript = `pipy()

.pipeline('request')
  .replaceMessage(
    new Message({ status: 404 }, 'No handler')
  )
`

func stickyCodebase(t *testing.T, algorithm string, targets ...string) map[string]string {
	return map[string]string{
		"/proxy.js":             pluginProxyScript,
		"/plugins/balancer.js":  stickyBalancerScript,
		"/plugins/default.js":   defaultPluginScript,
		"/config/proxy.json":    `{"plugins": ["plugins/balancer.js", "plugins/default.js"]}`,
		"/config/balancer.json": jsonConfig(t, map[string]any{"algorithm": algorithm, "targets": targets}),
	}
}

func TestStickyPerConnection(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	p := startProxy(t, 1, "/proxy.js", stickyCodebase(t, "RoundRobinLoadBalancer", a.addr, b.addr), nil)

	var firsts []string
	for i := range 4 {
		c := newClient(t, "")
		first := c.get(p.base + "/hi").body
		for j := range 3 {
			if r := c.get(p.base + fmt.Sprintf("/hi/%d", j)); strings.Fields(r.body)[0] != strings.Fields(first)[0] {
				t.Errorf("connection %d: request %d went to %q, the first to %q", i, j, r.body, first)
			}
		}
		firsts = append(firsts, strings.Fields(first)[0])
		c.close()
	}
	if got := strings.Join(firsts, " "); got != "a b a b" {
		t.Errorf("connections went to %q, want them to rotate: a b a b", got)
	}
}

// With a least-work balancer, a connection's target counts as work until
// the connection ends: the session's cache gives it back then.
func TestStickyLeastWorkReleasedAtConnectionEnd(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	p := startProxy(t, 1, "/proxy.js", stickyCodebase(t, "LeastWorkLoadBalancer", a.addr, b.addr), nil)
	target := func(c *client) string { return strings.Fields(c.get(p.base + "/").body)[0] }

	c1, c2, c3 := newClient(t, ""), newClient(t, ""), newClient(t, "")
	if got := target(c1) + target(c2) + target(c3); got != "aba" {
		t.Fatalf("three open connections went to %q, want a, b, then a (a tie goes to the first)", got)
	}
	c1.close()
	c3.close() // a is idle again, b still has c2
	eventually(t, "the proxy to see the connections end", func() bool { return p.srv.Connections() == 1 })
	c4 := newClient(t, "")
	if got := target(c4); got != "a" {
		t.Errorf("after a's connections ended, a new connection went to %q, want a", got)
	}
	if got := target(c2); got != "b" {
		t.Errorf("the second connection moved to %q", got)
	}
}

// Tutorial 09's connection pool: each client connection borrows a
// connection id from an algo.ResourcePool for as long as it lives, and
// muxHTTP keys upstream sessions by that id. So N concurrent clients use
// N upstream connections, each client always the same one, and ids (and
// with them upstream connections) are reused by later clients.
const poolBalancerScript = `(config =>

pipy({
  _balancer: new algo.RoundRobinLoadBalancer(config.targets),
  _balancerCache: null,
  _target: '',
  _targetCache: null,

  _g: {
    connectionID: 0,
  },

  _connectionPool: new algo.ResourcePool(
    () => ++_g.connectionID
  ),
})

.import({
  __turnDown: 'proxy',
})

.pipeline('session')
  .handleStreamStart(
    () => (
      _targetCache = new algo.Cache(
        // a target -> the id of a connection to it
        target => _connectionPool.allocate(target),
        (target, id) => _connectionPool.free(id),
      ),
      _balancerCache = new algo.Cache(
        balancer => balancer.select(),
        (balancer, target) => balancer.deselect(target),
      )
    )
  )
  .handleStreamEnd(
    () => (
      _targetCache.clear(),
      _balancerCache.clear()
    )
  )

.pipeline('request')
  .handleMessageStart(
    () => (
      _target = _balancerCache.get(_balancer),
      _target && (__turnDown = true)
    )
  )
  .link(
    'forward', () => Boolean(_target),
    ''
  )

.pipeline('forward')
  .muxHTTP(
    'connection',
    () => _targetCache.get(_target)
  )

.pipeline('connection')
  .connect(
    () => _target
  )

)(JSON.decode(pipy.load('config/balancer.json')))
`

func TestConnectionPoolIDsAsMuxKeys(t *testing.T) {
	u := newUpstream(t, "u")
	files := stickyCodebase(t, "RoundRobinLoadBalancer", u.addr)
	files["/plugins/balancer.js"] = poolBalancerScript
	p := startProxy(t, 1, "/proxy.js", files, nil)

	// round opens n client connections at once, sends two requests on each,
	// and returns the upstream connection that served each client.
	round := func(n int) []string {
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = newClient(t, "")
		}
		conns := make([]string, n)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r1 := c.get(p.base + "/one")
				r2 := c.get(p.base + "/two")
				conns[i] = r1.header.Get("x-upstream-conn")
				if r2.header.Get("x-upstream-conn") != conns[i] {
					t.Errorf("client %d: two upstream connections, %s and %s", i, conns[i], r2.header.Get("x-upstream-conn"))
				}
			}()
		}
		wg.Wait()
		for _, c := range clients {
			c.close()
		}
		eventually(t, "every client connection to end", func() bool { return p.srv.Connections() == 0 })
		return conns
	}

	first := round(3)
	if got := u.connections(); got != 3 {
		t.Errorf("3 concurrent clients made %d upstream connections, want 3", got)
	}
	distinct := map[string]bool{}
	for _, c := range first {
		distinct[c] = true
	}
	if len(distinct) != 3 {
		t.Errorf("3 concurrent clients shared upstream connections: %v", first)
	}

	second := round(3)
	if got := u.connections(); got != 3 {
		t.Errorf("after the ids were given back, 3 new clients made %d more upstream connections, want none", got-3)
	}
	for _, c := range second {
		if !distinct[c] {
			t.Errorf("a later client used upstream connection %s, not one of the pool's %v", c, first)
		}
	}
}

// Sticky sessions by a request header with algo.HashingLoadBalancer: the
// key alone decides the target, so a user meets the same target on every
// connection and on every worker, with no state shared between them. A
// target marked unhealthy is not replaced by another (no fallback).
const hashingScript = `(config =>

pipy({
  _balancer: new algo.HashingLoadBalancer(
    config.targets,
    (cache => (config.down.forEach(t => cache.set(t, true)), cache))(new algo.Cache()),
  ),
  _target: undefined,
})

.listen($PORT)
  .demuxHTTP('request')

.pipeline('request')
  .handleMessageStart(
    msg => _target = _balancer.select(
      msg.head.headers['authorization'] || __inbound.remoteAddress
    )
  )
  .link(
    'forward', () => Boolean(_target),
    'unavailable'
  )

.pipeline('forward')
  .muxHTTP(
    'connection',
    () => _target
  )

.pipeline('connection')
  .connect(
    () => _target
  )

.pipeline('unavailable')
  .replaceMessage(
    new Message({ status: 503 }, 'No target')
  )

)(JSON.decode(pipy.load('config/balancer.json')))
`

func TestStickyByHeaderWithHashing(t *testing.T) {
	ups := []*upstream{newUpstream(t, "a"), newUpstream(t, "b"), newUpstream(t, "c")}
	targets := []string{ups[0].addr, ups[1].addr, ups[2].addr}
	names := map[string]string{ups[0].addr: "a", ups[1].addr: "b", ups[2].addr: "c"}
	p := startProxy(t, 2, "/proxy.js", map[string]string{
		"/proxy.js":             hashingScript,
		"/config/balancer.json": jsonConfig(t, map[string]any{"targets": targets, "down": []string{ups[2].addr}}),
	}, nil)

	// The expected target of a key: targets[hash(key) % 3], or none when
	// that is c, which is down.
	want := func(user string) string {
		n := names[targets[algo.Hash(user)%uint64(len(targets))]]
		if n == "c" {
			return "503 No target"
		}
		return n
	}
	answer := func(c *client, user string) string {
		r := c.get(p.base+"/hi", "authorization", user)
		if r.status != 200 {
			return fmt.Sprintf("%d %s", r.status, r.body)
		}
		return strings.Fields(r.body)[0]
	}

	// held stays open on worker 0, so each new connection made meanwhile
	// goes to worker 1: both workers answer every user.
	held := newClient(t, "")
	spread := map[string]bool{}
	for i := range 12 {
		user := fmt.Sprintf("Bearer user-%d", i)
		w := want(user)
		spread[w] = true
		if got := answer(held, user); got != w {
			t.Errorf("%s on the held connection: %q, want %q", user, got, w)
		}
		for range 2 {
			c := newClient(t, "")
			if got := answer(c, user); got != w {
				t.Errorf("%s on a new connection: %q, want %q", user, got, w)
			}
			c.close()
		}
	}
	if len(spread) < 3 {
		t.Errorf("12 users did not spread over a, b and the down target: %v", spread)
	}
}
