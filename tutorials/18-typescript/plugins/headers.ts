// Adds headers to the responses of the proxy: some to all of them, some to
// those of one service. Written in TypeScript: Sluice compiles a .ts module
// when it loads it. The types are for you and your editor; they are not
// checked when the module runs.

/** Header values by header name. */
type Headers = Record<string, string>

/** The shape of config/headers.json. */
interface HeadersConfig {
  /** Added to every response. */
  all: Headers
  /** Added to the responses of a service, over those of `all`. */
  services: Record<string, Headers>
}

const config: HeadersConfig = JSON.decode(pipy.load('config/headers.json'))

/** The headers to add to a response of a service ('' for none). */
function headersFor(service: string): Headers {
  return { ...config.all, ...(config.services[service] ?? {}) }
}

pipy()

.import({
  __service: 'router',
})

// First in the list of plugins, the module sees every response last,
// whichever plugin made it.
.pipeline('response')
  .replaceMessageStart(
    (start: MessageStart) => new MessageStart({
      ...start.head,
      headers: { ...start.head.headers, ...headersFor(__service) },
    })
  )
