// Forwards the requests it has a route for, and lets the others through to
// the next plugin. The routes are in config/router.json.

const config = JSON.decode(pipy.load('config/router.json'))

pipy({
  _routes: new algo.URLRouter(config.routes),
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
