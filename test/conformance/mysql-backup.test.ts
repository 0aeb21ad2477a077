import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { BackupEngine } from '../../src/backup/engine.js'
import { createMysqlBackup, mysqlBackup } from '../../src/backup/engines/mysql-backup.js'
import { DumpScanner, scanDumpFile } from '../../src/backup/engines/mysql-dump-scanner.js'
import type { Connection, DatabaseUrl } from '../../src/dialects/dialect.js'
import { openMysql } from '../../src/dialects/mysql/mysql-driver.js'
import { parseDatabaseUrl } from '../../src/dialects/url.js'
import { StrataError } from '../../src/errors/index.js'

// The MySQL backup engine on a real server (MariaDB in CI). Test files run in parallel, so each
// test works in its own database `strata_bk_<random>` and names its own scratch databases.

const SERVER = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

/** Strings that a naive row counter would split or miscount. */
const TRICKY = [
  'a),(b', "it's", "'),('", 'back\\slash\\', 'line\nbreak\r\n', '"double"', 'semi;colon;', '-- not a comment',
  '/* nor this */', '# nor this', 'é 🙂 ünïcödé', 'VALUES (1),(2);', '\\', "\\'", '',
]
const BLOB = Buffer.from([0x00, 0x27, 0x5c, 0x28, 0x29, 0x3b, 0x0a, 0x0d, 0x22, 0x60, 0xff, 0x80])
/** Enough long rows that mysqldump splits the table over several INSERT statements (1 MB each). */
const BULK_ROWS = 300
const ITEMS = TRICKY.length + BULK_ROWS
const WEIRD = 'wé`ird'

interface TestDatabase {
  readonly name: string
  readonly url: DatabaseUrl
  readonly conn: Connection
  sql<T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T[]>
  drop(): Promise<void>
}

function urlFor(database: string, edit?: (url: URL) => void): string {
  const url = new URL(SERVER)
  url.pathname = `/${database}`
  edit?.(url)
  return url.toString()
}

async function admin(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const conn = await openMysql(parseDatabaseUrl(SERVER))
  try {
    return await conn.query({ sql, params })
  } finally {
    await conn.close()
  }
}

async function createDatabase(): Promise<TestDatabase> {
  const name = `strata_bk_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  const url = parseDatabaseUrl(urlFor(name))
  const conn = await openMysql(url)
  return {
    name,
    url,
    conn,
    sql: (text, ...params) => conn.query({ sql: text, params }),
    async drop() {
      try {
        await conn.execute({ sql: 'SET SESSION foreign_key_checks = 0', params: [] })
        await conn.execute({ sql: `DROP DATABASE IF EXISTS \`${name}\``, params: [] })
      } finally {
        await conn.close()
      }
    },
  }
}

/** Tables with tricky strings and a blob, a foreign key, an empty table, strata's history, a trigger, a view and a routine. */
async function seed(db: TestDatabase): Promise<void> {
  await db.sql('CREATE TABLE items (id int PRIMARY KEY, name varchar(200) NOT NULL, note text, data blob)')
  await db.sql('CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, item_id int NOT NULL)')
  await db.sql('CREATE TABLE tags (item_id int NOT NULL, tag varchar(20), FOREIGN KEY (item_id) REFERENCES items (id))')
  await db.sql('CREATE TABLE strata_history (revision varchar(100) PRIMARY KEY, applied_at varchar(40))')
  await db.sql('CREATE TABLE empty_one (x int)')
  await db.sql(`CREATE TABLE \`${WEIRD.replace(/`/g, '``')}\` (x int, \`col\`\`umn\` varchar(10)) `)
  await db.sql('CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW INSERT INTO audit (item_id) VALUES (NEW.id)')
  await db.sql('CREATE VIEW item_names AS SELECT id, name FROM items')
  // Created after the view it reads, but first in name order.
  await db.sql('CREATE VIEW a_first_names AS SELECT name FROM item_names WHERE id < 10')
  // A routine body with a line that looks like dump data, and a comment with a lone quote.
  await db.sql("CREATE PROCEDURE add_audit(IN i int)\nBEGIN\n  -- don't count this\nINSERT INTO `audit` VALUES (NULL, i), (NULL, i);\nEND")
  for (const [index, name] of TRICKY.entries()) await db.sql('INSERT INTO items VALUES (?, ?, ?, ?)', index + 1, name, `${name} note`, BLOB)
  const long = 'x'.repeat(5000)
  for (let start = 0; start < BULK_ROWS; start += 100) {
    const ids = Array.from({ length: 100 }, (_, offset) => TRICKY.length + start + offset + 1)
    await db.sql(`INSERT INTO items VALUES ${ids.map(() => '(?, ?, ?, ?)').join(', ')}`, ...ids.flatMap((id) => [id, `bulk ${id}`, long, null]))
  }
  await db.sql('INSERT INTO tags VALUES (1, ?), (2, ?), (3, ?)', "o'k", 'a),(b', 'c')
  await db.sql("INSERT INTO strata_history VALUES ('001_init', '2024-01-01'), ('002_next', '2024-01-02')")
  await db.sql(`INSERT INTO \`${WEIRD.replace(/`/g, '``')}\` VALUES (1, '('), (2, ')'), (3, NULL)`)
}

