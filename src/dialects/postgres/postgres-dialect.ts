import type { Dialect, Statement } from '../dialect.js'
import { quoteDoubled } from '../shared/identifiers.js'
import { postgresCompiler, postgresTablesToInspect } from './postgres-compiler.js'
import { openPostgres } from './postgres-driver.js'
import { inspectPostgresTables, introspectPostgres, postgresCatalogFingerprint } from './postgres-introspector.js'
import { PostgresLock } from './postgres-lock.js'

/**
 * PostgreSQL (SPEC S3, S4): transactional DDL, so each migration and its history row commit
 * together; columns and constraints change in place; `CREATE INDEX CONCURRENTLY` in
 * non-transactional migrations; the migration lock is a session advisory lock.
 */
export const postgresDialect: Dialect = {
  name: 'postgres',
  capabilities: {
    transactionalDdl: true,
    concurrentIndex: true,
    alterColumnInPlace: true,
    advisoryLock: true,
    embedded: false,
  },
  compiler: postgresCompiler,
  quoteIdentifier: quoteDoubled,
  connect: openPostgres,
  introspect: (conn, tablePrefix) => introspectPostgres(conn, tablePrefix),
  inspectTables: inspectPostgresTables,
  tablesToInspect: postgresTablesToInspect,
  lock: (url) => new PostgresLock(url),
  catalogFingerprint: postgresCatalogFingerprint,
  timeoutStatements(timeouts, scope) {
    const set: Statement[] = []
    const reset: Statement[] = []
    const local = scope === 'transaction' ? 'LOCAL ' : ''
    // SET takes no bound parameters; the values are whole milliseconds from the loader.
    if (timeouts.lockMs !== undefined) {
      set.push({ sql: `SET ${local}lock_timeout = ${Math.round(timeouts.lockMs)}`, params: [] })
      if (!local) reset.push({ sql: 'RESET lock_timeout', params: [] })
    }
    if (timeouts.statementMs !== undefined) {
      set.push({ sql: `SET ${local}statement_timeout = ${Math.round(timeouts.statementMs)}`, params: [] })
      if (!local) reset.push({ sql: 'RESET statement_timeout', params: [] })
    }
    return { set, reset }
  },
}
