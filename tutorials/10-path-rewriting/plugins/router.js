// Decides which service a request is for, by its path, and rewrites the
// path when the route says so.

const config = JSON.decode(pipy.load('config/router.json'))

// A route is a service name, or an object with the service's name and a
// rewrite rule: [a regular expression, its replacement].
const route = r => typeof r === 'string' ? { service: r } : {
  service: r.service,
  rewrite: r.rewrite && [new RegExp(r.rewrite[0]), r.rewrite[1]],
}

pipy({
  _routes: new algo.URLRouter(
    Object.fromEntries(
      Object.entries(config.routes).map(([path, r]) => [path, route(r)])
    )
  ),

  _route: null,
})

.export('router', {
  __service: '',
})

.pipeline('request')
  .handleMessageStart(
    msg => (
      _route = _routes.find(msg.head.headers.host, msg.head.path),
      __service = _route?.service || '',
      _route?.rewrite && (
        msg.head.path = msg.head.path.replace(..._route.rewrite)
      )
    )
  )
