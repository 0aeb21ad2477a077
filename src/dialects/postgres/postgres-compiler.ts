import type { BatchOperation, OpOf, Operation } from '../../ops/operation.js'
import type { CompileContext, OpCompiler, Statement } from '../dialect.js'
import { executeStatement } from '../shared/execute.js'
import { backfillStatement } from '../shared/backfill.js'
import { quoteDoubled } from '../shared/identifiers.js'
import { alterColumnSql, opNeedsLiveType, typeBefore } from './compiler/alter-column.js'
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
  renameColumnSql,
  renameTableSql,
  stmt,
} from './compiler/statements.js'

/**
 * The PostgreSQL op compiler (SPEC S3): pure, one entry per op kind, every op in place (no
 * table rebuilds). Statements use `?` placeholders; the driver numbers them (`$1`).
 * `createIndex({ concurrently })` and `dropIndex({ concurrently })` compile to CONCURRENTLY
 * and must run outside a transaction (the migration is `transactional: false`).
 */
export const postgresCompiler = {
  createTable: (op) => [stmt(createTableSql(op))],
  dropTable: (op) => [stmt(dropTableSql(op))],
  renameTable: (op) => [stmt(renameTableSql(op.from, op.to))],
  addColumn: (op) => [stmt(addColumnSql(op.table, op.column))],
  dropColumn: (op) => [stmt(dropColumnSql(op.table, op.column))],
  renameColumn: (op) => [stmt(renameColumnSql(op.table, op.from, op.to))],
  alterColumn: (op, ctx) => alterStatements(op.table, op, ctx, []),
  createIndex: (op) => [stmt(createIndexSql(op.table, op))],
  dropIndex: (op) => [stmt(dropIndexSql(op))],
  addUniqueConstraint: (op) => [stmt(addUniqueSql(op.table, op.name, op.columns))],
  addCheckConstraint: (op) => [stmt(addCheckSql(op.table, op.name, op.expression))],
  addForeignKey: (op) => [stmt(addForeignKeySql(op))],
  dropConstraint: (op) => [stmt(dropConstraintSql(op.table, op.name))],
  execute: (op) => [executeStatement(op)],
  backfill: (op) => [backfillStatement(op, quoteDoubled)],
  batchAlterTable: (op, ctx) => op.ops.flatMap((inner, i) => batchStatements(op.table, inner, ctx, op.ops.slice(0, i))),
} satisfies OpCompiler

/**
 * The tables whose live definition `postgresCompiler` needs for `op`: only an `alterColumn`
 * with `using` but no `type` (which rewrites the values in the column's current type) needs
 * its table; every other op compiles from the op alone.
 */
export function postgresTablesToInspect(op: Operation): readonly string[] {
  switch (op.kind) {
    case 'alterColumn':
    case 'batchAlterTable':
      return opNeedsLiveType(op) ? [op.table] : []
    default:
      return []
  }
}

/**
 * One op of a `batchAlterTable`, bound to the batch's table, compiled as on its own; the ops
 * run one statement each, in order (`earlier` are the batch's ops before it).
 */
function batchStatements(table: string, op: BatchOperation, ctx: CompileContext, earlier: readonly BatchOperation[]): Statement[] {
  switch (op.kind) {
    case 'addColumn': return [stmt(addColumnSql(table, op.column))]
    case 'dropColumn': return [stmt(dropColumnSql(table, op.column))]
    case 'renameColumn': return [stmt(renameColumnSql(table, op.from, op.to))]
    case 'alterColumn': return alterStatements(table, op, ctx, earlier)
    case 'createIndex': return [stmt(createIndexSql(table, op))]
    case 'dropIndex': return [stmt(dropIndexSql(op))]
    case 'addUniqueConstraint': return [stmt(addUniqueSql(table, op.name, op.columns))]
    case 'addCheckConstraint': return [stmt(addCheckSql(table, op.name, op.expression))]
    case 'addForeignKey': return [stmt(addForeignKeySql({ ...op, table }))]
    case 'dropConstraint': return [stmt(dropConstraintSql(table, op.name))]
  }
}

function alterStatements(
  table: string,
  op: Pick<OpOf<'alterColumn'>, 'column' | 'change'>,
  ctx: CompileContext,
  earlier: readonly BatchOperation[],
): Statement[] {
  const sql = alterColumnSql(table, op.column, op.change, () => typeBefore(ctx, table, op.column, earlier))
  return sql === undefined ? [] : [stmt(sql)]
}
