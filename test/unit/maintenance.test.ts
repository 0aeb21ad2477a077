import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Command } from 'commander'
import { registerMaintenance } from '../../src/cli/commands/maintenance.js'
import { Strata, StrataError } from '../../src/index.js'
import { closeMaintenanceStatus, maintenanceStatus } from '../../src/maintenance/status.js'
import { readMaintenance, setMaintenance } from '../../src/pipeline/maintenance.js'
import { whoAmI, type Project } from '../../src/pipeline/session.js'

// Real SQLite files and real servers; an unreachable server fails these tests (no skipping).
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL = 'mysql://root@127.0.0.1:3306'

const random = (): string => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A fresh, empty database on one engine, with a table prefix of its own. */
interface Fixture {
  readonly url: string
  readonly prefix: string
  /** Sessions on the database that run strata's maintenance queries (the helper's kept ones). */
  sessions(): Promise<number>
  /** Ends those sessions from the server side (a restart, an idle timeout); resolves to how many. */
  killSessions(): Promise<number>
  tableExists(): Promise<boolean>
  drop(): Promise<void>
}

interface Engine {
  readonly name: 'sqlite' | 'postgres' | 'mysql'
  create(dir: string): Promise<Fixture>
}

const sqlite: Engine = {
  name: 'sqlite',
  async create(dir) {
    const file = join(dir, 'app.db')
    const openHandles = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file
        } catch {
          return false
        }
      }).length
    return {
      url: `sqlite:${file}`,
      prefix: `m${random()}_`,
      sessions: async () => openHandles(),
      killSessions: async () => 0,
      tableExists: async () => existsSync(file),
      drop: async () => {},
    }
  },
}

const postgres: Engine = {
  name: 'postgres',
  async create() {
    const schema = `strata_m_${random()}`
    const prefix = `m${random()}_`
    const admin = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const client = new pg.Client({ connectionString: POSTGRES })
      await client.connect()
      try {
        return (await client.query(sql, params)).rows as T[]
      } finally {
        await client.end()
      }
    }
    const mine = `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1`
    await admin(`CREATE SCHEMA "${schema}"`)
    return {
      url: `${POSTGRES}?schema=${schema}`,
      prefix,
      sessions: async () => (await admin(mine, [`%${prefix}maintenance%`])).length,
      killSessions: async () => (await admin(`SELECT pg_terminate_backend(pid) FROM (${mine}) s`, [`%${prefix}maintenance%`])).length,
      tableExists: async () => (await admin('SELECT 1 FROM information_schema.tables WHERE table_schema = $1', [schema])).length > 0,
      drop: async () => {
        await admin(`DROP SCHEMA "${schema}" CASCADE`)
      },
    }
  },
}

const mariadb: Engine = {
  name: 'mysql',
  async create() {
    const database = `strata_m_${random()}`
    const admin = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const conn = await mysql.createConnection(MYSQL)
      try {
        return (await conn.query(sql, params))[0] as T[]
      } finally {
        await conn.end()
      }
    }
    const mine = 'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()'
    await admin(`CREATE DATABASE \`${database}\``)
    return {
      url: `${MYSQL}/${database}`,
      prefix: `m${random()}_`,
      sessions: async () => (await admin(mine, [database])).length,
      killSessions: async () => {
        const ids = await admin<{ id: number }>(mine, [database])
        for (const { id } of ids) await admin(`KILL ${Number(id)}`)
        return ids.length
      },
      tableExists: async () => (await admin('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database])).length > 0,
      drop: async () => {
        await admin(`DROP DATABASE \`${database}\``)
      },
    }
  },
}

/** Polls until `read` gives `expected` (server sessions end asynchronously). */
async function eventually(read: () => Promise<number>, expected: number): Promise<number> {
  let value = await read()
  for (let i = 0; i < 50 && value !== expected; i++) {
    await sleep(50)
    value = await read()
  }
  return value
}

async function projectOf(dir: string, url: string, prefix?: string): Promise<Project> {
  const strata = await Strata.open({
    config: { ...(prefix ? { table_prefix: prefix } : {}), environments: { test: { url } } },
    migrations: join(dir, 'migrations'),
    cwd: dir,
    environ: {},
  })
  return strata.project()
}

async function rejection(promise: Promise<unknown>): Promise<StrataError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError)
    return error as StrataError
  }
  throw new Error('expected a rejection')
}

