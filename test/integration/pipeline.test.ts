import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { strata, strataAsync, useProject } from '../support/cli.js'
import { columns, indexes, rows } from '../support/sqlite.js'

const BASE = `-- strata:up
CREATE TABLE graphics (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO graphics (title) VALUES ('lower third'), ('score bug');
INSERT INTO audit (note) VALUES ('created');
-- strata:down
DROP TABLE audit;
DROP TABLE graphics;
`

function config(dir: string, body: string): void {
  writeFileSync(join(dir, 'strata.yaml'), `environments:\n  development:\n    url: sqlite:app.db\n${body}`)
}

function exec(path: string, sql: string): void {
  const db = new Database(path)
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}

describe('up and down as the SOP pipeline (SQLite)', () => {
  const project = useProject()
  const db = (): string => join(project.dir, 'app.db')

  it('the quick-start policy takes a verified backup before migrating and records its id on the run', () => {
    config(project.dir, '    policy: { require_backup: true }\nbackup: { dir: backups }\n')
    project.write('001_base.sql', BASE)
    const run = strata(['up', '--json'], project.dir)
    expect(run.stderr).not.toContain('error[')
    expect(run.code).toBe(0)
    const doc = JSON.parse(run.stdout) as { backupId: string; preflight: Array<{ name: string; status: string }>; postflight: Array<{ name: string }> }
    expect(readdirSync(join(project.dir, 'backups'))).toContain(`${doc.backupId}.json`)
    expect(rows(db(), "SELECT status, backup_id FROM strata_runs WHERE command = 'up'")).toEqual([{ status: 'succeeded', backup_id: doc.backupId }])
    expect(doc.preflight.map((c) => c.name)).toEqual(['connectivity', 'graph', 'checksums', 'drift', 'consistency', 'disk-space', 'backup', 'lint'])
    expect(doc.preflight.every((c) => c.status !== 'fail')).toBe(true)
    expect(doc.postflight.map((c) => c.name)).toEqual(['schema', 'row-counts', 'consistency'])
  })

  it('a failing preflight user check refuses the run with exit 3, changes nothing and is recorded', () => {
    project.write('001_base.sql', BASE)
    expect(strata(['up', '--config', 'strata.yaml'], project.dir, {}).code).not.toBe(0) // no config yet
    config(project.dir, '')
    expect(strata(['up'], project.dir).code).toBe(0)
    config(project.dir, 'checks:\n  preflight:\n    - { name: enough-graphics, sql: "SELECT count(*) FROM graphics", expect: ">5" }\n')
    project.write('002_more.sql', '-- strata:up\nCREATE TABLE more (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE more;\n')
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('error[E_PREFLIGHT]')
    expect(run.stderr).toContain('enough-graphics')
    expect(run.stderr).toContain('returned 2, expected >5')
    expect(rows(db(), "SELECT name FROM sqlite_master WHERE name = 'more'")).toEqual([])
    expect(rows(db(), "SELECT status FROM strata_runs ORDER BY started_at DESC LIMIT 1")).toEqual([{ status: 'refused' }])
  })

  it('a foreign key violation fails the consistency preflight (exit 3)', () => {
    config(project.dir, '')
    project.write('001_base.sql', `-- strata:up
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
-- strata:down
DROP TABLE child;
DROP TABLE parent;
`)
    expect(strata(['up'], project.dir).code).toBe(0)
    exec(db(), 'PRAGMA foreign_keys = OFF; INSERT INTO child (parent_id) VALUES (42);')
    project.write('002_more.sql', '-- strata:up\nCREATE TABLE more (id INTEGER PRIMARY KEY);\n')
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('foreign_key_check')
    expect(rows(db(), "SELECT name FROM sqlite_master WHERE name = 'more'")).toEqual([])
    const check = strata(['check', '--json'], project.dir)
    expect(check.code).toBe(3)
    const report = JSON.parse(check.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; message: string }> }
    expect(report.ok).toBe(false)
    expect(report.checks.find((c) => c.name === 'consistency')).toMatchObject({ status: 'fail' })
  })

  it('postflight holds each op to its promise: an index created then dropped behind its back rolls the run back', () => {
    config(project.dir, '')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    const before = rows(db(), 'SELECT * FROM graphics ORDER BY id')
    project.write('002_index.ts', `export default {
  async up(op) {
    op.addColumn('graphics', { name: 'event_name', type: 'text' })
    op.createIndex('idx_graphics_event', 'graphics', ['event_name'])
    op.execute('DROP INDEX idx_graphics_event')
  },
  async down(op) { op.dropColumn('graphics', 'event_name') },
}
`)
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toContain('index graphics.idx_graphics_event is missing')
    expect(run.stderr).toContain('Database state: pre-run')
    expect(columns(db(), 'graphics')).toEqual(['id', 'title'])
    expect(rows(db(), 'SELECT * FROM graphics ORDER BY id')).toEqual(before)
    expect(rows(db(), 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_base' }])
    expect(rows(db(), "SELECT status FROM strata_runs ORDER BY started_at DESC LIMIT 1")).toEqual([{ status: 'rolled-back' }])
  })

  it('a table no migration touched that changes its row count fails the postflight and the run is undone', () => {
    config(project.dir, '')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    // A trigger on graphics writes to audit: the migration names graphics only.
    exec(db(), "CREATE TRIGGER graphics_audit AFTER UPDATE ON graphics BEGIN INSERT INTO audit (note) VALUES ('updated'); END;")
    expect(strata(['repair'], project.dir).code).toBe(0)
    const audit = rows(db(), 'SELECT * FROM audit ORDER BY id')
    project.write('002_touch.sql', "-- strata:up\nUPDATE graphics SET title = upper(title);\n-- strata:down\nUPDATE graphics SET title = lower(title);\n")
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toContain('audit: 1 → 3')
    // The down migration cannot remove the audit rows, so the pre-run state is not reached by
    // rollback; without a backup the output says so.
    expect(run.stderr).toContain('NOT verified')
    expect(rows(db(), 'SELECT title FROM graphics ORDER BY id')).toEqual([{ title: 'lower third' }, { title: 'score bug' }])
    expect(rows(db(), 'SELECT count(*) AS n FROM audit')).not.toEqual([{ n: audit.length }])
  })

  it('when the rollback cannot reach the pre-run state, the pre-run backup is restored and verified', () => {
    config(project.dir, '    policy: { require_backup: true }\nbackup: { dir: backups }\n')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    exec(db(), "CREATE TRIGGER graphics_audit AFTER UPDATE ON graphics BEGIN INSERT INTO audit (note) VALUES ('updated'); END;")
    expect(strata(['repair'], project.dir).code).toBe(0)
    const audit = rows(db(), 'SELECT * FROM audit ORDER BY id')
    const graphics = rows(db(), 'SELECT * FROM graphics ORDER BY id')
    project.write('002_touch.sql', "-- strata:up\nUPDATE graphics SET title = upper(title);\n-- strata:down\nUPDATE graphics SET title = lower(title);\n")
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toMatch(/Database state: pre-run — the pre-run backup \S+ was restored/)
    expect(rows(db(), 'SELECT * FROM audit ORDER BY id')).toEqual(audit)
    expect(rows(db(), 'SELECT * FROM graphics ORDER BY id')).toEqual(graphics)
    expect(rows(db(), 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_base' }])
    const last = rows<{ status: string; backup_id: string | null }>(db(), 'SELECT status, backup_id FROM strata_runs ORDER BY started_at DESC LIMIT 1')[0]!
    expect(last.status).toBe('restored')
    expect(last.backup_id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/)
  })

  it('on_failure: restore brings a failed multi-migration run back from the backup', () => {
    config(project.dir, '    policy: { on_failure: restore }\nbackup: { dir: backups }\n')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    const graphics = rows(db(), 'SELECT * FROM graphics ORDER BY id')
    project.write('002_add.sql', "-- strata:up\nCREATE TABLE extra (id INTEGER PRIMARY KEY);\nINSERT INTO graphics (title) VALUES ('new');\n-- strata:down\nDROP TABLE extra;\n")
    project.write('003_bad.sql', '-- strata:up\nINSERT INTO nowhere VALUES (1);\n')
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_MIGRATION_FAILED]')
    expect(run.stderr).toContain('was restored')
    expect(rows(db(), "SELECT name FROM sqlite_master WHERE name = 'extra'")).toEqual([])
    expect(rows(db(), 'SELECT * FROM graphics ORDER BY id')).toEqual(graphics)
    expect(rows(db(), 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_base' }])
    expect(rows(db(), 'SELECT status FROM strata_runs ORDER BY started_at DESC LIMIT 1')).toEqual([{ status: 'restored' }])
    expect(indexes(db(), 'graphics')).toEqual([])
  })

  it('a failing postflight user check stops the first run; validate exits 1 on a failed invariant and 0 once it holds', () => {
    config(project.dir, 'checks:\n  postflight:\n    - { name: titles, sql: "SELECT count(*) FROM graphics WHERE title = \'ticker\'", expect: 1 }\n')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).not.toBe(0)
    expect(rows(db(), 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 0 }])
    config(project.dir, '')
    expect(strata(['up'], project.dir).code).toBe(0)
    config(project.dir, 'checks:\n  postflight:\n    - { name: titles, sql: "SELECT count(*) FROM graphics WHERE title = \'ticker\'", expect: 1 }\n')
    const validate = strata(['validate'], project.dir)
    expect(validate.code).toBe(1)
    expect(validate.stdout).toMatch(/FAIL\s+titles/)
    expect(validate.stderr).toContain('E_VALIDATION')
    exec(db(), "INSERT INTO graphics (title) VALUES ('ticker')")
    const ok = strata(['validate', '--json'], project.dir)
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout).ok).toBe(true)
    const check = strata(['check'], project.dir)
    expect(check.code).toBe(0)
    expect(check.stdout).toMatch(/pass\s+lock\s+free/)
  })

  it('schema drift is a preflight warning, not a refusal', () => {
    config(project.dir, '')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    exec(db(), 'CREATE TABLE sneaky (id INTEGER)')
    const check = strata(['check', '--json'], project.dir)
    expect(check.code).toBe(0)
    const report = JSON.parse(check.stdout) as { checks: Array<{ name: string; status: string; message: string }> }
    expect(report.checks.find((c) => c.name === 'drift')).toMatchObject({ status: 'warn' })
    expect(report.checks.find((c) => c.name === 'drift')!.message).toContain('sneaky')
  })

  it('postflight HTTP probes and commands from the config run after the migrations; a failing probe undoes the run', async () => {
    let healthy = true
    const server = createServer((req, res) => {
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' })
      res.end(healthy ? `ok ${req.url}` : 'down')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      config(project.dir, `checks:\n  postflight:\n    - { name: api-health, http: "http://127.0.0.1:${port}/health", status: 200, body: "/^ok \\\\/health$/" }\n    - { name: smoke, command: ["${process.execPath}", "-e", "require('fs').writeFileSync('smoke-ran', 'yes')"] }\n`)
      project.write('001_base.sql', BASE)
      const good = await strataAsync(['up', '--json'], project.dir).done
      expect(good.stderr).not.toContain('error[')
      expect(good.code).toBe(0)
      const doc = JSON.parse(good.stdout) as { postflight: Array<{ name: string; status: string }> }
      expect(doc.postflight.filter((c) => ['api-health', 'smoke'].includes(c.name))).toEqual([
        expect.objectContaining({ name: 'api-health', status: 'pass' }),
        expect.objectContaining({ name: 'smoke', status: 'pass' }),
      ])
      expect(readdirSync(project.dir)).toContain('smoke-ran')
      healthy = false
      project.write('002_more.sql', '-- strata:up\nCREATE TABLE more (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE more;\n')
      const bad = await strataAsync(['up'], project.dir).done
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain('error[E_VALIDATION]')
      expect(bad.stderr).toContain('api-health')
      expect(bad.stderr).toContain('503')
      expect(bad.stderr).toContain('Database state: pre-run')
      expect(rows(db(), "SELECT name FROM sqlite_master WHERE name = 'more'")).toEqual([])
    } finally {
      server.close()
    }
  })

  it('down runs the same pipeline: a failed postflight after a down that dropped data restores the backup with every row', () => {
    config(project.dir, '    policy: { require_backup: true }\nbackup: { dir: backups }\n')
    project.write('001_base.sql', BASE)
    project.write('002_notes.sql', "-- strata:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes (body) VALUES ('keep me'), ('and me');\n-- strata:down\nDROP TABLE notes;\n")
    expect(strata(['up'], project.dir).code).toBe(0)
    exec(db(), "INSERT INTO notes (body) VALUES ('written by the application')")
    config(project.dir, '    policy: { require_backup: true }\nbackup: { dir: backups }\nchecks:\n  postflight:\n    - { name: notes-kept, sql: "SELECT count(*) FROM sqlite_master WHERE name = \'notes\'", expect: 1 }\n')
    const run = strata(['down', '-1'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    // Re-applying 002 brings back only its own two rows, not the application's: the rollback
    // cannot reach the pre-run rows, the pre-run backup can.
    expect(run.stderr).toMatch(/Database state: pre-run — the pre-run backup \S+ was restored/)
    expect(rows(db(), 'SELECT body FROM notes ORDER BY id')).toEqual([{ body: 'keep me' }, { body: 'and me' }, { body: 'written by the application' }])
    expect(rows(db(), 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([{ revision: '001_base' }, { revision: '002_notes' }])
  })

  it('preflight lints the pending migrations and refuses at the policy\'s lint_fail_on (exit 3, nothing changed)', () => {
    config(project.dir, '')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    project.write('002_drop.sql', '-- strata:up\nALTER TABLE audit DROP COLUMN note;\n-- strata:down\nALTER TABLE audit ADD COLUMN note TEXT;\n')
    const refused = strata(['up'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('error[E_PREFLIGHT]')
    expect(refused.stderr).toMatch(/lint: 1 finding\(s\) at or above error \(policy lint_fail_on\): drop-column in 002_drop \(migrations\/002_drop\.sql:2\)/)
    expect(columns(db(), 'audit')).toEqual(['id', 'note'])
    expect(rows(db(), 'SELECT status FROM strata_runs ORDER BY started_at DESC LIMIT 1')).toEqual([{ status: 'refused' }])
    const check = JSON.parse(strata(['check', '--json'], project.dir).stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> }
    expect(check.ok).toBe(false)
    expect(check.checks.find((c) => c.name === 'lint')?.status).toBe('fail')
    // An environment that lints but never refuses runs it, with a warning.
    config(project.dir, '    policy: { lint_fail_on: never }\n')
    const allowed = strata(['up', '--json'], project.dir)
    expect(allowed.code).toBe(0)
    const doc = JSON.parse(allowed.stdout) as { preflight: Array<{ name: string; status: string }> }
    expect(doc.preflight.find((c) => c.name === 'lint')?.status).toBe('warn')
    expect(columns(db(), 'audit')).toEqual(['id'])
  })

  it('lint_fail_on: warning refuses a warning; a lint-ignore line lets the reviewed statement through', () => {
    config(project.dir, '    policy: { lint_fail_on: warning }\n')
    project.write('001_base.sql', BASE)
    expect(strata(['up'], project.dir).code).toBe(0)
    project.write('002_rename.sql', '-- strata:up\nALTER TABLE audit RENAME COLUMN note TO remark;\n-- strata:down\nALTER TABLE audit RENAME COLUMN remark TO note;\n')
    const refused = strata(['up'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('rename-breaks-app')
    project.write('002_rename.sql', '-- strata:up\n-- strata:lint-ignore rename-breaks-app\nALTER TABLE audit RENAME COLUMN note TO remark;\n-- strata:down\nALTER TABLE audit RENAME COLUMN remark TO note;\n')
    const run = strata(['up'], project.dir)
    expect(run.stderr).not.toContain('error[')
    expect(run.code).toBe(0)
    expect(columns(db(), 'audit')).toEqual(['id', 'remark'])
  })
})
