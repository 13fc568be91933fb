// Decides by the client's address whether a request may reach its service:
// a service may list the only addresses it allows, or addresses it denies.
// An entry is an address ("10.1.2.3") or a network ("10.0.0.0/8").

const config = JSON.decode(pipy.load('config/ip-lists.json'))

// A list as a function that tells whether an address is on it.
const onList = entries => {
  const blocks = entries.map(entry => new Netmask(entry))
  return address => blocks.some(block => block.contains(address))
}

const lists = Object.fromEntries(
  Object.entries(config.services).map(
    ([service, { allow, deny }]) => [service, {
      allow: allow && onList(allow),
      deny: deny && onList(deny),
    }]
  )
)

const denied = (lists, address) => Boolean(
  lists && (lists.allow ? !lists.allow(address) : lists.deny?.(address))
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
