import { createHash } from 'node:crypto'
import type { Connection, Dialect } from '../dialect.js'
import { quoteDoubled } from '../shared/identifiers.js'
import { sqliteCompiler, sqliteTablesToInspect } from './sqlite-compiler.js'
import { openSqlite } from './sqlite-driver.js'
import { inspectSqliteTables, introspectSqlite } from './sqlite-introspector.js'
import { SqliteLock } from './sqlite-lock.js'

/**
 * SQLite (SPEC S3, S4): transactional DDL; no concurrent index builds; column and constraint
 * changes by table rebuild; the migration lock is a sidecar file, not a server lock; embedded,
 * so `plan --sql` replays migrations on a scratch `:memory:` database.
 */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  capabilities: {
    transactionalDdl: true,
    concurrentIndex: false,
    alterColumnInPlace: false,
    advisoryLock: false,
    embedded: true,
  },
  compiler: sqliteCompiler,
  quoteIdentifier: quoteDoubled,
  integerKeyType: 'integer',
  connect: openSqlite,
  introspect: introspectSqlite,
  inspectTables: inspectSqliteTables,
  tablesToInspect: sqliteTablesToInspect,
  lock: (url) => new SqliteLock(url.path as string),
  catalogFingerprint,
  checkConsistency,
  // What `SqliteConnection.transaction` does around a transaction, for printed scripts. A script
  // cannot abort on `foreign_key_check` output: it only lists the violations.
  scriptFraming: {
    begin: ['PRAGMA foreign_keys = OFF;', 'BEGIN;'],
    commit: ['PRAGMA foreign_key_check;', 'COMMIT;', 'PRAGMA foreign_keys = ON;'],
  },
}

/** A hash of `sqlite_master` for the user schema: one query, whatever the number of tables. */
async function catalogFingerprint(conn: Connection, tablePrefix: string): Promise<string> {
  const rows = await conn.query<{ type: string; name: string; tbl_name: string; sql: string | null }>({
    sql: `SELECT type, name, tbl_name, sql FROM sqlite_master
      WHERE substr(name, 1, 7) <> 'sqlite_' AND lower(substr(tbl_name, 1, ?)) <> lower(?)
      ORDER BY type, name`,
    params: [tablePrefix.length, tablePrefix],
  })
  const hash = createHash('sha256')
  for (const row of rows) hash.update(`${row.type}\0${row.name}\0${row.tbl_name}\0${row.sql ?? ''}\n`)
  return hash.digest('hex')
}

/** `integrity_check` other than `ok`, or any `foreign_key_check` row, is a failure (SPEC S5). */
async function checkConsistency(conn: Connection): Promise<{ status: 'pass' | 'fail'; message: string }> {
  const integrity = (await conn.query<{ integrity_check: string }>({ sql: 'PRAGMA integrity_check', params: [] })).map((r) => r.integrity_check)
  if (integrity.length !== 1 || integrity[0] !== 'ok') return { status: 'fail', message: `integrity_check: ${integrity.slice(0, 5).join('; ')}` }
  const orphans = await conn.query<{ table: string; rowid: number | null; parent: string }>({ sql: 'PRAGMA foreign_key_check', params: [] })
  if (orphans.length > 0) {
    const shown = orphans.slice(0, 5).map((o) => `${o.table} row ${o.rowid ?? '?'} → ${o.parent}`).join('; ')
    return { status: 'fail', message: `foreign_key_check: ${orphans.length} row(s) point at missing parents (${shown})` }
  }
  return { status: 'pass', message: 'integrity_check ok, no foreign key violations' }
}
