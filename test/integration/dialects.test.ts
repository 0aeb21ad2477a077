import { describe, expect, it } from 'vitest'
import { strata, strataAsync, useProject } from '../support/cli.js'
import { DIALECTS, useTestDatabase, type TestDatabase } from '../support/dialects.js'

const GRAPHICS = "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics (id, title) VALUES (1, 'a'), (2, 'b'), (3, 'c');\n-- strata:down\nDROP TABLE graphics;\n"
const EVENT = `export default {
  up(op) { op.batchAlterTable('graphics', (b) => { b.addColumn({ name: 'event_name', type: 'text', nullable: true }); b.createIndex('idx_graphics_event_name', ['title']) }) },
  down(op) { op.batchAlterTable('graphics', (b) => { b.dropIndex('idx_graphics_event_name'); b.dropColumn('event_name') }) },
}
`

for (const dialect of DIALECTS) {
  describe(`core behaviour on ${dialect.name}`, () => {
    const project = useProject()
    let db: TestDatabase
    useTestDatabase(dialect, project, (created) => (db = created))

    it('applies, says there is nothing to do, and reverts keeping every row', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_event.ts', EVENT)
      const up = strata(['up', ...db.args], project.dir)
      expect(up.stderr).not.toContain('error[')
      expect(up.code).toBe(0)
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'event_name'])
      expect(await db.indexes('graphics')).toEqual(['idx_graphics_event_name'])
      expect(strata(['up', ...db.args], project.dir).stderr).toMatch(/nothing to do/)
      expect(strata(['down', '001_graphics', ...db.args], project.dir).code).toBe(0)
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(await db.indexes('graphics')).toEqual([])
      expect(await db.rows('SELECT id, title FROM graphics ORDER BY id')).toEqual([{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'c' }])
    })

    it('a failing migration exits 1 naming the statement; the database is as the run found it, or the committed statements are listed', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_bad.sql', '-- strata:up\nINSERT INTO graphics (id, title) VALUES (4, \'d\');\nSELECT * FROM nowhere;\n')
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('002_bad.sql:3')
      if (dialect.name === 'mysql') {
        // No transactional DDL, and an INSERT has no derived inverse: dirty, with what committed (SPEC S4).
        expect(run.stderr).toContain('error[E_DIRTY]')
        expect(run.stderr).toContain("INSERT INTO graphics (id, title) VALUES (4, 'd')")
        const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { applied: Array<{ revision: string; state: string }> }
        expect(status.applied.map((a) => `${a.revision}:${a.state}`)).toEqual(['001_graphics:applied', '002_bad:dirty'])
      } else {
        expect((await db.tables()).filter((t) => !t.startsWith('strata_'))).toEqual([])
      }
    })

    it('checksums: a modified file is refused with exit 3 until repair', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      project.write('001_graphics.sql', `${GRAPHICS}-- edited\n`)
      const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { modified: string[] }
      expect(status.modified).toEqual(['001_graphics'])
      expect(strata(['up', ...db.args], project.dir).code).toBe(3)
      expect(strata(['repair', ...db.args], project.dir).code).toBe(0)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
    })

    it('every file format, change() reversal, op.query, stamp, status --json and drift', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_pair.up.sql', 'CREATE TABLE venues (id integer PRIMARY KEY, name varchar(40));\n')
      project.write('002_pair.down.sql', 'DROP TABLE venues;\n')
      project.write('003_change.ts', `import { migration } from 'strata-migrate'
export default migration({
  async change(op) {
    op.addColumn('venues', { name: 'city', type: 'varchar(40)', nullable: true })
    op.createIndex('idx_venues_city', 'venues', ['city'])
  },
})
`)
      project.write('004_count.ts', `export default {
  async up(op) {
    const [row] = await op.query('SELECT count(*) AS n FROM graphics')
    op.execute('INSERT INTO venues (id, name) VALUES (?, ?)', [Number(row.n), 'arena'])
  },
  down(op) { op.execute('DELETE FROM venues') },
}
`)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      expect(await db.rows('SELECT id, name FROM venues')).toEqual([{ id: 3, name: 'arena' }])
      expect(await db.columns('venues')).toEqual(['id', 'name', 'city'])
      const doc = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as Record<string, unknown>
      expect(Object.keys(doc)).toEqual(['environment', 'database', 'applied', 'current', 'heads', 'pending', 'modified', 'missing', 'drift'])
      expect(doc['database']).toMatchObject({ dialect: dialect.name })
      expect(doc['current']).toEqual(['004_count'])
      expect(doc['drift']).toBeNull()
      expect(strata(['down', '002_pair', ...db.args], project.dir).code).toBe(0)
      expect(await db.columns('venues')).toEqual(['id', 'name'])
      expect(await db.indexes('venues')).toEqual([])
      // Adopt: stamp to the head without running, then the schema differs from what was recorded.
      expect(strata(['stamp', 'heads', ...db.args], project.dir).code).toBe(0)
      await db.exec('CREATE TABLE sneaky (id integer)')
      const drift = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { drift: { objects: Array<{ name: string; change: string }> } }
      expect(drift.drift.objects).toEqual([expect.objectContaining({ name: 'sneaky', change: 'added' })])
    })

    it('a runner killed with -9 mid-migration does not block the next one', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_stuck.ts', "export default { async up(op) { await op.query('SELECT 1'); await new Promise((r) => setTimeout(r, 60_000)) }, down() {} }\n")
      const victim = strataAsync(['up', ...db.args], project.dir)
      const deadline = Date.now() + 20_000
      while (!victim.stderrText().includes('applying 002_stuck') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      victim.kill('SIGKILL')
      await victim.done
      project.write('002_stuck.ts', 'export default { up() {}, down() {} }\n')
      let next = strata(['up', '--lock-timeout', '10', ...db.args], project.dir)
      if (dialect.name === 'mysql') {
        // The lock is gone, but without transactional DDL the interrupted revision is dirty (SPEC S13).
        expect(next.code).toBe(3)
        expect(next.stderr).toContain('error[E_DIRTY]: revision 002_stuck is dirty')
        expect(strata(['repair', '--mark', 'reverted', ...db.args], project.dir).code).toBe(0)
        next = strata(['up', ...db.args], project.dir)
      }
      expect(next.stderr).not.toContain('error[')
      expect(next.code).toBe(0)
      const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { current: string[] }
      expect(status.current).toEqual(['002_stuck'])
    })

    it('two runners apply every migration once; a timed-out one exits 4', async () => {
      project.write('001_graphics.sql', GRAPHICS)
      project.write('002_slow.ts', "export default { async up(op) { op.addColumn('graphics', { name: 'slow', type: 'text' }); await op.query('SELECT 1'); await new Promise((r) => setTimeout(r, 2500)) }, down(op) { op.dropColumn('graphics', 'slow') } }\n")
      const first = strataAsync(['up', ...db.args], project.dir)
      const deadline = Date.now() + 20_000
      while (!first.stderrText().includes('applying 002_slow') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const timedOut = strata(['up', '--lock-timeout', '0.5', ...db.args], project.dir)
      expect(timedOut.code).toBe(4)
      expect(timedOut.stderr).toContain(`pid ${first.pid}`)
      const waiter = strataAsync(['up', ...db.args], project.dir)
      const [a, b] = await Promise.all([first.done, waiter.done])
      expect([a.code, b.code]).toEqual([0, 0])
      const applies = await db.rows<{ revision: string }>("SELECT revision FROM strata_log WHERE action = 'apply' ORDER BY seq")
      expect(applies.map((r) => r.revision)).toEqual(['001_graphics', '002_slow'])
    })
  })
}
