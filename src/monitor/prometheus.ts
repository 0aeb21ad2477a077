import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Counter, Gauge, Registry } from 'prom-client'
import { StrataError } from '../errors/index.js'
import type { MetricsSample } from '../events/events.js'

// Loaded only with --metrics-port: prom-client takes some 60 ms to load, which every run would
// otherwise pay for figures nobody reads.

/** The figures a scrape shows: a sample's, kept current between samples; null where unknown (the series is then absent). */
export type PromFigures = Omit<MetricsSample, 'runId' | 'at'>

/**
 * The Prometheus view of the figures, in a registry of its own (never prom-client's global one).
 * Every metric reads `figures()` when scraped, so the run's events cost nothing here between
 * scrapes, and a scrape between samples still sees the rows rise.
 */
export class PromMetrics {
  readonly registry = new Registry()

  constructor(runId: string, figures: () => PromFigures) {
    const labels = { run_id: runId }
    const registers = [this.registry]
    const labelNames = ['run_id'] as const
    const show = (metric: Gauge<'run_id'> | Counter<'run_id'>, value: number | null): void => {
      metric.reset()
      // A counter is only ever shown its running total, which never falls during a run.
      if (value === null) return
      if (metric instanceof Gauge) metric.set(labels, value)
      else metric.inc(labels, value)
    }
    const gauge = (name: string, help: string, read: (f: PromFigures) => number | null): void => {
      new Gauge({ name, help, labelNames, registers, collect() { show(this, read(figures())) } })
    }
    const counter = (name: string, help: string, read: (f: PromFigures) => number | null): void => {
      new Counter({ name, help, labelNames, registers, collect() { show(this, read(figures())) } })
    }
    gauge('strata_run_elapsed_seconds', 'Seconds since the run started.', (f) => f.elapsedMs / 1000)
    counter('strata_rows_processed_total', 'Rows processed by backfills so far in the run.', (f) => f.rows)
    gauge('strata_progress_ratio', 'Share of the run done, 0 to 1 (migrations done and the running backfill\'s share).', (f) => f.progress)
    counter('strata_errors_total', 'Migrations failed and checks failed so far in the run.', (f) => f.errors)
    gauge('strata_process_cpu_percent', 'CPU use of the strata process over the latest sample period, in percent of one core.', (f) => f.cpuPercent)
    gauge('strata_process_resident_memory_bytes', 'Resident memory of the strata process in bytes.', (f) => f.rssBytes)
    counter('strata_disk_read_bytes_total', 'Bytes the strata process read from storage since the run started (Linux only).', (f) => f.readBytes)
    counter('strata_disk_written_bytes_total', 'Bytes the strata process wrote to storage since the run started (Linux only).', (f) => f.writeBytes)
    gauge('strata_db_connections', 'Sessions open on the database server (absent when unknown).', (f) => f.connections)
    gauge('strata_db_lock_waits', 'Sessions waiting on a lock on the database server (absent when unknown).', (f) => f.lockWaits)
  }
}

/**
 * Serves the registry at GET /metrics on 127.0.0.1 only; anything else is a 404. The registry is
 * asked for at each scrape: a run nobody scrapes never builds one.
 */
export async function serve(port: number, registryOf: () => Registry): Promise<Server> {
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
    const registry = registryOf()
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
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
