import { readFileSync } from 'node:fs'
import type { Registry } from 'prom-client'
import type { PromFigures } from './prometheus.js'
import { StrataError } from '../errors/index.js'
import type { EventName, MetricsSample, StrataEmitter, StrataEvents } from '../events/events.js'

/** Server-side figures of one sample; null where the engine cannot tell. */
export interface ServerStats {
  readonly connections: number | null
  readonly lockWaits: number | null
}

export interface MetricsOptions {
  readonly runId: string
  /** Sampling period (default 1000 ms). */
  readonly intervalMs?: number
  /** Server-side figures, queried on a connection of its own; absent for SQLite. Errors are ignored (the sample gets nulls). */
  readonly server?: () => Promise<ServerStats>
  /** Serve http://127.0.0.1:PORT/metrics in Prometheus text format for the monitor's life (0 = any free port). */
  readonly port?: number
}

/** The run's figures, as `stop()` returns them (SPEC S8). */
export interface MetricsSummary {
  readonly samples: number
  readonly elapsedMs: number
  readonly rows: number
  readonly errors: number
  readonly peakRssBytes: number
  readonly peakCpuPercent: number
  readonly readBytes: number | null
  readonly writeBytes: number | null
  readonly peakConnections: number | null
  readonly peakLockWaits: number | null
}

export interface MetricsMonitor {
  /** The /metrics URL when serving, else null. */
  readonly url: string | null
  /** Takes a last sample, stops the timer and the server, returns the run's figures. */
  stop(): Promise<MetricsSummary>
}

const DEFAULT_INTERVAL_MS = 1000
/** How long `stop()` waits for a server query still running before its last sample. */
const SERVER_SETTLE_MS = 2000
/** Below this wall time since the previous sample, the CPU share is not measured again (too noisy). */
const MIN_CPU_WINDOW_MS = 5
const NO_SERVER_STATS: ServerStats = { connections: null, lockWaits: null }

/**
 * Samples a run's resources (SPEC S8) every `intervalMs`: elapsed time, records processed,
 * progress, errors, CPU, memory, disk I/O and, through `options.server`, database sessions and
 * lock waits. Each sample is emitted as `metrics:sample`; with `port`, the figures are also
 * served at `http://127.0.0.1:PORT/metrics` in Prometheus format (names prefixed `strata_`,
 * labelled `run_id`) from a registry of the monitor's own. The monitor only listens to the
 * event stream; it never reaches into the runner.
 */
export async function startMetrics(events: StrataEmitter, options: MetricsOptions): Promise<MetricsMonitor> {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new StrataError('E_USAGE', `the metrics sampling interval must be a positive number of milliseconds, not ${String(options.intervalMs)}`)
  }
  const { runId } = options
  const tally = new RunTally()
  const startedAt = performance.now()
  const elapsedMs = (): number => Math.round(performance.now() - startedAt)
  // The server only when the figures are served, and first: when the port is taken, nothing else
  // has started.
  const metricsServer = options.port === undefined ? null : await import('./metrics-server.js')
  let latest: MetricsSample | null = null
  const figures = (): PromFigures => ({
    elapsedMs: elapsedMs(),
    rows: tally.rows(),
    progress: tally.progress(),
    errors: tally.errors,
    cpuPercent: latest?.cpuPercent ?? 0,
    rssBytes: latest?.rssBytes ?? process.memoryUsage.rss(),
    readBytes: latest?.readBytes ?? null,
    writeBytes: latest?.writeBytes ?? null,
    connections: latest?.connections ?? null,
    lockWaits: latest?.lockWaits ?? null,
  })
  // The metrics are made at the first scrape, prom-client loaded then: a run nobody scrapes never
  // pays for them.
  let registry: Promise<Registry> | null = null
  const server = metricsServer && options.port !== undefined
    ? await metricsServer.serve(options.port, () => (registry ??= import('./prometheus.js').then(({ PromMetrics }) => new PromMetrics(runId, figures).registry)))
    : null
  const url = server ? `http://127.0.0.1:${server.port}/metrics` : null

  const ioBase = readProcessIo()
  let lastWall = startedAt
  let lastCpu = process.cpuUsage()
  let lastCpuPercent = 0

  let samples = 0
  let peakRssBytes = 0
  let peakCpuPercent = 0
  let peakConnections: number | null = null
  let peakLockWaits: number | null = null

  // Server figures come from a poller of their own so that a slow server never delays a sample;
  // at most one query runs at a time, and a sample takes the latest answer.
  let serverLatest: ServerStats = NO_SERVER_STATS
  let serverPending: Promise<void> | null = null
  const pollServer = (): void => {
    const query = options.server
    if (!query || serverPending) return
    serverPending = (async () => {
      try {
        const stats = await query()
        serverLatest = { connections: count(stats.connections), lockWaits: count(stats.lockWaits) }
      } catch {
        serverLatest = NO_SERVER_STATS
      }
    })().finally(() => {
      serverPending = null
    })
  }

  const takeSample = (): MetricsSample => {
    const io = ioBase ? readProcessIo() : null
    const now = performance.now()
    const wall = now - lastWall
    if (wall >= MIN_CPU_WINDOW_MS) {
      const usage = process.cpuUsage()
      const cpuMs = (usage.user - lastCpu.user + usage.system - lastCpu.system) / 1000
      lastCpuPercent = Math.max(0, (cpuMs / wall) * 100)
      lastCpu = usage
      lastWall = now
    }
    const { connections, lockWaits } = options.server ? serverLatest : NO_SERVER_STATS
    const sample: MetricsSample = {
      runId,
      at: new Date().toISOString(),
      elapsedMs: Math.round(now - startedAt),
      rows: tally.rows(),
      progress: tally.progress(),
      errors: tally.errors,
      cpuPercent: lastCpuPercent,
      rssBytes: process.memoryUsage.rss(),
      readBytes: io && ioBase ? Math.max(0, io.read - ioBase.read) : null,
      writeBytes: io && ioBase ? Math.max(0, io.write - ioBase.write) : null,
      connections,
      lockWaits,
    }
    samples++
    peakRssBytes = Math.max(peakRssBytes, sample.rssBytes)
    peakCpuPercent = Math.max(peakCpuPercent, sample.cpuPercent)
    if (connections !== null) peakConnections = Math.max(peakConnections ?? 0, connections)
    if (lockWaits !== null) peakLockWaits = Math.max(peakLockWaits ?? 0, lockWaits)
    latest = sample
    try {
      events.emit('metrics:sample', sample)
    } catch {
      // A subscriber's failure must not stop the sampler.
    }
    return sample
  }

  // Subscriptions: the figures come from the event stream only.
  const unsubscribe: Array<() => void> = []
  const on = <E extends EventName>(event: E, listener: (payload: StrataEvents[E]) => void): void => {
    events.on(event, listener)
    unsubscribe.push(() => events.off(event, listener))
  }
  on('run:start', (e) => tally.runStart(e.steps.length))
  on('migration:start', (e) => tally.migrationStart(e.revision, e.total))
  on('migration:done', () => tally.migrationDone())
  on('migration:failed', () => tally.migrationFailed())
  on('backfill:progress', (e) => tally.backfill(e.revision, e.table, e.rows, e.total))
  on('check', (e) => {
    if (e.status === 'fail') tally.errors++
  })
  on('run:done', (e) => tally.runDone(e.status))

  const tick = (): void => {
    pollServer()
    try {
      takeSample()
    } catch {
      // A failed sample is skipped; the next one comes a period later.
    }
  }
  pollServer()
  const timer = setInterval(tick, intervalMs)
  timer.unref()

  const finish = async (): Promise<MetricsSummary> => {
    clearInterval(timer)
    for (const off of unsubscribe.splice(0)) off()
    try {
      await settle(serverPending, SERVER_SETTLE_MS)
      const final = takeSample()
      return {
        samples,
        elapsedMs: final.elapsedMs,
        rows: final.rows,
        errors: final.errors,
        peakRssBytes,
        peakCpuPercent,
        readBytes: final.readBytes,
        writeBytes: final.writeBytes,
        peakConnections,
        peakLockWaits,
      }
    } finally {
      if (server) await server.close()
    }
  }
  let stopping: Promise<MetricsSummary> | null = null
  return {
    url,
    stop: () => (stopping ??= finish()),
  }
}

