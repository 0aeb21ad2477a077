import { StrataError } from '../../../errors/index.js'
import type { BatchOperation, ColumnDef, OpOf } from '../../../ops/operation.js'
import type { CompileContext, Statement } from '../../dialect.js'
import type { MysqlTableSnapshot } from '../mysql-introspector.js'
import { assertIndexable, columnForeignKeyName, foreignKeyClause, mysqlType, q, qList, renderColumn } from './column-sql.js'

/**
 * The SQL of MySQL's ops, one function per statement shape. Identifiers are backtick-quoted;
 * values in DDL are escaped literals (DDL cannot bind parameters). Every DDL statement commits
 * on its own in MySQL, so each op is one statement where it can be.
 */

/** A statement without parameters. */
export const stmt = (sql: string): Statement => ({ sql, params: [] })

/** The type a column of `table` has just before an op (live, or added earlier in its batch); undefined when unknown. */
export function knownType(ctx: CompileContext, table: string, column: string, earlier: readonly BatchOperation[]): string | undefined {
  let name = column
  for (let i = earlier.length - 1; i >= 0; i--) {
    const op = earlier[i]!
    if (op.kind === 'alterColumn' && op.column === name && op.change.type !== undefined) return mysqlType(op.change.type)
    if (op.kind === 'addColumn' && op.column.name === name) return mysqlType(op.column.type)
    if (op.kind === 'renameColumn' && op.to === name) name = op.from
  }
  return ctx.table(table)?.columns.find((c) => c.name === name)?.type
}

/**
 * `CREATE TABLE`, InnoDB's defaults (engine, charset) left to the server. Several columns marked
 * `primaryKey` (and no `primaryKey` option) make one composite PRIMARY KEY; each `references`
 * is a named table-level FOREIGN KEY.
 */
export function createTableSql(op: OpOf<'createTable'>): string {
  const marked = op.columns.filter((c) => c.primaryKey).map((c) => c.name)
  const tableKey = op.primaryKey ?? (marked.length > 1 ? marked : [])
  const elements = op.columns.map((c) =>
    renderColumn(op.table, c, { inlinePrimaryKey: tableKey.length === 0, inKey: tableKey.includes(c.name) }))
  if (tableKey.length > 0) {
    for (const name of tableKey) assertIndexable(op.table, 'the primary key', name, typeOf(op.columns, name))
    elements.push(`PRIMARY KEY (${qList(tableKey)})`)
  }
  for (const c of op.columns) if (c.references) elements.push(referencesOf(op.table, c))
  return `CREATE TABLE ${op.ifNotExists ? 'IF NOT EXISTS ' : ''}${q(op.table)} (${elements.join(', ')})`
}

function typeOf(columns: readonly ColumnDef[], name: string): string | undefined {
  const column = columns.find((c) => c.name === name)
  return column && mysqlType(column.type)
}

function referencesOf(table: string, column: ColumnDef): string {
  const ref = column.references!
  return foreignKeyClause(columnForeignKeyName(table, column.name), [column.name], ref.table, [ref.column], ref)
}

/** `DROP TABLE [IF EXISTS] t`. */
export function dropTableSql(op: OpOf<'dropTable'>): string {
  return `DROP TABLE ${op.ifExists ? 'IF EXISTS ' : ''}${q(op.table)}`
}

/** `ALTER TABLE a RENAME TO b`; indexes, constraints and triggers follow (views do not). */
export function renameTableSql(from: string, to: string): string {
  return `ALTER TABLE ${q(from)} RENAME TO ${q(to)}`
}

/** `ALTER TABLE t ADD COLUMN …[, ADD CONSTRAINT … FOREIGN KEY …]`, one statement. */
export function addColumnSql(table: string, column: ColumnDef): string {
  const references = column.references ? `, ADD ${referencesOf(table, column)}` : ''
  return `ALTER TABLE ${q(table)} ADD COLUMN ${renderColumn(table, column)}${references}`
}

/** `ALTER TABLE t DROP COLUMN c`. */
export function dropColumnSql(table: string, column: string): string {
  return `ALTER TABLE ${q(table)} DROP COLUMN ${q(column)}`
}

/** `ALTER TABLE t RENAME COLUMN a TO b` (MySQL ≥ 8.0, MariaDB ≥ 10.5). */
export function renameColumnSql(table: string, from: string, to: string): string {
  return `ALTER TABLE ${q(table)} RENAME COLUMN ${q(from)} TO ${q(to)}`
}

/**
 * `CREATE [UNIQUE] INDEX [IF NOT EXISTS] i ON t (a, …)`. `ifNotExists` is MariaDB syntax.
 * `concurrently` appends `ALGORITHM=INPLACE LOCK=NONE`: InnoDB builds the index while writes go
 * on, and the server refuses (rather than silently locking the table) when it cannot. A partial
 * index (`where`) does not exist in MySQL: refused with E_MIGRATION_FILE. A TEXT / BLOB / JSON
 * column is refused too (assertIndexable).
 */