afterEach(async () => {
  await closeMaintenanceStatus()
})

describe.each([sqlite, postgres, mariadb])('maintenance mode on $name', (engine) => {
  let dir: string
  let db: Fixture

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-maintenance-'))
    mkdirSync(join(dir, 'migrations'))
    db = await engine.create(dir)
  })

  afterAll(async () => {
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is off by default, and reading it creates nothing', async () => {
    expect(await maintenanceStatus(db.url)).toEqual({ enabled: false, message: null, until: null })
    expect(await maintenanceStatus({ url: db.url, tablePrefix: db.prefix })).toEqual({ enabled: false, message: null, until: null })
    const project = await projectOf(dir, db.url, db.prefix)
    expect(await readMaintenance(project)).toEqual({ enabled: false, message: null, until: null, setBy: null, setAt: null })
    expect(await db.tableExists()).toBe(false)
  })

  it('refuses a bad --until with E_USAGE before touching the database', async () => {
    const project = await projectOf(dir, db.url, db.prefix)
    for (const until of ['tomorrow', '2026-13-45T99:00:00Z', 'March 7, 2026', '']) {
      const error = await rejection(setMaintenance(project, { enabled: true, until }))
      expect(error.code).toBe('E_USAGE')
      expect(error.message).toContain('--until')
      expect(error.hint).toMatch(/ISO|2026-03-01T14:00:00Z/)
    }
    expect((await rejection(setMaintenance(project, { enabled: true, message: '  ' }))).code).toBe('E_USAGE')
    // A time already past: a wrong year or zone, refused rather than shown as an end already reached.
    const past = new Date(Date.now() - 60_000).toISOString()
    for (const until of [past, '2020-01-01']) {
      const error = await rejection(setMaintenance(project, { enabled: true, until }))
      expect(error.code).toBe('E_USAGE')
      expect(error.message).toContain(`--until ${until} is in the past`)
      expect(error.hint).toMatch(/expected to end/)
    }
    expect(await db.tableExists()).toBe(false)
  })

  it('turns on and off; the helper sees it, serving its answer for a second', async () => {
    const project = await projectOf(dir, db.url, db.prefix)
    const target = { url: db.url, tablePrefix: db.prefix }
    const on = await setMaintenance(project, { enabled: true, message: 'Back at 15:00', until: '2030-01-02T15:00:00+01:00' })
    expect(on).toEqual({ enabled: true, message: 'Back at 15:00', until: '2030-01-02T14:00:00.000Z', setBy: whoAmI(), setAt: expect.any(String) })
    expect(Date.now() - Date.parse(on.setAt!)).toBeLessThan(60_000)
    expect(await maintenanceStatus(target)).toEqual({ enabled: true, message: 'Back at 15:00', until: '2030-01-02T14:00:00.000Z' })
    expect(await eventually(db.sessions, 1)).toBe(1)

    const off = await setMaintenance(project, { enabled: false })
    expect(off).toEqual({ enabled: false, message: 'Back at 15:00', until: null, setBy: whoAmI(), setAt: expect.any(String) })
    expect(await readMaintenance(project)).toEqual(off)
    // Cached: still on within the second; one kept connection, whatever the number of calls.
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => maintenanceStatus(target)))
    for (const answer of answers) expect(answer.enabled).toBe(true)
    expect(await eventually(db.sessions, 1)).toBe(1)

    // The server ends the kept session meanwhile: the next read reconnects instead of failing.
    expect(await db.killSessions()).toBe(engine.name === 'sqlite' ? 0 : 1)
    await sleep(1100)
    expect(await maintenanceStatus(target)).toEqual({ enabled: false, message: 'Back at 15:00', until: null })
    expect(await eventually(db.sessions, 1)).toBe(1)
  })

  it('defaults the message and reads through the default prefix and a config file', async () => {
    const project = await projectOf(dir, db.url)
    const on = await setMaintenance(project, { enabled: true })
    expect(on).toMatchObject({ enabled: true, message: 'Down for maintenance', until: null })
    expect(await maintenanceStatus(db.url)).toEqual({ enabled: true, message: 'Down for maintenance', until: null })
    const config = join(dir, 'strata.yaml')
    writeFileSync(config, `environments:\n  production: { url: "${db.url}" }\ntable_prefix: ${db.prefix}\n`)
    expect(await maintenanceStatus({ config })).toEqual({ enabled: false, message: 'Back at 15:00', until: null })
    await setMaintenance(project, { enabled: false })
  })

  it('closes its kept connections on closeMaintenanceStatus (twice is harmless)', async () => {
    await maintenanceStatus({ url: db.url, tablePrefix: db.prefix })
    expect(await eventually(db.sessions, 1)).toBe(1)
    await closeMaintenanceStatus()
    expect(await eventually(db.sessions, 0)).toBe(0)
    await closeMaintenanceStatus()
    // And it opens again on the next call.
    expect((await maintenanceStatus({ url: db.url, tablePrefix: db.prefix })).enabled).toBe(false)
    expect(await eventually(db.sessions, 1)).toBe(1)
  })
})

