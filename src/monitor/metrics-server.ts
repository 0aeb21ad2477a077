import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import { StrataError } from '../errors/index.js'

// Loaded only with --metrics-port. The metrics themselves (prom-client) are loaded by the first
// scrape, through `registryOf`.

/**
 * Serves the registry at GET /metrics on 127.0.0.1 only; anything else is a 404. The registry is
 * asked for at each scrape: a run nobody scrapes never builds one, nor loads prom-client.
 */
export async function serve(port: number, registryOf: () => Promise<Registry>): Promise<Server> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StrataError('E_USAGE', `the metrics port must be an integer from 0 to 65535, not ${String(port)}`, {
      hint: 'give --metrics-port a free TCP port, or 0 for any free port',
    })
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found; try GET /metrics\n')
      return
    }
    registryOf()
      .then(async (registry) => ({ type: registry.contentType, text: await registry.metrics() }))
      .then(
        ({ type, text }) => res.writeHead(200, { 'content-type': type }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(error as Error).message}\n`),
      )
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'is not allowed' : `cannot be opened (${(error as Error).message})`
    throw new StrataError('E_USAGE', `metrics port ${port} on 127.0.0.1 ${why}`, {
      hint: 'choose another --metrics-port, or 0 for any free port',
      port,
    }, { cause: error })
  }
  server.on('error', () => {}) // after listening, a socket error must not crash the run
  return server
}

export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
