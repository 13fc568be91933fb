// Forwards the requests it has a route for, and lets the others through to
// the next plugin.

pipy({
  _routes: new algo.URLRouter({
    '/hello/*': '127.0.0.1:8080',
    '/echo': '127.0.0.1:8081',
    '/whoami/*': '127.0.0.1:8082',
  }),

  _target: '',
})

.import({
  __turnDown: 'proxy',
})

.pipeline('request')
  .handleMessageStart(
    msg => (
      _target = _routes.find(msg.head.headers.host, msg.head.path) || '',
      __turnDown = _target !== ''
    )
  )
  .link(
    'forward', () => _target !== '',
    ''
  )

.pipeline('forward')
  .muxHTTP(
    'upstream',
    () => _target
  )

.pipeline('upstream')
  .connect(
    () => _target
  )