/** What the event stream has told so far: steps, migrations done, backfill rows, errors. */
class RunTally {
  errors = 0
  #steps = 0
  #done = 0
  /** The running migration's share done by its latest backfill, 0..1. */
  #share = 0
  #current: string | null = null
  #finished = false
  /** Latest cumulative rows of each backfill, by revision and table. */
  readonly #rows = new Map<string, number>()
  #rowsTotal = 0

  runStart(steps: number): void {
    this.#steps = steps
    this.#done = 0
    this.#share = 0
    this.#current = null
    this.#finished = false
  }

  migrationStart(revision: string, total: number): void {
    this.#current = revision
    this.#share = 0
    if (this.#steps === 0 && total > 0) this.#steps = total
  }

  migrationDone(): void {
    this.#done++
    this.#share = 0
    this.#current = null
  }

  migrationFailed(): void {
    this.errors++
    this.#share = 0
    this.#current = null
  }

  backfill(revision: string, table: string, rows: number, total: number): void {
    const key = `${revision}\u0000${table}`
    const before = this.#rows.get(key) ?? 0
    if (Number.isFinite(rows) && rows > before) {
      this.#rows.set(key, rows)
      this.#rowsTotal += rows - before
    }
    if (revision === this.#current && total > 0) this.#share = Math.min(1, Math.max(0, rows / total))
  }

  runDone(status: string): void {
    this.#current = null
    this.#share = 0
    if (status === 'succeeded') this.#finished = true
  }

  rows(): number {
    return this.#rowsTotal
  }

  progress(): number {
    if (this.#finished) return 1
    if (this.#steps <= 0) return 0
    return Math.min(1, Math.max(0, (this.#done + this.#share) / this.#steps))
  }
}

/**
 * This process's storage I/O counters (Linux /proc/self/io); null where unreadable. Read
 * synchronously: the kernel answers from memory in microseconds, while an asynchronous read of a
 * procfs file takes several trips through libuv's thread pool (milliseconds when it is busy).
 */
function readProcessIo(): { read: number; write: number } | null {
  try {
    const text = readFileSync('/proc/self/io', 'utf8')
    const read = /^read_bytes:\s*(\d+)\s*$/m.exec(text)
    const write = /^write_bytes:\s*(\d+)\s*$/m.exec(text)
    if (!read || !write) return null
    return { read: Number(read[1]), write: Number(write[1]) }
  } catch {
    return null
  }
}

/** A count from the server, or null when it is not a usable number. */
function count(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'bigint' ? Number(value) : Number.NaN
  return Number.isFinite(n) && n >= 0 ? n : null
}

/** Waits for `pending`, at most `ms`. */
async function settle(pending: Promise<unknown> | null, ms: number): Promise<void> {
  if (!pending) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    pending.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
      timer.unref()
    }),
  ])
  clearTimeout(timer)
}
