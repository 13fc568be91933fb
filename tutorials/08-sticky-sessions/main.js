// Step 8: the proxy, with a 'session' pipeline that plugins may use to keep
// something per client connection.

const config = JSON.decode(pipy.load('config/proxy.json'))

pipy()

.export('proxy', {
  __turnDown: false,
})

.listen(config.listen)
  // Once per connection, before any request: each plugin's 'session'
  // pipeline, if it has one, sees the whole connection go by.
  .use(config.plugins, 'session')
  .demuxHTTP('request')

.pipeline('request')
  .use(
    config.plugins,
    'request',
    'response',
    () => __turnDown
  )
