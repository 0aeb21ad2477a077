import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECTS, useTestDatabase, type TestDatabase } from '../support/dialects.js'

const GRAPHICS = "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\n-- strata:down\nDROP TABLE graphics;\n"
const EVENT = "-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(40);\nCREATE INDEX idx_graphics_event ON graphics (event_name);\n-- strata:down\nDROP INDEX idx_graphics_event{ON};\nALTER TABLE graphics DROP COLUMN event_name;\n"

interface Report {
  ok: boolean
  scratch: string
  revisions: Array<{ revision: string; ok: boolean; notes: string[] }>
  failures: Array<{ revision: string | null; check: string; message: string }>
}

for (const dialect of DIALECTS) {
  describe(`strata test on ${dialect.name}`, () => {
    const project = useProject()
    let db: TestDatabase
    useTestDatabase(dialect, project, (created) => (db = created))
    const onTable = dialect.name === 'mysql' ? ' ON graphics' : ''

    it('passes good migrations on a scratch database and never touches the configured one', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_event.sql', EVENT.replace('{ON}', onTable))
      const run = strata(['test', '--json', ...db.args], project.dir)
      expect(run.stderr).not.toContain('error[')
      expect(run.code).toBe(0)
      const report = JSON.parse(run.stdout) as Report
      expect(report.ok).toBe(true)
      expect(report.revisions.map((r) => [r.revision, r.notes])).toEqual([
        ['001_graphics', ['up', 'down', 'up again']],
        ['002_event', ['up', 'down', 'up again']],
      ])
      expect(report.scratch).toMatch(dialect.name === 'sqlite' ? /scratch\.db$/ : /strata_test_[0-9a-f]{10}/)
      if (dialect.name === 'sqlite') expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
      else expect(await db.tables()).toEqual([])
    })

    it('names the object a down leaves behind, and exits 1', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_event.sql', EVENT.replace(`DROP INDEX idx_graphics_event{ON};\n`, '').replace('ALTER TABLE graphics DROP COLUMN event_name;\n', 'SELECT 1;\n'))
      const run = strata(['test', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/FAIL\s+002_event/)
      expect(run.stdout).toContain('column graphics.event_name still exists after down of 002_event')
      expect(run.stdout).toContain('index graphics.idx_graphics_event still exists after down of 002_event')
      expect(run.stderr).toContain('error[E_VALIDATION]')
    })
  })
}

