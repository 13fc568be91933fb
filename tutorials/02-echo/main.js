// Step 2: three small services in one script. The steps that follow put a
// proxy in front of them, so they keep running in the background from now
// on.

pipy()

// The hello service: the same answer for everyone, built once.
.listen(8080)
  .serveHTTP(
    new Message('Hello from Sluice!\n')
  )

// The echo service: a function runs for every request and answers with
// the request's own body.
.listen(8081)
  .serveHTTP(
    req => new Message(req.body)
  )

// The who-am-I service: tells the client its address and the path it
// asked for.
.listen(8082)
  .serveHTTP(
    req => new Message(
      `You are ${__inbound.remoteAddress}, asking for ${req.head.path}\n`
    )
  )
