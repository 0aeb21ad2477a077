import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, strataAsync, useProject } from '../support/cli.js'
import { DIALECT, useTestDatabase, type TestDatabase } from '../support/dialects.js'
import { rows } from '../support/sqlite.js'

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A local webhook receiver: records each POST body, answers with `status` (or never, when hanging). */
async function receiver(answer: (body: unknown) => number | 'hang'): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = []
  const hanging: IncomingMessage[] = []
  const server: Server = createServer((req, res) => {
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', () => {
      const body = JSON.parse(text) as unknown
      bodies.push(body)
      const status = answer(body)
      if (status === 'hang') return void hanging.push(req)
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

const TABLE = `-- strata:up
CREATE TABLE graphics (id integer PRIMARY KEY, title varchar(40) NOT NULL, event_name varchar(40));
-- strata:down
DROP TABLE graphics;
`

describe('metrics during a run', () => {
  const project = useProject()

  it('serves Prometheus metrics on 127.0.0.1 during a 1,000,000-row backfill, the row counter rising, and records the summary', async () => {
    const count = 1_000_000
    project.write('001_graphics.sql', TABLE)
    project.write('002_rows.sql', `-- strata:up
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${count}) INSERT INTO graphics (id, title) SELECT i, 'graphic ' || i FROM seq;
-- strata:down
DELETE FROM graphics;
`)
    const URL = ['--url', 'sqlite:app.db', '--migrations', 'migrations']
    expect(strata(['up', ...URL], project.dir).code).toBe(0)
    project.write('003_backfill.ts', `export default {
  transactional: false,
  up(op) { op.backfill({ table: 'graphics', set: { event_name: 'launch' }, batchSize: 1000, throttleMs: 150 }) },
  down() {},
}
`)
    const port = await freePort()
    const run = strataAsync(['up', '--metrics-port', String(port), '--progress', 'json', ...URL], project.dir)
    const seen: number[] = []
    let finished = false
    void run.done.then(() => (finished = true))
    while (!finished) {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => null)
      const match = text?.match(/^strata_rows_processed_total\{run_id="[^"]+"\} (\d+)$/m)
      if (match) seen.push(Number(match[1]))
      await new Promise((r) => setTimeout(r, 40))
    }
    const result = await run.done
    expect(result.code).toBe(0)
    const rising = [...new Set(seen)]
    expect(rising.length).toBeGreaterThanOrEqual(3)
    expect(rising).toEqual([...rising].sort((a, b) => a - b))
    expect(rising.at(-1)).toBeGreaterThan(0)
    expect(rising.at(-1)).toBeLessThanOrEqual(count)
    const events = result.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; rows?: number; rssBytes?: number })
    expect(events.filter((e) => e.type === 'metrics:sample').length).toBeGreaterThan(0)
    expect(events.some((e) => e.type === 'log' && JSON.stringify(e).includes(`http://127.0.0.1:${port}/metrics`))).toBe(true)
    // Served for the life of the run only.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
    const [last] = rows<{ report: string }>(join(project.dir, 'app.db'), "SELECT report FROM strata_runs WHERE command = 'up' ORDER BY started_at DESC LIMIT 1")
    const report = JSON.parse(last!.report) as { monitoring: { metrics: { rows: number; samples: number; peakRssBytes: number }; metricsUrl: string } }
    expect(report.monitoring.metrics.rows).toBe(count)
    expect(report.monitoring.metrics.samples).toBeGreaterThan(0)
    expect(report.monitoring.metrics.peakRssBytes).toBeGreaterThan(0)
    expect(report.monitoring.metricsUrl).toBe(`http://127.0.0.1:${port}/metrics`)
  }, 120_000)

  it('a metrics port already in use is a usage error before anything runs', async () => {
    project.write('001_graphics.sql', TABLE)
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as AddressInfo
    try {
      const run = strata(['up', '--metrics-port', String(port), '--url', 'sqlite:app.db', '--migrations', 'migrations'], project.dir)
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('E_USAGE')
      expect(run.stderr).toContain(String(port))
      const bad = strata(['up', '--metrics-port', 'eighty', '--url', 'sqlite:app.db', '--migrations', 'migrations'], project.dir)
      expect(bad.code).toBe(2)
      // Refused before the run was recorded: no run row left `running`.
      const tables = rows<{ name: string }>(join(project.dir, 'app.db'), "SELECT name FROM sqlite_master WHERE name = 'strata_runs'")
      if (tables.length > 0) expect(rows(join(project.dir, 'app.db'), 'SELECT run_id FROM strata_runs')).toEqual([])
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})

describe('the event stream as NDJSON', () => {
  const project = useProject()
  const URL = ['--url', 'sqlite:app.db', '--migrations', 'migrations']
  const events = (stderr: string): Array<{ type: string; status?: string }> => stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; status?: string })

  it('pairs every run:start with a run:done, refused and no-op runs included, and stays NDJSON on usage errors', () => {
    project.write('001_graphics.sql', TABLE)
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments: { development: { url: "sqlite:app.db" } }\nchecks:\n  preflight: [ { name: never, sql: "SELECT 0", expect: 1 } ]\n')
    const refused = strata(['up', '--progress', 'json'], project.dir)
    expect(refused.code).toBe(3)
    expect(events(refused.stderr).filter((e) => e.type === 'run:start' || e.type === 'run:done').map((e) => `${e.type} ${e.status ?? ''}`.trim())).toEqual(['run:start', 'run:done refused'])
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments: { development: { url: "sqlite:app.db" } }\n')
    expect(strata(['up'], project.dir).code).toBe(0)
    const idle = strata(['up', '--progress', 'json'], project.dir)
    expect(idle.code).toBe(0)
    expect(events(idle.stderr).filter((e) => e.type === 'run:start' || e.type === 'run:done').map((e) => `${e.type} ${e.status ?? ''}`.trim())).toEqual(['run:start', 'run:done succeeded'])
    const usage = strata(['up', '--bogus', '--progress', 'json', ...URL], project.dir)
    expect(usage.code).toBe(2)
    expect(events(usage.stderr).map((e) => e.type)).toEqual(['log'])
  })
})

describe('server figures in the run record (PostgreSQL)', () => {
  const project = useProject()
  let db: TestDatabase
  useTestDatabase(DIALECT.postgres, project, (created) => (db = created))

  it('samples the sessions open on the server during a run', async () => {
    project.write('001_slow.sql', '-- strata:up\nSELECT pg_sleep(2.5);\nCREATE TABLE done_marker (id integer);\n-- strata:down\nDROP TABLE done_marker;\n')
    expect(strata(['up', ...db.args], project.dir).code).toBe(0)
    const [run] = await db.rows<{ report: string }>("SELECT report FROM strata_runs WHERE command = 'up'")
    const report = JSON.parse(run!.report) as { monitoring: { metrics: { peakConnections: number | null; samples: number } } }
    expect(report.monitoring.metrics.samples).toBeGreaterThanOrEqual(2)
    expect(report.monitoring.metrics.peakConnections).toBeGreaterThanOrEqual(2)
  })
})

describe('alerts from real runs', () => {
  const project = useProject()
  const URL: string[] = []

  const config = (sinks: string): void => writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations
environments: { development: { url: "sqlite:app.db" } }
alerts:
  critical: [migration_failure, data_corruption, rollback_required]
  warning: [long_running, performance_degradation, high_resource_usage]
  info: [migration_started, migration_completed, backup_completed]
  sinks:
${sinks}
`)

  it('a failing run sends started, completed, failure and rollback alerts to the webhook once each, in order, with its run id', async () => {
    const hook = await receiver(() => 200)
    try {
      config(`    - { type: webhook, url: "${hook.url}", timeout_ms: 1000, retries: 1 }\n    - { type: file, path: logs/alerts.jsonl }`)
      project.write('001_graphics.sql', TABLE)
      project.write('002_bad.sql', '-- strata:up\nCREATE TABLE more (id integer);\nINSERT INTO missing_table VALUES (1);\n-- strata:down\nDROP TABLE more;\n')
      // The receiver lives in this process: the CLI must run beside it, not block it.
      const run = await strataAsync(['up', ...URL], project.dir).done
      expect(run.code).toBe(1)
      const alerts = hook.bodies as Array<{ level: string; event: string; runId: string; revision: string | null; environment: string | null; at: string }>
      expect(alerts.map((a) => `${a.level} ${a.event} ${a.revision}`)).toEqual([
        'info migration_started 001_graphics',
        'info migration_completed 001_graphics',
        'info migration_started 002_bad',
        'critical migration_failure 002_bad',
        'critical rollback_required null',
      ])
      const runId = rows<{ run_id: string }>(join(project.dir, 'app.db'), "SELECT run_id FROM strata_runs WHERE command = 'up'")[0]?.run_id
      expect(new Set(alerts.map((a) => a.runId))).toEqual(new Set([runId]))
      expect(alerts.every((a) => !Number.isNaN(Date.parse(a.at)))).toBe(true)
      const lines = (await import('node:fs')).readFileSync(join(project.dir, 'logs', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)
      expect(lines).toEqual(alerts)
    } finally {
      await hook.close()
    }
  })

  it('`strata backup create` sends backup_completed to the sinks, outside any run', () => {
    config('    - { type: file, path: "${ALERT_DIR}/alerts.jsonl" }')
    project.write('001_graphics.sql', TABLE)
    const env = { ALERT_DIR: join(project.dir, 'from-env') }
    expect(strata(['up'], project.dir, env).code).toBe(0)
    // Without the variable, the config is refused, naming the key.
    const unset = strata(['backup', 'create'], project.dir)
    expect(unset.code).toBe(2)
    expect(unset.stderr).toContain('`alerts.sinks.0.path` uses ${ALERT_DIR}')
    const created = strata(['backup', 'create', '--json'], project.dir, env)
    expect(created.code).toBe(0)
    const { id } = JSON.parse(created.stdout) as { id: string }
    const lines = readFileSync(join(project.dir, 'from-env', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; event: string; runId: string | null; revision: string | null; message: string })
    const backup = lines.filter((a) => a.event === 'backup_completed')
    expect(backup).toHaveLength(1)
    expect(backup[0]).toMatchObject({ level: 'info', runId: null, revision: null, environment: 'development' })
    expect(backup[0]?.message).toContain(`backup ${id} completed`)
  })

  it('a webhook that hangs neither fails the run nor holds it past its budget, and the failed delivery is reported and recorded', async () => {
    const hook = await receiver(() => 'hang')
    try {
      config(`    - { type: webhook, url: "${hook.url.replace('http://', 'http://ops:s3cret@')}?token=t0ken", timeout_ms: 300, retries: 1 }`)
      project.write('001_graphics.sql', TABLE)
      const started = Date.now()
      const run = await strataAsync(['up', ...URL], project.dir).done
      const took = Date.now() - started
      expect(run.code).toBe(0)
      expect(run.stderr).toMatch(/alert migration_started of 001_graphics could not be delivered to webhook/)
      expect(run.stderr).not.toContain('s3cret')
      expect(run.stderr).not.toContain('t0ken')
      // Budget: 300 ms x (1 + 1 retry) + 200 ms of backoff, beside a run of well under 5 s.
      expect(took).toBeLessThan(8_000)
      const [last] = rows<{ report: string }>(join(project.dir, 'app.db'), "SELECT report FROM strata_runs WHERE command = 'up'")
      const report = JSON.parse(last!.report) as { monitoring: { alerts: { alerts: number; failed: Array<{ sink: string; event: string }> } } }
      expect(report.monitoring.alerts.alerts).toBe(2)
      expect(report.monitoring.alerts.failed.map((f) => f.event), JSON.stringify(report.monitoring.alerts)).toEqual(['migration_started', 'migration_completed'])
      expect(JSON.stringify(report)).not.toContain('s3cret')
      // The migration record says so too: among its issues, and in its alert tally.
      const [recordFile] = readdirSync(join(project.dir, 'records')).filter((f) => f.endsWith('.json'))
      const record = JSON.parse(readFileSync(join(project.dir, 'records', recordFile!), 'utf8')) as { issues: string[]; monitoring: { alerts: { raised: number; failed: number } } }
      expect(record.monitoring.alerts).toMatchObject({ raised: 2, failed: 2 })
      expect(record.issues.filter((i) => i.startsWith('alert migration_'))).toHaveLength(2)
      expect(record.issues.join('\n')).toContain('could not be delivered to webhook http://ops:****@')
      expect(readFileSync(join(project.dir, 'records', recordFile!.replace('.json', '.md')), 'utf8')).toContain('- **Alerts**: 2 raised, 0 delivered, 2 failed')
    } finally {
      await hook.close()
    }
  })

  it('an unknown alert event or sink type is E_CONFIG naming it', () => {
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments: { development: { url: "sqlite:app.db" } }\nalerts:\n  critical: [migration_failur]\n')
    let run = strata(['status', ...URL], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('E_CONFIG')
    expect(run.stderr).toContain('migration_failur')
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments: { development: { url: "sqlite:app.db" } }\nalerts:\n  sinks: [{ type: pager }]\n')
    run = strata(['status', ...URL], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('E_CONFIG')
    expect(run.stderr).toContain('pager')
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments: { development: { url: "sqlite:app.db" } }\nalerts:\n  sinks: [{ type: webhook, url: "ftp://hooks.example/x" }]\n')
    run = strata(['status', ...URL], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('alerts.sinks.0.url')
    expect(run.stderr).toContain('must be an http:// or https:// URL')
  })
})
