import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECTS, useTestDatabase, type TestDatabase } from '../support/dialects.js'

const TABLE = `-- strata:up
CREATE TABLE graphics (id integer PRIMARY KEY, title varchar(40) NOT NULL);
INSERT INTO graphics (id, title) VALUES (1, 'Match score'), (2, 'Standings'), (3, 'Round timer');
-- strata:down
DROP TABLE graphics;
`

/** Expand/contract without triggers: a new column filled from the old one, then the old one goes. */
const RENAME = `import { migration } from 'strata-migrate'
export default migration({
  async expand(op) {
    op.addColumn('graphics', { name: 'headline', type: 'varchar(40)', nullable: true })
    op.createIndex('idx_graphics_headline', 'graphics', ['headline'])
  },
  async backfill(op) {
    op.backfill({ table: 'graphics', set: { headline: { sql: 'title' } }, where: 'headline IS NULL', batchSize: 2 })
  },
  async contract(op) {
    op.alterColumn('graphics', 'headline', { nullable: false })
    op.dropColumn('graphics', 'title')
  },
})
`

const CHILD = `-- strata:up
CREATE TABLE graphic_notes (id integer PRIMARY KEY, note varchar(40));
-- strata:down
DROP TABLE graphic_notes;
`

interface Status {
  applied: Array<{ revision: string; state: string }>
  pending: string[]
  current: string[]
}

