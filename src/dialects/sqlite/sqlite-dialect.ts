import type { Dialect } from '../dialect.js'
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
  connect: openSqlite,
  introspect: introspectSqlite,
  inspectTables: inspectSqliteTables,
  tablesToInspect: sqliteTablesToInspect,
  lock: (url) => new SqliteLock(url.path as string),
}
