import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DatabaseUrl } from '../../src/dialects/dialect.js'
import { sqliteDialect } from '../../src/dialects/sqlite/sqlite-dialect.js'
import { SqliteLock } from '../../src/dialects/sqlite/sqlite-lock.js'
import { exec, openTemp, rejection, sql, type TempDb } from './sqlite-harness.js'

// The SQLite driver and dialect object on real files: open, execute/query, transactions.

let db: TempDb
beforeEach(async () => {
  db = await openTemp()
})
afterEach(async () => db.cleanup())

const url = (path: string): DatabaseUrl => ({ dialect: 'sqlite', raw: `sqlite:${path}`, redacted: `sqlite:${path}`, path })

describe('sqlite dialect object', () => {
  it('declares its name, capabilities, quoting and lock', () => {
    expect(sqliteDialect.name).toBe('sqlite')
    expect(sqliteDialect.capabilities).toEqual({ transactionalDdl: true, concurrentIndex: false, alterColumnInPlace: false, advisoryLock: false, embedded: true })
    expect(sqliteDialect.quoteIdentifier('we"ird')).toBe('"we""ird"')
    expect(sqliteDialect.lock(url(db.path))).toBeInstanceOf(SqliteLock)
  })

  it('imports better-sqlite3 only lazily, in the driver', () => {
    const folder = join(import.meta.dirname, '../../src/dialects/sqlite')
    const mine = ['sqlite-dialect.ts', 'sqlite-driver.ts', 'sqlite-compiler.ts', 'sqlite-rebuild.ts', 'sqlite-introspector.ts', 'sqlite-ddl-parser.ts', 'sqlite-tokens.ts']
    const files = [...mine.map((f) => join(folder, f)), ...readdirSync(join(folder, 'compiler')).map((f) => join(folder, 'compiler', f))]
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      expect(text, file).not.toMatch(/^import (?!type )[^\n]*'better-sqlite3'/m)
    }
    expect(readFileSync(join(folder, 'sqlite-driver.ts'), 'utf8')).toContain("await import('better-sqlite3')")
  })
})

