import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { URL_ARGS, copyExample, strata, useProject } from '../support/cli.js'
import { columns, dumpUserData, indexes, rows } from '../support/sqlite.js'

/** Runs a printed script the way a user would pipe it into a client that has foreign keys on. */
function runScript(path: string, script: string): void {
  const db = new Database(path)
  try {
    db.pragma('foreign_keys = ON')
    db.exec(script)
  } finally {
    db.close()
  }
}

/** The history rows, without what depends on when and by whom they were written. */
function historyOf(path: string): unknown[] {
  return rows(path, `SELECT revision, checksum, checksum_version, description, fingerprint, state, file, schema_snapshot
    FROM strata_history ORDER BY revision`)
}

function logOf(path: string): unknown[] {
  return rows(path, 'SELECT revision, action, checksum FROM strata_log ORDER BY seq')
}

function planSql(dir: string, ...args: string[]): string {
  const plan = strata(['plan', '--sql', ...args, ...URL_ARGS], dir)
  expect(plan.stderr).not.toContain('error[')
  expect(plan.code).toBe(0)
  return plan.stdout
}

const PARENTS = `import { migration } from 'strata-migrate'
export default migration({
  description: 'parents and children',
  async up(op) {
    op.createTable('parents', [
      { name: 'id', type: 'integer', primaryKey: true },
      { name: 'name', type: 'text' },
    ])
    op.createTable('children', [
      { name: 'id', type: 'integer', primaryKey: true },
      { name: 'parent_id', type: 'integer', references: { table: 'parents', column: 'id', onDelete: 'CASCADE' } },
    ])
  },
  async down(op) { op.dropTable('children'); op.dropTable('parents') },
})
`

const NAME_REQUIRED = `import { migration } from 'strata-migrate'
export default migration({
  description: "parents' names required",
  async up(op) {
    op.alterColumn('parents', 'name', { nullable: false })
    op.execute('UPDATE parents SET name = ? WHERE name = ?', ["it's -- not a comment?", 'nobody'])
  },
  async down(op) { op.alterColumn('parents', 'name', { nullable: true }) },
})
`

