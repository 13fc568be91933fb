// Rewrites the bodies of requests on their way to some services: JSON in,
// XML out, for services that only speak XML.

const config = JSON.decode(pipy.load('config/transform.json'))

// The XML elements for a JSON value under a name: an array gives one
// element per item, an object an element with a child per key, and
// anything else an element with the value as its text.
const elements = (name, value) => (
  Array.isArray(value) ? value.flatMap(v => elements(name, v)) :
  value !== null && typeof value === 'object' ? [
    new XML.Node(name, null, Object.entries(value).flatMap(([k, v]) => elements(k, v)))
  ] : [
    new XML.Node(name, null, [value === null ? '' : String(value)])
  ]
)

// The JSON in a body, or undefined when it is not JSON.
const parse = body => {
  try {
    return JSON.decode(body)
  } catch (e) {
    return undefined
  }
}

pipy({
  _json: undefined,
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('request')
  .link(
    'json-to-xml', () => config.services[__service] === 'json-to-xml',
    ''
  )

.pipeline('json-to-xml')
  .replaceMessage(
    msg => (
      _json = parse(msg.body),
      _json === undefined ? (
        __turnDown = true,
        new Message({ status: 400 }, 'The body is not JSON\n')
      ) : new Message(
        { ...msg.head, headers: { ...msg.head.headers, 'content-type': 'application/xml' } },
        XML.encode(new XML.Node('', null, elements('root', _json)), 2)
      )
    )
  )
