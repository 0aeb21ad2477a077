import { StrataError } from '../../../errors/index.js'
import type { OpOf } from '../../../ops/operation.js'
import type { CompileContext, Statement } from '../../dialect.js'
import { quoteDoubled as q, quoteList } from '../../shared/identifiers.js'
import { referencesClause, renderColumn } from './column-sql.js'
import type { SqliteTableSnapshot } from '../sqlite-introspector.js'
export { dropColumnSql, dropTableSql, renameColumnSql, renameTableSql } from '../../shared/standard-ddl.js'

/**
 * The SQL text of the ops SQLite runs natively, one function per statement shape. Every
 * identifier is quoted; values in DDL are escaped literals (DDL cannot bind parameters).
 */

/** A statement without parameters. */
export const stmt = (sql: string): Statement => ({ sql, params: [] })

/**
 * `CREATE TABLE`. Several columns marked `primaryKey` (and no `primaryKey` option) make one
 * composite table-level PRIMARY KEY, as they would on the other engines.
 */
export function createTableSql(op: OpOf<'createTable'>): string {
  const marked = op.columns.filter((c) => c.primaryKey).map((c) => c.name)
  const tableKey = op.primaryKey ?? (marked.length > 1 ? marked : [])
  const keyNames = new Set(tableKey.map((n) => n.toLowerCase()))
  const elements = op.columns.map((c) =>
    renderColumn(c, { inTablePrimaryKey: keyNames.has(c.name.toLowerCase()), suppressPrimaryKey: tableKey.length > 0 }),
  )
  if (tableKey.length > 0) elements.push(`PRIMARY KEY (${quoteList(tableKey)})`)
  return `CREATE TABLE ${op.ifNotExists ? 'IF NOT EXISTS ' : ''}${q(op.table)} (${elements.join(', ')})`
}



/** `ALTER TABLE "t" ADD COLUMN …`, for columns `canAddNatively` accepts. */
export function addColumnSql(table: string, column: OpOf<'addColumn'>['column']): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN ${renderColumn(column)}`
}



/** `CREATE [UNIQUE] INDEX [IF NOT EXISTS] "i" ON "t" ("a", …) [WHERE …]`; `concurrently` has no meaning in SQLite. */
export function createIndexSql(
  table: string,
  op: Pick<OpOf<'createIndex'>, 'name' | 'columns' | 'unique' | 'where' | 'ifNotExists'>,
): string {
  const head = `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX ${op.ifNotExists ? 'IF NOT EXISTS ' : ''}${q(op.name)}`
  const where = op.where !== undefined && op.where.trim() !== '' ? ` WHERE ${op.where.trim()}` : ''
  return `${head} ON ${q(table)} (${quoteList(op.columns)})${where}`
}

/** `DROP INDEX [IF EXISTS] "i"`. */
export function dropIndexSql(name: string, ifExists?: boolean): string {
  return `DROP INDEX ${ifExists ? 'IF EXISTS ' : ''}${q(name)}`
}

/** `CONSTRAINT "n" UNIQUE ("a", …)`, a table element. */
export function uniqueConstraintSql(name: string, columns: readonly string[]): string {
  return `CONSTRAINT ${q(name)} UNIQUE (${quoteList(columns)})`
}

/** `CONSTRAINT "n" CHECK (expr)`, a table element. */
export function checkConstraintSql(name: string, expression: string): string {
  return `CONSTRAINT ${q(name)} CHECK (${expression.trim()})`
}

/** `CONSTRAINT "n" FOREIGN KEY ("a") REFERENCES "t" ("id") …`, a table element. */
export function foreignKeySql(
  name: string,
  columns: readonly string[],
  refTable: string,
  refColumns: readonly string[],
  options: { readonly onDelete?: string; readonly onUpdate?: string },
): string {
  return `CONSTRAINT ${q(name)} FOREIGN KEY (${quoteList(columns)}) ${referencesClause(refTable, refColumns, options)}`
}


/** The live table from the context, or E_MIGRATION_FAILED naming it. */
export function requireTable(ctx: CompileContext, table: string): SqliteTableSnapshot {
  const live = ctx.table(table)
  if (!live) {
    throw new StrataError('E_MIGRATION_FAILED', `table \`${table}\` does not exist`, {
      hint: `create \`${table}\` in an earlier migration, or check the table name`,
      table,
    })
  }
  return live
}
