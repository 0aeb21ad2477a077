import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECTS, useTestDatabase, type TestDatabase } from '../support/dialects.js'

const GRAPHICS = "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics (id, title) VALUES (1, 'a'), (2, 'b'), (3, 'c');\n-- strata:down\nDROP TABLE graphics;\n"
const EVENT = "-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(40);\n-- strata:down\nALTER TABLE graphics DROP COLUMN event_name;\n"

/** A config whose development environment carries `policy`; the URL comes from --url. */
function config(dir: string, extra: string): void {
  writeFileSync(join(dir, 'strata.yaml'), `environments:\n  development:\n    url: sqlite:unused.db\n${extra}backup: { dir: backups }\n`)
}

for (const dialect of DIALECTS) {
  describe(`backups and recovery on ${dialect.name}`, () => {
    const project = useProject()
    let db: TestDatabase
    useTestDatabase(dialect, project, (created) => (db = created))

    it('create, verify (a trial restore on servers), then restore brings back schema, rows and revisions', async () => {
      config(project.dir, '')
      project.write('001_graphics.sql', GRAPHICS)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      const created = strata(['backup', 'create', '--json', ...db.args], project.dir)
      expect(created.stderr).not.toContain('error[')
      expect(created.code).toBe(0)
      const backup = JSON.parse(created.stdout) as { id: string; rowCounts: Record<string, number>; sha256: string }
      expect(backup.rowCounts['graphics']).toBe(3)
      expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/)
      const verified = strata(['backup', 'verify', '--json', ...db.args], project.dir)
      expect(verified.stderr).not.toContain('error[')
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, id: backup.id })
      project.write('002_event.sql', EVENT)
      expect(strata(['up', ...db.args], project.dir).code).toBe(0)
      await db.exec("DELETE FROM graphics WHERE id > 1")
      const restored = strata(['backup', 'restore', '--json', ...db.args], project.dir)
      expect(restored.stderr).not.toContain('error[')
      expect(restored.code).toBe(0)
      expect(JSON.parse(restored.stdout)).toMatchObject({ id: backup.id, from: ['002_event'], to: ['001_graphics'] })
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(await db.rows('SELECT id, title FROM graphics ORDER BY id')).toEqual([{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'c' }])
      expect(await db.rows("SELECT status, backup_id FROM strata_runs WHERE command = 'restore'")).toEqual([{ status: 'succeeded', backup_id: backup.id }])
      const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { current: string[]; pending: string[] }
      expect(status.current).toEqual(['001_graphics'])
      expect(status.pending).toEqual(['002_event'])
    })

    it('a failed postflight with on_failure: restore returns the database to the pre-run backup, verified', async () => {
      config(project.dir, '    policy: { require_backup: true, on_failure: restore }\nchecks:\n  postflight:\n    - { name: events-named, sql: "SELECT count(*) FROM graphics WHERE event_name IS NULL", expect: 0 }\n')
      project.write('001_graphics.sql', GRAPHICS.replace('-- strata:down', "CREATE TABLE placeholder (id integer);\n-- strata:down"))
      // The first run has no event_name column yet: apply it without the invariant.
      writeFileSync(join(project.dir, 'first.yaml'), 'environments:\n  development:\n    url: sqlite:unused.db\n')
      expect(strata(['up', '--config', 'first.yaml', ...db.args], project.dir).code).toBe(0)
      const before = await db.rows('SELECT id, title FROM graphics ORDER BY id')
      project.write('002_event.sql', EVENT)
      const run = strata(['up', ...db.args], project.dir)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('error[E_VALIDATION]')
      expect(run.stderr).toMatch(/Database state: pre-run — the pre-run backup \S+ was restored/)
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(await db.rows('SELECT id, title FROM graphics ORDER BY id')).toEqual(before)
      const runs = await db.rows<{ status: string; backup_id: string | null }>("SELECT status, backup_id FROM strata_runs WHERE command = 'up' ORDER BY started_at")
      expect(runs.at(-1)!.status).toBe('restored')
      expect(runs.at(-1)!.backup_id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/)
      const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { current: string[]; applied: Array<{ state: string }> }
      expect(status.current).toEqual(['001_graphics'])
      expect(status.applied.every((a) => a.state === 'applied')).toBe(true)
    })

    if (dialect.name === 'mysql') {
      it('a statement without a known inverse is undone by restoring the pre-run backup instead of leaving the revision dirty', async () => {
        config(project.dir, '    policy: { require_backup: true }\n')
        project.write('001_graphics.sql', GRAPHICS)
        expect(strata(['up', ...db.args], project.dir).code).toBe(0)
        // TRUNCATE commits and has no inverse; the failure after it cannot be undone statement by statement.
        project.write('002_bad.sql', '-- strata:up\nCREATE TABLE scratch (id integer);\nTRUNCATE TABLE graphics;\nSELECT * FROM nowhere;\n')
        const run = strata(['up', ...db.args], project.dir)
        expect(run.code).toBe(1)
        expect(run.stderr).toContain('was restored')
        expect(await db.tables()).not.toContain('scratch')
        expect(await db.rows('SELECT id, title FROM graphics ORDER BY id')).toEqual([{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'c' }])
        const status = JSON.parse(strata(['status', '--json', ...db.args], project.dir).stdout) as { current: string[]; applied: Array<{ revision: string; state: string }> }
        expect(status.applied).toEqual([expect.objectContaining({ revision: '001_graphics', state: 'applied' })])
        expect(strata(['up', '--lock-timeout', '5', ...db.args], project.dir).stderr).not.toContain('E_DIRTY')
      })
    }
  })
}
