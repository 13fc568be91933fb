// Sends each request to one target of its service. Targets rotate round
// robin, but a connection keeps the target it got first: the choice is
// cached per connection in the 'session' pipeline.

(config =>

pipy({
  // One balancer per service, shared by every connection.
  _balancers: Object.fromEntries(
    Object.entries(config.services).map(
      ([name, targets]) => [name, new algo.RoundRobinLoadBalancer(targets)]
    )
  ),

  _picked: null, // per connection: balancer -> target
  _target: '',
})

.import({
  __turnDown: 'proxy',
  __serviceID: 'router',
})

.pipeline('session')
  .handleStreamStart(
    () => _picked = new algo.Cache(
      balancer => balancer.select(),
      (balancer, target) => balancer.deselect(target),
    )
  )
  .handleStreamEnd(
    () => _picked.clear()
  )

.pipeline('request')
  .handleMessageStart(
    () => (
      _target = __serviceID && _balancers[__serviceID]
        ? _picked.get(_balancers[__serviceID])
        : '',
      _target && (__turnDown = true)
    )
  )
  .link(
    'forward', () => Boolean(_target),
    ''
  )

.pipeline('forward')
  // One upstream connection per target, shared by all requests to it.
  .muxHTTP(
    'upstream',
    () => _target
  )

.pipeline('upstream')
  .connect(
    () => _target
  )

)(JSON.decode(pipy.load('config/balancer.json')))
