import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { DIALECT, useTestDatabase, type TestDatabase, type TestDialect } from '../support/dialects.js'

/**
 * The environment policies of SPEC S9, each on SQLite and PostgreSQL: a refusal exits 3, names
 * the rule and what would satisfy it, is recorded in strata_runs and in a record, and leaves the
 * user's schema and data as they were.
 */

const GRAPHICS = '-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics (id, title) VALUES (1, \'launch\');\n-- strata:down\nDROP TABLE graphics;\n'
const EVENT = '-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(80);\n-- strata:down\nALTER TABLE graphics DROP COLUMN event_name;\n'

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

for (const dialect of [DIALECT.sqlite, DIALECT.postgres] as const satisfies readonly TestDialect[]) {
  describe(`environment policies (${dialect.name})`, () => {
    const project = useProject()
    let db: TestDatabase
    useTestDatabase(dialect, project, (created) => (db = created))

    const configure = (policy: string, extra = ''): void => {
      writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations\nenvironments:\n  production:\n    url: "${db.url}"\n    policy: ${policy}\n${extra}`)
    }
    /** Applies 001 without any policy: the refusals below must leave this state alone. */
    const baseline = async (): Promise<void> => {
      configure('{}')
      project.write('001_graphics.sql', GRAPHICS)
      expect(strata(['up'], project.dir).code).toBe(0)
      project.write('002_event.sql', EVENT)
    }
    const untouched = async (): Promise<void> => {
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      expect(await db.rows('SELECT id, title FROM graphics')).toEqual([{ id: 1, title: 'launch' }])
    }
    const lastRun = async (): Promise<{ status: string; record_path: string | null }> => {
      const runs = await db.rows<{ status: string; record_path: string | null; started_at: string }>('SELECT status, record_path, started_at FROM strata_runs ORDER BY started_at, run_id')
      return runs.at(-1)!
    }
    const refusedWith = async (run: { code: number; stderr: string }, rule: string, satisfy: string | RegExp): Promise<void> => {
      expect(run.code).toBe(3)
      expect(run.stderr).toContain('error[E_POLICY]')
      expect(run.stderr).toContain(rule)
      expect(run.stderr).toMatch(satisfy)
      await untouched()
      const last = await lastRun()
      expect(last.status).toBe('refused')
      const record = JSON.parse(readFileSync(last.record_path!, 'utf8')) as { status: string; issues: string[] }
      expect(record.status).toBe('refused')
      expect(record.issues.join('\n')).toContain(rule)
    }

    it('confirm: refused without a terminal or --yes; --yes runs', async () => {
      await baseline()
      configure('{ confirm: true }')
      await refusedWith(strata(['up'], project.dir), 'requires confirmation', /--yes/)
      expect(strata(['up', '--yes'], project.dir).code).toBe(0)
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'event_name'])
    })

    it('maintenance_window: refused outside the window, naming the next opening; runs inside it', async () => {
      await baseline()
      const now = new Date()
      const tomorrow = DAYS[(now.getUTCDay() + 1) % 7]
      configure(`{ maintenance_window: "${tomorrow} 00:00-23:59 UTC" }`)
      const refused = strata(['up'], project.dir)
      await refusedWith(refused, `outside the maintenance window "${tomorrow} 00:00-23:59 UTC"`, /run again once the window opens at \d{4}-\d\d-\d\dT00:00:00\.000Z/)
      // Two windows that cover the whole day, every day: always open.
      configure('{ maintenance_window: ["* 00:00-12:00 UTC", "* 12:00-00:00 UTC"] }')
      expect(strata(['up'], project.dir).code).toBe(0)
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'event_name'])
    })

    it('maintenance_window: a malformed window is a config error (exit 2) before anything is opened', async () => {
      await baseline()
      configure('{ maintenance_window: "Sunday 02:00-04:00 UTC" }')
      const run = strata(['up'], project.dir)
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('error[E_CONFIG]')
      expect(run.stderr).toContain('unknown day `Sunday`')
      expect(run.stderr).toContain('`environments.production.policy.maintenance_window`')
      await untouched()
    })

    it('require_change_request: refused without an approved CR covering the pending revisions; approved by three people it runs; an edit voids it', async () => {
      await baseline()
      configure('{ require_change_request: true }')
      await refusedWith(strata(['up'], project.dir), 'require_change_request', /strata cr new/)
      const created = strata(['cr', 'new', 'Add event name to graphics', '--json'], project.dir)
      expect(created.code).toBe(0)
      const { id, migrations } = JSON.parse(created.stdout) as { id: string; migrations: string[] }
      expect(migrations).toEqual(['002_event'])
      expect(strata(['cr', 'approve', id, '--role', 'technical', '--as', 'tech@example.com'], project.dir).code).toBe(0)
      expect(strata(['cr', 'approve', id, '--role', 'business', '--as', 'biz@example.com'], project.dir).code).toBe(0)
      // Two of three roles: still refused, naming the missing one.
      await refusedWith(strata(['up'], project.dir), 'require_change_request', /security/)
      expect(strata(['cr', 'approve', id, '--role', 'security', '--as', 'sec@example.com'], project.dir).code).toBe(0)
      // An edit after approval voids it.
      project.write('002_event.sql', EVENT.replace('varchar(80)', 'varchar(120)'))
      await refusedWith(strata(['up'], project.dir), 'require_change_request', /002_event/)
      project.write('002_event.sql', EVENT)
      const run = strata(['up'], project.dir)
      expect(run.code).toBe(0)
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'event_name'])
      const record = JSON.parse(readFileSync((await lastRun()).record_path!, 'utf8')) as { changeRequest: string | null }
      expect(record.changeRequest).toBe(id)
    })

    it('require_rehearsal: refused without a passing rehearsal of the pending migrations, naming the command that makes one', async () => {
      await baseline()
      configure('{ require_rehearsal: true }')
      await refusedWith(strata(['up'], project.dir), 'no passing rehearsal covers 002_event', /strata rehearse --from production --to staging/)
    })

    it('lint_fail_on: a finding at the level refuses the run (E_PREFLIGHT, exit 3); never lets it through', async () => {
      await baseline()
      project.write('002_event.sql', EVENT.split('-- strata:down')[0]!)
      configure('{ lint_fail_on: warning }')
      const run = strata(['up'], project.dir)
      expect(run.code).toBe(3)
      expect(run.stderr).toContain('error[E_PREFLIGHT]')
      expect(run.stderr).toContain('lint_fail_on')
      expect(run.stderr).toContain('irreversible')
      await untouched()
      expect((await lastRun()).status).toBe('refused')
      configure('{ lint_fail_on: never }')
      expect(strata(['up'], project.dir).code).toBe(0)
    })

    it('require_backup: a verified backup is taken before the run and named in its record', async () => {
      await baseline()
      configure('{ require_backup: true }', `backup: { dir: ${JSON.stringify(join(project.dir, 'backups'))} }\n`)
      expect(strata(['up'], project.dir).code).toBe(0)
      const record = JSON.parse(readFileSync((await lastRun()).record_path!, 'utf8')) as { backupId: string | null }
      expect(record.backupId).not.toBeNull()
      expect(readdirSync(join(project.dir, 'backups')).some((f) => f.includes(record.backupId!))).toBe(true)
    })

    it('on_failure: rollback reverts what the run committed; stop keeps it', async () => {
      await baseline()
      project.write('003_bad.sql', '-- strata:up\nINSERT INTO missing_table VALUES (1);\n-- strata:down\nSELECT 1;\n')
      configure('{ on_failure: rollback }')
      expect(strata(['up'], project.dir).code).toBe(1)
      expect(await db.columns('graphics')).toEqual(['id', 'title'])
      configure('{ on_failure: stop }')
      const stopped = strata(['up'], project.dir)
      expect(stopped.code).toBe(1)
      expect(await db.columns('graphics')).toEqual(['id', 'title', 'event_name'])
      expect(existsSync(join(project.dir, 'records'))).toBe(true)
    })
  })
}
