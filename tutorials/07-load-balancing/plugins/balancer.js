// Forwards each request to one of the targets of its service, taking the
// targets in turn.

const config = JSON.decode(pipy.load('config/balancer.json'))

pipy({
  // One balancer per service, made once and shared by every request.
  _balancers: Object.fromEntries(
    Object.entries(config.services).map(
      ([name, targets]) => [name, new algo.RoundRobinLoadBalancer(targets)]
    )
  ),

  _target: '',
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    () => (
      _target = _balancers[__service]?.select() || '',
      __turnDown = _target !== ''
    )
  )
  .link(
    'forward', () => _target !== '',
    ''
  )

.pipeline('forward')
  .muxHTTP(
    'upstream',
    () => _target
  )

.pipeline('upstream')
  .connect(
    () => _target
  )
