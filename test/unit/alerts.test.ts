import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, MetricsSample, StrataEvents } from '../../src/events/events.js'
import { StrataEmitter } from '../../src/events/events.js'
import { attachAlerts, type AlertsConfig } from '../../src/monitor/alerts.js'

let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-alerts-'))
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly status: number | 'hang'
}

/** A local webhook receiver; `answer` picks the status of the n-th request (0-based), or hangs. */
async function receiver(answer: (n: number) => number | 'hang' = () => 200) {
  const requests: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      const status = answer(requests.length)
      requests.push({ path: req.url ?? '', headers: req.headers, body, status })
      if (status !== 'hang') res.writeHead(status).end()
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /** Bodies the receiver accepted (answered 2xx), parsed. */
    accepted: (): Alert[] => requests.filter((r) => typeof r.status === 'number' && r.status < 300).map((r) => JSON.parse(r.body) as Alert),
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((done) => server.close(() => done()))
    },
  }
}

function collect<E extends keyof StrataEvents>(events: StrataEmitter, name: E): Array<StrataEvents[E]> {
  const seen: Array<StrataEvents[E]> = []
  events.on(name, (payload) => seen.push(payload))
  return seen
}

function sample(runId: string, cpuPercent: number, rssMb: number): MetricsSample {
  return {
    runId, at: new Date().toISOString(), elapsedMs: 1_000, rows: 0, progress: 0.5, errors: 0, cpuPercent,
    rssBytes: rssMb * 1024 * 1024, readBytes: null, writeBytes: null, connections: null, lockWaits: null,
  }
}

