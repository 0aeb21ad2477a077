import { executeStatement } from '../shared/execute.js'
import { backfillStatement } from '../shared/backfill.js'
import { quoteDoubled } from '../shared/identifiers.js'
import type { Operation } from '../../ops/operation.js'
import type { OpCompiler } from '../dialect.js'
import { compileTableChanges, isStaticallyNative, nativeStatement } from './compiler/alter-table.js'
import { canAddNatively } from './compiler/column-sql.js'
import {
  addColumnSql,
  createIndexSql,
  createTableSql,
  dropIndexSql,
  dropTableSql,
  renameColumnSql,
  renameTableSql,
  stmt,
} from './compiler/statements.js'

/**
 * The SQLite op compiler (SPEC S3): pure, one entry per op kind. What ALTER TABLE can do is
 * compiled natively; everything else becomes the table-rebuild procedure (`sqlite-rebuild.ts`),
 * planned from the live table the runner puts in the context (see `sqliteTablesToInspect`).
 * `concurrently` is ignored: SQLite has no concurrent index builds.
 */
export const sqliteCompiler = {
  createTable: (op) => [stmt(createTableSql(op))],
  dropTable: (op) => [stmt(dropTableSql(op))],
  renameTable: (op) => [stmt(renameTableSql(op.from, op.to))],
  addColumn: (op, ctx) => (canAddNatively(op.column) ? [stmt(addColumnSql(op.table, op.column))] : compileTableChanges(op.table, [op], ctx)),
  dropColumn: (op, ctx) => compileTableChanges(op.table, [op], ctx),
  renameColumn: (op) => [stmt(renameColumnSql(op.table, op.from, op.to))],
  alterColumn: (op, ctx) => compileTableChanges(op.table, [op], ctx),
  createIndex: (op) => [stmt(createIndexSql(op.table, op))],
  dropIndex: (op) => [stmt(dropIndexSql(op.name, op.ifExists))],
  addUniqueConstraint: (op, ctx) => compileTableChanges(op.table, [op], ctx),
  addCheckConstraint: (op, ctx) => compileTableChanges(op.table, [op], ctx),
  addForeignKey: (op, ctx) => compileTableChanges(op.table, [op], ctx),
  dropConstraint: (op, ctx) => compileTableChanges(op.table, [op], ctx),
  execute: (op) => [executeStatement(op)],
  backfill: (op) => [backfillStatement(op, quoteDoubled)],
  batchAlterTable: (op, ctx) =>
    op.ops.every(isStaticallyNative) ? op.ops.map((inner) => nativeStatement(op.table, inner)) : compileTableChanges(op.table, op.ops, ctx),
} satisfies OpCompiler

/**
 * The tables whose live definition `sqliteCompiler` needs for `op`: the table of any op that
 * may rebuild it or must check what uses a column (dropColumn); none for ops that are always
 * native.
 */
export function sqliteTablesToInspect(op: Operation): readonly string[] {
  switch (op.kind) {
    case 'addColumn':
      return canAddNatively(op.column) ? [] : [op.table]
    case 'batchAlterTable':
      return op.ops.every(isStaticallyNative) ? [] : [op.table]
    case 'dropColumn':
    case 'alterColumn':
    case 'addUniqueConstraint':
    case 'addCheckConstraint':
    case 'addForeignKey':
    case 'dropConstraint':
      return [op.table]
    default:
      return []
  }
}
