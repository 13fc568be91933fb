// Step 20: the proxy, on a TLS port as well. Connections to the TLS port
// are decrypted first, then go through the same HTTP pipelines as those to
// the plain port.

const config = JSON.decode(pipy.load('config/proxy.json'))

pipy()

.export('proxy', {
  __turnDown: false,
})

.listen(config.listen)
  .link('http')

.listen(config.tls.listen)
  .acceptTLS('http', {
    certificate: {
      cert: new crypto.CertificateChain(pipy.load(config.tls.certificate)),
      key: new crypto.PrivateKey(pipy.load(config.tls.key)),
    },
  })

// HTTP, as it was on the plain port in the steps before.
.pipeline('http')
  .use(config.plugins, 'session')
  .demuxHTTP('request')

.pipeline('request')
  .use(
    config.plugins,
    'request',
    'response',
    () => __turnDown
  )