describe('plan --sql scripts', () => {
  const project = useProject()

  it('rebuild a parent table without cascading into its children, leaving the schema and history `up` leaves', () => {
    project.write('001_parents.ts', PARENTS)
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    const db = join(project.dir, 'app.db')
    const live = new Database(db)
    live.exec("INSERT INTO parents (id, name) VALUES (1, 'ada'), (2, 'nobody'); INSERT INTO children (id, parent_id) VALUES (10, 1), (11, 1), (12, 2)")
    live.close()
    const copy = join(project.dir, 'copy.db')
    copyFileSync(db, copy)

    project.write('002_name_required.ts', NAME_REQUIRED)
    const script = planSql(project.dir, '--from', '001_parents')
    expect(script).toContain('DROP TABLE "parents"')
    expect(script).toMatch(/PRAGMA foreign_keys = OFF;\nBEGIN;\n/)
    expect(script).toMatch(/PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys = ON;\n/)
    expect(script).toContain(`UPDATE parents SET name = 'it''s -- not a comment?' WHERE name = 'nobody';`)
    expect(script).not.toContain('-- params')
    expect(script).not.toContain('001_parents (up)')

    // Without the framing, the rebuild's DROP TABLE would delete the children (the bug this guards).
    const unframed = join(project.dir, 'unframed.db')
    copyFileSync(db, unframed)
    runScript(unframed, script.replaceAll('PRAGMA foreign_keys = OFF;\n', ''))
    expect(rows(unframed, 'SELECT count(*) AS n FROM children')).toEqual([{ n: 0 }])

    runScript(db, script)
    expect(rows(db, 'SELECT id, parent_id FROM children ORDER BY id')).toEqual([
      { id: 10, parent_id: 1 },
      { id: 11, parent_id: 1 },
      { id: 12, parent_id: 2 },
    ])

    const up = strata(['up', '--url', 'sqlite:copy.db', '--migrations', 'migrations'], project.dir)
    expect(up.code).toBe(0)
    expect(dumpUserData(db)).toBe(dumpUserData(copy))
    expect(historyOf(db)).toEqual(historyOf(copy))
    expect(logOf(db)).toEqual(logOf(copy))
    expect(rows(db, "SELECT applied_by, run_id FROM strata_history WHERE revision = '002_name_required'")).toEqual([
      { applied_by: 'strata plan --sql', run_id: 'plan-sql' },
    ])

    const status = JSON.parse(strata(['status', '--json', ...URL_ARGS], project.dir).stdout) as { pending: unknown; drift: unknown }
    expect(status.pending).toEqual([])
    expect(status.drift).toBeNull()
  })

  it('compute later migrations on the schema alone, not on the rows earlier ones inserted', () => {
    project.write('000_flags.ts', `export default {
  up(op) {
    op.createTable('t', [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'flag', type: 'integer' }])
    op.execute('INSERT INTO t (id, flag) VALUES (?, ?)', [1, null])
  },
  down(op) { op.dropTable('t') },
}
`)
    project.write('001_flag_required.ts', `export default {
  up(op) { op.alterColumn('t', 'flag', { nullable: false }) },
  down(op) { op.alterColumn('t', 'flag', { nullable: true }) },
}
`)
    const full = planSql(project.dir)
    expect(full).toContain('INSERT INTO t (id, flag) VALUES (1, NULL);')
    expect(full).toContain('-- 001_flag_required (up)')

    // The real database: 000 applied, its row fixed by hand; 001 then applies from the script.
    const db = join(project.dir, 'app.db')
    expect(strata(['up', '000_flags', ...URL_ARGS], project.dir).code).toBe(0)
    const live = new Database(db)
    live.exec('UPDATE t SET flag = 0')
    live.close()
    runScript(db, planSql(project.dir, '--from', '000_flags'))
    expect(rows(db, `SELECT "notnull" AS required FROM pragma_table_info('t') WHERE name = 'flag'`)).toEqual([{ required: 1 }])
    expect(rows(db, 'SELECT id, flag FROM t')).toEqual([{ id: 1, flag: 0 }])
    expect(rows(db, 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([{ revision: '000_flags' }, { revision: '001_flag_required' }])
  })

  it('note the migrations that read the database', () => {
    project.write('001_t.ts', `export default {
  up(op) { op.createTable('t', [{ name: 'id', type: 'integer', primaryKey: true }]) },
  down(op) { op.dropTable('t') },
}
`)
    project.write('002_reads.ts', `export default {
  async up(op) {
    const [row] = await op.query('SELECT count(*) AS n FROM t')
    op.execute('CREATE TABLE counted (n INTEGER)')
    op.execute('INSERT INTO counted (n) VALUES (?)', [row.n])
  },
  down(op) { op.dropTable('counted') },
}
`)
    const script = planSql(project.dir)
    const note = '-- note: this migration reads the database (op.query); the statements below were computed on an empty scratch database'
    expect(script.split(note)).toHaveLength(2)
    expect(script).toMatch(new RegExp(`-- 002_reads \\(up\\)[^\\n]*\\n${note.replace(/[()]/g, '\\$&')}\\nPRAGMA foreign_keys = OFF;`))
    expect(script.slice(0, script.indexOf('-- 002_reads'))).not.toContain('-- note')
    expect(script).toContain('INSERT INTO counted (n) VALUES (0);')
  })

  it('pass { sql } values of op.execute as expressions', () => {
    project.write('001_t.ts', `export default {
  up(op) {
    op.createTable('t', [{ name: 'a', type: 'text' }, { name: 'b', type: 'integer' }])
    op.execute('INSERT INTO t (a, b) VALUES (?, ?)', [{ sql: "upper('x')" }, 7])
  },
  down(op) { op.dropTable('t') },
}
`)
    const up = strata(['up', ...URL_ARGS], project.dir)
    expect(up.stderr).not.toContain('error[')
    expect(up.code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT a, b FROM t')).toEqual([{ a: 'X', b: 7 }])
    expect(planSql(project.dir)).toContain("INSERT INTO t (a, b) VALUES ((upper('x')), 7);")
  })

  it('frame each op of a non-transactional migration, as `up` commits them', () => {
    project.write('001_t.ts', `export default {
  up(op) { op.createTable('t', [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'v', type: 'text' }]) },
  down(op) { op.dropTable('t') },
}
`)
    project.write('002_ix.ts', `export default {
  transactional: false,
  up(op) { op.createIndex('t_v', 't', ['v'], { concurrently: true }); op.alterColumn('t', 'v', { nullable: false }) },
  down(op) { op.dropIndex('t_v') },
}
`)
    const script = planSql(project.dir)
    const tail = script.slice(script.indexOf('-- 002_ix (up)'))
    expect(tail).toContain('-- not transactional: each op commits on its own')
    expect(tail.match(/^BEGIN;$/gm)).toHaveLength(2)
    expect(tail.indexOf("'dirty'")).toBeLessThan(tail.indexOf('BEGIN;'))
    const db = join(project.dir, 'app.db')
    runScript(db, script)
    expect(indexes(db, 't')).toEqual(['t_v'])
    expect(rows(db, 'SELECT revision, state FROM strata_history ORDER BY revision')).toEqual([
      { revision: '001_t', state: 'applied' },
      { revision: '002_ix', state: 'applied' },
    ])
  })
})

describe('plan --sql on the graphics dashboard example', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = copyExample('graphics-dashboard')))
  afterEach(() => cleanup())

  const plan = (...args: string[]): string => {
    const run = strata(['plan', '--sql', ...args, '--config', 'strata.yaml'], dir)
    expect(run.stderr).not.toContain('error[')
    expect(run.code).toBe(0)
    return run.stdout
  }

  it('runs cleanly into an empty database and leaves what `up` leaves', () => {
    const db = join(dir, 'dashboard.db')
    runScript(db, plan())
    expect(rows(db, 'SELECT count(*) AS n FROM graphics')).toEqual([{ n: 5 }])
    expect(rows(db, 'SELECT title, is_live FROM graphics ORDER BY id LIMIT 1')).toEqual([{ title: 'Match score', is_live: 1 }])
    expect(columns(db, 'graphics')).toContain('event_name')
    expect(indexes(db, 'graphics')).toContain('idx_graphics_event_name')
    const status = JSON.parse(strata(['status', '--json', '--config', 'strata.yaml'], dir).stdout) as { pending: unknown; drift: unknown; current: unknown }
    expect(status).toMatchObject({ pending: [], drift: null, current: ['001_add_event_name_to_graphics'] })

    copyFileSync(db, join(dir, 'script.db'))
    rmSync(db)
    expect(strata(['up', '--config', 'strata.yaml'], dir).code).toBe(0)
    expect(dumpUserData(join(dir, 'script.db')).replace(/"created_at": "[^"]*"/g, '')).toBe(dumpUserData(db).replace(/"created_at": "[^"]*"/g, ''))
    expect(historyOf(join(dir, 'script.db'))).toEqual(historyOf(db))
  })

  it('reverts with --down as `down` does', () => {
    const db = join(dir, 'dashboard.db')
    expect(strata(['up', '--config', 'strata.yaml'], dir).code).toBe(0)
    const script = plan('--down', 'base')
    expect(script).toContain('-- 001_add_event_name_to_graphics (down)')
    expect(script).toContain('DELETE FROM "strata_history" WHERE revision = \'001_add_event_name_to_graphics\';')
    runScript(db, script)
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name = 'graphics'")).toEqual([])
    expect(rows(db, 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 0 }])
  })
})
