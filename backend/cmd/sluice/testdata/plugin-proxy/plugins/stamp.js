// Marks every answer that goes back through the plugin chain with the path
// of its request: both pipelines of a plugin see the same variables.

pipy({
  _path: '',
})

.pipeline('request')
  .handleMessageStart(
    msg => _path = msg.head.path
  )

.pipeline('response')
  .handleMessageStart(
    msg => msg.head.headers = {
      ...msg.head.headers,
      'x-stamp': `sluice ${_path}`,
    }
  )
