import type { BatchOperation, Operation } from '../../ops/operation.js'
import type { CompileContext, OpCompiler, Statement } from '../dialect.js'
import { executeStatement } from '../shared/execute.js'
import { backfillStatement } from '../shared/backfill.js'
import { alterColumnSql } from './compiler/alter-column.js'
import {
  addCheckSql,
  addColumnSql,
  addForeignKeySql,
  addUniqueSql,
  createIndexSql,
  createTableSql,
  dropColumnSql,
  dropConstraintSql,
  dropIndexSql,
  dropTableSql,
  knownType,
  renameColumnSql,
  renameTableSql,
  stmt,
} from './compiler/statements.js'

/**
 * The MySQL / MariaDB op compiler (SPEC S3): pure, one entry per op kind, every op in place.
 * Statements use `?` placeholders, which the driver binds natively. MySQL commits each DDL
 * statement on its own, so an op compiles to as few statements as it can (mostly one);
 * `batchAlterTable` runs its ops one after the other. `alterColumn` and `dropConstraint` read
 * the live table (mysqlTablesToInspect); `createIndex` / `addUniqueConstraint` read it to refuse
 * TEXT / BLOB / JSON keys before the server does.
 */
export const mysqlCompiler = {
  createTable: (op) => [stmt(createTableSql(op))],
  dropTable: (op) => [stmt(dropTableSql(op))],
  renameTable: (op) => [stmt(renameTableSql(op.from, op.to))],
  addColumn: (op) => [stmt(addColumnSql(op.table, op.column))],
  dropColumn: (op) => [stmt(dropColumnSql(op.table, op.column))],
  renameColumn: (op) => [stmt(renameColumnSql(op.table, op.from, op.to))],
  alterColumn: (op, ctx) => alterColumnSql(op.table, op.column, op.change, ctx, []).map(stmt),
  createIndex: (op, ctx) => [stmt(createIndexSql(op.table, op, (c) => knownType(ctx, op.table, c, [])))],
  dropIndex: (op) => [stmt(dropIndexSql(op))],
  addUniqueConstraint: (op, ctx) => [stmt(addUniqueSql(op.table, op.name, op.columns, (c) => knownType(ctx, op.table, c, [])))],
  addCheckConstraint: (op) => [stmt(addCheckSql(op.table, op.name, op.expression))],
  addForeignKey: (op) => [stmt(addForeignKeySql(op))],
  dropConstraint: (op, ctx) => dropConstraintSql(ctx, op.table, op.name, []).map(stmt),
  execute: (op) => [executeStatement(op)],
  backfill: (op) => [backfillStatement(op, (name) => `\`${name.replace(/`/g, '``')}\``)],
  batchAlterTable: (op, ctx) => op.ops.flatMap((inner, i) => batchStatements(op.table, inner, ctx, op.ops.slice(0, i))),
} satisfies OpCompiler

const NEEDS_TABLE: ReadonlySet<string> = new Set(['alterColumn', 'dropConstraint', 'createIndex', 'addUniqueConstraint'])

/**
 * The tables whose live definition `mysqlCompiler` needs for `op`: `alterColumn` (MODIFY
 * restates the whole column) and `dropConstraint` (the clause depends on the kind), and
 * `createIndex` / `addUniqueConstraint` (column types, to refuse unindexable ones); a batch
 * containing any of them.
 */
export function mysqlTablesToInspect(op: Operation): readonly string[] {
  if (op.kind === 'batchAlterTable') return op.ops.some((inner) => NEEDS_TABLE.has(inner.kind)) ? [op.table] : []
  return NEEDS_TABLE.has(op.kind) && 'table' in op && typeof op.table === 'string' ? [op.table] : []
}

/** One op of a `batchAlterTable`, bound to the batch's table (`earlier`: the batch's ops before it). */
function batchStatements(table: string, op: BatchOperation, ctx: CompileContext, earlier: readonly BatchOperation[]): Statement[] {
  const typeOf = (column: string): string | undefined => knownType(ctx, table, column, earlier)
  switch (op.kind) {
    case 'addColumn': return [stmt(addColumnSql(table, op.column))]
    case 'dropColumn': return [stmt(dropColumnSql(table, op.column))]
    case 'renameColumn': return [stmt(renameColumnSql(table, op.from, op.to))]
    case 'alterColumn': return alterColumnSql(table, op.column, op.change, ctx, earlier).map(stmt)
    case 'createIndex': return [stmt(createIndexSql(table, op, typeOf))]
    case 'dropIndex': return [stmt(dropIndexSql({ ...op, table }))]
    case 'addUniqueConstraint': return [stmt(addUniqueSql(table, op.name, op.columns, typeOf))]
    case 'addCheckConstraint': return [stmt(addCheckSql(table, op.name, op.expression))]
    case 'addForeignKey': return [stmt(addForeignKeySql({ ...op, table }))]
    case 'dropConstraint': return dropConstraintSql(ctx, table, op.name, earlier).map(stmt)
  }
}
