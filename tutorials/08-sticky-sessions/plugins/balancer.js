// Forwards each request to one of the targets of its service. Targets are
// taken in turn, but a client connection keeps the target it was given
// first for each service.

const config = JSON.decode(pipy.load('config/balancer.json'))

pipy({
  _balancers: Object.fromEntries(
    Object.entries(config.services).map(
      ([name, targets]) => [name, new algo.RoundRobinLoadBalancer(targets)]
    )
  ),

  // Per connection: the target picked for each balancer so far.
  _picked: null,

  _target: '',
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('session')
  .handleStreamStart(
    () => _picked = new algo.Cache(
      // What to do the first time a balancer is asked for.
      balancer => balancer.select()
    )
  )
  .handleStreamEnd(
    () => _picked.clear()
  )

.pipeline('request')
  .handleMessageStart(
    () => (
      _target = __service in _balancers ? _picked.get(_balancers[__service]) : '',
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