function progress(runId: string, revision: string, rows: number, batches: number, batchMs: number): StrataEvents['backfill:progress'] {
  return { runId, revision, table: 'users', rows, total: 100_000, batches, batchMs, rowsPerSecond: 1_000, etaMs: null }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

describe('attachAlerts', () => {
  it('raises every rule once, in order, and delivers to webhook, file, console and command sinks', async () => {
    const hook = await receiver()
    const printed: string[] = []
    const config: AlertsConfig = {
      critical: ['migration_failure', 'data_corruption', 'rollback_required'],
      warning: ['long_running', 'performance_degradation', 'high_resource_usage'],
      info: ['migration_started', 'migration_completed', 'backup_completed'],
      thresholds: { long_running_s: 0.2, degradation_ratio: 0.5, cpu_percent: 90, rss_mb: 100 },
      sinks: [
        { type: 'webhook', url: hook.url, timeout_ms: 1_000, retries: 1 },
        { type: 'file', path: 'logs/deep/alerts.jsonl' },
        { type: 'console' },
        {
          type: 'command',
          command: [process.execPath, '-e', "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>require('node:fs').appendFileSync('command.jsonl',s))"],
        },
      ],
    }
    const events = new StrataEmitter()
    const alerts = collect(events, 'alert')
    const logs = collect(events, 'log')
    const router = attachAlerts(events, config, { environment: 'staging', baseDir: dir, print: (line) => printed.push(line) })
    try {
      const steps = [{ revision: '001_a', direction: 'up' as const }, { revision: '002_b', direction: 'up' as const }]
      events.emit('run:start', { runId: 'run-1', command: 'up', environment: 'staging', steps, estimatedMs: null })
      events.emit('backup:start', { dir: 'backups' })
      events.emit('backup:done', { id: 'b1', path: 'backups/b1', size: 4096, durationMs: 12, verified: true })
      events.emit('check', { phase: 'preflight', name: 'consistency', status: 'fail', message: 'not a postflight check' })
      events.emit('migration:start', { runId: 'run-1', revision: '001_a', direction: 'up', index: 0, total: 2, file: 'migrations/001_a.ts' })
      events.emit('statement', { runId: 'run-1', revision: '001_a', sql: 'UPDATE users SET x = 1' })
      // First batch sets the baseline; the next two (40 s of batch time, 1,000 rows/s) fill the
      // first minute; then a batch at 250 rows/s degrades, and a slower one raises nothing more.
      events.emit('backfill:progress', progress('run-1', '001_a', 1_000, 1, 20_000))
      events.emit('backfill:progress', progress('run-1', '001_a', 21_000, 2, 20_000))
      events.emit('backfill:progress', progress('run-1', '001_a', 41_000, 3, 20_000))
      events.emit('backfill:progress', progress('run-1', '001_a', 61_000, 4, 20_000))
      events.emit('backfill:progress', progress('run-1', '001_a', 66_000, 5, 20_000))
      events.emit('backfill:progress', progress('run-1', '001_a', 67_000, 6, 20_000))
      events.emit('metrics:sample', sample('run-1', 50, 50))
      events.emit('metrics:sample', sample('run-1', 95, 50))
      events.emit('metrics:sample', sample('run-1', 97, 200))
      events.emit('metrics:sample', sample('run-1', 99, 300))
      events.emit('migration:done', { runId: 'run-1', revision: '001_a', direction: 'up', index: 0, total: 2, durationMs: 80_000, statements: 3 })
      events.emit('migration:start', { runId: 'run-1', revision: '002_b', direction: 'up', index: 1, total: 2, file: 'migrations/002_b.ts' })
      events.emit('migration:start', { runId: 'run-1', revision: '002_b', direction: 'up', index: 1, total: 2, file: 'migrations/002_b.ts' })
      events.emit('migration:failed', { runId: 'run-1', revision: '002_b', direction: 'up', message: 'no such column: y' })
      events.emit('rollback:start', { runId: 'run-1', revisions: ['002_b', '001_a'] })
      events.emit('rollback:done', { runId: 'run-1', revisions: ['002_b', '001_a'], ok: true })
      events.emit('check', { phase: 'postflight', name: 'drift', status: 'fail', message: 'not a data check' })
      events.emit('check', { phase: 'postflight', name: 'consistency', status: 'fail', message: 'users: 3 rows lost' })
      events.emit('restore:start', { backupId: 'b1' })
      events.emit('restore:done', { backupId: 'b1', durationMs: 30 })
      await sleep(300)
      events.emit('run:done', { runId: 'run-1', status: 'failed', durationMs: 400 })
      events.emit('restore:start', { backupId: 'b1' })
      // A run that fails without a failed migration (say, a lock timeout) raises the run-level failure.
      events.emit('run:start', { runId: 'run-2', command: 'up', environment: 'staging', steps, estimatedMs: null })
      events.emit('run:done', { runId: 'run-2', status: 'failed', durationMs: 5 })

      const expected = [
        ['info', 'backup_completed', 'run-1', null],
        ['info', 'migration_started', 'run-1', '001_a'],
        ['warning', 'performance_degradation', 'run-1', '001_a'],
        ['warning', 'high_resource_usage', 'run-1', null],
        ['warning', 'high_resource_usage', 'run-1', null],
        ['info', 'migration_completed', 'run-1', '001_a'],
        ['info', 'migration_started', 'run-1', '002_b'],
        ['critical', 'migration_failure', 'run-1', '002_b'],
        ['critical', 'rollback_required', 'run-1', null],
        ['critical', 'data_corruption', 'run-1', null],
        ['critical', 'rollback_required', 'run-1', null],
        ['warning', 'long_running', 'run-1', null],
        ['critical', 'migration_failure', 'run-2', null],
      ]
      expect(alerts.map((a) => [a.level, a.event, a.runId, a.revision])).toEqual(expected)
      for (const alert of alerts) {
        expect(alert.environment).toBe('staging')
        expect(alert.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
        expect(Number.isNaN(Date.parse(alert.at))).toBe(false)
        expect(Object.keys(alert).sort()).toEqual(['at', 'environment', 'event', 'level', 'message', 'revision', 'runId'])
      }
      expect(alerts[2]?.message).toContain('250 rows/s')
      expect(alerts[8]?.message).toContain('002_b, 001_a')

      const report = await router.settle()
      expect(report).toEqual({ alerts: 13, delivered: 13 * 4, failed: [] })
      expect(logs).toEqual([])

      expect(hook.accepted()).toEqual(alerts)
      expect(hook.requests).toHaveLength(13)
      expect(hook.requests.every((r) => r.headers['content-type'] === 'application/json' && r.path === '/hook')).toBe(true)
      const lines = (path: string) => readFileSync(join(dir, path), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Alert)
      expect(lines('logs/deep/alerts.jsonl')).toEqual(alerts)
      expect(lines('command.jsonl')).toEqual(alerts)
      expect(printed).toHaveLength(13)
      expect(printed[7]).toBe(`ALERT [critical] migration_failure 002_b: ${alerts[7]?.message}`)
      expect(printed[8]).toBe(`ALERT [critical] rollback_required: ${alerts[8]?.message}`)
      expect(printed).toEqual(alerts.map((a) => `ALERT [${a.level}] ${a.event}${a.revision ? ` ${a.revision}` : ''}: ${a.message}`))
    } finally {
      router.detach()
      await hook.close()
    }
  })

  it('raises nothing for an event listed under no level, and a sink takes only its levels', async () => {
    const printed: string[] = []
    const events = new StrataEmitter()
    const alerts = collect(events, 'alert')
    const router = attachAlerts(events, {
      critical: ['migration_failure'],
      info: ['migration_completed'],
      sinks: [{ type: 'console', levels: ['critical'] }, { type: 'file', path: 'filtered.jsonl', levels: ['info', 'warning'] }],
    }, { environment: null, baseDir: dir, print: (line) => printed.push(line) })
    events.emit('run:start', { runId: 'r', command: 'up', environment: null, steps: [{ revision: '001_a', direction: 'up' }], estimatedMs: null })
    events.emit('backup:done', { id: 'b', path: 'b', size: 1, durationMs: 1, verified: false })
    events.emit('migration:start', { runId: 'r', revision: '001_a', direction: 'up', index: 0, total: 1, file: '001_a.ts' })
    events.emit('migration:done', { runId: 'r', revision: '001_a', direction: 'up', index: 0, total: 1, durationMs: 3, statements: 1 })
    events.emit('metrics:sample', sample('r', 100, 4096))
    events.emit('rollback:start', { runId: 'r', revisions: ['001_a'] })
    events.emit('migration:failed', { runId: 'r', revision: '001_a', direction: 'down', message: 'boom' })
    events.emit('run:done', { runId: 'r', status: 'failed', durationMs: 10 })
    router.detach()
    events.emit('migration:failed', { runId: 'r2', revision: '002_b', direction: 'up', message: 'after detach' })

    expect(alerts.map((a) => [a.level, a.event, a.environment])).toEqual([
      ['info', 'migration_completed', null],
      ['critical', 'migration_failure', null],
    ])
    expect(await router.settle()).toEqual({ alerts: 2, delivered: 2, failed: [] })
    expect(printed).toEqual([`ALERT [critical] migration_failure 001_a: ${alerts[1]?.message}`])
    const lines = readFileSync(join(dir, 'filtered.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Alert)
    expect(lines).toEqual([alerts[0]])
  })

  it('never blocks on a hanging webhook, settles within the budget and masks the URL', async () => {
    const hook = await receiver(() => 'hang')
    const url = `http://user:secret@127.0.0.1:${hook.port}/hook?token=abc`
    const events = new StrataEmitter()
    const logs = collect(events, 'log')
    const router = attachAlerts(events, {
      info: ['migration_started', 'migration_completed'],
      sinks: [{ type: 'webhook', url, timeout_ms: 100, retries: 1 }],
    }, { environment: 'prod', baseDir: dir, print: () => undefined })
    try {
      const started = performance.now()
      events.emit('run:start', { runId: 'r', command: 'up', environment: 'prod', steps: [], estimatedMs: null })
      for (let i = 0; i < 5; i++) {
        const revision = `00${i}_m`
        events.emit('migration:start', { runId: 'r', revision, direction: 'up', index: i, total: 5, file: `${revision}.ts` })
        events.emit('migration:done', { runId: 'r', revision, direction: 'up', index: i, total: 5, durationMs: 1, statements: 1 })
      }
      expect(performance.now() - started).toBeLessThan(20)

      const settling = performance.now()
      const report = await router.settle()
      const budget = 100 * (1 + 1) + 200
      expect(performance.now() - settling).toBeLessThan(budget + 150)
      expect(report.alerts).toBe(10)
      expect(report.delivered).toBe(0)
      expect(report.failed).toHaveLength(10)
      const masked = `webhook http://user:****@127.0.0.1:${hook.port}/hook?token=****`
      for (const failure of report.failed) {
        expect(failure.sink).toBe(masked)
        expect(['timed out after 100 ms', 'still pending when the run ended']).toContain(failure.error)
      }
      expect(report.failed.map((f) => f.event)).toEqual(Array.from({ length: 5 }, () => ['migration_started', 'migration_completed']).flat())
      // The first alert was tried, then retried after 200 ms.
      expect(hook.requests.length).toBeGreaterThanOrEqual(2)
      expect(report.failed[0]?.attempts).toBe(2)
      expect(hook.requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`)

      expect(logs).toHaveLength(10)
      expect(logs[0]?.level).toBe('warn')
      expect(logs[0]?.message).toMatch(new RegExp(`^alert migration_started of \\w+ could not be delivered to ${masked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+ \\(after 2 attempts\\)$`))
      const shown = JSON.stringify({ report, logs })
      expect(shown).not.toContain('secret')
      expect(shown).not.toContain('abc')

      // Abandoned deliveries stop: nothing more reaches the receiver.
      const sent = hook.requests.length
      await sleep(300)
      expect(hook.requests.length).toBe(sent)
    } finally {
      router.detach()
      await hook.close()
    }
  })

  it('a throttled backfill of short batches takes its reference rate from its first minute on the clock', async () => {
    const events = new StrataEmitter()
    const alerts = collect(events, 'alert')
    let clock = 0
    const router = attachAlerts(events, { warning: ['performance_degradation'], thresholds: { degradation_ratio: 0.5 }, sinks: [] },
      { environment: null, baseDir: dir, print: () => undefined, now: () => clock })
    try {
      // 50 ms batches of 1,000 rows, a second apart: a minute on the clock holds 3 s of batch time.
      let rows = 0
      for (let batch = 1; batch <= 70; batch++) {
        rows += 1_000
        events.emit('backfill:progress', progress('run-1', '001_a', rows, batch, 50))
        clock += 1_000
      }
      expect(alerts).toEqual([])
      // Then batches four times slower: under half of the starting 20,000 rows/s.
      rows += 1_000
      events.emit('backfill:progress', progress('run-1', '001_a', rows, 71, 200))
      expect(alerts.map((a) => [a.event, a.revision, a.message])).toEqual([
        ['performance_degradation', '001_a', 'backfill of users slowed to 5000 rows/s, under 50% of its starting 20000 rows/s'],
      ])
      await router.settle()
    } finally {
      router.detach()
    }
  })

  it('retries a webhook answering 500 twice, then delivers once', async () => {
    const hook = await receiver((n) => (n < 2 ? 500 : 200))
    const events = new StrataEmitter()
    const alerts = collect(events, 'alert')
    const logs = collect(events, 'log')
    const router = attachAlerts(events, { critical: ['migration_failure'], sinks: [{ type: 'webhook', url: hook.url, timeout_ms: 1_000 }] },
      { environment: null, baseDir: dir, print: () => undefined })
    try {
      events.emit('migration:failed', { runId: 'r', revision: '001_a', direction: 'up', message: 'boom' })
      const report = await router.settle()
      expect(report).toEqual({ alerts: 1, delivered: 1, failed: [] })
      expect(hook.requests.map((r) => r.status)).toEqual([500, 500, 200])
      expect(hook.accepted()).toEqual(alerts)
      expect(logs).toEqual([])
    } finally {
      router.detach()
      await hook.close()
    }
  })

  it('does not retry a webhook answering 400', async () => {
    const hook = await receiver(() => 400)
    const events = new StrataEmitter()
    const logs = collect(events, 'log')
    const router = attachAlerts(events, { critical: ['migration_failure'], sinks: [{ type: 'webhook', url: hook.url, retries: 3 }] },
      { environment: null, baseDir: dir, print: () => undefined })
    try {
      events.emit('migration:failed', { runId: 'r', revision: '001_a', direction: 'up', message: 'boom' })
      const report = await router.settle()
      expect(hook.requests).toHaveLength(1)
      expect(report.delivered).toBe(0)
      expect(report.failed).toEqual([{ sink: `webhook ${hook.url}`, event: 'migration_failure', revision: '001_a', attempts: 1, error: 'the server answered 400 Bad Request' }])
      expect(logs.map((l) => l.message)).toEqual([
        `alert migration_failure of 001_a could not be delivered to webhook ${hook.url}: the server answered 400 Bad Request (after 1 attempt)`,
      ])
    } finally {
      router.detach()
      await hook.close()
    }
  })

  it('reports a command sink that exits non-zero, without retrying', async () => {
    const events = new StrataEmitter()
    const router = attachAlerts(events, {
      critical: ['migration_failure'],
      sinks: [{ type: 'command', command: [process.execPath, '-e', "process.stderr.write('no pager');process.exit(3)"] }],
    }, { environment: null, baseDir: dir, print: () => undefined })
    events.emit('migration:failed', { runId: 'r', revision: '001_a', direction: 'up', message: 'boom' })
    const report = await router.settle()
    router.detach()
    expect(report.failed).toHaveLength(1)
    expect(report.failed[0]?.attempts).toBe(1)
    expect(report.failed[0]?.error).toBe(`${process.execPath} exited with code 3: no pager`)
  })

  it('raises a resource alert once per run, and nothing for a sample that arrives after the run ended', async () => {
    const events = new StrataEmitter()
    const seen = collect(events, 'alert')
    const router = attachAlerts(events, { warning: ['high_resource_usage'], thresholds: { rss_mb: 10 } }, { environment: null, baseDir: dir, print: () => undefined })
    events.emit('run:start', { runId: 'r', command: 'up', environment: null, steps: [], estimatedMs: null })
    events.emit('metrics:sample', sample('r', 1, 64))
    events.emit('metrics:sample', sample('r', 1, 64))
    events.emit('run:done', { runId: 'r', status: 'succeeded', durationMs: 5 })
    events.emit('metrics:sample', sample('r', 1, 64))
    await router.settle()
    router.detach()
    expect(seen.map((a) => a.event)).toEqual(['high_resource_usage'])
  })

  it('masks credentials in a migration alert\'s message, and raises each step\'s start and end once', async () => {
    const events = new StrataEmitter()
    const seen = collect(events, 'alert')
    const router = attachAlerts(events, { info: ['migration_started', 'migration_completed'] }, { environment: null, baseDir: dir, print: () => undefined })
    const revision = '001_token=hunter2'
    events.emit('run:start', { runId: 'r', command: 'up', environment: null, steps: [{ revision, direction: 'up' }, { revision, direction: 'up' }], estimatedMs: null })
    for (const index of [0, 0, 1]) {
      const phase = index === 0 ? 'expand' as const : 'contract' as const
      events.emit('migration:start', { runId: 'r', revision, direction: 'up', phase, index, total: 2, file: 'm.ts' })
      events.emit('migration:done', { runId: 'r', revision, direction: 'up', phase, index, total: 2, durationMs: 1, statements: 1 })
    }
    await router.settle()
    router.detach()
    expect(seen.map((a) => a.message)).toEqual([
      'migration 001_token=**** (up, expand) started, 1 of 2', 'migration 001_token=**** (up, expand) completed in 1 ms',
      'migration 001_token=**** (up, contract) started, 2 of 2', 'migration 001_token=**** (up, contract) completed in 1 ms',
    ])
  })

  it('raises step alerts by the next turn of the event loop, in the order of their events, stamped with their time, all before the run ends', async () => {
    const events = new StrataEmitter()
    const seen = collect(events, 'alert')
    const ends: number[] = []
    const router = attachAlerts(events, { critical: ['migration_failure'], info: ['migration_started', 'migration_completed'] }, { environment: null, baseDir: dir, print: () => undefined })
    const step = (runId: string, index: number, total: number) => ({ runId, revision: `00${index}_m`, direction: 'up' as const, index, total })
    try {
      events.emit('run:start', { runId: 'r1', command: 'up', environment: null, steps: [], estimatedMs: null })
      events.emit('migration:start', { ...step('r1', 0, 3), file: 'a.sql' })
      await new Promise((done) => setImmediate(done))
      expect(seen.map((a) => `${a.event} ${a.revision}`)).toEqual(['migration_started 000_m'])
      events.emit('migration:done', { ...step('r1', 0, 3), durationMs: 2, statements: 1 })
      events.emit('migration:start', { ...step('r1', 1, 3), file: 'b.sql' })
      const before = new Date().toISOString()
      const blocked = Date.now() + 25
      while (Date.now() < blocked) {
        // A statement holding the thread: no turn of the event loop.
      }
      events.emit('migration:failed', { runId: 'r1', revision: '001_m', direction: 'up', message: 'no such table' })
      expect(seen.map((a) => `${a.event} ${a.revision}`)).toEqual([
        'migration_started 000_m', 'migration_completed 000_m', 'migration_started 001_m', 'migration_failure 001_m',
      ])
      // Stamped when the step started, not when the alert was raised after the blocked thread.
      expect(seen[2]!.at <= before).toBe(true)
      expect(seen[3]!.at > before).toBe(true)
      events.emit('run:done', { runId: 'r1', status: 'failed', durationMs: 30 })

      // The plan's last step raises at once: the run's alerts all come before its run:done.
      events.on('run:done', () => ends.push(seen.length))
      events.emit('run:start', { runId: 'r2', command: 'up', environment: null, steps: [], estimatedMs: null })
      for (const index of [0, 1]) {
        events.emit('migration:start', { ...step('r2', index, 2), file: 'm.sql' })
        events.emit('migration:done', { ...step('r2', index, 2), durationMs: 1, statements: 1 })
      }
      events.emit('run:done', { runId: 'r2', status: 'success', durationMs: 5 })
      expect(ends).toEqual([8])
      expect(seen.slice(4).map((a) => `${a.runId} ${a.event} ${a.revision}`)).toEqual([
        'r2 migration_started 000_m', 'r2 migration_completed 000_m', 'r2 migration_started 001_m', 'r2 migration_completed 001_m',
      ])
    } finally {
      router.detach()
      await router.settle()
    }
  })

  it('writes a burst of alerts to a file together, and reports each one a file it cannot write loses', async () => {
    const events = new StrataEmitter()
    const logs = collect(events, 'log')
    const good = join(dir, 'burst', 'alerts.jsonl')
    const router = attachAlerts(events, {
      info: ['migration_started'],
      sinks: [{ type: 'file', path: good }, { type: 'file', path: dir }],
    }, { environment: 'prod', baseDir: dir, print: () => undefined })
    // Over two batches of 256 lines before the event loop turns (one is then written in the
    // background), and as many again after: the file gets them all, in order.
    const start = (i: number) => events.emit('migration:start', { runId: 'r', revision: `m${i}`, direction: 'up', index: i, total: 1000, file: `m${i}.sql` })
    for (let i = 0; i < 600; i++) start(i)
    await new Promise((done) => setImmediate(done))
    for (let i = 600; i < 1000; i++) start(i)
    const report = await router.settle()
    router.detach()
    const lines = readFileSync(good, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert)
    expect(lines.map((a) => a.revision)).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`))
    // The second sink names a folder: all thousand are lost there, and said so.
    expect(report).toMatchObject({ alerts: 1000, delivered: 1000 })
    expect(report.failed).toHaveLength(1000)
    expect(report.failed[0]).toMatchObject({ event: 'migration_started', sink: `file ${dir}` })
    expect(report.failed.map((f) => f.revision)).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`))
    expect(logs.filter((l) => l.level === 'warn' && l.message.includes('could not be delivered to file'))).toHaveLength(1000)
  })
})
