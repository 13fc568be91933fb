// Decides by the client's address whether a request may reach its service:
// a service may list the only addresses it allows, or addresses it denies.

const config = JSON.decode(pipy.load('config/ip-lists.json'))

// Lists become sets, for quick lookups.
const lists = Object.fromEntries(
  Object.entries(config.services).map(
    ([service, { allow, deny }]) => [service, {
      allow: allow && new Set(allow),
      deny: deny && new Set(deny),
    }]
  )
)

const denied = (lists, address) => Boolean(
  lists && (lists.allow ? !lists.allow.has(address) : lists.deny?.has(address))
)

pipy({
  _denied: false,
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    () => (
      _denied = denied(lists[__service], __inbound.remoteAddress),
      _denied && (__turnDown = true)
    )
  )
  .link(
    'deny', () => _denied,
    ''
  )

.pipeline('deny')
  .replaceMessage(
    () => new Message(
      { status: 403 },
      `Access denied for ${__inbound.remoteAddress}\n`
    )
  )
