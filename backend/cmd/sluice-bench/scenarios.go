package main

import "fmt"

// A scenario is one workload, expressed for every contender.
type scenario struct {
	Name     string
	Upstream bool // whether the scenario needs the embedded upstream server
	// Script is the Pipy-style script for sluice and Pipy.
	Script func(port, upstreamPort int) string
	// NginxServer is the part of nginx's http block for this scenario.
	NginxServer func(port, upstreamPort int) string
}

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
			return fmt.Sprintf(`pipy({ _router: new algo.URLRouter({ '/*': '127.0.0.1:%d' }), _target: '' })
.listen(%d)
  .demuxHTTP('request')
.pipeline('request')
  .handleMessageStart(msg => _target = _router.find(msg.head.headers.host, msg.head.path))
  .link('forward', () => Boolean(_target), '404')
.pipeline('forward')
  .muxHTTP('connection', () => _target)
.pipeline('connection')
  .connect(() => _target)
.pipeline('404')
  .replaceMessage(new Message({ status: 404 }, 'No route'))
`, upstreamPort, port)
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

// selectScenarios returns the scenarios named by the -scenario flag.
func selectScenarios(name string) ([]scenario, error) {
	if name == "all" {
		return scenarios, nil
	}
	for _, sc := range scenarios {
		if sc.Name == name {
			return []scenario{sc}, nil
		}
	}
	return nil, fmt.Errorf("unknown scenario %q (want hello, proxy or all)", name)
}
