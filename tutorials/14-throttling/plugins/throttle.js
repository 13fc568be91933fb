// Holds back the requests of a service that arrive faster than its rate
// limit allows. Requests over the limit wait for their turn; none is
// turned away.

const config = JSON.decode(pipy.load('config/throttle.json'))

pipy({
  _limit: 0,
})

.import({
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    () => _limit = config.services[__service]?.requestsPerSecond || 0
  )
  .link(
    'throttle', () => _limit > 0,
    ''
  )

.pipeline('throttle')
  .throttleMessageRate(
    () => _limit,
    () => __service
  )
