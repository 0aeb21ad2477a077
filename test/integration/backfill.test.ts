import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECTS, type TestDatabase } from '../support/dialects.js'
import { nextSize } from '../../src/runner/backfill.js'

const TABLE = `-- strata:up
CREATE TABLE graphics (id integer PRIMARY KEY, title varchar(40) NOT NULL, event_name varchar(40), hits integer NOT NULL DEFAULT 0);
-- strata:down
DROP TABLE graphics;
`

/** One INSERT of many rows, written out: the same text on every engine. */
function seed(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => `(${i + 1}, 'graphic ${i + 1}')`).join(', ')
  return `-- strata:up\nINSERT INTO graphics (id, title) VALUES ${values};\n-- strata:down\nDELETE FROM graphics;\n`
}

for (const dialect of DIALECTS) {
  describe(`op.backfill on ${dialect.name}`, () => {
    const project = useProject()
    let db: TestDatabase
    beforeEach(async () => {
      db = await dialect.create(project.dir)
    })
    afterEach(async () => {
      await db.drop()
    })

    it('updates every row once in committed batches (set and transform), reports progress, and leaves no checkpoint', async () => {
      project.write('001_graphics.sql', TABLE)
      project.write('002_rows.sql', seed(2500))
      project.write('003_backfill.ts', `export default {
  transactional: false,
  up(op) {
    op.backfill({ table: 'graphics', set: { event_name: 'launch' }, where: 'id > 100', batchSize: 300 })
    op.backfill({ table: 'graphics', transform: (row) => ({ hits: Number(row.hits) + 1 }), batchSize: 200 })
  },
  down(op) { op.execute('UPDATE graphics SET event_name = NULL, hits = 0') },
}
`)
      const run = strata(['up', '--progress', 'json', ...db.args], project.dir)
      expect(run.stderr).not.toContain('"error"')
      expect(run.code).toBe(0)
      const progress = run.stderr.split('\n').filter((l) => l.includes('backfill:progress')).map((l) => JSON.parse(l) as { rows: number; total: number; batches: number; table: string })
      expect(progress.length).toBeGreaterThan(2)
      expect(progress.at(-1)).toMatchObject({ rows: 2500, total: 2500, table: 'graphics' })
      expect(progress.some((p) => p.total === 2400)).toBe(true)
      const count = async (sql: string): Promise<number> => Number((await db.rows<{ n: unknown }>(sql))[0]!.n)
      expect(await count('SELECT count(*) AS n FROM graphics WHERE event_name IS NULL')).toBe(100)
      expect(await count("SELECT count(*) AS n FROM graphics WHERE event_name = 'launch'")).toBe(2400)
      expect(await count('SELECT count(*) AS n FROM graphics WHERE hits <> 1')).toBe(0)
      expect(await count('SELECT count(*) AS n FROM strata_checkpoints')).toBe(0)
    })

    it('a backfill in a transactional migration is refused with a hint, nothing applied', async () => {
      project.write('001_graphics.sql', TABLE)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      project.write('002_backfill.ts', "export default { up(op) { op.backfill({ table: 'graphics', set: { hits: 1 } }) }, down() {} }\n")
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('cannot run inside the migration\'s transaction')
      expect(run.stderr).toContain('transactional: false')
      const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { current: string[] }
      expect(status.current).toEqual(['001_graphics'])
    })
  })
}

describe('backfill batch sizing', () => {
  it('shrinks a batch that held the lock too long in proportion, and grows fast ones up to a limit', () => {
    const op = { batchSize: 1000, maxBatchMs: 100 }
    expect(nextSize(1000, 400, op)).toBe(200)
    expect(nextSize(1000, 100, op)).toBe(1000)
    expect(nextSize(1000, 20, op)).toBe(2000)
    expect(nextSize(64_000, 1, op)).toBe(64_000)
    expect(nextSize(1, 1000, op)).toBe(1)
  })
})
