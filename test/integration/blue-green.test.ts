import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { activeDatabase, closeMaintenanceStatus } from 'strata-migrate'
import { strata, strataAsync, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

/** `strata deploy --strategy blue-green` beyond the example (SPEC S10): PostgreSQL, and what it refuses. */

const GRAPHICS = "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics (id, title) VALUES (1, 'launch'), (2, 'keynote');\n-- strata:down\nDROP TABLE graphics;\n"
const EVENT = '-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(80);\n-- strata:down\nALTER TABLE graphics DROP COLUMN event_name;\n'

describe('blue-green on PostgreSQL', () => {
  const project = useProject()
  const SERVER = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
  let name = ''
  const urlOf = (db: string): string => SERVER.replace(/\/[^/]*$/, `/${db}`)
  const admin = async <T>(sql: string, params: unknown[] = [], db?: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: db ? urlOf(db) : SERVER })
    await client.connect()
    try {
      return (await client.query(sql, params)).rows as T[]
    } finally {
      await client.end()
    }
  }
  beforeEach(async () => {
    name = `strata_bg_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    await admin(`CREATE DATABASE ${name}`)
  })
  afterEach(async () => {
    await closeMaintenanceStatus()
    for (const { datname } of await admin<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${name}%`])) {
      await admin(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
    }
  })

  it('migrates a copy in a new database, switches the pointer the application reads, and rolls back to the old one', async () => {
    writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations\nenvironments:\n  production: { url: "${urlOf(name)}", policy: { strategy: blue-green } }\n`)
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up'], project.dir).code).toBe(0)
    project.write('002_event.sql', EVENT)
    const deployed = strata(['deploy', '--json'], project.dir)
    expect(deployed.code, deployed.stderr).toBe(0)
    const { pointer, strategy } = JSON.parse(deployed.stdout) as { strategy: string; pointer: { active: string; previous: string } }
    expect(strategy).toBe('blue-green')
    expect(pointer.previous).toBe(name)
    expect(pointer.active.startsWith(`${name}_`)).toBe(true)

    const active = await activeDatabase(urlOf(name))
    expect(active.location).toBe(pointer.active)
    expect(active.url).toBe(urlOf(pointer.active))
    const columns = async (db: string): Promise<string[]> => (await admin<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'graphics' ORDER BY ordinal_position", [], db)).map((r) => r.c)
    expect(await columns(pointer.active)).toEqual(['id', 'title', 'event_name'])
    expect(await columns(name)).toEqual(['id', 'title'])
    expect(await admin(`SELECT id, title FROM graphics ORDER BY id`, [], pointer.active)).toEqual([{ id: 1, title: 'launch' }, { id: 2, title: 'keynote' }])
    expect((JSON.parse(strata(['status', '--json'], project.dir).stdout) as { pending: string[] }).pending).toEqual([])

    expect(strata(['deploy', '--rollback'], project.dir).code).toBe(0)
    await closeMaintenanceStatus() // drop the cached answer
    expect((await activeDatabase(urlOf(name))).location).toBe(name)
    expect((JSON.parse(strata(['status', '--json'], project.dir).stdout) as { pending: string[] }).pending).toEqual(['002_event'])
  })
})

describe('blue-green refusals (SQLite)', () => {
  const project = useProject()
  const config = (): void => writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments:\n  production: { url: "sqlite:live.db", policy: { strategy: blue-green } }\n')
  const copies = (): string[] => readdirSync(project.dir).filter((f) => /^live\.[a-z0-9]+\.db$/.test(f))

  it('a green copy whose migration fails is dropped; the application never left the old database', () => {
    config()
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up'], project.dir).code).toBe(0)
    project.write('002_bad.sql', '-- strata:up\nINSERT INTO missing_table VALUES (1);\n')
    const run = strata(['deploy'], project.dir)
    expect(run.code).toBe(1)
    expect(copies()).toEqual([])
    expect(rows(join(project.dir, 'live.db'), "SELECT name FROM sqlite_master WHERE name = 'strata_deployment'")).toEqual([])
  })

  it('refuses to switch when the old database took writes while the copy was migrated (they would be lost)', async () => {
    config()
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up'], project.dir).code).toBe(0)
    project.write('002_slow.ts', `export default {
  async up(op) { await new Promise((r) => setTimeout(r, 2000)); op.execute('ALTER TABLE graphics ADD COLUMN event_name varchar(80)') },
  down(op) { op.execute('ALTER TABLE graphics DROP COLUMN event_name') },
}
`)
    const run = strataAsync(['deploy'], project.dir)
    // While the copy is migrated, the application writes to the database it still uses.
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const Database = (await import('better-sqlite3')).default
    const db = new Database(join(project.dir, 'live.db'), { timeout: 5_000 })
    db.prepare("INSERT INTO graphics (id, title) VALUES (3, 'written during the deploy')").run()
    db.close()
    const result = await run.done
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('took writes while its copy was migrated')
    expect(copies()).toEqual([])
    expect(rows(join(project.dir, 'live.db'), 'SELECT id FROM graphics ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }])
  })

  it('--rollback without an earlier switch says so (exit 2); a MySQL environment is refused', () => {
    config()
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up'], project.dir).code).toBe(0)
    const back = strata(['deploy', '--rollback'], project.dir)
    expect(back.code).toBe(2)
    expect(back.stderr).toContain('no earlier database to roll back to')
    const mysql = strata(['deploy', '--strategy', 'blue-green', '--url', 'mysql://root@127.0.0.1:3306/test'], project.dir)
    expect(mysql.code).toBe(2)
    expect(mysql.stderr).toContain('SQLite and PostgreSQL')
    expect(existsSync(join(project.dir, 'live.db'))).toBe(true)
  })
})
