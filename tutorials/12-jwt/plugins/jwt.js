// Lets a request through to a protected service only with a valid JSON Web
// Token, signed with one of the keys the service accepts.

const config = JSON.decode(pipy.load('config/jwt.json'))

// The public keys, by key ID.
const keys = Object.fromEntries(
  Object.entries(config.keys).map(
    ([id, file]) => [id, new crypto.PublicKey(pipy.load(file))]
  )
)

// Why a request may not pass, as [status, reason], or null if it may.
const refusal = (authorization, accepted) => {
  if (!authorization?.startsWith('Bearer ')) return [401, 'Missing token']
  const jwt = new crypto.JWT(authorization.substring(7))
  if (!jwt.isValid) return [401, 'Malformed token']
  const key = keys[jwt.header.kid]
  if (!key) return [401, 'Unknown key']
  if (!jwt.verify(key)) return [401, 'Invalid signature']
  if (jwt.payload.exp * 1000 < Date.now()) return [401, 'Token expired']
  if (!accepted.includes(jwt.header.kid)) return [403, 'Access denied']
  return null
}

pipy({
  _refusal: null,
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    msg => (
      _refusal = __service in config.services ? refusal(
        msg.head.headers.authorization,
        config.services[__service],
      ) : null,
      _refusal && (__turnDown = true)
    )
  )
  .link(
    'refuse', () => _refusal !== null,
    ''
  )

.pipeline('refuse')
  .replaceMessage(
    () => new Message(
      {
        status: _refusal[0],
        headers: _refusal[0] === 401 ? { 'www-authenticate': 'Bearer' } : {},
      },
      _refusal[1] + '\n'
    )
  )
