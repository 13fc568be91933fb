// The upstream of the plugin proxy: three services, one per port.

pipy()

.listen(@HI@)
  .serveHTTP(new Message('Hi, there!\n'))

.listen(@ECHO@)
  .serveHTTP(msg => new Message(msg.body))

.listen(@IP@)
  .serveHTTP(
    msg => new Message(
      `You are requesting ${msg.head.path} from ${__inbound.remoteAddress}\n`
    )
  )