describe('maintenanceStatus on a missing database', () => {
  it('creates no SQLite file and keeps no stand-in that would hide it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-maintenance-'))
    try {
      mkdirSync(join(dir, 'migrations'))
      const url = `sqlite:${join(dir, 'later.db')}`
      expect(await maintenanceStatus(url)).toEqual({ enabled: false, message: null, until: null })
      expect(existsSync(join(dir, 'later.db'))).toBe(false)
      await setMaintenance(await projectOf(dir, url), { enabled: true, message: 'now' })
      await sleep(1100)
      expect(await maintenanceStatus(url)).toEqual({ enabled: true, message: 'now', until: null })
    } finally {
      await closeMaintenanceStatus()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rejects with E_CONNECT when the server is down', async () => {
    for (const url of ['postgres://postgres@127.0.0.1:1/test', 'mysql://root@127.0.0.1:1/test']) {
      const error = await rejection(maintenanceStatus(url))
      expect(error.code).toBe('E_CONNECT')
      // The failure is served for a second too: no new connection attempt per request.
      expect(await rejection(maintenanceStatus(url))).toBe(error)
    }
  })
})

/** Runs `strata maintenance …` in-process on a program with the global flags it reads; returns stdout. */
async function cli(args: readonly string[]): Promise<string> {
  const program = new Command('strata').option('--url <url>').option('--migrations <dir>').option('--json').exitOverride()
  program.configureOutput({ writeErr: () => {} })
  registerMaintenance(program)
  const stdout: string[] = []
  const write = { out: process.stdout.write, err: process.stderr.write }
  process.stdout.write = ((chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0) as typeof process.stdout.write
  process.stderr.write = (() => true) as typeof process.stderr.write
  try {
    await program.parseAsync([...args], { from: 'user' })
  } finally {
    process.stdout.write = write.out
    process.stderr.write = write.err
  }
  return stdout.join('')
}

describe('strata maintenance (command)', () => {
  it('turns it on and off and prints status --json with exactly its five keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-maintenance-'))
    try {
      mkdirSync(join(dir, 'migrations'))
      const flags = ['--url', `sqlite:${join(dir, 'app.db')}`, '--migrations', join(dir, 'migrations')]
      expect(JSON.parse(await cli(['maintenance', 'status', '--json', ...flags]))).toEqual({ enabled: false, message: null, until: null, setBy: null, setAt: null })
      expect(existsSync(join(dir, 'app.db'))).toBe(false)
      const error = await rejection(cli(['maintenance', 'on', '--until', 'soon', ...flags]))
      expect(error.code).toBe('E_USAGE')
      await cli(['maintenance', 'on', '--message', 'Upgrading', '--until', '2030-05-01T12:00:00Z', ...flags])
      const status = JSON.parse(await cli(['maintenance', 'status', '--json', ...flags])) as Record<string, unknown>
      expect(Object.keys(status)).toEqual(['enabled', 'message', 'until', 'setBy', 'setAt'])
      expect(status).toMatchObject({ enabled: true, message: 'Upgrading', until: '2030-05-01T12:00:00.000Z', setBy: whoAmI() })
      expect(await cli(['maintenance', 'status', ...flags])).toBe('on\n')
      expect(JSON.parse(await cli(['maintenance', 'off', '--json', ...flags]))).toMatchObject({ enabled: false, message: 'Upgrading', until: null })
      expect(await cli(['maintenance', 'status', ...flags])).toBe('off\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
