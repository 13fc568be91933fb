// A log collector for step 11: it stores the records that the proxy's
// logger plugin posts to it, prints them, and lists them on GET.
//
// POST /logs  a body of records, one JSON object per line
// GET /logs   one line per record received so far:
//             method, path, status and service

pipy({
  // Every record received. The object is made once and shared by all the
  // requests of the worker; the tutorials run this service on one worker.
  _records: [],
})

.listen(8123)
  .serveHTTP(
    req => req.head.method === 'POST' ? (
      req.body.toString().split('\n').filter(line => line !== '').forEach(
        line => (
          _records.push(JSON.parse(line)),
          console.log(`[collector] ${line}`)
        )
      ),
      new Message({ status: 204 })
    ) : new Message(
      _records.map(
        r => `${r.method} ${r.path} ${r.status} ${r.service || '-'}\n`
      ).join('')
    )
  )
