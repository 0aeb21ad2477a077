import { createServer } from 'node:net'
import { register } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { StrataError } from '../../src/errors/index.js'
import { StrataEmitter, type MetricsSample, type StrataEvents } from '../../src/events/events.js'
import { startMetrics, type MetricsMonitor, type ServerStats } from '../../src/monitor/metrics.js'

// The metrics sampler (SPEC S8), driven through a real event stream, scraped over real HTTP.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Keeps CPU busy for `ms`, so a sample measures some use. */
function burn(ms: number): void {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) x += Math.sqrt(x + 1)
  expect(x).toBeGreaterThan(0)
}

function collect(events: StrataEmitter): MetricsSample[] {
  const samples: MetricsSample[] = []
  events.on('metrics:sample', (s) => samples.push(s))
  return samples
}

function nextSample(events: StrataEmitter): Promise<MetricsSample> {
  return new Promise((resolve) => {
    const listener = (s: MetricsSample) => {
      events.off('metrics:sample', listener)
      resolve(s)
    }
    events.on('metrics:sample', listener)
  })
}

function backfill(runId: string, revision: string, table: string, rows: number, total: number): StrataEvents['backfill:progress'] {
  return { runId, revision, table, rows, total, batches: Math.ceil(rows / 1000), batchMs: 5, rowsPerSecond: 100_000, etaMs: null }
}

const monitors: MetricsMonitor[] = []
async function start(...args: Parameters<typeof startMetrics>): Promise<MetricsMonitor> {
  const monitor = await startMetrics(...args)
  monitors.push(monitor)
  return monitor
}
afterEach(async () => {
  for (const monitor of monitors.splice(0)) await monitor.stop()
})

