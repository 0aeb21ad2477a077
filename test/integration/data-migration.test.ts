import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { URL_ARGS, strata, useProject } from '../support/cli.js'
import { columns, rows } from '../support/sqlite.js'

const BASE = `-- strata:up
CREATE TABLE graphics (id INTEGER PRIMARY KEY, title TEXT NOT NULL, kind TEXT, legacy_kind TEXT);
INSERT INTO graphics (title, legacy_kind) VALUES ('lower third', 'LT'), ('score bug', 'SB'), ('ticker', 'TK');
-- strata:down
DROP TABLE graphics;
`

/** A data migration copying legacy_kind into kind; `results` decides whether validation passes. */
function dataMigration(results: string, preconditions = "(await op.query('SELECT count(*) AS n FROM graphics'))[0].n > 0"): string {
  return `import { dataMigration } from 'strata-migrate'
export default dataMigration({
  description: 'Fill kind from legacy_kind',
  async validatePreconditions(op) { return ${preconditions} },
  async transform(op) { op.execute("UPDATE graphics SET kind = lower(legacy_kind)") },
  async validateResults(op) { return ${results} },
  async cleanup(op) { op.dropColumn('graphics', 'legacy_kind') },
})
`
}

describe('data migrations (SQLite)', () => {
  const project = useProject()
  const db = (): string => join(project.dir, 'app.db')

  it('backs up first whatever the policy, runs the hooks in order, and cleans up once the results validate', () => {
    project.write('001_base.sql', BASE)
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    project.write('002_kinds.ts', dataMigration("(await op.query('SELECT count(*) AS n FROM graphics WHERE kind IS NULL'))[0].n === 0"))
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.stderr).not.toContain('error[')
    expect(run.code).toBe(0)
    expect(rows(db(), 'SELECT kind FROM graphics ORDER BY id')).toEqual([{ kind: 'lt' }, { kind: 'sb' }, { kind: 'tk' }])
    expect(columns(db(), 'graphics')).not.toContain('legacy_kind')
    expect(readdirSync(join(project.dir, 'backups')).filter((f) => f.endsWith('.json'))).toHaveLength(1)
    expect(rows(db(), "SELECT backup_id IS NOT NULL AS backed FROM strata_runs WHERE command = 'up' ORDER BY started_at DESC LIMIT 1")).toEqual([{ backed: 1 }])
    // It has no down: its rollback is the backup.
    const down = strata(['down', '-1', ...URL_ARGS], project.dir)
    expect(down.code).toBe(2)
    expect(down.stderr).toContain('E_IRREVERSIBLE')
  })

  it('failing validateResults returns the data to its pre-run state, skips cleanup, and exits 1', () => {
    project.write('001_base.sql', BASE)
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    const before = rows(db(), 'SELECT * FROM graphics ORDER BY id')
    project.write('002_kinds.ts', dataMigration("(await op.query(\"SELECT count(*) AS n FROM graphics WHERE kind = 'unknown'\"))[0].n > 0"))
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toContain('validateResults of 002_kinds returned false')
    expect(run.stderr).toContain('Database state: pre-run')
    expect(rows(db(), 'SELECT * FROM graphics ORDER BY id')).toEqual(before)
    expect(columns(db(), 'graphics')).toContain('legacy_kind')
    expect(rows(db(), "SELECT count(*) AS n FROM strata_history WHERE revision = '002_kinds'")).toEqual([{ n: 0 }])
  })

  it('a failing precondition is a refusal: exit 3, nothing changed, recorded as refused', () => {
    project.write('001_base.sql', BASE)
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    const before = rows(db(), 'SELECT * FROM graphics ORDER BY id')
    project.write('002_kinds.ts', dataMigration('true', "(await op.query('SELECT count(*) AS n FROM graphics'))[0].n > 100"))
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('error[E_PREFLIGHT]')
    expect(run.stderr).toContain('validatePreconditions of 002_kinds returned false')
    expect(rows(db(), 'SELECT * FROM graphics ORDER BY id')).toEqual(before)
    expect(rows(db(), "SELECT status FROM strata_runs WHERE command = 'up' ORDER BY started_at DESC LIMIT 1")).toEqual([{ status: 'refused' }])
  })

  it('mixing up() with the data hooks, or hooks without transform(), is refused when loading', () => {
    project.write('001_bad.ts', "export default { up(op) {}, transform(op) {} }\n")
    const mixed = strata(['status', ...URL_ARGS], project.dir)
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toContain('mixes up() with the data-migration hooks')
    project.write('001_bad.ts', "export default { validateResults(op) { return true } }\n")
    const alone = strata(['status', ...URL_ARGS], project.dir)
    expect(alone.code).toBe(2)
    expect(alone.stderr).toContain('without transform()')
    expect(existsSync(db())).toBe(false)
  })

  it('a transform too big for one transaction (a backfill) whose results fail is undone from the backup', () => {
    project.write('001_base.sql', BASE)
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    const before = rows(db(), 'SELECT * FROM graphics ORDER BY id')
    project.write('002_kinds.ts', `import { dataMigration } from 'strata-migrate'
export default dataMigration({
  transactional: false,
  async transform(op) { op.backfill({ table: 'graphics', set: { kind: { sql: 'lower(legacy_kind)' } }, batchSize: 1 }) },
  async validateResults(op) { return (await op.query("SELECT count(*) AS n FROM graphics WHERE kind = 'unknown'"))[0].n > 0 },
})
`)
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/Database state: pre-run — the pre-run backup \S+ was restored/)
    expect(rows(db(), 'SELECT * FROM graphics ORDER BY id')).toEqual(before)
    expect(rows(db(), "SELECT count(*) AS n FROM strata_history WHERE revision = '002_kinds'")).toEqual([{ n: 0 }])
    expect(rows(db(), 'SELECT count(*) AS n FROM strata_checkpoints')).toEqual([{ n: 0 }])
  })
})