for (const dialect of DIALECTS) {
  describe(`expand/contract on ${dialect.name}`, () => {
    const project = useProject()
    let db: TestDatabase
    useTestDatabase(dialect, project, (created) => (db = created))
    const status = (): Status => JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as Status
    const states = (): string[] => status().applied.map((a) => `${a.revision}:${a.state}`)

    it('up expands and backfills, leaves the revision expanded and holds back what builds on it; complete contracts it', async () => {
      project.write('001_graphics.sql', TABLE)
      project.write('002_headline.ts', RENAME)
      project.write('003_notes.sql', CHILD)
      const up = strata(['up', ...db.args], project.dir)
      expect(up.stderr).not.toContain('error[')
      expect(up.code).toBe(0)
      expect(up.stderr).toContain('expanded 002_headline')
      expect(up.stderr).toContain('002_headline is EXPANDED')
      expect(up.stderr).toContain('waiting for `strata complete 002_headline`: 003_notes')
      expect(states()).toEqual(['001_graphics:applied', '002_headline:expanded'])
      expect(status().pending).toEqual(['003_notes'])
      // Both shapes serve: the old application reads title, the new one headline.
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'headline'])
      expect(await db.rows('SELECT id, title, headline FROM graphics ORDER BY id')).toEqual([
        { id: 1, title: 'Match score', headline: 'Match score' },
        { id: 2, title: 'Standings', headline: 'Standings' },
        { id: 3, title: 'Round timer', headline: 'Round timer' },
      ])
      const human = strata(['status', ...db.args], project.dir)
      expect(human.stdout).toContain('002_headline')
      expect(human.stdout).toContain('[EXPANDED]')
      expect(human.stdout).toContain('strata complete 002_headline')

      // A second up has nothing it may run.
      const again = strata(['up', ...db.args], project.dir)
      expect(again.code).toBe(0)
      expect(again.stderr).toContain('nothing to do')
      expect(again.stderr).toContain('waiting for `strata complete 002_headline`: 003_notes')
      expect(await db.tables()).not.toContain('graphic_notes')

      const complete = strata(['complete', '002', '--json', ...db.args], project.dir)
      expect(complete.stderr).not.toContain('error[')
      expect(complete.code).toBe(0)
      expect(JSON.parse(complete.stdout)).toMatchObject({ ok: true, command: 'complete', target: '002_headline', results: [{ revision: '002_headline', phase: 'contract', status: 'applied' }] })
      expect(states()).toEqual(['001_graphics:applied', '002_headline:applied'])
      expect(await db.columns('graphics')).toEqual(['id', 'headline'])
      expect(await db.rows('SELECT id, headline FROM graphics ORDER BY id')).toEqual([
        { id: 1, headline: 'Match score' },
        { id: 2, headline: 'Standings' },
        { id: 3, headline: 'Round timer' },
      ])
      await expect(db.exec('INSERT INTO graphics (id, headline) VALUES (9, NULL)')).rejects.toThrow()
      expect(await db.indexes('graphics')).toContain('idx_graphics_headline')

      const twice = strata(['complete', '002_headline', ...db.args], project.dir)
      expect(twice.code).toBe(0)
      expect(twice.stderr).toContain('002_headline is already complete')

      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      expect(states()).toEqual(['001_graphics:applied', '002_headline:applied', '003_notes:applied'])
      const log = await db.rows<{ revision: string; action: string }>("SELECT revision, action FROM strata_log WHERE revision = '002_headline' ORDER BY seq")
      expect(log.map((l) => l.action)).toEqual(['expand', 'complete'])
      const runs = await db.rows<{ command: string; status: string }>('SELECT command, status FROM strata_runs ORDER BY started_at, run_id')
      expect(runs.filter((r) => r.command === 'complete').map((r) => r.status)).toEqual(['succeeded', 'succeeded'])
    })

    it('abort reverts the expand (the reverse of its ops by default), keeps every row, and up expands again', async () => {
      project.write('001_graphics.sql', TABLE)
      project.write('002_headline.ts', RENAME)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      await db.exec("INSERT INTO graphics (id, title) VALUES (4, 'Sponsor bug')")
      const abort = strata(['abort', '002_headline', ...db.args], project.dir)
      expect(abort.stderr).not.toContain('error[')
      expect(abort.code).toBe(0)
      expect(abort.stderr).toContain('aborted 002_headline')
      expect(states()).toEqual(['001_graphics:applied'])
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(await db.indexes('graphics')).toEqual([])
      expect((await db.rows<{ title: string }>('SELECT title FROM graphics ORDER BY id')).map((r) => r.title)).toEqual(['Match score', 'Standings', 'Round timer', 'Sponsor bug'])
      const log = await db.rows<{ action: string }>("SELECT action FROM strata_log WHERE revision = '002_headline' ORDER BY seq")
      expect(log.map((l) => l.action)).toEqual(['expand', 'abort'])

      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      expect(states()).toEqual(['001_graphics:applied', '002_headline:expanded'])
      expect(await db.rows('SELECT count(*) AS n FROM graphics WHERE headline IS NULL')).toEqual([{ n: expect.anything() }])
      expect(Number((await db.rows<{ n: unknown }>('SELECT count(*) AS n FROM graphics WHERE headline IS NULL'))[0]!.n)).toBe(0)
    })

    it('down over an expanded revision runs its abort; a completed one whose contract drops a column is irreversible', async () => {
      project.write('001_graphics.sql', TABLE)
      project.write('002_headline.ts', RENAME)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      const down = strata(['down', '001_graphics', ...db.args], project.dir)
      expect(down.code).toBe(0)
      expect(down.stderr).toContain('aborted 002_headline')
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      expect(strata(['complete', '002_headline', ...db.args], project.dir).code).toBe(0)
      const refused = strata(['down', '001_graphics', ...db.args], project.dir)
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain('E_IRREVERSIBLE')
      expect(refused.stderr).toContain('contract() cannot be reversed')
      expect(await db.columns('graphics')).toEqual(['id', 'headline'])
    })

    it('an expand that fails part-way stays dirty and resumable: abort undoes only what it committed; a fixed file resumes', async () => {
      project.write('001_graphics.sql', TABLE)
      const broken = (column: string): string => `export default {
  expand(op) {
    op.addColumn('graphics', { name: 'a', type: 'integer', nullable: true })
    op.addColumn('graphics', { name: 'b', type: 'integer', nullable: true })
    op.createIndex('idx_graphics_ab', 'graphics', ['${column}'])
  },
  contract(op) { op.dropColumn('graphics', 'b') },
}
`
      project.write('002_ab.ts', broken('no_such_column'))
      const up = strata(['up', ...db.args], project.dir)
      expect(up.code).toBe(1)
      expect(up.stderr).toContain('stopped part-way')
      expect(up.stderr).toContain('strata abort 002_ab')
      expect(states()).toEqual(['001_graphics:applied', '002_ab:dirty'])
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'a', 'b'])
      // complete is refused while the expand is unfinished, and so is a down under it.
      const early = strata(['complete', '002_ab', ...db.args], project.dir)
      expect(early.code).toBe(2)
      expect(early.stderr).toContain('stopped part-way')
      const down = strata(['down', 'base', ...db.args], project.dir)
      expect(down.code).toBe(3)
      expect(down.stderr).toContain('E_DIRTY')
      expect(down.stderr).toContain('strata abort 002_ab')
      expect(await db.tables()).toContain('graphics')
      expect(strata(['status', ...db.args], project.dir).stdout).toContain('DIRTY: 002_ab stopped part-way')

      const abort = strata(['abort', '002_ab', ...db.args], project.dir)
      expect(abort.stderr).not.toContain('error[')
      expect(abort.code).toBe(0)
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(states()).toEqual(['001_graphics:applied'])
      expect(await db.rows('SELECT count(*) AS n FROM strata_checkpoints')).toEqual([{ n: expect.anything() }])
      expect(Number((await db.rows<{ n: unknown }>('SELECT count(*) AS n FROM strata_checkpoints'))[0]!.n)).toBe(0)

      // Fail again. An edit of the ops that committed is refused; fixing the failed one resumes
      // after the two committed columns.
      expect(strata(['up', ...db.args], project.dir).code).toBe(1)
      project.write('002_ab.ts', broken('a').replace("name: 'b'", "name: 'c'"))
      const rewritten = strata(['up', ...db.args], project.dir)
      expect(rewritten.code).toBe(1)
      expect(rewritten.stderr).toContain('its op 2 was `add column graphics.b` when it committed, and the file now has `add column graphics.c` there')
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'a', 'b'])
      project.write('002_ab.ts', broken('a'))
      const resumed = strata(['up', ...db.args], project.dir)
      expect(resumed.stderr).not.toContain('error[')
      expect(resumed.code).toBe(0)
      expect(resumed.stderr).toContain('resuming 002_ab from its checkpoints: 2 op(s) done')
      expect(states()).toEqual(['001_graphics:applied', '002_ab:expanded'])
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'a', 'b'])
      expect(await db.indexes('graphics')).toEqual(['idx_graphics_ab'])
    })

    it('an op the server finished although the run stopped is recorded done on resume, and undone by abort', async () => {
      project.write('001_graphics.sql', TABLE)
      const expand = (column: string): string => `export default {
  expand(op) {
    op.addColumn('graphics', { name: 'a', type: 'integer', nullable: true })
    op.createIndex('idx_graphics_a', 'graphics', ['${column}'])
  },
  contract(op) {},
}
`
      project.write('002_a.ts', expand('nope'))
      expect(strata(['up', ...db.args], project.dir).code).toBe(1)
      // As if the index build had gone on without the client (MySQL finishes such DDL).
      await db.exec('CREATE INDEX idx_graphics_a ON graphics (a)')
      const abort = strata(['abort', '002_a', ...db.args], project.dir)
      expect(abort.stderr).not.toContain('error[')
      expect(abort.code).toBe(0)
      expect(await db.indexes('graphics')).toEqual([])
      expect(await db.columns('graphics')).toEqual(['id', 'title'])

      expect(strata(['up', ...db.args], project.dir).code).toBe(1)
      await db.exec('CREATE INDEX idx_graphics_a ON graphics (a)')
      project.write('002_a.ts', expand('a'))
      const resumed = strata(['up', ...db.args], project.dir)
      expect(resumed.stderr).not.toContain('error[')
      expect(resumed.code).toBe(0)
      expect(resumed.stderr).toContain('op 2 of 002_a (create index idx_graphics_a on graphics) had taken effect before the run stopped')
      expect(states()).toEqual(['001_graphics:applied', '002_a:expanded'])
      expect(await db.indexes('graphics')).toEqual(['idx_graphics_a'])
    })

    if (dialect.name === 'postgres') {
      it('an index CREATE INDEX CONCURRENTLY left invalid is rebuilt on resume, or dropped by abort (outside a transaction)', async () => {
        project.write('001_graphics.sql', TABLE)
        expect(strata(['up', ...db.args], project.dir).code).toBe(0)
        await db.exec("INSERT INTO graphics (id, title) VALUES (4, 'Match score')")
        project.write('002_unique.ts', `export default {
  expand(op) {
    op.addColumn('graphics', { name: 'a', type: 'integer', nullable: true })
    op.createIndex('idx_graphics_title', 'graphics', ['title'], { unique: true, concurrently: true })
  },
  contract(op) {},
}
`)
        // A duplicate title fails the build, which leaves the index behind, invalid.
        const up = strata(['up', ...db.args], project.dir)
        expect(up.code).toBe(1)
        expect(await db.indexes('graphics')).toEqual(['idx_graphics_title'])
        const abort = strata(['abort', '002_unique', ...db.args], project.dir)
        expect(abort.stderr).not.toContain('error[')
        expect(abort.code).toBe(0)
        expect(await db.indexes('graphics')).toEqual([])
        expect(await db.columns('graphics')).toEqual(['id', 'title'])

        expect(strata(['up', ...db.args], project.dir).code).toBe(1)
        await db.exec('DELETE FROM graphics WHERE id = 4')
        const resumed = strata(['up', ...db.args], project.dir)
        expect(resumed.stderr).not.toContain('error[')
        expect(resumed.code).toBe(0)
        expect(resumed.stderr).toContain('left index idx_graphics_title invalid when the run stopped: dropping it to build it again')
        const valid = await db.rows<{ v: boolean }>("SELECT i.indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'idx_graphics_title'")
        expect(valid).toEqual([{ v: true }])
        expect(states()).toEqual(['001_graphics:applied', '002_unique:expanded'])
      })
    }

    it('complete and abort refuse revisions in the wrong state, naming it, with exit 2 and nothing changed', async () => {
      project.write('001_graphics.sql', TABLE)
      project.write('002_headline.ts', RENAME)
      expect(strata(['up', '001_graphics', ...db.args], project.dir).code).toBe(0)
      const notYet = strata(['complete', '002_headline', ...db.args], project.dir)
      expect(notYet.code).toBe(2)
      expect(notYet.stderr).toContain('E_USAGE')
      expect(notYet.stderr).toContain('002_headline is not applied')
      expect(notYet.stderr).toContain('strata up 002_headline')
      const plain = strata(['complete', '001_graphics', ...db.args], project.dir)
      expect(plain.code).toBe(2)
      expect(plain.stderr).toContain('is not an expand/contract migration')
      const unknown = strata(['abort', 'nope', ...db.args], project.dir)
      expect(unknown.code).toBe(2)
      const relative = strata(['complete', '-1', ...db.args], project.dir)
      expect(relative.code).toBe(2)
      expect(relative.stderr).not.toContain('rel:')
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      expect(strata(['complete', '002_headline', ...db.args], project.dir).code).toBe(0)
      const late = strata(['abort', '002_headline', ...db.args], project.dir)
      expect(late.code).toBe(2)
      expect(late.stderr).toContain('002_headline is complete')
      expect(await db.columns('graphics')).toEqual(['id', 'headline'])
    })
  })
}

