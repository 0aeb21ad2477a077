import { randomBytes } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import type { Connection, DatabaseUrl } from '../../dialects/dialect.js'
import { openMysql } from '../../dialects/mysql/mysql-driver.js'
import { StrataError } from '../../errors/index.js'
import type { BackupEngine, CopyFacts, RowCounts } from '../engine.js'
import { CLIENT_PROGRAMS, DUMP_PROGRAMS, databaseOf, dumpDatabase, loadDump } from './mysql-client.js'
import { scanDumpFile } from './mysql-dump-scanner.js'

/**
 * MySQL and MariaDB backups (SPEC S5) with the client programs: `mysqldump` (or `mariadb-dump`)
 * writes a plain SQL file, `mysql` (or `mariadb`) loads it back. The scope is the URL's
 * database, every base table in it (strata's own `strata_*` tables too), keyed by table name.
 * How the client programs reach the server is in `mysql-client.ts`; a dump's row counts and
 * completeness are read by `mysql-dump-scanner.ts`.
 *
 * Events are not dumped (`--events` is left off): a scheduled event loaded into a scratch
 * database fires there on its own, at once when its start time has passed, and may write to
 * other databases; a verify must have no side effects. `restore` leaves the live database's
 * events as they are.
 */

export interface MysqlBackupOptions {
  /** How long `restore`'s table swap waits for other sessions' metadata locks before giving up, leaving the database unchanged (default 60 s). */
  readonly lockTimeoutMs?: number
  /**
   * Names the scratch databases (default `strata_verify_<hex>` for `inspect`, `strata_restore_<hex>`
   * and `strata_trash_<hex>` for `restore`); tests choose their own to find them.
   */
  readonly scratchName?: (purpose: 'verify' | 'restore' | 'trash') => string
}

/** Table types that hold rows and are counted: MariaDB reports system-versioned tables apart. */
const COUNTED_TYPES = `TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`
/** Table types that `restore` moves with RENAME TABLE: the counted ones and MariaDB's sequences. */
const MOVED_TYPES = `TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')`

/** A text dump is larger than the tables' pages for binary data: `--hex-blob` writes each byte as two characters. */
const SIZE_FACTOR = 2
/** The dump's header, DDL and routines, for a database with little data. */
const SIZE_OVERHEAD = 1 << 20

export function createMysqlBackup(options: MysqlBackupOptions = {}): BackupEngine {
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000
  const scratchName = options.scratchName ?? ((purpose) => `strata_${purpose}_${randomBytes(8).toString('hex')}`)
  return {
    extension: '.sql',
    format: 'mysqldump-sql',
    programs: [DUMP_PROGRAMS, CLIENT_PROGRAMS],
    estimateSize: (url) => withSession(url, (conn) => estimateSize(conn, databaseOf(url))),
    create: (url, file) => createCopy(url, file),
    inspect: (url, file) => inspectCopy(url, file, scratchName('verify')),
    restore: (url, file) => restoreCopy(url, file, { scratch: scratchName('restore'), trash: scratchName('trash'), lockTimeoutMs }),
    live: (url) => withSession(url, (conn) => liveFacts(conn, databaseOf(url))),
  }
}

export const mysqlBackup: BackupEngine = createMysqlBackup()

// ——— create ———

/**
 * Dumps the database in one transaction (`--single-transaction`: a consistent InnoDB snapshot
 * without locking writers) and reads the row counts from the dump itself: counting the live
 * tables separately could see rows committed after the dump's snapshot.
 */
async function createCopy(url: DatabaseUrl, file: string): Promise<CopyFacts> {
  const database = databaseOf(url)
  await dumpDatabase(url, database, file)
  const dump = await scanDumpFile(file)
  if (!dump.completed) {
    // mysqldump exited 0 yet its output stops short: a copy that cannot be trusted is not kept.
    await unlink(file).catch(() => {})
    throw incompleteDump(file)
  }
  return { rowCounts: dump.rowCounts, integrity: 'ok' }
}

