// Maps the request's host and path to a service name, for the plugins
// that come after this one.

(config =>

pipy({
  _routes: new algo.URLRouter(config.routes),
})

.export('router', {
  __serviceID: '',
})

.pipeline('request')
  .handleMessageStart(
    msg => __serviceID = _routes.find(
      msg.head.headers.host,
      msg.head.path,
    )
  )

)(JSON.decode(pipy.load('config/router.json')))
