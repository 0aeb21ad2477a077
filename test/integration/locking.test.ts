import { mkdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { strata, strataAsync, tempDir } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

const ARGS = ['--url', 'sqlite:app.db', '--migrations', 'migrations']

/** Three migrations; the second sleeps inside its transaction so the lock is held for a while. */
function project(dir: string, sleepMs: number): void {
  mkdirSync(join(dir, 'migrations'))
  writeFileSync(join(dir, 'migrations', '001_a.sql'), '-- strata:up\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE a;\n')
  writeFileSync(join(dir, 'migrations', '002_slow.ts'), `export default {
  async up(op) {
    op.createTable('slow', [{ name: 'id', type: 'integer', primaryKey: true }])
    await op.query('SELECT 1')
    await new Promise((resolve) => setTimeout(resolve, ${sleepMs}))
  },
  async down(op) { op.dropTable('slow') },
}
`)
  writeFileSync(join(dir, 'migrations', '003_c.sql'), '-- strata:up\nCREATE TABLE c (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE c;\n')
}

async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('the SQLite migration lock', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = tempDir()))
  afterEach(() => cleanup())

  it('up processes started together on a new database apply every migration exactly once', async () => {
    project(dir, 1500)
    const results = await Promise.all([1, 2, 3, 4].map(() => strataAsync(['up', ...ARGS], dir).done))
    expect(results.map((r) => r.code), results.map((r) => r.stderr).join('\n')).toEqual([0, 0, 0, 0])
    const waited = results.filter((r) => r.stderr.includes('waiting for the migration lock'))
    expect(waited.length).toBeGreaterThanOrEqual(1)
    expect(results.filter((r) => /nothing to do/.test(r.stderr))).toHaveLength(3)
    const applies = rows<{ revision: string; n: number }>(join(dir, 'app.db'), "SELECT revision, count(*) AS n FROM strata_log WHERE action = 'apply' GROUP BY revision ORDER BY revision")
    expect(applies).toEqual([
      { revision: '001_a', n: 1 },
      { revision: '002_slow', n: 1 },
      { revision: '003_c', n: 1 },
    ])
  })

  it('a second runner gives up after --lock-timeout with exit 4 naming the holder', async () => {
    project(dir, 4000)
    const holder = strataAsync(['up', ...ARGS], dir)
    await waitFor(() => holderStarted(holder))
    const second = strata(['up', '--lock-timeout', '1', ...ARGS], dir)
    expect(second.code).toBe(4)
    expect(second.stderr).toContain('error[E_LOCKED]')
    expect(second.stderr).toContain(`pid ${holder.pid} on host ${hostname()}`)
    expect(second.stderr).toContain('strata unlock')
    expect((await holder.done).code).toBe(0)
  })

  it('after kill -9 the next run proceeds without help, and unlock clears the stale record', async () => {
    project(dir, 60_000)
    const victim = strataAsync(['up', ...ARGS], dir)
    await waitFor(() => holderStarted(victim))
    victim.kill('SIGKILL')
    await victim.done
    const stale = strata(['unlock', '--json', ...ARGS], dir)
    expect(stale.code).toBe(0)
    expect(JSON.parse(stale.stdout).cleared.pid).toBe(victim.pid)
    project2(dir)
    const next = strata(['up', '--lock-timeout', '5', ...ARGS], dir)
    expect(next.stderr).not.toContain('error[')
    expect(next.code).toBe(0)
    expect(rows(join(dir, 'app.db'), 'SELECT revision FROM strata_history ORDER BY revision').map((r) => (r as { revision: string }).revision)).toEqual(['001_a', '002_slow', '003_c'])
  })

  it('a run killed while holding the lock does not block the next one', async () => {
    project(dir, 60_000)
    const victim = strataAsync(['up', ...ARGS], dir)
    await waitFor(() => holderStarted(victim))
    victim.kill('SIGKILL')
    await victim.done
    project2(dir)
    const next = strata(['up', '--lock-timeout', '2', ...ARGS], dir)
    expect(next.code).toBe(0)
    expect(rows(join(dir, 'app.db'), 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 3 }])
    expect(rows(join(dir, 'app.db'), "SELECT status FROM strata_runs WHERE command = 'up' ORDER BY started_at")).toEqual([{ status: 'interrupted' }, { status: 'succeeded' }])
    expect(next.stderr).toContain('was interrupted')
  })

  it('unlock refuses a live holder without --force and ends it with --force', async () => {
    project(dir, 60_000)
    const holder = strataAsync(['up', ...ARGS], dir)
    await waitFor(() => holderStarted(holder))
    const refused = strata(['unlock', ...ARGS], dir)
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain(`pid ${holder.pid}`)
    expect(refused.stderr).toContain('--force')
    const forced = strata(['unlock', '--force', ...ARGS], dir)
    expect(forced.code).toBe(0)
    const result = await holder.done
    expect(result.code).not.toBe(0)
    expect(rows(join(dir, 'app.db'), "SELECT count(*) AS n FROM strata_history WHERE revision = '002_slow'")).toEqual([{ n: 0 }])
  })
})

function holderStarted(run: { stderrText(): string }): boolean {
  return run.stderrText().includes('applying 002_slow')
}

/** Makes the slow migration quick, as an operator would after killing a stuck run. */
function project2(dir: string): void {
  writeFileSync(join(dir, 'migrations', '002_slow.ts'), `export default {
  async up(op) { op.createTable('slow', [{ name: 'id', type: 'integer', primaryKey: true }]) },
  async down(op) { op.dropTable('slow') },
}
`)
}