describe('startMetrics', () => {
  it('samples rows, progress, errors and process figures from the event stream', async () => {
    const events = new StrataEmitter()
    const samples = collect(events)
    const runId = 'run-sampled'
    const monitor = await start(events, { runId, intervalMs: 50 })
    expect(monitor.url).toBeNull()

    events.emit('run:start', { runId, command: 'up', environment: null, steps: [{ revision: 'a1', direction: 'up' }, { revision: 'b2', direction: 'up' }], estimatedMs: null })
    events.emit('migration:start', { runId, revision: 'a1', direction: 'up', index: 0, total: 2, file: 'a1.ts' })
    for (let rows = 100_000; rows <= 1_000_000; rows += 100_000) {
      events.emit('backfill:progress', backfill(runId, 'a1', 'users', rows, 1_000_000))
      if (rows === 500_000) {
        burn(30)
        const mid = await nextSample(events)
        expect(mid.rows).toBe(500_000)
        expect(mid.progress).toBeCloseTo(0.25, 5) // half of the first of two migrations
      }
    }
    events.emit('migration:done', { runId, revision: 'a1', direction: 'up', index: 0, total: 2, durationMs: 120, statements: 3 })
    events.emit('check', { phase: 'postflight', name: 'consistency', status: 'fail', message: 'broken' })
    events.emit('check', { phase: 'postflight', name: 'other', status: 'pass', message: 'ok' })
    burn(30)
    const after = await nextSample(events)
    expect(after).toMatchObject({ runId, rows: 1_000_000, errors: 1 })
    expect(after.progress).toBeCloseTo(0.5, 5)

    // A second migration with a second backfill: rows add up per backfill, latest value each.
    events.emit('migration:start', { runId, revision: 'b2', direction: 'up', index: 1, total: 2, file: 'b2.ts' })
    events.emit('backfill:progress', backfill(runId, 'b2', 'orders', 100, 400))
    events.emit('backfill:progress', backfill(runId, 'b2', 'orders', 200, 400))
    const second = await nextSample(events)
    expect(second.rows).toBe(1_000_200)
    expect(second.progress).toBeCloseTo(0.75, 5)
    events.emit('migration:failed', { runId, revision: 'b2', direction: 'up', message: 'boom' })
    const failed = await nextSample(events)
    expect(failed.errors).toBe(2)
    expect(failed.progress).toBeCloseTo(0.5, 5)

    expect(samples.length).toBeGreaterThanOrEqual(4)
    for (const s of samples) {
      expect(s.runId).toBe(runId)
      expect(Number.isNaN(Date.parse(s.at))).toBe(false)
      expect(s.rssBytes).toBeGreaterThan(1_000_000)
      expect(s.cpuPercent).toBeGreaterThanOrEqual(0)
      expect(s.connections).toBeNull()
      expect(s.lockWaits).toBeNull()
      if (process.platform === 'linux') {
        expect(s.readBytes).toBeGreaterThanOrEqual(0)
        expect(s.writeBytes).toBeGreaterThanOrEqual(0)
      }
    }
    expect(Math.max(...samples.map((s) => s.cpuPercent))).toBeGreaterThan(0)
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.elapsedMs).toBeGreaterThanOrEqual(samples[i - 1]!.elapsedMs)

    const summary = await monitor.stop()
    const last = samples.at(-1)!
    expect(summary).toMatchObject({
      samples: samples.length,
      elapsedMs: last.elapsedMs,
      rows: 1_000_200,
      errors: 2,
      peakRssBytes: Math.max(...samples.map((s) => s.rssBytes)),
      peakCpuPercent: Math.max(...samples.map((s) => s.cpuPercent)),
      readBytes: last.readBytes,
      writeBytes: last.writeBytes,
      peakConnections: null,
      peakLockWaits: null,
    })
    expect(summary.peakCpuPercent).toBeGreaterThan(0)
    if (process.platform === 'linux') expect(summary.readBytes).not.toBeNull()

    // Stopped: idempotent, no listeners left, no more samples.
    expect(await monitor.stop()).toEqual(summary)
    expect(events.listens('backfill:progress')).toBe(false)
    const count = samples.length
    await sleep(150)
    expect(samples.length).toBe(count)
  })

  it('is 1 when the run succeeds and 0 while no steps are known', async () => {
    const events = new StrataEmitter()
    const runId = 'run-done'
    await start(events, { runId, intervalMs: 30 })
    expect((await nextSample(events)).progress).toBe(0)
    // Started after run:start: the step count comes from migration:start.
    events.emit('migration:start', { runId, revision: 'a1', direction: 'up', index: 0, total: 4, file: 'a1.ts' })
    events.emit('migration:done', { runId, revision: 'a1', direction: 'up', index: 0, total: 4, durationMs: 1, statements: 1 })
    expect((await nextSample(events)).progress).toBeCloseTo(0.25, 5)
    events.emit('run:done', { runId, status: 'succeeded', durationMs: 10 })
    expect((await nextSample(events)).progress).toBe(1)
  })

  it('serves the figures in Prometheus format, updated on every backfill event', async () => {
    const events = new StrataEmitter()
    const runId = 'run-scraped'
    // A sampling period far beyond the test: every change seen below comes from the events.
    const monitor = await start(events, { runId, intervalMs: 60_000, port: 0 })
    expect(monitor.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const url = monitor.url!

    events.emit('run:start', { runId, command: 'up', environment: null, steps: [{ revision: 'a1', direction: 'up' }], estimatedMs: null })
    events.emit('migration:start', { runId, revision: 'a1', direction: 'up', index: 0, total: 1, file: 'a1.ts' })
    events.emit('backfill:progress', backfill(runId, 'a1', 'users', 1200, 4800))
    const first = await fetch(url)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await first.text()
    expect(text).toContain(`strata_rows_processed_total{run_id="${runId}"} 1200`)
    expect(text).toContain(`strata_progress_ratio{run_id="${runId}"} 0.25`)
    for (const name of ['strata_run_elapsed_seconds', 'strata_rows_processed_total', 'strata_progress_ratio', 'strata_errors_total', 'strata_process_cpu_percent',
      'strata_process_resident_memory_bytes', 'strata_disk_read_bytes_total', 'strata_disk_written_bytes_total', 'strata_db_connections', 'strata_db_lock_waits']) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'))
    }

    events.emit('backfill:progress', backfill(runId, 'a1', 'users', 3600, 4800))
    const later = await (await fetch(url)).text()
    const rows = Number(new RegExp(`^strata_rows_processed_total\\{run_id="${runId}"\\} (\\d+)$`, 'm').exec(later)?.[1])
    expect(rows).toBe(3600)

    expect((await fetch(url.replace(/\/metrics$/, '/other'))).status).toBe(404)
    expect((await fetch(`${url}x`)).status).toBe(404)
    expect((await fetch(url, { method: 'POST' })).status).toBe(404)

    // Never prom-client's global registry.
    expect(register.getSingleMetric('strata_rows_processed_total')).toBeUndefined()

    const summary = await monitor.stop()
    expect(summary.samples).toBe(1) // only the last one
    expect(summary.rows).toBe(3600)
    await expect(fetch(url)).rejects.toThrow()
  })

  it('lets several runs serve at once in one process', async () => {
    const a = new StrataEmitter()
    const b = new StrataEmitter()
    const ma = await start(a, { runId: 'run-a', intervalMs: 60_000, port: 0 })
    const mb = await start(b, { runId: 'run-b', intervalMs: 60_000, port: 0 })
    a.emit('backfill:progress', backfill('run-a', 'a1', 't', 5, 10))
    b.emit('backfill:progress', backfill('run-b', 'b1', 't', 7, 10))
    const ta = await (await fetch(ma.url!)).text()
    const tb = await (await fetch(mb.url!)).text()
    expect(ta).toContain('strata_rows_processed_total{run_id="run-a"} 5')
    expect(ta).not.toContain('run-b')
    expect(tb).toContain('strata_rows_processed_total{run_id="run-b"} 7')
    expect(tb).not.toContain('run-a')
  })

  it('keeps sampling beside a slow server query, never two at once', async () => {
    const events = new StrataEmitter()
    const samples = collect(events)
    let active = 0
    let maxActive = 0
    let calls = 0
    const server = async (): Promise<ServerStats> => {
      calls++
      active++
      maxActive = Math.max(maxActive, active)
      await sleep(200)
      active--
      return { connections: 3, lockWaits: 1 }
    }
    const monitor = await start(events, { runId: 'run-slow', intervalMs: 50, server })
    await sleep(700)
    expect(samples.length).toBeGreaterThanOrEqual(6) // every 50 ms, not every 200 ms
    expect(samples.some((s) => s.connections === 3 && s.lockWaits === 1)).toBe(true)
    const summary = await monitor.stop()
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(maxActive).toBe(1)
    expect(active).toBe(0) // stop() waited for the query in flight
    expect(summary.peakConnections).toBe(3)
    expect(summary.peakLockWaits).toBe(1)
  })

  it('gives nulls when the server query throws, and keeps sampling', async () => {
    const events = new StrataEmitter()
    const samples = collect(events)
    let calls = 0
    const monitor = await start(events, {
      runId: 'run-throws',
      intervalMs: 50,
      server: async () => {
        calls++
        throw new Error('connection lost')
      },
    })
    await sleep(400)
    expect(samples.length).toBeGreaterThanOrEqual(4)
    expect(calls).toBeGreaterThanOrEqual(2)
    for (const s of samples) expect([s.connections, s.lockWaits]).toEqual([null, null])
    const summary = await monitor.stop()
    expect(summary.peakConnections).toBeNull()
    expect(summary.peakLockWaits).toBeNull()
  })

  it('refuses a port already in use with E_USAGE naming it', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    const events = new StrataEmitter()
    try {
      const error = await startMetrics(events, { runId: 'run-busy', port }).then(() => null, (e: unknown) => e)
      expect(error).toBeInstanceOf(StrataError)
      expect((error as StrataError).code).toBe('E_USAGE')
      expect((error as StrataError).message).toContain(String(port))
      expect((error as StrataError).hint).toMatch(/port/)
      expect(events.listens('backfill:progress')).toBe(false)
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })
})
