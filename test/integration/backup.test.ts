import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

/** A project with a config (backups beside it), two migrations and rows. */
function setUp(project: { dir: string; write(name: string, text: string): void }, extra = ''): void {
  writeFileSync(join(project.dir, 'strata.yaml'), `environments:\n  development:\n    url: sqlite:app.db\nbackup: { dir: backups }\n${extra}`)
  project.write('001_graphics.sql', `-- strata:up
CREATE TABLE graphics (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
INSERT INTO graphics (title) VALUES ('lower third'), ('score bug'), ('ticker');
-- strata:down
DROP TABLE graphics;
`)
  project.write('002_events.sql', `-- strata:up
CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO events (name) VALUES ('final');
-- strata:down
DROP TABLE events;
`)
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function createJson(dir: string): { id: string; path: string; sha256: string; size: number; rowCounts: Record<string, number>; revisions: string[]; source: string } {
  const run = strata(['backup', 'create', '--json'], dir)
  expect(run.stderr).not.toContain('error[')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout)
}

describe('strata backup on SQLite', () => {
  const project = useProject()

  it('create writes a plain database file and a manifest whose sha256, size and row counts match the copy', () => {
    setUp(project)
    expect(strata(['up'], project.dir).code).toBe(0)
    const created = createJson(project.dir)
    expect(created.path).toBe(join(project.dir, 'backups', `${created.id}.db`))
    expect(created.sha256).toBe(sha256(created.path))
    expect(created.size).toBe(statSync(created.path).size)
    expect(created.revisions).toEqual(['001_graphics', '002_events'])
    const copy = new Database(created.path, { readonly: true })
    try {
      expect(copy.prepare('SELECT title FROM graphics ORDER BY id').pluck().all()).toEqual(['lower third', 'score bug', 'ticker'])
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete')
    } finally {
      copy.close()
    }
    const manifest = JSON.parse(readFileSync(join(project.dir, 'backups', `${created.id}.json`), 'utf8'))
    expect(manifest).toMatchObject({
      id: created.id, dialect: 'sqlite', format: 'sqlite', integrity: 'ok', sha256: created.sha256, size: created.size,
      revisions: ['001_graphics', '002_events'], source: `sqlite:${join(project.dir, 'app.db')}`,
      tool: { name: 'strata-migrate' }, environment: 'development', reason: 'manual',
    })
    expect(manifest.rowCounts).toMatchObject({ graphics: 3, events: 1, strata_history: 2 })
    expect(manifest.verified.ok).toBe(true)
  })

  it('writes backups 0600 in a 0700 directory, tightening a looser one', () => {
    setUp(project)
    mkdirSync(join(project.dir, 'backups'), { mode: 0o755 })
    expect(strata(['up'], project.dir).code).toBe(0)
    const created = createJson(project.dir)
    expect(statSync(join(project.dir, 'backups')).mode & 0o777).toBe(0o700)
    for (const name of readdirSync(join(project.dir, 'backups'))) {
      expect(statSync(join(project.dir, 'backups', name)).mode & 0o777).toBe(0o600)
    }
    expect(existsSync(created.path)).toBe(true)
  })

  it('list --json gives the documented fields, newest first, and only this database', () => {
    setUp(project)
    expect(strata(['up', '001_graphics'], project.dir).code).toBe(0)
    const first = createJson(project.dir)
    expect(strata(['up'], project.dir).code).toBe(0)
    const second = createJson(project.dir)
    const other = strata(['backup', 'create', '--url', 'sqlite:other.db', '--config', 'strata.yaml'], project.dir)
    expect(other.code).toBe(0)
    const list = strata(['backup', 'list', '--json'], project.dir)
    expect(list.code).toBe(0)
    const doc = JSON.parse(list.stdout) as { backups: Array<Record<string, unknown>> }
    expect(doc.backups.map((b) => b['id'])).toEqual([second.id, first.id])
    for (const key of ['id', 'path', 'createdAt', 'size', 'sha256', 'verified']) expect(doc.backups[0]).toHaveProperty(key)
    expect(doc.backups[0]!['verified']).toBe(true)
    const all = JSON.parse(strata(['backup', 'list', '--json', '--all'], project.dir).stdout) as { backups: unknown[] }
    expect(all.backups).toHaveLength(3)
  })

  it('verify passes a good backup and fails a corrupted one, naming the check', () => {
    setUp(project)
    expect(strata(['up'], project.dir).code).toBe(0)
    const created = createJson(project.dir)
    const good = strata(['backup', 'verify', '--json'], project.dir)
    expect(good.code).toBe(0)
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, id: created.id })
    const bytes = readFileSync(created.path)
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = bytes[middle]! ^ 0xff
    writeFileSync(created.path, bytes)
    const bad = strata(['backup', 'verify', created.id], project.dir)
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/FAIL\s+sha256/)
    expect(bad.stderr).toContain('E_BACKUP')
    const list = JSON.parse(strata(['backup', 'list', '--json'], project.dir).stdout) as { backups: Array<{ verified: boolean }> }
    expect(list.backups[0]!.verified).toBe(false)
  })

  it('restore brings back the backed-up rows and schema, keeps WAL mode, and is recorded with the backup id', () => {
    setUp(project)
    expect(strata(['up', '001_graphics'], project.dir).code).toBe(0)
    const db = join(project.dir, 'app.db')
    const live = new Database(db)
    live.pragma('journal_mode = WAL')
    live.close()
    const created = createJson(project.dir)
    expect(strata(['up'], project.dir).code).toBe(0)
    const writer = new Database(db)
    writer.prepare('DELETE FROM graphics WHERE id > 1').run()
    writer.close()
    const restore = strata(['backup', 'restore', '--json'], project.dir)
    expect(restore.stderr).not.toContain('error[')
    expect(restore.code).toBe(0)
    expect(JSON.parse(restore.stdout)).toMatchObject({ ok: true, id: created.id, from: ['002_events'], to: ['001_graphics'] })
    expect(rows(db, 'SELECT title FROM graphics ORDER BY id')).toEqual([{ title: 'lower third' }, { title: 'score bug' }, { title: 'ticker' }])
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name = 'events'")).toEqual([])
    expect(rows(db, 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_graphics' }])
    expect(rows(db, "SELECT status, backup_id FROM strata_runs WHERE command = 'restore'")).toEqual([{ status: 'succeeded', backup_id: created.id }])
    // The trail outlives the restore: the run that applied 002 after the backup is still recorded.
    expect(rows(db, "SELECT command, status FROM strata_runs WHERE command <> 'backup create' ORDER BY started_at")).toEqual([
      { command: 'up', status: 'succeeded' }, { command: 'up', status: 'succeeded' }, { command: 'restore', status: 'succeeded' },
    ])
    expect(rows(db, 'SELECT revision, action FROM strata_log ORDER BY seq')).toEqual([
      { revision: '001_graphics', action: 'apply' }, { revision: '002_events', action: 'apply' }, { revision: '002_events', action: 'restore' },
    ])
    // Numbered one after the other, across runs and the restore.
    expect(rows(db, 'SELECT seq FROM strata_log ORDER BY seq')).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }])
    expect(rows(db, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }])
    expect(existsSync(`${db}.strata-restore`)).toBe(false)
    // The restored database migrates on as usual.
    expect(strata(['up'], project.dir).code).toBe(0)
    expect(rows(db, 'SELECT count(*) AS n FROM events')).toEqual([{ n: 1 }])
  })

  it('restore refuses a corrupted backup and leaves the database untouched', () => {
    setUp(project)
    expect(strata(['up'], project.dir).code).toBe(0)
    const created = createJson(project.dir)
    const db = join(project.dir, 'app.db')
    const writer = new Database(db)
    writer.prepare("INSERT INTO graphics (title) VALUES ('after the backup')").run()
    writer.close()
    const before = rows(db, 'SELECT * FROM graphics ORDER BY id')
    const bytes = readFileSync(created.path)
    bytes.fill(0, 100, 4096)
    writeFileSync(created.path, bytes)
    const run = strata(['backup', 'restore'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_BACKUP]')
    expect(run.stderr).toContain('corrupted')
    expect(rows(db, 'SELECT * FROM graphics ORDER BY id')).toEqual(before)
  })

  it('prune keeps the newest N of this database', () => {
    setUp(project)
    expect(strata(['up'], project.dir).code).toBe(0)
    const ids = [createJson(project.dir).id, createJson(project.dir).id, createJson(project.dir).id]
    const pruned = strata(['backup', 'prune', '--keep', '1', '--json'], project.dir)
    expect(pruned.code).toBe(0)
    expect(JSON.parse(pruned.stdout).removed.sort()).toEqual(ids.slice(0, 2).sort())
    expect(readdirSync(join(project.dir, 'backups')).sort()).toEqual([`${ids[2]}.db`, `${ids[2]}.json`])
    const usage = strata(['backup', 'prune'], project.dir)
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--keep')
  })

  it('backup.keep prunes automatically after each backup', () => {
    setUp(project, '')
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development:\n    url: sqlite:app.db\nbackup: { dir: backups, keep: 2 }\n')
    expect(strata(['up'], project.dir).code).toBe(0)
    for (let i = 0; i < 3; i++) createJson(project.dir)
    expect(readdirSync(join(project.dir, 'backups')).filter((n) => n.endsWith('.json'))).toHaveLength(2)
  })

  it('archives backup.files in a tar.gz beside the copy, with its sha256 in the manifest', () => {
    setUp(project, '')
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development:\n    url: sqlite:app.db\nbackup: { dir: backups, files: [api/, config.json] }\n')
    mkdirSync(join(project.dir, 'api'))
    writeFileSync(join(project.dir, 'api', 'server.js'), 'console.log("api")\n')
    writeFileSync(join(project.dir, 'config.json'), '{"port": 8000}\n')
    expect(strata(['up'], project.dir).code).toBe(0)
    const created = createJson(project.dir)
    const archive = join(project.dir, 'backups', `${created.id}.files.tar.gz`)
    expect(statSync(archive).mode & 0o777).toBe(0o600)
    const listing = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort()
    expect(listing).toEqual(['api/', 'api/server.js', 'config.json'])
    const manifest = JSON.parse(readFileSync(join(project.dir, 'backups', `${created.id}.json`), 'utf8'))
    expect(manifest.files.sha256).toBe(sha256(archive))
    writeFileSync(archive, 'not a tarball')
    const verify = strata(['backup', 'verify'], project.dir)
    expect(verify.code).toBe(1)
    expect(verify.stdout).toMatch(/FAIL\s+files/)
  })

  it('a missing tar is a clear error naming it and how to install it; nothing is left behind', () => {
    setUp(project, '')
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development:\n    url: sqlite:app.db\nbackup: { dir: backups, files: [notes.txt] }\n')
    writeFileSync(join(project.dir, 'notes.txt'), 'notes\n')
    expect(strata(['up'], project.dir).code).toBe(0)
    const run = strata(['backup', 'create'], project.dir, { PATH: join(project.dir, 'no-such-bin') })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_BACKUP]')
    expect(run.stderr).toContain('tar is not installed')
    expect(run.stderr).toContain('apt install tar')
    expect(readdirSync(join(project.dir, 'backups'))).toEqual([])
  })

  it('a backup.files entry that does not exist is refused by name', () => {
    setUp(project, '')
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development:\n    url: sqlite:app.db\nbackup: { dir: backups, files: [dashboard/] }\n')
    expect(strata(['up'], project.dir).code).toBe(0)
    const run = strata(['backup', 'create'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('dashboard/')
  })

  it('verify and restore of an unknown id say so', () => {
    setUp(project)
    expect(strata(['up'], project.dir).code).toBe(0)
    const run = strata(['backup', 'restore', 'nope'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('no backup nope')
    const none = strata(['backup', 'verify'], project.dir)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('there is no backup')
  })

  it('restore on an environment with confirm is refused without a terminal or --yes (exit 3), and runs with --yes', () => {
    setUp(project)
    expect(strata(['up'], project.dir).code).toBe(0)
    createJson(project.dir)
    const db = join(project.dir, 'app.db')
    const writer = new Database(db)
    writer.prepare("INSERT INTO graphics (title) VALUES ('after the backup')").run()
    writer.close()
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development:\n    url: sqlite:app.db\n    policy: { confirm: true }\nbackup: { dir: backups }\n')
    const refused = strata(['backup', 'restore'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('error[E_POLICY]')
    expect(refused.stderr).toContain('nothing was restored')
    expect(rows(db, 'SELECT count(*) AS n FROM graphics')).toEqual([{ n: 4 }])
    const confirmed = strata(['backup', 'restore', '--yes'], project.dir)
    expect(confirmed.code).toBe(0)
    expect(rows(db, 'SELECT count(*) AS n FROM graphics')).toEqual([{ n: 3 }])
  })
})
