import type { Connection, Dialect, Statement } from '../dialect.js'
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
  checkConsistency,
  invalidIndexes,
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

/**
 * Indexes left invalid (a failed `CREATE INDEX CONCURRENTLY`) and constraints added `NOT VALID`
 * in the current schema: the data may break what they stand for, so they are warnings.
 */
async function checkConsistency(conn: Connection): Promise<{ status: 'pass' | 'warn'; message: string }> {
  const invalid = (await invalidIndexes(conn)).map((name) => ({ name }))
  const unvalidated = await conn.query<{ name: string }>({
    sql: `SELECT con.conname AS name FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
      WHERE NOT con.convalidated AND n.nspname = current_schema() ORDER BY 1`,
    params: [],
  })
  const parts: string[] = []
  if (invalid.length > 0) parts.push(`invalid index(es): ${invalid.map((r) => r.name).join(', ')} (drop and rebuild them)`)
  if (unvalidated.length > 0) parts.push(`NOT VALID constraint(s): ${unvalidated.map((r) => r.name).join(', ')} (run ALTER TABLE … VALIDATE CONSTRAINT)`)
  return parts.length > 0 ? { status: 'warn', message: parts.join('; ') } : { status: 'pass', message: 'no invalid indexes or unvalidated constraints' }
}

/** The indexes of the current schema a failed or interrupted `CREATE INDEX CONCURRENTLY` left invalid. */
async function invalidIndexes(conn: Connection): Promise<string[]> {
  const rows = await conn.query<{ name: string }>({
    sql: `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND n.nspname = current_schema() ORDER BY 1`,
    params: [],
  })
  return rows.map((r) => r.name)
}