const SEEDED = { items: ITEMS, audit: ITEMS, tags: 3, strata_history: 2, empty_one: 0, [WEIRD]: 3 }

/** Everything a restore must bring back, read so that two states compare with toEqual. */
async function state(db: TestDatabase): Promise<Record<string, unknown>> {
  const tables = await db.sql<{ name: string; type: string }>(
    'SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', db.name)
  const columns = await db.sql('SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION', db.name)
  const triggers = await db.sql('SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME', db.name)
  const views = await db.sql('SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', db.name)
  const routines = await db.sql('SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_NAME', db.name)
  const rows: Record<string, unknown> = {}
  for (const { name, type } of tables) {
    if (type !== 'VIEW') rows[name] = (await db.sql(`SELECT * FROM \`${name.replace(/`/g, '``')}\``)).map((row) => JSON.stringify(row)).sort()
  }
  return { tables, columns, triggers, views: views.map((view) => ({ ...view, VIEW_DEFINITION: String(view['VIEW_DEFINITION']).replaceAll(db.name, 'DB') })), routines, rows }
}

async function databaseExists(name: string): Promise<boolean> {
  return (await admin('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length > 0
}

async function rejection(promise: Promise<unknown>): Promise<StrataError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError)
    return error as StrataError
  }
  throw new Error('expected a StrataError, nothing was thrown')
}

