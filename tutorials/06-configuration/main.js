// Step 6: the proxy, configured by JSON files. The port and the list of
// plugins come from config/proxy.json.

const config = JSON.decode(pipy.load('config/proxy.json'))

pipy()

.export('proxy', {
  __turnDown: false,
})

.listen(config.listen)
  .demuxHTTP('request')

.pipeline('request')
  .use(
    config.plugins,
    'request',
    'response',
    () => __turnDown
  )
