import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECTS, type TestDatabase } from '../support/dialects.js'

const mysql = DIALECTS.find((d) => d.name === 'mysql')
const STATEMENTS = ['CREATE TABLE a (id int PRIMARY KEY);', 'ALTER TABLE a ADD COLUMN x int;', 'CREATE INDEX ia ON a (x);']
const FAIL = 'SELECT * FROM nowhere;'
const BASE = '-- strata:up\nCREATE TABLE base (id int PRIMARY KEY);\n-- strata:down\nDROP TABLE base;\n'

interface Status { applied: Array<{ revision: string; state: string }> }

describe.skipIf(!mysql)('MySQL statement journal (SPEC S4)', () => {
  const project = useProject()
  let db: TestDatabase
  beforeEach(async () => {
    db = await mysql!.create(project.dir)
  })
  afterEach(async () => {
    await db.drop()
  })
  const userTables = async (): Promise<string[]> => (await db.tables()).filter((t) => !t.startsWith('strata_'))
  const status = (): Status => JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as Status

  for (const position of [1, 2, 3, 4]) {
    it(`undoes the committed statements when statement ${position} of 4 fails`, async () => {
      const body = [...STATEMENTS.slice(0, position - 1), FAIL, ...STATEMENTS.slice(position - 1)].slice(0, 4)
      project.write('001_base.sql', BASE)
      project.write('002_journal.sql', `-- strata:up\n${body.join('\n')}\n-- strata:down\nDROP TABLE a;\n`)
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stderr).not.toContain('E_DIRTY')
      expect(run.stderr).toContain('error[E_MIGRATION_FAILED]')
      expect(run.stderr).toContain(`002_journal.sql:${position + 1}`)
      const committed = position - 1
      if (committed > 0) {
        expect(run.stderr).toContain(`${committed} statement(s) had committed before the failure and were undone`)
        expect(run.stderr).toContain('Ran:\n  CREATE TABLE a (id int PRIMARY KEY)')
        expect(run.stderr).toContain('Undone (newest first):')
        const undone = ['DROP TABLE a', 'ALTER TABLE a DROP COLUMN x', 'DROP INDEX ia ON a'].slice(0, committed).reverse()
        const at = undone.map((s) => run.stderr.indexOf(`  ${s}`))
        expect(at.every((i) => i > 0)).toBe(true)
        expect([...at].sort((p, q) => p - q)).toEqual(at)
        expect(run.stderr).toContain('The schema equals the one before the migration.')
      }
      // Earlier migrations of the run are rolled back as usual; no table a; nothing dirty.
      expect(await userTables()).toEqual([])
      expect(status().applied).toEqual([])
    })
  }

  it('an INSERT before the failure has no inverse: E_DIRTY listing it, nothing undone', async () => {
    project.write('001_journal.sql', `-- strata:up\nCREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n${FAIL}\n`)
    const run = strata(['up', ...db.args], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_DIRTY]')
    expect(run.stderr).toContain('INSERT INTO a (id) VALUES (1)')
    expect(run.stderr).toContain('The undo stopped: no inverse is known for execute INSERT INTO a (id) VALUES (1): INSERT changes data')
    expect(await userTables()).toEqual(['a'])
    expect(status().applied.map((a) => `${a.revision}:${a.state}`)).toEqual(['001_journal:dirty'])
  })

  it('a TypeScript migration: addColumn and alterColumn are undone when a later op.execute fails', async () => {
    project.write('001_base.sql', '-- strata:up\nCREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL DEFAULT \'n\');\n-- strata:down\nDROP TABLE t;\n')
    expect(strata(['up', ...db.args], project.dir).code).toBe(0)
    const before = await db.rows('SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \'t\' ORDER BY ORDINAL_POSITION')
    project.write('002_ts.ts', `export default {
  up(op) {
    op.addColumn('t', { name: 'extra', type: 'integer', nullable: true })
    op.alterColumn('t', 'name', { type: 'varchar(80)', nullable: true, default: null })
    op.execute('SELECT * FROM nowhere')
  },
  down(op) { op.dropColumn('t', 'extra') },
}
`)
    const run = strata(['up', ...db.args], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_MIGRATION_FAILED]')
    expect(run.stderr).toContain('2 statement(s) had committed before the failure and were undone')
    expect(run.stderr).toMatch(/Undone \(newest first\):\n {2}ALTER TABLE `t` MODIFY COLUMN `name`.*\n {2}ALTER TABLE `t` DROP COLUMN `extra`/)
    expect(run.stderr).toContain('The schema equals the one before the migration.')
    expect(await db.rows('SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \'t\' ORDER BY ORDINAL_POSITION')).toEqual(before)
    expect(status().applied.map((a) => `${a.revision}:${a.state}`)).toEqual(['001_base:applied'])
  })
})
