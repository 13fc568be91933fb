package main

import (
	"fmt"
	"strings"
)

// scriptFunc returns a Pipy-style script that listens on port and, in
// scenarios with an upstream, forwards to upstreamPort.
type scriptFunc func(port, upstreamPort int) string

// A scenario is one workload, expressed for every contender.
type scenario struct {
	Name     string
	Upstream bool // whether the scenario needs the embedded upstream server
	// Script is the Pipy-style script for sluice and Pipy.
	Script scriptFunc
	// NoCallback, when set, is Script without its one script callback per
	// request. In the main table every script contender then also runs it,
	// as "<name>-nocb", back to back with the contender itself in every
	// round, which prices one callback under the same conditions.
	NoCallback scriptFunc
	// NginxServer is the part of nginx's http block for this scenario, or
	// nil when nginx cannot express it.
	NginxServer func(port, upstreamPort int) string
}

// nocbSuffix ends the name of a contender's variant that runs a scenario's
// NoCallback script.
const nocbSuffix = "-nocb"

// expectedBody is what every contender answers in every scenario.
const expectedBody = upstreamBody

var scenarios = []scenario{
	{
		Name: "hello",
		Script: func(port, _ int) string {
			return fmt.Sprintf("pipy().listen(%d).serveHTTP(new Message('Hi, there!\\n'))\n", port)
		},
		NginxServer: func(port, _ int) string {
			return fmt.Sprintf(`  server {
    listen 127.0.0.1:%d;
    location / { return 200 'Hi, there!\n'; }
  }
`, port)
		},
	},
	{
		Name:     "proxy",
		Upstream: true,
		Script: func(port, upstreamPort int) string {
			return proxyScript(port, upstreamPort, true)
		},
		NoCallback: func(port, upstreamPort int) string {
			return proxyScript(port, upstreamPort, false)
		},
		NginxServer: func(port, upstreamPort int) string {
			return fmt.Sprintf(`  upstream up {
    server 127.0.0.1:%d;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:%d;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
`, upstreamPort, port)
		},
	},
}

// proxyScript is the proxy scenario's script. With callback, a
// handleMessageStart callback picks the target from a router on every
// request; without it, the target is fixed from the start and everything
// else is the same.
func proxyScript(port, upstreamPort int, callback bool) string {
	globals := fmt.Sprintf("{ _target: '127.0.0.1:%d' }", upstreamPort)
	pick := ""
	if callback {
		globals = fmt.Sprintf("{ _router: new algo.URLRouter({ '/*': '127.0.0.1:%d' }), _target: '' }", upstreamPort)
		pick = "  .handleMessageStart(msg => _target = _router.find(msg.head.headers.host, msg.head.path))\n"
	}
	return fmt.Sprintf(`pipy(%s)
.listen(%d)
  .demuxHTTP('request')
.pipeline('request')
%s  .link('forward', () => Boolean(_target), '404')
.pipeline('forward')
  .muxHTTP('connection', () => _target)
.pipeline('connection')
  .connect(() => _target)
.pipeline('404')
  .replaceMessage(new Message({ status: 404 }, 'No route'))
`, globals, port, pick)
}

// scenarioNames lists every scenario's name.
func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.Name
	}
	return names
}

// scenarioNamed returns the scenario called name.
func scenarioNamed(name string) (scenario, bool) {
	for _, sc := range scenarios {
		if sc.Name == name {
			return sc, true
		}
	}
	return scenario{}, false
}

// selectScenarios returns the scenarios named by the -scenario flag: "all",
// "none", or a comma-separated list of names.
func selectScenarios(spec string) ([]scenario, error) {
	switch spec {
	case "all":
		return scenarios, nil
	case "none":
		return nil, nil
	}
	var out []scenario
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "proxy"+nocbSuffix {
			return nil, fmt.Errorf("%q is no longer a scenario: the proxy scenario measures sluice%s (and pipy%s) in its own rounds", name, nocbSuffix, nocbSuffix)
		}
		sc, ok := scenarioNamed(name)
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (want all, none, or some of %s, separated by commas)",
				name, strings.Join(scenarioNames(), ", "))
		}
		out = append(out, sc)
	}
	return out, nil
}