function incompleteDump(file: string): StrataError {
  return new StrataError('E_BACKUP', `the dump ${file} is incomplete: it does not end with mysqldump's \`-- Dump completed\` line (truncated or damaged)`, {
    file,
    hint: 'use another backup, or take a new one with `strata backup create`',
  })
}

// ——— inspect ———

/**
 * Loads the dump into a scratch database, dropped afterwards whatever happens: its tables'
 * CHECK TABLE results and row counts are the copy's facts. Row counts that differ from the
 * dump's own INSERT statements are reported in `integrity` too.
 */
async function inspectCopy(url: DatabaseUrl, file: string, scratch: string): Promise<CopyFacts> {
  const dump = await scanDumpFile(file)
  if (!dump.completed) throw incompleteDump(file)
  return withSession(url, (conn) =>
    withScratch(conn, scratch, async () => {
      await loadDump(url, scratch, file)
      const rowCounts = await countRows(conn, scratch)
      const problems = [...(await checkTables(conn, scratch)), ...countDifferences(dump.rowCounts, rowCounts)]
      return { rowCounts, integrity: problems.length === 0 ? 'ok' : problems.slice(0, 20).join('\n') }
    }),
  )
}

/** Creates `database`, runs `fn`, drops it again (also when `fn` fails). */
async function withScratch<T>(conn: Connection, database: string, fn: () => Promise<T>): Promise<T> {
  await exec(conn, `CREATE DATABASE ${quote(database)} CHARACTER SET utf8mb4`)
  try {
    return await fn()
  } finally {
    await dropDatabase(conn, database)
  }
}

/** Drops a scratch database; foreign keys from tables elsewhere must not keep it. */
async function dropDatabase(conn: Connection, database: string): Promise<void> {
  await exec(conn, 'SET SESSION foreign_key_checks = 0')
  await exec(conn, `DROP DATABASE IF EXISTS ${quote(database)}`)
}

/** CHECK TABLE's failures: errors, and statuses other than OK (notes such as "doesn't support check" are not failures). */
async function checkTables(conn: Connection, database: string): Promise<string[]> {
  const problems: string[] = []
  for (const table of await tableNames(conn, database, COUNTED_TYPES)) {
    const rows = await conn.query<{ Msg_type: string; Msg_text: string }>({ sql: `CHECK TABLE ${quote(database)}.${quote(table)}`, params: [] })
    for (const row of rows) {
      const type = String(row.Msg_type).toLowerCase()
      if (type === 'error' || (type === 'status' && String(row.Msg_text) !== 'OK')) problems.push(`${table}: ${row.Msg_text}`)
    }
  }
  return problems
}

function countDifferences(expected: RowCounts, actual: RowCounts): string[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
  return tables
    .filter((table) => expected[table] !== actual[table])
    .map((table) => `${table}: the dump holds ${expected[table] ?? 'no'} rows, ${actual[table] ?? 'no table with'} loaded`)
}

// ——— restore ———

/** One object that RENAME TABLE does not carry: recreated from its definition. */
interface Definition {
  readonly kind: 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION'
  readonly name: string
  readonly sql: string
  /** The sql_mode it was created under (triggers and routines keep it; it changes their meaning). */
  readonly sqlMode: string | null
}

interface RestorePlan {
  readonly scratch: string
  readonly trash: string
  readonly lockTimeoutMs: number
}

