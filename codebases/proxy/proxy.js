// A plugin proxy: every request goes through the plugins listed in
// config/proxy.json, in order, until one of them answers it.
//
//   router.js    finds which service a request is for
//   balancer.js  picks a target of that service and forwards the request
//   default.js   answers 404 when nobody else did
//
// Run the mock services first (sluice mock.js), then this script.

(config =>

pipy()

  // Set by the plugin that takes charge of a request: the plugins after it
  // are skipped and the response comes back through the ones before it.
  .export('proxy', {
    __turnDown: false,
  })

.listen(config.listen)
  // Once per connection: lets plugins keep per-connection state.
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
