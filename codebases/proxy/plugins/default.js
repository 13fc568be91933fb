// The last plugin: reached only when no plugin before it took the request.

pipy()

.pipeline('request')
  .replaceMessage(
    new Message({ status: 404 }, 'No handler found')
  )
