import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Counter, Gauge, Registry } from 'prom-client'
import { StrataError } from '../errors/index.js'
import type { MetricsSample } from '../events/events.js'

// Loaded only with --metrics-port: prom-client takes some 60 ms to load, which every run would
// otherwise pay for figures nobody reads.

/** The Prometheus view of the figures, in a registry of its own (never prom-client's global one). */
export class PromMetrics {
  readonly registry = new Registry()
  readonly #labels: { run_id: string }
  readonly #elapsed: Gauge<'run_id'>
  readonly #rows: Counter<'run_id'>
  readonly #progress: Gauge<'run_id'>
  readonly #errors: Counter<'run_id'>
  readonly #cpu: Gauge<'run_id'>
  readonly #rss: Gauge<'run_id'>
  readonly #read: Counter<'run_id'>
  readonly #written: Counter<'run_id'>
  readonly #connections: Gauge<'run_id'>
  readonly #lockWaits: Gauge<'run_id'>
  /** What the counters show, so each update adds only the difference. */
  #shown = { rows: 0, errors: 0, read: 0, written: 0 }

  constructor(runId: string) {
    this.#labels = { run_id: runId }
    const registers = [this.registry]
    const labelNames = ['run_id'] as const
    const gauge = (name: string, help: string): Gauge<'run_id'> => new Gauge({ name, help, labelNames, registers })
    const counter = (name: string, help: string): Counter<'run_id'> => new Counter({ name, help, labelNames, registers })
    this.#elapsed = gauge('strata_run_elapsed_seconds', 'Seconds since the run started.')
    this.#rows = counter('strata_rows_processed_total', 'Rows processed by backfills so far in the run.')
    this.#progress = gauge('strata_progress_ratio', 'Share of the run done, 0 to 1 (migrations done and the running backfill\'s share).')
    this.#errors = counter('strata_errors_total', 'Migrations failed and checks failed so far in the run.')
    this.#cpu = gauge('strata_process_cpu_percent', 'CPU use of the strata process since the previous sample, in percent of one core.')
    this.#rss = gauge('strata_process_resident_memory_bytes', 'Resident memory of the strata process in bytes.')
    this.#read = counter('strata_disk_read_bytes_total', 'Bytes the strata process read from storage since the run started (Linux only).')
    this.#written = counter('strata_disk_written_bytes_total', 'Bytes the strata process wrote to storage since the run started (Linux only).')
    this.#connections = gauge('strata_db_connections', 'Sessions open on the database server (absent when unknown).')
    this.#lockWaits = gauge('strata_db_lock_waits', 'Sessions waiting on a lock on the database server (absent when unknown).')
  }

  /** Figures that change with the event stream (a scrape between samples sees rows rise). */
  progress(elapsedMs: number, rows: number, progress: number, errors: number): void {
    this.#elapsed.set(this.#labels, elapsedMs / 1000)
    this.#progress.set(this.#labels, progress)
    this.#shown.rows = this.#raise(this.#rows, this.#shown.rows, rows)
    this.#shown.errors = this.#raise(this.#errors, this.#shown.errors, errors)
  }

  sample(sample: MetricsSample): void {
    this.progress(sample.elapsedMs, sample.rows, sample.progress, sample.errors)
    this.#cpu.set(this.#labels, sample.cpuPercent)
    this.#rss.set(this.#labels, sample.rssBytes)
    if (sample.readBytes !== null) this.#shown.read = this.#raise(this.#read, this.#shown.read, sample.readBytes)
    if (sample.writeBytes !== null) this.#shown.written = this.#raise(this.#written, this.#shown.written, sample.writeBytes)
    this.#setOrRemove(this.#connections, sample.connections)
    this.#setOrRemove(this.#lockWaits, sample.lockWaits)
  }

  /** Counters only rise; the first call also creates the series (at 0). */
  #raise(counter: Counter<'run_id'>, shown: number, value: number): number {
    const delta = value - shown
    if (delta > 0 || shown === 0) counter.inc(this.#labels, Math.max(0, delta))
    return Math.max(shown, value)
  }

  #setOrRemove(gauge: Gauge<'run_id'>, value: number | null): void {
    if (value === null) gauge.remove(this.#labels)
    else gauge.set(this.#labels, value)
  }
}

/** Serves the registry at GET /metrics on 127.0.0.1 only; anything else is a 404. */
export async function serve(registry: Registry, port: number): Promise<Server> {
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
