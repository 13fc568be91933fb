// Step 3: a reverse proxy. Requests to port 8000 are passed on to the hello
// service on port 8080, and the responses come back the same way.

pipy()

// One pipeline per client connection: cut the byte stream into requests,
// and send each one through its own 'request' pipeline.
.listen(8000)
  .demuxHTTP('request')

// Put the request on an upstream HTTP session, which is shared with the
// other requests, and hand its response back.
.pipeline('request')
  .muxHTTP('upstream')

// The session itself: one TCP connection to the hello service.
.pipeline('upstream')
  .connect('127.0.0.1:8080')