describe('MySQL backup engine', () => {
  let dir: string
  let db: TestDatabase
  /** Scratch databases the engine was told to use in this test. */
  let scratch: string[]
  let engine: BackupEngine

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-mysql-backup-'))
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(async () => {
    db = await createDatabase()
    scratch = []
    engine = createMysqlBackup({
      scratchName: (purpose) => {
        const name = `strata_${purpose}_${randomBytes(8).toString('hex')}`
        scratch.push(name)
        return name
      },
    })
  })
  afterEach(async () => {
    for (const name of scratch) await admin(`DROP DATABASE IF EXISTS \`${name}\``)
    await db.drop()
  })

  async function noScratchLeft(): Promise<void> {
    expect(scratch.length).toBeGreaterThan(0)
    for (const name of scratch) expect(await databaseExists(name), name).toBe(false)
  }

  const fileFor = (name: string): string => join(dir, `${db.name}-${name}.sql`)

  it('create writes a 0600 dump whose row counts are the rows inserted, tricky strings and blobs included', async () => {
    await seed(db)
    const file = fileFor('create')
    const facts = await mysqlBackup.create(db.url, file)
    expect(facts).toEqual({ rowCounts: SEEDED, integrity: 'ok' })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const text = readFileSync(file, 'utf8')
    expect(text.trimEnd().endsWith('-- Dump completed')).toBe(true)
    expect(text.match(/^INSERT INTO `items`/gm)!.length).toBeGreaterThan(1)
    expect(await mysqlBackup.live(db.url)).toEqual({ rowCounts: SEEDED, integrity: 'ok' })
    expect(mysqlBackup.extension).toBe('.sql')
    expect(mysqlBackup.format).toBe('mysqldump-sql')
    expect(mysqlBackup.programs).toEqual([['mysqldump', 'mariadb-dump'], ['mysql', 'mariadb']])
  })

  it('the scanner counts the same whatever the chunk size', async () => {
    await seed(db)
    const file = fileFor('chunks')
    await engine.create(db.url, file)
    const whole = await scanDumpFile(file)
    const bytes = readFileSync(file)
    for (const size of [1, 7, 4096]) {
      const scanner = new DumpScanner()
      for (let at = 0; at < bytes.length; at += size) scanner.push(bytes.subarray(at, at + size))
      expect(scanner.finish()).toEqual(whole)
    }
    expect(whole).toEqual({ rowCounts: SEEDED, completed: true })
  })

  it('the scanner skips routine bodies, comments and unfinished statements, and needs the completion line', () => {
    const scan = (text: string) => {
      const scanner = new DumpScanner()
      scanner.push(Buffer.from(text))
      return scanner.finish()
    }
    const dump = [
      '/*M!999999\\- enable the sandbox mode */ ',
      "-- it's a header",
      'CREATE TABLE `t` (\n  `a` text\n) ENGINE=InnoDB;',
      "INSERT INTO `t` VALUES ('(x'),\n(')'),('\\'),(');",
      'DELIMITER ;;',
      "CREATE PROCEDURE `p`()\nBEGIN\n  -- don't\nINSERT INTO `t` VALUES (1),(2);\nEND ;;",
      'DELIMITER ;',
      '/*!50003 CREATE*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW INSERT INTO `t` VALUES (1) */;',
      'INSERT INTO `t` (`a`, `VALUES (`) VALUES (1),(2);',
      '',
      '-- Dump completed',
      '',
    ].join('\n')
    expect(scan(dump)).toEqual({ rowCounts: { t: 5 }, completed: true })
    expect(scan(dump.replace('-- Dump completed', ''))).toMatchObject({ completed: false })
    expect(scan("CREATE TABLE `t` (a int);\nINSERT INTO `t` VALUES (1),(2)")).toEqual({ rowCounts: { t: 0 }, completed: false })
  })

  it('inspect loads the dump into a scratch database, checks and counts it, and drops the scratch database', async () => {
    await seed(db)
    const file = fileFor('inspect')
    await engine.create(db.url, file)
    expect(await engine.inspect(db.url, file)).toEqual({ rowCounts: SEEDED, integrity: 'ok' })
    await noScratchLeft()
  })

  it('inspect rejects a truncated dump and a corrupted one, leaving no scratch database', async () => {
    await seed(db)
    const file = fileFor('good')
    await engine.create(db.url, file)
    const size = statSync(file).size

    const truncated = fileFor('truncated')
    writeFileSync(truncated, readFileSync(file))
    truncateSync(truncated, Math.floor(size / 2))
    const cut = await rejection(engine.inspect(db.url, truncated))
    expect(cut.code).toBe('E_BACKUP')
    expect(cut.message).toContain('incomplete')
    expect(cut.message).toContain(truncated)

    const corrupted = fileFor('corrupted')
    const bytes = readFileSync(file)
    const at = bytes.indexOf('CREATE TABLE `items`')
    bytes.write('CREATE TABLX', at, 'latin1')
    writeFileSync(corrupted, bytes)
    const broken = await rejection(engine.inspect(db.url, corrupted))
    expect(broken.code).toBe('E_BACKUP')
    expect(broken.message).toContain('cannot load the dump')
    expect(broken.message).toMatch(/ERROR 1064|syntax/)
    await noScratchLeft()
  })

  it('restore brings back exactly the backed-up tables, rows, columns, foreign keys, trigger, view and routine', async () => {
    await seed(db)
    const before = await state(db)
    const file = fileFor('restore')
    const facts = (await engine.create(db.url, file))!

    await db.sql('DELETE FROM tags WHERE item_id = 1')
    await db.sql('DELETE FROM items WHERE id IN (1, 5, 200)')
    await db.sql('ALTER TABLE items ADD COLUMN extra int')
    await db.sql('CREATE TABLE newer (id int)')
    await db.sql('INSERT INTO newer VALUES (1)')
    await db.sql('DROP TRIGGER items_audit')
    await db.sql('CREATE TRIGGER items_other BEFORE INSERT ON items FOR EACH ROW SET NEW.note = NULL')
    await db.sql('CREATE OR REPLACE VIEW item_names AS SELECT id FROM items')
    await db.sql('CREATE VIEW only_live AS SELECT id FROM newer')
    await db.sql('DROP PROCEDURE add_audit')
    await db.sql("UPDATE strata_history SET applied_at = 'later'")

    await engine.restore(db.url, file)
    expect(await state(db)).toEqual(before)
    expect(await engine.live(db.url)).toEqual({ rowCounts: facts.rowCounts, integrity: 'ok' })
    await noScratchLeft()

    // The trigger, the foreign key and the routine work on the restored tables.
    await db.sql("INSERT INTO items (id, name) VALUES (9999, 'after')")
    expect(await db.sql('SELECT COUNT(*) AS n FROM audit WHERE item_id = 9999')).toEqual([{ n: 1 }])
    await expect(db.sql('INSERT INTO tags VALUES (123456, ?)', 'dangling')).rejects.toThrow(/foreign key/i)
    await db.sql('CALL add_audit(7)')
    expect(await db.sql('SELECT COUNT(*) AS n FROM audit WHERE item_id = 7')).toEqual([{ n: 3 }])
  })

  it('a restore whose dump fails to load leaves the live database untouched and no scratch database', async () => {
    await seed(db)
    const file = fileFor('bad-restore')
    await engine.create(db.url, file)
    await db.sql('DELETE FROM tags')
    await db.sql('CREATE TABLE newer (id int)')
    const live = await state(db)

    const bytes = readFileSync(file)
    bytes.write('INSERT INTX', bytes.lastIndexOf('INSERT INTO `items`'), 'latin1')
    writeFileSync(file, bytes)
    const error = await rejection(engine.restore(db.url, file))
    expect(error.code).toBe('E_BACKUP')
    expect(error.message).toContain('cannot load the dump')
    expect(await state(db)).toEqual(live)
    await noScratchLeft()

    truncateSync(file, 1000)
    const cut = await rejection(engine.restore(db.url, file))
    expect(cut.message).toContain('incomplete')
    expect(await state(db)).toEqual(live)
  })

  it('a swap that cannot get its locks gives up after the lock timeout and leaves the live database as it was', async () => {
    await seed(db)
    const file = fileFor('locked')
    await engine.create(db.url, file)
    await db.sql('DELETE FROM tags')
    const live = await state(db)
    const quick = createMysqlBackup({
      lockTimeoutMs: 1000,
      scratchName: (purpose) => {
        const name = `strata_${purpose}_${randomBytes(8).toString('hex')}`
        scratch.push(name)
        return name
      },
    })
    // An open transaction that has read a table holds its metadata lock until it ends.
    const holder = await openMysql(db.url)
    try {
      await holder.execute({ sql: 'START TRANSACTION', params: [] })
      await holder.query({ sql: 'SELECT * FROM tags', params: [] })
      const error = await rejection(quick.restore(db.url, file))
      expect(error.code).toBe('E_BACKUP')
      expect(error.message).toMatch(/Lock wait timeout/)
      expect(error.message).toContain('the live database is unchanged')
    } finally {
      await holder.execute({ sql: 'ROLLBACK', params: [] })
      await holder.close()
    }
    expect(await state(db)).toEqual(live)
    await noScratchLeft()
  })

  it('MariaDB: sequences and system-versioned tables are dumped, counted and swapped', async (context) => {
    const [version] = await db.sql<{ v: string }>('SELECT VERSION() AS v')
    if (!/mariadb/i.test(version!.v)) context.skip()
    await db.sql('CREATE SEQUENCE seq START WITH 100')
    await db.sql('CREATE TABLE versioned (x int) WITH SYSTEM VERSIONING')
    await db.sql('INSERT INTO versioned VALUES (1), (2), (3)')
    await db.sql('DELETE FROM versioned WHERE x = 1')
    await db.sql('SELECT NEXTVAL(seq)')
    const file = fileFor('mariadb')
    expect(await engine.create(db.url, file)).toEqual({ rowCounts: { versioned: 2 }, integrity: 'ok' })
    expect(await engine.inspect(db.url, file)).toEqual({ rowCounts: { versioned: 2 }, integrity: 'ok' })
    await db.sql('DROP SEQUENCE seq')
    await db.sql('DELETE FROM versioned')
    await engine.restore(db.url, file)
    expect(await engine.live(db.url)).toEqual({ rowCounts: { versioned: 2 }, integrity: 'ok' })
    const [next] = await db.sql<{ n: number }>('SELECT NEXTVAL(seq) AS n')
    expect(next!.n).toBeGreaterThan(100)
    await noScratchLeft()
  })

  it('a restore into an empty database and of an empty database both work', async () => {
    const empty = fileFor('empty')
    expect(await engine.create(db.url, empty)).toEqual({ rowCounts: {}, integrity: 'ok' })
    await seed(db)
    await engine.restore(db.url, empty)
    expect(await db.sql('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', db.name)).toEqual([])
    expect(await db.sql('SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?', db.name)).toEqual([])
    await seed(db)
    const full = fileFor('full')
    await engine.create(db.url, full)
    await engine.restore(db.url, empty)
    await engine.restore(db.url, full)
    expect(await engine.live(db.url)).toEqual({ rowCounts: SEEDED, integrity: 'ok' })
  })

  it('names the missing client program and how to install it', async () => {
    const path = process.env['PATH']
    const empty = mkdtempSync(join(tmpdir(), 'strata-no-programs-'))
    const file = fileFor('missing')
    process.env['PATH'] = empty
    try {
      const dump = await rejection(engine.create(db.url, file))
      expect(dump.code).toBe('E_BACKUP')
      expect(dump.message).toContain('mysqldump or mariadb-dump')
      expect(dump.hint).toMatch(/install the MariaDB or MySQL client/)
      expect(existsSync(file)).toBe(false)
    } finally {
      process.env['PATH'] = path
      rmSync(empty, { recursive: true, force: true })
    }
    writeFileSync(file, '-- Dump completed\n')
    process.env['PATH'] = empty
    try {
      const load = await rejection(engine.inspect(db.url, file))
      expect(load.message).toContain('mysql or mariadb')
    } finally {
      process.env['PATH'] = path
    }
  })

  it('passes the password through MYSQL_PWD and never in the dump', async () => {
    const user = `strata_bk_${randomBytes(4).toString('hex')}`
    const secret = `S3cret-${randomBytes(6).toString('hex')}`
    await admin(`CREATE USER '${user}'@'%' IDENTIFIED BY '${secret}'`)
    try {
      await admin(`GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`)
      await db.sql('CREATE TABLE t (id int)')
      await db.sql('INSERT INTO t VALUES (1), (2)')
      const url = parseDatabaseUrl(urlFor(db.name, (u) => {
        u.username = user
        u.password = secret
      }))
      const file = fileFor('password')
      expect(await engine.create(url, file)).toEqual({ rowCounts: { t: 2 }, integrity: 'ok' })
      expect(readFileSync(file, 'utf8')).not.toContain(secret)
      const wrong = parseDatabaseUrl(urlFor(db.name, (u) => {
        u.username = user
        u.password = `${secret}x`
      }))
      const denied = await rejection(engine.create(wrong, fileFor('denied')))
      expect(denied.message).toMatch(/Access denied/)
      expect(denied.message).not.toContain(secret)
      expect(existsSync(fileFor('denied'))).toBe(false)
    } finally {
      await admin(`DROP USER IF EXISTS '${user}'@'%'`)
    }
  })

  it("TLS parameters reach the client (this server has no TLS: a verified connection is refused)", async () => {
    const ssl = JSON.stringify({ rejectUnauthorized: true })
    const url = parseDatabaseUrl(urlFor(db.name, (u) => u.searchParams.set('ssl', ssl)))
    const file = fileFor('tls')
    const error = await rejection(engine.create(url, file))
    expect(error.code).toBe('E_BACKUP')
    expect(error.message).toMatch(/SSL|TLS/)
    expect(existsSync(file)).toBe(false)
  })

  it('estimates the size of a dump from the tables', async () => {
    const empty = await engine.estimateSize(db.url)
    expect(empty).toBeGreaterThan(0)
    await seed(db)
    const file = fileFor('size')
    await engine.create(db.url, file)
    // InnoDB's size statistics trail fresh writes by a few seconds; refresh them for the test.
    await db.sql('ANALYZE TABLE items, audit, tags')
    const estimate = await engine.estimateSize(db.url)
    expect(estimate).toBeGreaterThan(empty)
    expect(estimate).toBeGreaterThanOrEqual(statSync(file).size)
  })
})
