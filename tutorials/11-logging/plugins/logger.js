// Writes a JSON record for every request and its response, and ships the
// records in batches to a log service over HTTP.

const config = JSON.decode(pipy.load('config/logger.json'))

pipy({
  _record: null,
})

.import({
  __service: 'router',
})

// On the way in: what was asked, by whom, and when.
.pipeline('request')
  .handleMessageStart(
    msg => _record = {
      time: new Date().toISOString(),
      client: __inbound.remoteAddress,
      method: msg.head.method,
      path: msg.head.path,
    }
  )

// On the way back: complete the record, and send a copy of the response
// to the 'log' pipeline, which turns it into the record.
.pipeline('response')
  .handleMessage(
    msg => Object.assign(_record, {
      service: __service,
      status: msg.head.status || 200,
      bytes: msg.body.size,
      ms: Date.now() - Date.parse(_record.time),
    })
  )
  .fork('log')

.pipeline('log')
  .replaceMessage(
    () => new Message(JSON.encode(_record).push('\n'))
  )
  .merge('ship', 'collector')

// One 'ship' pipeline for all the requests of a worker: it gathers the
// records into batches and posts each batch to the log service.
.pipeline('ship')
  .pack(config.batchSize, { timeout: config.batchTimeout })
  .replaceMessageStart(
    () => new MessageStart({
      method: 'POST',
      path: config.path,
      headers: {
        'host': config.collector,
        'content-type': 'application/x-ndjson',
      },
    })
  )
  .encodeHTTPRequest()
  .connect(config.collector)
