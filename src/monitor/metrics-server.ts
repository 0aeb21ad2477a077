import { createRequire } from 'node:module'
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { Registry } from 'prom-client'
import { StrataError } from '../errors/index.js'

// Loaded only with --metrics-port. What serving needs beyond a listening socket is loaded by the
// first scrape: node:http (some 5 ms to load) when a connection comes, and the metrics themselves
// (prom-client, some 50 ms) through `registryOf`. A run nobody scrapes pays for neither.

const require = createRequire(import.meta.url)

/** The endpoint of one run: where it listens, and how to stop it. */
export interface MetricsEndpoint {
  readonly port: number
  /** Stops listening and drops open connections. */
  close(): Promise<void>
}

/**
 * Serves the registry at GET /metrics on 127.0.0.1 only; anything else is a 404. The registry is
 * asked for at each scrape: a run nobody scrapes never builds one.
 */
export async function serve(port: number, registryOf: () => Promise<Registry>): Promise<MetricsEndpoint> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StrataError('E_USAGE', `the metrics port must be an integer from 0 to 65535, not ${String(port)}`, {
      hint: 'give --metrics-port a free TCP port, or 0 for any free port',
    })
  }
  const respond = (req: IncomingMessage, res: ServerResponse): void => {
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
  }
  // The listening socket is a plain TCP server; each connection is handed to an HTTP server made
  // at the first one (the documented way to give http.Server a socket: its 'connection' event).
  // Connections are tracked here (an HTTP server that never listened does not track them), so
  // that stopping drops a scraper's kept-alive connection instead of waiting for it.
  let http: HttpServer | null = null
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    http ??= (require('node:http') as typeof import('node:http')).createServer(respond)
    http.emit('connection', socket)
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
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    }),
  }
}
