import type { Dialect, DialectName } from './dialect.js'

/**
 * The dialects, registered explicitly in one table (STYLE: no side-effect registration). Each
 * entry is a lazy import so a command loads only the engine it talks to.
 */
const LOADERS: Readonly<Record<DialectName, () => Promise<Dialect>>> = {
  sqlite: async () => (await import('./sqlite/sqlite-dialect.js')).sqliteDialect,
  postgres: async () => (await import('./postgres/postgres-dialect.js')).postgresDialect,
  mysql: async () => (await import('./mysql/mysql-dialect.js')).mysqlDialect,
}

export async function loadDialect(name: DialectName): Promise<Dialect> {
  return LOADERS[name]()
}