/**
 * Replaces the live database's contents with the dump's. MySQL commits DDL implicitly, so the
 * atomic step is one `RENAME TABLE` statement, which MySQL and MariaDB apply all or nothing
 * while holding every table's lock (no session sees a state in between):
 *
 * 1. the dump is loaded into the scratch database and its row counts are checked against the
 *    dump's INSERT statements; the definitions of its views, triggers and routines are kept,
 *    and its triggers dropped (RENAME TABLE cannot move a table with triggers to another
 *    database). Any failure so far leaves the live database untouched.
 * 2. the live database's triggers and views are dropped (views cannot move between databases,
 *    and one could have the name of a restored table); then ONE `RENAME TABLE` moves every live
 *    table into the trash database and every restored table into the live one. Should it fail
 *    (a lock wait timeout, say), the dropped triggers and views are recreated and the live
 *    database is as it was.
 * 3. right after: the live routines are replaced by the dump's, and the dump's views and
 *    triggers are created in the live database; the trash and scratch databases are dropped.
 *
 * So tables and their rows change atomically; views, triggers and routines follow a moment
 * later, and for that moment (and the one between dropping the live triggers and the rename)
 * writes by other sessions fire no triggers. The caller holds the migration lock, which does
 * not stop the application's sessions. Foreign keys move with their tables (InnoDB follows a
 * rename); checks are off in the session that renames and drops, so a foreign key from another
 * database into this one does not block the swap, and is left pointing at the dropped table.
 * Should step 3 fail, the previous tables are kept in the trash database, named in the error.
 * Events are not part of a dump and stay as they are.
 */
async function restoreCopy(url: DatabaseUrl, file: string, plan: RestorePlan): Promise<void> {
  const live = databaseOf(url)
  const dump = await scanDumpFile(file)
  if (!dump.completed) throw incompleteDump(file)
  await withSession(url, async (conn) => {
    await exec(conn, 'SET SESSION foreign_key_checks = 0')
    await conn.execute({ sql: 'SET SESSION lock_wait_timeout = ?', params: [Math.max(1, Math.ceil(plan.lockTimeoutMs / 1000))] })
    try {
      const restored = await prepareScratch(conn, url, file, plan.scratch, dump.rowCounts)
      await swapIn(conn, live, plan)
      await finishRestore(conn, live, restored, plan.trash)
    } finally {
      await dropDatabase(conn, plan.scratch)
    }
  })
}

/** Step 1: the dump in the scratch database, its counts verified, its non-table definitions taken out. */
async function prepareScratch(conn: Connection, url: DatabaseUrl, file: string, scratch: string, expected: RowCounts): Promise<Definition[]> {
  await exec(conn, `CREATE DATABASE ${quote(scratch)} CHARACTER SET utf8mb4`)
  await loadDump(url, scratch, file)
  const differences = countDifferences(expected, await countRows(conn, scratch))
  if (differences.length > 0) {
    throw new StrataError('E_BACKUP', `the dump ${file} did not load as it should; the live database is unchanged: ${differences.slice(0, 10).join('; ')}`, {
      file,
      hint: 'verify the backup with `strata backup verify`, or use another one',
    })
  }
  const definitions = await captureDefinitions(conn, scratch)
  await dropDefinitions(conn, scratch, definitions.filter((definition) => definition.kind === 'TRIGGER'))
  return definitions
}

/** Step 2: the live triggers and views out of the way, then the one atomic RENAME TABLE. */
async function swapIn(conn: Connection, live: string, plan: RestorePlan): Promise<void> {
  const previous = (await captureDefinitions(conn, live)).filter((definition) => definition.kind === 'VIEW' || definition.kind === 'TRIGGER')
  const moves = [
    ...(await tableNames(conn, live, MOVED_TYPES)).map((table) => `${quote(live)}.${quote(table)} TO ${quote(plan.trash)}.${quote(table)}`),
    ...(await tableNames(conn, plan.scratch, MOVED_TYPES)).map((table) => `${quote(plan.scratch)}.${quote(table)} TO ${quote(live)}.${quote(table)}`),
  ]
  await exec(conn, `CREATE DATABASE ${quote(plan.trash)}`)
  const dropped: Definition[] = []
  try {
    for (const definition of previous) {
      await dropDefinitions(conn, live, [definition])
      dropped.push(definition)
    }
    if (moves.length > 0) await exec(conn, `RENAME TABLE ${moves.join(', ')}`)
  } catch (error) {
    const unchanged = await putBack(conn, live, dropped)
    await dropDatabase(conn, plan.trash)
    throw new StrataError('E_BACKUP', `cannot swap the restored tables into ${live}: ${(error as Error).message}; ${unchanged}`, {
      hint: 'another session may hold a lock on a table (a long transaction); try again when it has ended',
    }, { cause: error })
  }
}

