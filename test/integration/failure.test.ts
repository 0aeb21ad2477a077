import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { strata, tempDir } from '../support/cli.js'
import { dumpUserData, rows } from '../support/sqlite.js'

/** A project of SQL migrations in a temp dir, driven by --url/--migrations (no config file). */
function project(dir: string, files: Record<string, string>): string[] {
  mkdirSync(join(dir, 'migrations'), { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'migrations', name), text)
  return ['--url', 'sqlite:app.db', '--migrations', 'migrations']
}

const GOOD = {
  '001_users.sql': '-- strata:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO users (name) VALUES (\'ada\'), (\'lin\');\n-- strata:down\nDROP TABLE users;\n',
  '002_posts.sql': '-- strata:up\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);\n-- strata:down\nDROP TABLE posts;\n',
}
const BAD = {
  '003_broken.sql': '-- strata:up\nALTER TABLE users ADD COLUMN email TEXT;\nUPDATE users SET email = name || \'@example.com\';\n\nINSERT INTO no_such_table VALUES (1);\n-- strata:down\nALTER TABLE users DROP COLUMN email;\n',
}

describe('a failing migration', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = tempDir()))
  afterEach(() => cleanup())

  it('leaves the database as it was before it, exits 1 and names the file, line and statement', () => {
    const args = project(dir, GOOD)
    expect(strata(['up', ...args], dir).code).toBe(0)
    const before = dumpUserData(join(dir, 'app.db'))
    project(dir, BAD)
    const run = strata(['up', ...args], dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_MIGRATION_FAILED]')
    expect(run.stderr).toContain('003_broken.sql:5')
    expect(run.stderr).toContain('INSERT INTO no_such_table VALUES (1)')
    expect(run.stderr).toContain('no such table: no_such_table')
    expect(run.stderr).not.toMatch(/\n\s+at .*\.js:\d+/)
    expect(dumpUserData(join(dir, 'app.db'))).toBe(before)
    expect(rows(join(dir, 'app.db'), 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([
      { revision: '001_users' },
      { revision: '002_posts' },
    ])
    const runs = rows<{ status: string; error: string }>(join(dir, 'app.db'), "SELECT status, error FROM strata_runs WHERE command = 'up' ORDER BY started_at")
    expect(runs.at(-1)!.status).toBe('failed')
    expect(runs.at(-1)!.error).toContain('no_such_table')
  })

  it('by default reverts the migrations the same run applied, newest first', () => {
    const args = project(dir, { ...GOOD, ...BAD })
    const run = strata(['up', ...args], dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('rolling back what this run applied: 002_posts, 001_users')
    expect(dumpUserData(join(dir, 'app.db'))).toBe(JSON.stringify({ objects: [], data: [] }, null, 1))
    expect(rows(join(dir, 'app.db'), 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 0 }])
    expect(rows(join(dir, 'app.db'), "SELECT status FROM strata_runs WHERE command = 'up'")).toEqual([{ status: 'rolled-back' }])
  })

  it('with on_failure: stop keeps what the run had applied', () => {
    project(dir, { ...GOOD, ...BAD })
    writeFileSync(join(dir, 'strata.yaml'), 'environments:\n  development:\n    url: sqlite:app.db\n    policy: { on_failure: stop }\n')
    const run = strata(['up'], dir)
    expect(run.code).toBe(1)
    expect(rows(join(dir, 'app.db'), 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([
      { revision: '001_users' },
      { revision: '002_posts' },
    ])
  })

  it('--single-transaction makes the whole run all-or-nothing', () => {
    const args = project(dir, { ...GOOD, ...BAD })
    const run = strata(['up', '--single-transaction', ...args], dir)
    expect(run.code).toBe(1)
    expect(run.stderr).not.toContain('rolling back what this run applied')
    expect(dumpUserData(join(dir, 'app.db'))).toBe(JSON.stringify({ objects: [], data: [] }, null, 1))
    expect(rows(join(dir, 'app.db'), 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 0 }])
  })

  it('a TypeScript migration that throws is rolled back and named', () => {
    const args = project(dir, GOOD)
    expect(strata(['up', ...args], dir).code).toBe(0)
    const before = dumpUserData(join(dir, 'app.db'))
    writeFileSync(join(dir, 'migrations', '003_throws.ts'), `export default {
  async up(op) {
    op.addColumn('users', { name: 'email', type: 'text' })
    await op.query('SELECT 1')
    throw new Error('backfill source unavailable')
  },
  async down(op) { op.dropColumn('users', 'email') },
}
`)
    const run = strata(['up', ...args], dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('003_throws')
    expect(run.stderr).toContain('backfill source unavailable')
    expect(dumpUserData(join(dir, 'app.db'))).toBe(before)
  })

  it('a non-transactional migration that fails midway is left dirty, listed, and refused until repair', () => {
    const args = project(dir, {
      ...GOOD,
      '003_no_tx.sql': '-- strata:no-transaction\n-- strata:up\nCREATE TABLE audit (id INTEGER PRIMARY KEY);\nINSERT INTO missing_table VALUES (1);\n-- strata:down\nDROP TABLE audit;\n',
    })
    const run = strata(['up', ...args], dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_DIRTY]')
    expect(run.stderr).toContain('CREATE TABLE audit')
    const db = join(dir, 'app.db')
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name = 'audit'")).toEqual([{ name: 'audit' }])
    const status = JSON.parse(strata(['status', '--json', ...args], dir).stdout) as { applied: Array<{ revision: string; state: string }> }
    expect(status.applied.find((a) => a.revision === '003_no_tx')?.state).toBe('dirty')
    const refused = strata(['up', ...args], dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('error[E_DIRTY]')
    expect(strata(['repair', ...args], dir).code).toBe(2)
    const repaired = strata(['repair', '--mark', 'reverted', ...args], dir)
    expect(repaired.code).toBe(0)
    expect(repaired.stderr).toContain('marked dirty 003_no_tx as reverted')
    expect(rows(db, "SELECT revision FROM strata_history WHERE revision = '003_no_tx'")).toEqual([])
  })
})