describe('strata test: data integrity and the graph (SQLite)', () => {
  const project = useProject()
  const args = ['--url', 'sqlite:app.db', '--migrations', 'migrations']
  const run = (): { code: number; report: Report } => {
    const result = strata(['test', '--json', ...args], project.dir)
    return { code: result.code, report: JSON.parse(result.stdout) as Report }
  }

  it('a table the migration does not name must keep its exact contents', () => {
    project.write('001_base.sql', `-- strata:up
CREATE TABLE graphics (id integer PRIMARY KEY, title text);
CREATE TABLE audit (id integer PRIMARY KEY, note text);
CREATE TRIGGER graphics_audit AFTER UPDATE ON graphics BEGIN INSERT INTO audit (note) VALUES ('changed'); END;
INSERT INTO graphics (title) VALUES ('a');
-- strata:down
DROP TABLE audit;
DROP TABLE graphics;
`)
    project.write('002_touch.sql', "-- strata:up\nUPDATE graphics SET title = upper(title);\n-- strata:down\nUPDATE graphics SET title = lower(title);\n")
    const { code, report } = run()
    expect(code).toBe(1)
    expect(report.failures).toEqual([expect.objectContaining({ revision: '002_touch', check: 'untouched', message: expect.stringContaining('table audit changed during the up of 002_touch') }), expect.objectContaining({ check: 'untouched', message: expect.stringContaining('up and down of 002_touch') })])
  })

  it('fixture rows from fixtures/<revision>.sql and seed(op) must survive later migrations', () => {
    project.write('001_base.sql', "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title text, kind text);\n-- strata:down\nDROP TABLE graphics;\n")
    mkdirSync(join(project.dir, 'fixtures'))
    writeFileSync(join(project.dir, 'fixtures', '001_base.sql'), "INSERT INTO graphics (title, kind) VALUES ('lower third', 'overlay'), ('ticker', 'crawl');\n")
    project.write('002_seed.ts', `export default {
  up(op) { op.createTable('venues', [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'name', type: 'text' }]) },
  down(op) { op.dropTable('venues') },
  seed(op) { op.execute("INSERT INTO venues (name) VALUES ('arena')") },
}
`)
    project.write('003_safe.sql', "-- strata:up\nALTER TABLE graphics ADD COLUMN note text;\n-- strata:down\nALTER TABLE graphics DROP COLUMN note;\n")
    const good = run()
    expect(good.report.failures).toEqual([])
    expect(good.report.revisions.map((r) => r.notes.at(-1))).toEqual(['fixtures: 2 row(s)', 'fixtures: 1 row(s)', 'up again'])
    // A migration whose up deletes fixture rows is caught.
    project.write('004_lossy.sql', "-- strata:up\nDELETE FROM graphics WHERE kind = 'crawl';\nDELETE FROM venues;\n-- strata:down\nSELECT 1;\n")
    const bad = run()
    expect(bad.code).toBe(1)
    expect(bad.report.failures.map((f) => f.message)).toEqual(expect.arrayContaining([
      '1 fixture row(s) of graphics are gone after the up of 004_lossy',
      '1 fixture row(s) of venues are gone after the up of 004_lossy',
    ]))
  })

  it('graph problems are failed checks: several heads, a cycle', () => {
    project.write('001_a.sql', '-- strata:up\nCREATE TABLE a (id integer);\n-- strata:down\nDROP TABLE a;\n')
    project.write('002_b.sql', '-- strata:down-revision 001_a\n-- strata:up\nCREATE TABLE b (id integer);\n-- strata:down\nDROP TABLE b;\n')
    project.write('003_c.sql', '-- strata:down-revision 001_a\n-- strata:up\nCREATE TABLE c (id integer);\n-- strata:down\nDROP TABLE c;\n')
    const heads = run()
    expect(heads.code).toBe(1)
    expect(heads.report.failures).toEqual([expect.objectContaining({ check: 'graph', message: expect.stringContaining('2 heads (002_b, 003_c)') })])
    project.write('001_a.sql', '-- strata:down-revision 003_c\n-- strata:up\nCREATE TABLE a (id integer);\n-- strata:down\nDROP TABLE a;\n')
    const cycle = run()
    expect(cycle.code).toBe(1)
    expect(cycle.report.failures[0]).toMatchObject({ check: 'graph', message: expect.stringContaining('E_GRAPH_CYCLE') })
  })

  it('a migration that fails on the scratch database is named and testing stops there', () => {
    project.write('001_a.sql', '-- strata:up\nCREATE TABLE a (id integer);\n-- strata:down\nDROP TABLE a;\n')
    project.write('002_bad.sql', '-- strata:up\nINSERT INTO nowhere VALUES (1);\n')
    project.write('003_after.sql', '-- strata:up\nCREATE TABLE c (id integer);\n')
    const { code, report } = run()
    expect(code).toBe(1)
    expect(report.failures).toEqual([expect.objectContaining({ revision: '002_bad', check: 'migration', message: expect.stringContaining('nowhere') })])
    expect(report.revisions.map((r) => r.revision)).toEqual(['001_a', '002_bad'])
  })

  it('a migration without a down is tested up only, and says so', () => {
    project.write('001_a.sql', '-- strata:up\nCREATE TABLE a (id integer);\n')
    const { code, report } = run()
    expect(code).toBe(0)
    expect(report.revisions[0]!.notes).toEqual(['up', 'no down: round trip not tested'])
  })
})
