// Keeps the responses to GET requests of some services for a while, and
// answers the same requests from memory until they expire.

const config = JSON.decode(pipy.load('config/cache.json'))

pipy({
  // path -> { expires, head, body }. Made once: every request of a worker
  // thread shares it.
  _cache: new algo.Cache(),

  _path: '',
  _seconds: 0, // how long to keep the response to this request, 0: not at all
  _hit: null,  // the entry answering this request
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    msg => (
      _path = msg.head.path,
      _seconds = msg.head.method === 'GET' && config.services[__service]?.seconds || 0,
      _hit = _seconds > 0 && _cache.find(_path) || null,
      _hit?.expires < Date.now() && (
        _cache.remove(_path),
        _hit = null
      ),
      _hit && (__turnDown = true)
    )
  )
  .link(
    'hit', () => _hit !== null,
    ''
  )

// Answer from the cache.
.pipeline('hit')
  .replaceMessage(
    () => new Message(
      { ..._hit.head, headers: { ..._hit.head.headers, 'x-cache': 'HIT' } },
      _hit.body
    )
  )

// On the way back from the service: keep a good response.
.pipeline('response')
  .link(
    'store', () => _seconds > 0 && _hit === null,
    ''
  )

.pipeline('store')
  .handleMessageStart(
    msg => msg.head.headers['x-cache'] = 'MISS'
  )
  .handleMessage(
    msg => (msg.head.status || 200) === 200 && _cache.set(
      _path,
      {
        expires: Date.now() + _seconds * 1000,
        // A copy of the head: the response's own goes on to the client.
        head: { status: msg.head.status, headers: { ...msg.head.headers } },
        body: msg.body,
      }
    )
  )