/** Recreates the live views and triggers dropped before a swap that failed; says in what state that leaves the database. */
async function putBack(conn: Connection, live: string, dropped: readonly Definition[]): Promise<string> {
  try {
    await createDefinitions(conn, live, dropped)
    return 'the live database is unchanged'
  } catch (error) {
    const names = dropped.map((definition) => `${definition.kind.toLowerCase()} ${definition.name}`).join(', ')
    return `its tables are unchanged, but recreating its views and triggers (${names}) failed: ${(error as Error).message}`
  }
}

/** Step 3: routines, views and triggers of the dump in the live database; the previous tables dropped. */
async function finishRestore(conn: Connection, live: string, restored: readonly Definition[], trash: string): Promise<void> {
  try {
    await dropDefinitions(conn, live, (await objectsOf(conn, live)).filter((object) => object.kind === 'PROCEDURE' || object.kind === 'FUNCTION'))
    // Routines first: a view may call a function.
    const order: Definition['kind'][] = ['PROCEDURE', 'FUNCTION', 'VIEW', 'TRIGGER']
    await createDefinitions(conn, live, order.flatMap((kind) => restored.filter((definition) => definition.kind === kind)))
  } catch (error) {
    const reason = (error as Error).message
    throw new StrataError('E_BACKUP', `the tables of ${live} were restored, but recreating its routines, views and triggers failed: ${reason}; the previous tables are kept in the database ${trash}`, {
      hint: `recreate the missing objects from the dump, then drop the database ${trash}`,
    }, { cause: error })
  }
  await dropDatabase(conn, trash)
}

/**
 * Views, triggers and routines of `database` as SHOW CREATE gives them, read with `database` as
 * the current one so that names inside them are not qualified with it and land in whichever
 * database they are created in. Triggers keep their order of execution (ACTION_ORDER).
 */
async function captureDefinitions(conn: Connection, database: string): Promise<Definition[]> {
  await exec(conn, `USE ${quote(database)}`)
  const definitions: Definition[] = []
  for (const { kind, name } of await objectsOf(conn, database)) definitions.push(await showCreate(conn, kind, name))
  return definitions
}

/** The views, routines and triggers of `database` (triggers in their order of execution). */
async function objectsOf(conn: Connection, database: string): Promise<{ kind: Definition['kind']; name: string }[]> {
  const rows = await conn.query<{ kind: Definition['kind']; name: string }>({
    sql: `SELECT 'VIEW' AS kind, TABLE_NAME AS name, 0 AS position FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
      UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME, 0 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
      UNION ALL SELECT 'TRIGGER', TRIGGER_NAME, ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
      ORDER BY kind, position, name`,
    params: [database, database, database],
  })
  return rows.map((row) => ({ kind: row.kind, name: String(row.name) }))
}

const SHOWN_AS: Readonly<Record<Definition['kind'], string>> = {
  VIEW: 'Create View',
  TRIGGER: 'SQL Original Statement',
  PROCEDURE: 'Create Procedure',
  FUNCTION: 'Create Function',
}

async function showCreate(conn: Connection, kind: Definition['kind'], name: string): Promise<Definition> {
  const [row] = await conn.query<Record<string, unknown>>({ sql: `SHOW CREATE ${kind} ${quote(name)}`, params: [] })
  const sql = row?.[SHOWN_AS[kind]]
  if (typeof sql !== 'string' || sql === '') {
    throw new StrataError('E_BACKUP', `cannot read the definition of the ${kind.toLowerCase()} ${name}`, {
      hint: 'the user of the URL needs the privileges to read routine and trigger definitions (SHOW CREATE)',
    })
  }
  return { kind, name, sql, sqlMode: typeof row?.['sql_mode'] === 'string' ? row['sql_mode'] : null }
}

