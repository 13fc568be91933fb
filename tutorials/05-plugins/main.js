// Step 5: the proxy as a chain of plugins. Each plugin is a module of its
// own; the proxy passes every request through them in order, until one of
// them answers it.

pipy()

.export('proxy', {
  // A plugin that takes charge of a request sets this to true: the plugins
  // after it are skipped, and the response goes back through the ones
  // before it.
  __turnDown: false,
})

.listen(8000)
  .demuxHTTP('request')

.pipeline('request')
  .use(
    [
      'plugins/router.js',
      'plugins/not-found.js',
    ],
    'request',
    'response',
    () => __turnDown
  )
