import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ROOT, copyExample, strata, strataAsync } from '../support/cli.js'
import { DIALECTS, type TestDatabase } from '../support/dialects.js'
import { rows as sqliteRows } from '../support/sqlite.js'

/** Rows the dashboard has before the change, beyond the five the initial migration inserts. */
const ROWS = 100_000
const OLD_APP = join(ROOT, 'examples', 'zero-downtime', 'old-app.mjs')

interface WriterLog {
  writes: Array<{ at: number; kind: 'insert' | 'update'; id: number; event: string }>
  failures: Array<{ message: string }>
  final: Record<string, string>
}

/** The event the bulk rows start with: `Event 0` … `Event 49`. */
function bulkEvent(id: number): string {
  return `Event ${id % 50}`
}

function bulkInsert(dialect: string): string {
  const select = `SELECT i + 5, 'graphic ' || i, 'Event ' || ((i + 5) % 50) FROM seq`
  if (dialect === 'postgres') return `INSERT INTO graphics (id, title, event) SELECT i + 5, 'graphic ' || i, 'Event ' || ((i + 5) % 50) FROM generate_series(1, ${ROWS}) AS i`
  if (dialect === 'mysql') {
    // MariaDB caps recursive queries at 1000 rows by default: five digit tables make 100,000.
    const digit = `(${Array.from({ length: 10 }, (_, d) => `SELECT ${d} AS d`).join(' UNION ALL ')})`
    const n = 'a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + 1'
    return `INSERT INTO graphics (id, title, event) SELECT ${n} + 5, CONCAT('graphic ', ${n}), CONCAT('Event ', (${n} + 5) % 50) FROM ${['a', 'b', 'c', 'e', 'f'].map((t) => `${digit} AS ${t}`).join(', ')}`
  }
  return `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${ROWS}) INSERT INTO graphics (id, title, event) ${select}`
}

for (const dialect of DIALECTS) {
  describe(`the SOP's zero-downtime example on ${dialect.name}`, () => {
    it('expands and backfills while the old application writes, completes after the deploy, and loses no write', async () => {
      const project = copyExample('zero-downtime')
      const db: TestDatabase = await dialect.create(project.dir)
      try {
        const url = dialect.name === 'sqlite' ? `sqlite:${join(project.dir, 'dashboard.db')}` : db.url
        const args = ['--config', 'strata.yaml', ...(dialect.name === 'sqlite' ? [] : ['--url', url])]
        const run = (more: readonly string[]): ReturnType<typeof strata> => strata([...more, ...args], project.dir)
        expect(run(['up', '000_initial_schema']).code).toBe(0)
        const rows = async <T>(sql: string): Promise<T[]> => (dialect.name === 'sqlite' ? sqliteRows<T>(join(project.dir, 'dashboard.db'), sql) : db.rows<T>(sql))
        if (dialect.name === 'sqlite') sqliteExec(join(project.dir, 'dashboard.db'), bulkInsert('sqlite'))
        else await db.exec(bulkInsert(dialect.name))
        if (dialect.name === 'postgres') await db.exec("SELECT setval(pg_get_serial_sequence('graphics', 'id'), 100005)")

        // Phase 0: the old application is live and keeps writing through phases 1 and 2.
        const app = spawn(process.execPath, [OLD_APP, url, '--seconds', '120', '--pause-ms', '1', '--log', join(project.dir, 'writes.json')], { cwd: ROOT })
        let appErr = ''
        app.stderr.on('data', (d: Buffer) => (appErr += d.toString()))
        const appExit = new Promise<number>((resolve) => app.on('close', (code) => resolve(code ?? -1)))
        await new Promise((r) => setTimeout(r, 400))

        // Phases 1 and 2: `strata up` expands and backfills.
        const upStarted = Date.now()
        const up = strataAsync(['up', '--progress', 'json', ...args], project.dir)
        let backfillSeenAt = 0
        const watch = setInterval(() => {
          if (backfillSeenAt === 0 && up.stderrText().includes('backfill:progress')) backfillSeenAt = Date.now()
        }, 2)
        const upResult = await up.done
        const upEnded = Date.now()
        clearInterval(watch)
        expect(upResult.stderr).not.toContain('"error"')
        expect(upResult.code).toBe(0)
        await new Promise((r) => setTimeout(r, 300))
        app.kill('SIGTERM')
        expect(await appExit, appErr).toBe(0)
        const log = JSON.parse(readFileSync(join(project.dir, 'writes.json'), 'utf8')) as WriterLog
        expect(log.failures).toEqual([])
        // The application really wrote while the backfill ran (and after, until the up ended).
        expect(backfillSeenAt).toBeGreaterThan(0)
        expect(log.writes.filter((w) => w.at >= upStarted && w.at <= upEnded).length).toBeGreaterThan(5)
        expect(log.writes.filter((w) => w.at >= backfillSeenAt && w.at <= upEnded).length).toBeGreaterThan(0)
        expect(log.writes.filter((w) => w.kind === 'update').length).toBeGreaterThan(5)

        // Expanded: both columns agree on every row, whatever the old application wrote.
        const status = JSON.parse(run(['status', '--json']).stdout) as { applied: Array<{ revision: string; state: string }> }
        expect(status.applied.map((a) => `${a.revision}:${a.state}`)).toEqual(['000_initial_schema:applied', '001_add_event_name_to_graphics:expanded'])
        const mismatched = await rows<{ n: unknown }>('SELECT count(*) AS n FROM graphics WHERE event_name IS NULL OR event_name <> event')
        expect(Number(mismatched[0]!.n)).toBe(0)

        // Phase 3 is the deploy; phases 4 and 5: complete.
        const complete = run(['complete', '001'])
        expect(complete.stderr).not.toContain('error[')
        expect(complete.code).toBe(0)
        const after = JSON.parse(run(['status', '--json']).stdout) as { applied: Array<{ revision: string; state: string }>; drift: unknown }
        expect(after.applied.map((a) => a.state)).toEqual(['applied', 'applied'])
        expect(after.drift).toBeNull()
        const columns = dialect.name === 'sqlite' ? sqliteRows<{ name: string }>(join(project.dir, 'dashboard.db'), 'SELECT name FROM pragma_table_info(\'graphics\')').map((c) => c.name) : await db.columns('graphics')
        expect(columns).toEqual(['id', 'title', 'graphic_type', 'is_live', 'event_name'])

        // No write lost: every row has the event its last writer gave it.
        const inserted = log.writes.filter((w) => w.kind === 'insert').length
        const all = await rows<{ id: unknown; event_name: string }>('SELECT id, event_name FROM graphics')
        expect(all.length).toBe(5 + ROWS + inserted)
        const initial = ['Cup Final', 'Cup Final', 'League Round 12', 'League Round 12', 'Sponsor Night']
        const wrong = all.filter((r) => {
          const id = Number(r.id)
          const expected = log.final[String(id)] ?? (id <= 5 ? initial[id - 1] : bulkEvent(id))
          return r.event_name !== expected
        })
        expect(wrong.slice(0, 5)).toEqual([])
      } finally {
        await db.drop()
        project.cleanup()
      }
    })
  })
}

function sqliteExec(file: string, sql: string): void {
  const db = new Database(file)
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}