async function dropDefinitions(conn: Connection, database: string, definitions: readonly Pick<Definition, 'kind' | 'name'>[]): Promise<void> {
  for (const definition of definitions) await exec(conn, `DROP ${definition.kind} IF EXISTS ${quote(database)}.${quote(definition.name)}`)
}

/**
 * Creates definitions in `database`, under each one's sql_mode. A view can select from a view
 * created after it (in name order), so views that fail are tried again while each round creates
 * at least one.
 */
async function createDefinitions(conn: Connection, database: string, definitions: readonly Definition[]): Promise<void> {
  await exec(conn, `USE ${quote(database)}`)
  const [saved] = await conn.query<{ mode: string }>({ sql: 'SELECT @@SESSION.sql_mode AS mode', params: [] })
  try {
    let pending = [...definitions]
    while (pending.length > 0) {
      const failed: { definition: Definition; error: unknown }[] = []
      for (const definition of pending) {
        try {
          await createDefinition(conn, definition)
        } catch (error) {
          if (definition.kind !== 'VIEW') throw error
          failed.push({ definition, error })
        }
      }
      if (failed.length === pending.length) throw failed[0]!.error
      pending = failed.map((entry) => entry.definition)
    }
  } finally {
    await conn.execute({ sql: 'SET SESSION sql_mode = ?', params: [saved?.mode ?? ''] })
  }
}

async function createDefinition(conn: Connection, definition: Definition): Promise<void> {
  if (definition.sqlMode !== null) await conn.execute({ sql: 'SET SESSION sql_mode = ?', params: [definition.sqlMode] })
  // No parameters: the text goes to the server as it is, `?` inside it included.
  await exec(conn, definition.sql)
}

// ——— live facts and size ———

/** Row counts of every table, read in one snapshot (REPEATABLE READ, started at once). */
async function liveFacts(conn: Connection, database: string): Promise<CopyFacts> {
  await exec(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
  await exec(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT')
  try {
    return { rowCounts: await countRows(conn, database), integrity: 'ok' }
  } finally {
    await exec(conn, 'COMMIT')
  }
}

async function countRows(conn: Connection, database: string): Promise<RowCounts> {
  const counts: Record<string, number> = {}
  for (const table of await tableNames(conn, database, COUNTED_TYPES)) {
    const [row] = await conn.query<{ n: number | string }>({ sql: `SELECT COUNT(*) AS n FROM ${quote(database)}.${quote(table)}`, params: [] })
    counts[table] = Number(row?.n ?? 0)
  }
  return counts
}

async function tableNames(conn: Connection, database: string, types: string): Promise<string[]> {
  const rows = await conn.query<{ name: string }>({
    sql: `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND ${types} ORDER BY TABLE_NAME`,
    params: [database],
  })
  return rows.map((row) => String(row.name))
}

/**
 * The tables' data and index pages, doubled: the upper bound the disk-space check needs. A dump
 * holds no index pages, but text can outgrow the pages it comes from: `--hex-blob` writes each
 * binary byte as two characters, and escaped strings and decimal numbers take more room than
 * their stored form. InnoDB's page slack makes DATA_LENGTH itself generous. The sizes are
 * InnoDB's statistics, which trail writes of the last seconds; ANALYZE TABLE would refresh them
 * but can scan whole tables on MariaDB, too dear for a preflight check.
 */
async function estimateSize(conn: Connection, database: string): Promise<number> {
  const [row] = await conn.query<{ bytes: number | string | null }>({
    sql: 'SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    params: [database],
  })
  return SIZE_FACTOR * Number(row?.bytes ?? 0) + SIZE_OVERHEAD
}

// ——— sessions ———

async function withSession<T>(url: DatabaseUrl, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await openMysql(url)
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

function quote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``
}

async function exec(conn: Connection, sql: string): Promise<void> {
  await conn.execute({ sql, params: [] })
}
