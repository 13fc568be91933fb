// Decides which service a request is for, by its path. It no longer
// forwards anything: it tells the plugins after it, through __service.

const config = JSON.decode(pipy.load('config/router.json'))

pipy({
  _routes: new algo.URLRouter(config.routes),
})

.export('router', {
  // The name of the service the request is for, or '' when none.
  __service: '',
})

.pipeline('request')
  .handleMessageStart(
    msg => __service = _routes.find(msg.head.headers.host, msg.head.path) || ''
  )
