import type { Dialect } from '../dialect.js'
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
}
