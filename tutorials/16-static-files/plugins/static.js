// Answers the requests of static services with files of the codebase,
// from the service's root folder.

const config = JSON.decode(pipy.load('config/static.json'))

// The file for a path under a root: a folder stands for its index.html.
// Paths that try to climb out of the root get nothing.
const fileFor = (root, path) => path.split('/').includes('..') ? null : http.File.from(
  root + (path.endsWith('/') ? path + 'index.html' : path)
)

pipy({
  _root: '',
  _file: null,
})

.import({
  __turnDown: 'proxy',
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    msg => (
      _root = config.services[__service]?.root || '',
      _root && (
        _file = fileFor(_root, msg.head.path.split('?')[0]),
        __turnDown = true
      )
    )
  )
  .link(
    'serve', () => _root !== '',
    ''
  )

.pipeline('serve')
  .replaceMessage(
    msg => _file ? (
      _file.toMessage(msg.head.headers['accept-encoding'] || '')
    ) : (
      new Message({ status: 404 }, 'No such file\n')
    )
  )
