// Step 4: routing. The proxy looks at each request's path and picks the
// service that answers it.

pipy({
  // Which service serves which paths. '/hello/*' matches /hello, /hello/
  // and everything under them; '/echo' matches /echo only.
  _routes: new algo.URLRouter({
    '/hello/*': '127.0.0.1:8080',
    '/echo': '127.0.0.1:8081',
    '/whoami/*': '127.0.0.1:8082',
  }),

  // The address of the service picked for the request in hand. Every
  // request has its own copy of this variable.
  _target: '',
})

.listen(8000)
  .demuxHTTP('request')

.pipeline('request')
  .handleMessageStart(
    msg => _target = _routes.find(
      msg.head.headers.host,
      msg.head.path,
    ) || ''
  )
  .link(
    'forward', () => _target !== '',
    'not-found'
  )

// One upstream session per target: requests for the echo service must not
// end up on the connection to the hello service.
.pipeline('forward')
  .muxHTTP(
    'upstream',
    () => _target
  )

.pipeline('upstream')
  .connect(
    () => _target
  )

.pipeline('not-found')
  .replaceMessage(
    new Message({ status: 404 }, 'No route for this path\n')
  )
