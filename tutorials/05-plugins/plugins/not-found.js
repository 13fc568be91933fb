// The last plugin: it answers whatever no plugin before it took.

pipy()

.pipeline('request')
  .replaceMessage(
    new Message({ status: 404 }, 'No route for this path\n')
  )