describe('sqlite driver: open', () => {
  it('creates the file, sets busy_timeout 5000 and keeps the journal mode the file has', async () => {
    expect(await sql(db.conn, 'PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }])
    expect(await sql(db.conn, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'delete' }])
    const walPath = join(db.dir, 'wal.db')
    const raw = new Database(walPath)
    raw.pragma('journal_mode = WAL')
    raw.close()
    const conn = await sqliteDialect.connect(url(walPath))
    expect(await sql(conn, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }])
    await conn.close()
  })

  it('opens :memory:', async () => {
    const conn = await sqliteDialect.connect(url(':memory:'))
    expect(await sql(conn, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    await conn.close()
  })

  it('fails with E_CONNECT and a hint for a missing folder, a non-database file, or no path', async () => {
    const missing = await rejection(() => sqliteDialect.connect(url(join(db.dir, 'no', 'such', 'dir', 'x.db'))))
    expect(missing.code).toBe('E_CONNECT')
    expect(missing.message).toMatch(/^cannot open SQLite database `.*x\.db`: Cannot open database because the directory does not exist$/)
    expect((missing as { hint?: string }).hint).toMatch(/folder exists/)
    const text = join(db.dir, 'notes.txt')
    writeFileSync(text, 'this is not a database, just some text that is long enough to look like a header'.repeat(20))
    const notDb = await rejection(() => sqliteDialect.connect(url(text)))
    expect(notDb.code).toBe('E_CONNECT')
    expect(notDb.message).toMatch(/file is not a database/)
    const noPath = await rejection(() => sqliteDialect.connect({ dialect: 'sqlite', raw: 'sqlite:', redacted: 'sqlite:' }))
    expect(noPath.code).toBe('E_CONNECT')
  })
})

describe('sqlite driver: statements', () => {
  beforeEach(async () => exec(db.conn, 'CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN, data BLOB, n INTEGER)'))

  it('binds ? params, booleans as 1/0 and Uint8Array as bytes; counts affected rows', async () => {
    const insert = { sql: 'INSERT INTO t (flag, data, n) VALUES (?, ?, ?)', params: [true, new Uint8Array([1, 2, 3]), 10n] }
    expect(await db.conn.execute(insert)).toEqual({ rowsAffected: 1 })
    await db.conn.execute({ ...insert, params: [false, Buffer.from([4]), 20] })
    expect(await sql(db.conn, 'SELECT flag, hex(data) AS data, n FROM t ORDER BY id')).toEqual([
      { flag: 1, data: '010203', n: 10 },
      { flag: 0, data: '04', n: 20 },
    ])
    expect(await db.conn.execute({ sql: 'UPDATE t SET n = n + ?', params: [1] })).toEqual({ rowsAffected: 2 })
    // DDL reports 0, not the count of the DML before it.
    expect(await db.conn.execute({ sql: 'CREATE TABLE u (x)', params: [] })).toEqual({ rowsAffected: 0 })
  })

  it('reads rows from any statement that returns them; query of a non-reader returns []', async () => {
    expect(await db.conn.execute({ sql: 'INSERT INTO t (n) VALUES (?), (?) RETURNING id', params: [1, 2] })).toEqual({ rowsAffected: 2 })
    expect(await db.conn.execute({ sql: 'SELECT * FROM t', params: [] })).toEqual({ rowsAffected: 0 })
    expect(await db.conn.query({ sql: 'DELETE FROM t WHERE n = ?', params: [1] })).toEqual([])
    expect(await db.conn.query({ sql: 'SELECT n FROM t WHERE n > ?', params: [0] })).toEqual([{ n: 2 }])
  })

  it('runs one schema change at a time: a trigger body with `;` runs, two statements in one string are refused, errors come through', async () => {
    await db.conn.execute({ sql: 'CREATE TRIGGER t_n AFTER INSERT ON t BEGIN UPDATE t SET n = 1 WHERE id = new.id; END', params: [] })
    await db.conn.execute({ sql: 'INSERT INTO t (n) VALUES (?)', params: [5] })
    expect(await sql(db.conn, 'SELECT n FROM t')).toEqual([{ n: 1 }])
    const two = await rejection(() => db.conn.execute({ sql: 'CREATE TABLE a (x); CREATE TABLE b (x)', params: [] }))
    expect(two.message).toMatch(/more than one statement/)
    expect(await sql(db.conn, "SELECT name FROM sqlite_master WHERE name IN ('a', 'b')")).toEqual([])
    const taken = await rejection(() => db.conn.execute({ sql: '  create table t (x)', params: [] }))
    expect(taken.constructor.name).toBe('SqliteError')
    expect(taken.message).toBe('table t already exists')
    await db.conn.execute({ sql: '\n  ALTER TABLE t ADD COLUMN note TEXT', params: [] })
    await db.conn.execute({ sql: 'DROP TRIGGER t_n', params: [] })
    expect(await sql(db.conn, "SELECT name FROM pragma_table_info('t') WHERE name = 'note'")).toEqual([{ name: 'note' }])
  })

  it('lets better-sqlite3 errors through unchanged', async () => {
    const error = await rejection(() => db.conn.execute({ sql: 'INSERT INTO nope VALUES (1)', params: [] }))
    expect(error.constructor.name).toBe('SqliteError')
    expect(error.message).toBe('no such table: nope')
    expect(error.code).toBe('SQLITE_ERROR')
  })
})

describe('sqlite driver: transactions', () => {
  beforeEach(async () => exec(db.conn, 'CREATE TABLE parent (id INTEGER PRIMARY KEY)', 'CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))'))

  it('commits and returns the result; rolls back DDL and rows on throw', async () => {
    expect(await db.conn.transaction(async (tx) => (await exec(tx, 'INSERT INTO parent VALUES (1)'), 'done'))).toBe('done')
    const error = await rejection(() =>
      db.conn.transaction(async (tx) => {
        await exec(tx, 'INSERT INTO parent VALUES (2)', 'CREATE TABLE extra (x)')
        throw new Error('boom')
      }),
    )
    expect(error.message).toBe('boom')
    expect(await sql(db.conn, 'SELECT id FROM parent')).toEqual([{ id: 1 }])
    expect(await sql(db.conn, "SELECT name FROM sqlite_master WHERE name = 'extra'")).toEqual([])
  })

  it('nests with savepoints: an inner failure keeps the outer work', async () => {
    await db.conn.transaction(async (tx) => {
      await exec(tx, 'INSERT INTO parent VALUES (1)')
      await rejection(() => tx.transaction(async (inner) => {
        await exec(inner, 'INSERT INTO parent VALUES (2)')
        throw new Error('inner')
      }))
      await tx.transaction(async (inner) => exec(inner, 'INSERT INTO parent VALUES (3)'))
    })
    expect(await sql(db.conn, 'SELECT id FROM parent ORDER BY id')).toEqual([{ id: 1 }, { id: 3 }])
  })

  it('runs with foreign_keys off and restores the setting (on stays on, off stays off)', async () => {
    for (const setting of [1, 0]) {
      await exec(db.conn, `PRAGMA foreign_keys = ${setting}`)
      const inside = await db.conn.transaction(async (tx) => sql(tx, 'PRAGMA foreign_keys'))
      expect(inside).toEqual([{ foreign_keys: 0 }])
      expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: setting }])
      await rejection(() => db.conn.transaction(async () => { throw new Error('x') }))
      expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: setting }])
    }
  })

  it('takes the write lock at BEGIN (IMMEDIATE)', async () => {
    const other = new Database(db.path, { timeout: 0 })
    try {
      await db.conn.transaction(async () => {
        expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(/database is locked/)
      })
    } finally {
      other.close()
    }
  })

  it('checks foreign keys before COMMIT: a violation rolls back with E_MIGRATION_FAILED naming table, rowid and parent', async () => {
    for (const setting of [1, 0]) {
      await exec(db.conn, `PRAGMA foreign_keys = ${setting}`)
      const error = await rejection(() => db.conn.transaction(async (tx) => exec(tx, 'INSERT INTO parent VALUES (1)', 'INSERT INTO child VALUES (7, 1), (8, 99), (9, 98)')))
      expect(error.code).toBe('E_MIGRATION_FAILED')
      expect(error.message).toBe('foreign key check failed, nothing was committed: `child` rowid 8 → `parent`, `child` rowid 9 → `parent` (rows whose parent row does not exist)')
      expect(await sql(db.conn, 'SELECT (SELECT count(*) FROM parent) + (SELECT count(*) FROM child) AS n')).toEqual([{ n: 0 }])
      expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: setting }])
    }
  })

  it('checks and restores foreign keys in a transaction after others changed the schema, as a run of migrations does', async () => {
    await exec(db.conn, 'PRAGMA foreign_keys = 1')
    // Each transaction reads foreign_keys and checks them: the first before any table references
    // another, the second adds one, the third breaks it. What was read or checked before a
    // schema change must not answer for after it.
    await db.conn.transaction(async (tx) => exec(tx, 'CREATE TABLE team (id INTEGER PRIMARY KEY)'))
    await db.conn.transaction(async (tx) => exec(tx, 'CREATE TABLE member (id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES team (id))', 'INSERT INTO team VALUES (1)'))
    expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
    const error = await rejection(() => db.conn.transaction(async (tx) => exec(tx, 'INSERT INTO member VALUES (5, 1), (6, 2)')))
    expect(error.code).toBe('E_MIGRATION_FAILED')
    expect(error.message).toContain('`member` rowid 6 → `team`')
    expect(await sql(db.conn, 'SELECT count(*) AS n FROM member')).toEqual([{ n: 0 }])
    expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
    // Switched off between two transactions, it stays off after the next.
    await exec(db.conn, 'PRAGMA foreign_keys = 0')
    await db.conn.transaction(async (tx) => exec(tx, 'INSERT INTO member VALUES (7, 1)'))
    expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: 0 }])
  })

  it('close() is idempotent', async () => {
    await db.conn.close()
    await db.conn.close() // afterEach closes it a third time
  })
})
