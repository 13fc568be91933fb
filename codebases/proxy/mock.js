// Three small services for the proxy to forward to.

pipy()

// service-hi (and the first target of it)
.listen(8080)
  .serveHTTP(
    new Message('Hi, there!\n')
  )

// service-echo: answers with the request body
.listen(8081)
  .serveHTTP(
    msg => new Message(msg.body)
  )

// service-tell-ip: says what was asked, and by whom
.listen(8082)
  .serveHTTP(
    msg => new Message(
      `You are requesting ${msg.head.path} from ${__inbound.remoteAddress}\n`
    )
  )
