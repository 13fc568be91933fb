// Forwards each request to one of the targets of its service, with sticky
// targets per client connection (step 8). Upstream connections come from a
// pool: a client connection borrows one per target while it lasts, and
// gives it back when it ends, for the next client to reuse.

const config = JSON.decode(pipy.load('config/balancer.json'))

pipy({
  _balancers: Object.fromEntries(
    Object.entries(config.services).map(
      ([name, targets]) => [name, new algo.RoundRobinLoadBalancer(targets)]
    )
  ),

  // How many upstream connections have been opened to each target.
  _opened: {},

  // The pool hands out names of upstream connections, such as
  // "127.0.0.1:8080 #1". The function makes a new one when every name of
  // the target is borrowed.
  _pool: new algo.ResourcePool(
    target => (
      _opened[target] = (_opened[target] || 0) + 1,
      console.log(`[balancer] new upstream connection to ${target}: #${_opened[target]}`),
      `${target} #${_opened[target]}`
    )
  ),

  // Per client connection.
  _picked: null,
  _client: null,

  // Per request.
  _target: '',
  _upstream: '',
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('session')
  .handleStreamStart(
    () => (
      _picked = new algo.Cache(balancer => balancer.select()),
      _client = {} // stands for this connection when it borrows
    )
  )
  .handleStreamEnd(
    () => (
      _pool.freeTenant(_client),
      _picked.clear()
    )
  )

.pipeline('request')
  .handleMessageStart(
    () => (
      _target = __service in _balancers ? _picked.get(_balancers[__service]) : '',
      _upstream = _target ? _pool.allocate(_target, _client) : '',
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
    () => _upstream
  )

.pipeline('upstream')
  .connect(
    () => _target
  )
