import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECTS, useTestDatabase, type TestDatabase } from '../support/dialects.js'

/** The SQLite suite's table, in SQL both servers accept. */
const BASE = `-- strata:up
CREATE TABLE graphics (id integer PRIMARY KEY, title varchar(40) NOT NULL, kind varchar(40), legacy_kind varchar(40));
INSERT INTO graphics (id, title, legacy_kind) VALUES (1, 'lower third', 'LT'), (2, 'score bug', 'SB'), (3, 'ticker', 'TK');
-- strata:down
DROP TABLE graphics;
`

/** count(*) is a bigint string on PostgreSQL and a number or a string on MySQL. */
const COUNT = (where: string): string => `Number((await op.query(${JSON.stringify(`SELECT count(*) AS n FROM graphics${where}`)}))[0].n)`

/** A data migration copying legacy_kind into kind; `results` decides whether validation passes. */
function dataMigration(results: string, preconditions = `${COUNT('')} > 0`): string {
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

/** The ids of the backup manifests in the project's `backups/`. */
function backupIds(dir: string): string[] {
  return readdirSync(join(dir, 'backups')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length))
}

for (const dialect of DIALECTS.filter((d) => d.name !== 'sqlite')) {
  describe(`data migrations on ${dialect.name}`, () => {
    const project = useProject()
    let db: TestDatabase
    useTestDatabase(dialect, project, (created) => (db = created))
    const count = async (sql: string): Promise<number> => Number((await db.rows<{ n: unknown }>(sql))[0]!.n)

    it('backs up first whatever the policy, runs the hooks in order, and cleans up once the results validate', async () => {
      project.write('001_base.sql', BASE)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      project.write('002_kinds.ts', dataMigration(`${COUNT(' WHERE kind IS NULL')} === 0`))
      const run = strata(['up', ...db.args], project.dir)
      expect(run.stderr).not.toContain('error[')
      expect(run.code).toBe(0)
      expect(await db.rows('SELECT kind FROM graphics ORDER BY id')).toEqual([{ kind: 'lt' }, { kind: 'sb' }, { kind: 'tk' }])
      expect(await db.columns('graphics')).not.toContain('legacy_kind')
      const backups = backupIds(project.dir)
      expect(backups).toHaveLength(1)
      const runs = await db.rows<{ backup_id: string | null }>("SELECT backup_id FROM strata_runs WHERE command = 'up' ORDER BY started_at DESC")
      expect(runs[0]!.backup_id).toBe(backups[0])
      // It has no down: its rollback is the backup.
      const down = strata(['down', '-1', ...db.args], project.dir)
      expect(down.code).toBe(2)
      expect(down.stderr).toContain('E_IRREVERSIBLE')
    })

    it('failing validateResults returns the data to its pre-run state, skips cleanup, and exits 1', async () => {
      project.write('001_base.sql', BASE)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      const before = await db.rows('SELECT * FROM graphics ORDER BY id')
      project.write('002_kinds.ts', dataMigration(`${COUNT(" WHERE kind = 'unknown'")} > 0`))
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('error[E_VALIDATION]')
      expect(run.stderr).toContain('validateResults of 002_kinds returned false')
      expect(run.stderr).toContain('Database state: pre-run')
      // The transform fits in one transaction (on MySQL too: it changes rows only), which undid it.
      expect(run.stderr).toContain('the run was rolled back')
      expect(await db.rows('SELECT * FROM graphics ORDER BY id')).toEqual(before)
      expect(await db.columns('graphics')).toContain('legacy_kind')
      expect(await count("SELECT count(*) AS n FROM strata_history WHERE revision = '002_kinds'")).toBe(0)
      // Backed up first, whatever happened after.
      expect(backupIds(project.dir)).toHaveLength(1)
    })

    it('a failing precondition is a refusal: exit 3, nothing changed, recorded as refused', async () => {
      project.write('001_base.sql', BASE)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      const before = await db.rows('SELECT * FROM graphics ORDER BY id')
      project.write('002_kinds.ts', dataMigration('true', `${COUNT('')} > 100`))
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(3)
      expect(run.stderr).toContain('error[E_PREFLIGHT]')
      expect(run.stderr).toContain('validatePreconditions of 002_kinds returned false')
      expect(await db.rows('SELECT * FROM graphics ORDER BY id')).toEqual(before)
      expect(await db.columns('graphics')).toContain('legacy_kind')
      expect(await count("SELECT count(*) AS n FROM strata_history WHERE revision = '002_kinds'")).toBe(0)
      expect(await db.rows("SELECT status FROM strata_runs WHERE command = 'up' ORDER BY started_at DESC LIMIT 1")).toEqual([{ status: 'refused' }])
    })

    it('mixing up() with the data hooks, or hooks without transform(), is refused when loading', async () => {
      project.write('001_bad.ts', "export default { up(op) {}, transform(op) {} }\n")
      const mixed = strata(['status', ...db.args], project.dir)
      expect(mixed.code).toBe(2)
      expect(mixed.stderr).toContain('mixes up() with the data-migration hooks')
      project.write('001_bad.ts', "export default { validateResults(op) { return true } }\n")
      const alone = strata(['status', ...db.args], project.dir)
      expect(alone.code).toBe(2)
      expect(alone.stderr).toContain('without transform()')
      // Refused before touching the database: not even strata's own tables were created.
      expect(await db.tables()).toEqual([])
    })

    it('a transform too big for one transaction (a backfill) whose results fail is undone from the backup', async () => {
      project.write('001_base.sql', BASE)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      const before = await db.rows('SELECT * FROM graphics ORDER BY id')
      project.write('002_kinds.ts', `import { dataMigration } from 'strata-migrate'
export default dataMigration({
  transactional: false,
  async transform(op) { op.backfill({ table: 'graphics', set: { kind: { sql: 'lower(legacy_kind)' } }, batchSize: 1 }) },
  async validateResults(op) { return ${COUNT(" WHERE kind = 'unknown'")} > 0 },
})
`)
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/Database state: pre-run — the pre-run backup \S+ was restored/)
      const restored = /the pre-run backup (\S+) was restored/.exec(run.stderr)![1]
      expect(backupIds(project.dir)).toContain(restored)
      expect(await db.rows('SELECT * FROM graphics ORDER BY id')).toEqual(before)
      expect(await count("SELECT count(*) AS n FROM strata_history WHERE revision = '002_kinds'")).toBe(0)
      expect(await count('SELECT count(*) AS n FROM strata_checkpoints')).toBe(0)
    })
  })
}