export function createIndexSql(
  table: string,
  op: Pick<OpOf<'createIndex'>, 'name' | 'columns' | 'unique' | 'where' | 'concurrently' | 'ifNotExists'>,
  typeOfColumn: (column: string) => string | undefined,
): string {
  if (op.where !== undefined && op.where.trim() !== '') {
    throw new StrataError('E_MIGRATION_FILE', `index \`${op.name}\` on \`${table}\` is partial (where: ${op.where.trim()}), which MySQL does not support`, {
      hint: 'drop `where`, or index a generated column that is NULL outside the predicate',
    })
  }
  for (const column of op.columns) assertIndexable(table, `index \`${op.name}\``, column, typeOfColumn(column))
  const head = `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX ${op.ifNotExists ? 'IF NOT EXISTS ' : ''}${q(op.name)}`
  return `${head} ON ${q(table)} (${qList(op.columns)})${op.concurrently ? ' ALGORITHM=INPLACE LOCK=NONE' : ''}`
}

/**
 * `DROP INDEX [IF EXISTS] i ON t`: MySQL names indexes per table, so the op must say which
 * (E_MIGRATION_FILE otherwise). `ifExists` is MariaDB syntax; `concurrently` as for createIndex.
 */
export function dropIndexSql(op: Pick<OpOf<'dropIndex'>, 'name' | 'table' | 'concurrently' | 'ifExists'>): string {
  if (op.table === undefined) {
    throw new StrataError('E_MIGRATION_FILE', `dropIndex \`${op.name}\` names no table, and MySQL names indexes per table`, {
      hint: `pass the table: op.dropIndex('${op.name}', { table: '…' })`,
    })
  }
  return `DROP INDEX ${op.ifExists ? 'IF EXISTS ' : ''}${q(op.name)} ON ${q(op.table)}${op.concurrently ? ' ALGORITHM=INPLACE LOCK=NONE' : ''}`
}

/** `ALTER TABLE t ADD CONSTRAINT n UNIQUE (a, …)` (a unique index named n). */
export function addUniqueSql(table: string, name: string, columns: readonly string[], typeOfColumn: (column: string) => string | undefined): string {
  for (const column of columns) assertIndexable(table, `unique constraint \`${name}\``, column, typeOfColumn(column))
  return `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(name)} UNIQUE (${qList(columns)})`
}

/** `ALTER TABLE t ADD CONSTRAINT n CHECK (expr)` (enforced since MySQL 8.0.16 / MariaDB 10.2). */
export function addCheckSql(table: string, name: string, expression: string): string {
  return `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(name)} CHECK (${expression.trim()})`
}

/** `ALTER TABLE t ADD CONSTRAINT n FOREIGN KEY (a) REFERENCES r (b) …`; InnoDB adds an index `n` when none covers `a`. */
export function addForeignKeySql(op: Omit<OpOf<'addForeignKey'>, 'kind'>): string {
  return `ALTER TABLE ${q(op.table)} ADD ${foreignKeyClause(op.name, op.columns, op.refTable, op.refColumns, op)}`
}

/**
 * `dropConstraint`: MySQL drops each kind with its own clause, so the kind comes from the ops
 * of the batch before it or else the live table: a foreign key with `DROP FOREIGN KEY` and then
 * the index InnoDB made for it (`DROP INDEX`, when the live table says it made one; the
 * introspector counts that index as part of the constraint), a unique constraint with
 * `DROP INDEX`, a check with `DROP CONSTRAINT`, the primary key with `DROP PRIMARY KEY`. With
 * no live table (offline `plan --sql`), `DROP CONSTRAINT` (MariaDB ≥ 10.2 and MySQL ≥ 8.0.19
 * accept it for every kind). Throws E_MIGRATION_FAILED when the live table lacks the constraint.
 */
export function dropConstraintSql(ctx: CompileContext, table: string, name: string, earlier: readonly BatchOperation[]): string[] {
  const t = q(table)
  for (let i = earlier.length - 1; i >= 0; i--) {
    const op = earlier[i]!
    if (op.kind === 'dropConstraint' && op.name === name) break
    if (op.kind === 'addForeignKey' && op.name === name) return [`ALTER TABLE ${t} DROP FOREIGN KEY ${q(name)}`]
    if (op.kind === 'addUniqueConstraint' && op.name === name) return [`ALTER TABLE ${t} DROP INDEX ${q(name)}`]
    if (op.kind === 'addCheckConstraint' && op.name === name) return [`ALTER TABLE ${t} DROP CONSTRAINT ${q(name)}`]
  }
  const live = ctx.table(table) as MysqlTableSnapshot | undefined
  if (!live) return [`ALTER TABLE ${t} DROP CONSTRAINT ${q(name)}`]
  const constraint = live.constraints.find((c) => c.name === name)
  switch (constraint?.kind) {
    case 'foreignKey': {
      const statements = [`ALTER TABLE ${t} DROP FOREIGN KEY ${q(name)}`]
      if (live.foreignKeyIndexes?.includes(name)) statements.push(`DROP INDEX ${q(name)} ON ${t}`)
      return statements
    }
    case 'unique': return [`ALTER TABLE ${t} DROP INDEX ${q(name)}`]
    case 'primaryKey': return [`ALTER TABLE ${t} DROP PRIMARY KEY`]
    case 'check': return [`ALTER TABLE ${t} DROP CONSTRAINT ${q(name)}`]
    case undefined:
      throw new StrataError('E_MIGRATION_FAILED', `table \`${table}\` has no constraint \`${name}\``, {
        hint: `check the name; the constraints of \`${table}\` are: ${live.constraints.map((c) => c.name).join(', ') || 'none'}`,
      })
  }
}
