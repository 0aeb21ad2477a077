import type { OpOf } from '../../../ops/operation.js'
import type { Statement } from '../../dialect.js'
import { quoteDoubled as q, quoteList } from '../../shared/identifiers.js'
import { referencesClause, renderColumn } from './column-sql.js'
export { dropColumnSql, dropTableSql, renameColumnSql, renameTableSql } from '../../shared/standard-ddl.js'

/**
 * The SQL text of PostgreSQL's ops, one function per statement shape. Every identifier is
 * double-quoted; values in DDL are escaped literals (DDL cannot bind parameters).
 */

/** A statement without parameters. */
export const stmt = (sql: string): Statement => ({ sql, params: [] })

/**
 * `CREATE TABLE`. Several columns marked `primaryKey` (and no `primaryKey` option) make one
 * composite table-level PRIMARY KEY, as on the other engines.
 */
export function createTableSql(op: OpOf<'createTable'>): string {
  const marked = op.columns.filter((c) => c.primaryKey).map((c) => c.name)
  const tableKey = op.primaryKey ?? (marked.length > 1 ? marked : [])
  const elements = op.columns.map((c) => renderColumn(c, { inlinePrimaryKey: tableKey.length === 0 }))
  if (tableKey.length > 0) elements.push(`PRIMARY KEY (${quoteList(tableKey)})`)
  return `CREATE TABLE ${op.ifNotExists ? 'IF NOT EXISTS ' : ''}${q(op.table)} (${elements.join(', ')})`
}



/** `ALTER TABLE "t" ADD COLUMN …`: any column, PostgreSQL adds every kind in place. */
export function addColumnSql(table: string, column: OpOf<'addColumn'>['column']): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN ${renderColumn(column)}`
}



/**
 * `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] "i" ON "t" ("a", …) [WHERE …]`.
 * CONCURRENTLY cannot run inside a transaction: SPEC S3 makes such a migration
 * `transactional: false`.
 */
export function createIndexSql(
  table: string,
  op: Pick<OpOf<'createIndex'>, 'name' | 'columns' | 'unique' | 'where' | 'concurrently' | 'ifNotExists'>,
): string {
  const head = `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX ${op.concurrently ? 'CONCURRENTLY ' : ''}${op.ifNotExists ? 'IF NOT EXISTS ' : ''}${q(op.name)}`
  const where = op.where !== undefined && op.where.trim() !== '' ? ` WHERE ${op.where.trim()}` : ''
  return `${head} ON ${q(table)} (${quoteList(op.columns)})${where}`
}

/**
 * `DROP INDEX [CONCURRENTLY] [IF EXISTS] "i"`. The name is not schema-qualified: the index is
 * found through `search_path`, like the tables the other ops name.
 */
export function dropIndexSql(op: Pick<OpOf<'dropIndex'>, 'name' | 'concurrently' | 'ifExists'>): string {
  return `DROP INDEX ${op.concurrently ? 'CONCURRENTLY ' : ''}${op.ifExists ? 'IF EXISTS ' : ''}${q(op.name)}`
}

/** `ALTER TABLE "t" ADD CONSTRAINT "n" UNIQUE ("a", …)`. */
export function addUniqueSql(table: string, name: string, columns: readonly string[]): string {
  return `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(name)} UNIQUE (${quoteList(columns)})`
}

/** `ALTER TABLE "t" ADD CONSTRAINT "n" CHECK (expr)`. */
export function addCheckSql(table: string, name: string, expression: string): string {
  return `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(name)} CHECK (${expression.trim()})`
}

/** `ALTER TABLE "t" ADD CONSTRAINT "n" FOREIGN KEY ("a") REFERENCES "r" ("id") …`. */
export function addForeignKeySql(op: Omit<OpOf<'addForeignKey'>, 'kind'>): string {
  const references = referencesClause(op.refTable, op.refColumns, op)
  return `ALTER TABLE ${q(op.table)} ADD CONSTRAINT ${q(op.name)} FOREIGN KEY (${quoteList(op.columns)}) ${references}`
}

/** `ALTER TABLE "t" DROP CONSTRAINT "n"`. */
export function dropConstraintSql(table: string, name: string): string {
  return `ALTER TABLE ${q(table)} DROP CONSTRAINT ${q(name)}`
}
