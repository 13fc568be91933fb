// Step 1: a web server.
//
// pipy() begins a configuration. listen() opens a port, and the filters
// written under it make up the pipeline that every connection accepted on
// that port runs through. Here there is a single filter: serveHTTP reads
// HTTP requests from the connection and answers each one.

pipy()

.listen(8080)
  .serveHTTP(
    new Message('Hello from Sluice!\n')
  )
