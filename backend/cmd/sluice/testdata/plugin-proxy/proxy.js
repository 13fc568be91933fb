// A proxy made of plugins: each plugin has a 'request' pipeline and may
// have a 'response' one; a plugin that answers sets __turnDown so that the
// plugins after it are skipped.

(config =>

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

)(JSON.decode(pipy.load('config/proxy.json')))
