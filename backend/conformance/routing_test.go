package conformance_test

import "testing"

// A router whose routes may rewrite the path (tutorial 10): a route is
// {service, rewrite?: [pattern, replacement]}, and the rewrite changes
// msg.head.path before the request goes upstream.
const rewriteRouterScript = `(config =>

pipy({
  _router: new algo.URLRouter(
    Object.fromEntries(
      Object.entries(config.routes).map(
        ([path, route]) => [
          path,
          {
            ...route,
            rewrite: route.rewrite && [new RegExp(route.rewrite[0]), route.rewrite[1]],
          }
        ]
      )
    )
  ),
  _route: null,
  _target: '',
})

.listen($PORT)
  .demuxHTTP('request')

.pipeline('request')
  .handleMessageStart(
    msg => (
      _route = _router.find(msg.head.headers.host, msg.head.path),
      _route && (
        _target = config.services[_route.service],
        _route.rewrite && (
          msg.head.path = msg.head.path.replace(_route.rewrite[0], _route.rewrite[1])
        )
      )
    )
  )
  .link(
    'forward', () => Boolean(_target),
    'not-found'
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

.pipeline('not-found')
  .replaceMessage(
    new Message({ status: 404 }, 'No route')
  )

)(JSON.decode(pipy.load('config/router.json')))
`

func TestPathRewriting(t *testing.T) {
	ip, api, hi := newUpstream(t, "ip"), newUpstream(t, "api"), newUpstream(t, "hi")
	p := startProxy(t, 2, "/proxy.js", map[string]string{
		"/proxy.js": rewriteRouterScript,
		"/config/router.json": jsonConfig(t, map[string]any{
			"services": map[string]string{"tell-ip": ip.addr, "api": api.addr, "hi": hi.addr},
			"routes": map[string]any{
				"/ip/*":     map[string]any{"service": "tell-ip", "rewrite": []string{"^/ip/?", "/"}},
				"/api/v1/*": map[string]any{"service": "api", "rewrite": []string{"^/api/v1", "/v2"}},
				"/hi/*":     map[string]any{"service": "hi"},
			},
		}),
	}, nil)

	c := newClient(t, "")
	for _, tt := range []struct{ path, want string }{
		{"/ip/a", "ip /a"},
		{"/ip", "ip /"},
		{"/ip/", "ip /"},
		{"/ip/a/b?x=1", "ip /a/b?x=1"},
		{"/api/v1/users?page=2", "api /v2/users?page=2"},
		{"/api/v1", "api /v2"},
		{"/hi/there", "hi /hi/there"}, // no rewrite: the path goes as it came
	} {
		if r := c.get(p.base + tt.path); r.status != 200 || r.body != tt.want {
			t.Errorf("%s: got %d %q, want 200 %q", tt.path, r.status, r.body, tt.want)
		}
	}
	if r := c.get(p.base + "/elsewhere"); r.status != 404 || r.body != "No route" {
		t.Errorf("/elsewhere: got %d %q, want 404 No route", r.status, r.body)
	}
}

// IP allow and deny lists per service (tutorial 13): a service with an
// allow list admits only those addresses, one with a deny list refuses
// those, and a refused client gets 403 "Access denied". The client's
// address is __inbound.remoteAddress.
const banScript = `(config =>

pipy({
  _router: new algo.URLRouter(config.routes),
  _rules: Object.fromEntries(
    Object.entries(config.rules).map(
      ([service, rule]) => [
        service,
        {
          allow: rule.allow?.length > 0 ? Object.fromEntries(rule.allow.map(ip => [ip, true])) : null,
          deny: rule.deny?.length > 0 ? Object.fromEntries(rule.deny.map(ip => [ip, true])) : null,
        }
      ]
    )
  ),
  _service: '',
  _rule: null,
})

.listen($PORT)
  .demuxHTTP('request')

.pipeline('request')
  .handleMessageStart(
    msg => (
      _service = _router.find(msg.head.path),
      _rule = _service && _rules[_service]
    )
  )
  .link(
    'deny', () => Boolean(
      _rule && (
        _rule.allow ? !_rule.allow[__inbound.remoteAddress] : _rule.deny?.[__inbound.remoteAddress]
      )
    ),
    'serve'
  )

.pipeline('deny')
  .replaceMessage(
    new Message({ status: 403 }, 'Access denied')
  )

.pipeline('serve')
  .replaceMessage(
    () => new Message(_service + ' for ' + __inbound.remoteAddress)
  )

)(JSON.decode(pipy.load('config/ban.json')))
`

func TestIPAllowAndDenyLists(t *testing.T) {
	p := startProxy(t, 2, "/proxy.js", map[string]string{
		"/proxy.js": banScript,
		"/config/ban.json": jsonConfig(t, map[string]any{
			"routes": map[string]string{"/open/*": "open", "/staff/*": "staff", "/public/*": "public", "/empty/*": "empty"},
			"rules": map[string]any{
				"staff":  map[string]any{"allow": []string{"127.0.0.1"}},
				"public": map[string]any{"deny": []string{"127.0.0.2", "127.0.0.3"}},
				"empty":  map[string]any{"allow": []string{}, "deny": []string{}},
			},
		}),
	}, nil)

	// Clients connect from different loopback addresses.
	from1, from2 := newClient(t, "127.0.0.1"), newClient(t, "127.0.0.2")
	for _, tt := range []struct {
		c      *client
		path   string
		status int
		body   string
	}{
		{from1, "/open/x", 200, "open for 127.0.0.1"},
		{from2, "/open/x", 200, "open for 127.0.0.2"},
		{from1, "/staff/x", 200, "staff for 127.0.0.1"},
		{from2, "/staff/x", 403, "Access denied"},
		{from1, "/public/x", 200, "public for 127.0.0.1"},
		{from2, "/public/x", 403, "Access denied"},
		{from2, "/empty/x", 200, "empty for 127.0.0.2"},   // empty lists admit everyone
		{from2, "/open/again", 200, "open for 127.0.0.2"}, // a 403 keeps the connection usable
	} {
		r := tt.c.get(p.base + tt.path)
		if r.status != tt.status || r.body != tt.body {
			from := "127.0.0.1"
			if tt.c == from2 {
				from = "127.0.0.2"
			}
			t.Errorf("%s from %s: got %d %q, want %d %q", tt.path, from, r.status, r.body, tt.status, tt.body)
		}
	}
}