describe('expand/contract migration files', () => {
  const project = useProject()
  const URL = ['--url', 'sqlite:app.db', '--migrations', 'migrations']

  it('refuses phases mixed with up/down, a missing contract, and an irreversible expand without abort (exit 2, naming the file)', () => {
    project.write('001_mixed.ts', "export default { up(op) {}, expand(op) {}, contract(op) {} }\n")
    let run = strata(['plan', ...URL], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('001_mixed.ts')
    expect(run.stderr).toContain('mixes up() with the expand/contract phases')

    project.write('001_mixed.ts', "export default { expand(op) { op.addColumn('t', { name: 'x', type: 'integer' }) } }\n")
    run = strata(['plan', ...URL], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('without contract()')

    project.write('001_mixed.ts', "export default { expand(op) { op.execute('CREATE TABLE t (x integer)') }, contract(op) {} }\n")
    run = strata(['plan', ...URL], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('E_IRREVERSIBLE')
    expect(run.stderr).toContain('expand() uses an irreversible op')
    expect(run.stderr).toContain('abort(op)')
  })

  it('plan and plan --sql show the expand step and what waits for complete; lint reports the contract\'s drop at info', () => {
    project.write('001_graphics.sql', TABLE)
    project.write('002_headline.ts', RENAME)
    project.write('003_notes.sql', CHILD)
    const plan = strata(['plan', ...URL], project.dir)
    expect(plan.code).toBe(0)
    expect(plan.stdout).toContain('expand 002_headline')
    expect(plan.stdout).toContain('waits: 003_notes is built on 002_headline')
    const sql = strata(['plan', '--sql', ...URL], project.dir)
    expect(sql.code).toBe(0)
    expect(sql.stdout).toContain('left expanded until `strata complete 002_headline`')
    expect(sql.stdout).toContain('ALTER TABLE "graphics" ADD COLUMN "headline"')
    expect(sql.stdout).toContain('not in this script: 003_notes (waits for `strata complete 002_headline`)')
    expect(sql.stdout).not.toContain('graphic_notes')
    const lint = JSON.parse(strata(['lint', '--json', ...URL], project.dir).stdout) as { findings: Array<{ rule: string; severity: string; revision: string; message: string }> }
    const drop = lint.findings.find((f) => f.rule === 'drop-column' && f.revision === '002_headline' && f.message.startsWith('contract: '))
    expect(drop).toMatchObject({ severity: 'info' })
    expect(drop?.message).toMatch(/^contract: /)
    expect(lint.findings.some((f) => f.rule === 'irreversible' && f.revision === '002_headline')).toBe(false)
  })

  it('strata test runs expand, abort, expand again and contract on the scratch database', () => {
    project.write('001_graphics.sql', TABLE)
    project.write('002_headline.ts', RENAME)
    project.write('003_notes.sql', CHILD)
    const run = strata(['test', '--json', ...URL], project.dir)
    const report = JSON.parse(run.stdout) as { ok: boolean; revisions: Array<{ revision: string; notes: string[] }> }
    expect(report.ok).toBe(true)
    expect(run.code).toBe(0)
    expect(report.revisions.find((r) => r.revision === '002_headline')?.notes).toEqual(['expand', 'abort', 'expand again', 'contract'])
    expect(report.revisions.find((r) => r.revision === '003_notes')?.notes).toEqual(['up', 'down', 'up again'])
  })
})
