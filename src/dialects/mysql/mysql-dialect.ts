import type { Connection, Dialect } from '../dialect.js'
import { mysqlCompiler, mysqlTablesToInspect } from './mysql-compiler.js'
import { openMysql } from './mysql-driver.js'
import { inspectMysqlTables, introspectMysql, mysqlCatalogFingerprint } from './mysql-introspector.js'
import { MysqlLock } from './mysql-lock.js'

/**
 * MySQL and MariaDB (SPEC S3, S4): DDL commits implicitly, so every migration runs the
 * non-transactional way — the revision is marked dirty before, applied after — and a failure
 * after committed statements leaves it dirty with the statements listed. The migration lock is
 * `GET_LOCK` on a session of its own.
 */
export const mysqlDialect: Dialect = {
  name: 'mysql',
  capabilities: {
    transactionalDdl: false,
    concurrentIndex: false,
    alterColumnInPlace: true,
    advisoryLock: true,
    embedded: false,
  },
  compiler: mysqlCompiler,
  quoteIdentifier: (name) => `\`${name.replace(/`/g, '``')}\``,
  connect: openMysql,
  introspect: introspectMysql,
  inspectTables: inspectMysqlTables,
  tablesToInspect: mysqlTablesToInspect,
  lock: (url, tablePrefix) => new MysqlLock(url, tablePrefix),
  catalogFingerprint: mysqlCatalogFingerprint,
  checkConsistency,
}

/** Above this much data, `CHECK TABLE` is no longer cheap and is skipped (SPEC S5). */
const CHECK_TABLE_LIMIT_BYTES = 256 * 1024 * 1024

/** `CHECK TABLE … QUICK` over the database's tables when they are small enough to check cheaply. */
async function checkConsistency(conn: Connection): Promise<{ status: 'pass' | 'fail'; message: string }> {
  const tables = await conn.query<{ name: string; bytes: number | string | null }>({
    sql: `SELECT TABLE_NAME AS name, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS bytes FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    params: [],
  })
  if (tables.length === 0) return { status: 'pass', message: 'no tables to check' }
  const bytes = tables.reduce((sum, t) => sum + Number(t.bytes ?? 0), 0)
  if (bytes > CHECK_TABLE_LIMIT_BYTES) {
    return { status: 'pass', message: `CHECK TABLE skipped: ${Math.round(bytes / 1048576)} MiB of tables is too much to check on every run` }
  }
  const list = tables.map((t) => `\`${t.name.replace(/`/g, '``')}\``).join(', ')
  const rows = await conn.query<{ Table: string; Msg_type: string; Msg_text: string }>({ sql: `CHECK TABLE ${list} QUICK`, params: [] })
  const bad = rows.filter((r) => r.Msg_type.toLowerCase() === 'error' || (r.Msg_type.toLowerCase() === 'status' && r.Msg_text !== 'OK'))
  if (bad.length > 0) return { status: 'fail', message: `CHECK TABLE: ${bad.slice(0, 5).map((r) => `${r.Table}: ${r.Msg_text}`).join('; ')}` }
  return { status: 'pass', message: `CHECK TABLE ok on ${tables.length} table(s)` }
}
