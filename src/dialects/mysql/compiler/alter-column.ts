import { StrataError } from '../../../errors/index.js'
import type { BatchOperation, ColumnChange } from '../../../ops/operation.js'
import type { CompileContext } from '../../dialect.js'
import { columnStateSql, mysqlLiteral, mysqlType, q, stateOfDef, type ColumnState } from './column-sql.js'

/**
 * `alterColumn` (SPEC S3) as `ALTER TABLE t MODIFY COLUMN c <full definition>`: MySQL replaces
 * the whole definition, so what the change leaves alone (type, nullability, default,
 * AUTO_INCREMENT) is restated from the column's current state: the live table in `ctx`, after
 * the ops of the same batch before it. Keys and indexes on the column stay. Attributes the
 * snapshot does not carry (comment, charset / collation, ON UPDATE) are not restated and fall
 * back to the table's defaults.
 * `using` (old values → new type) has no MySQL clause: it is run first as
 * `UPDATE t SET c = (using)`, evaluated and stored in the column's old type, which MODIFY then
 * converts; the expression's result must therefore fit the old type. An empty change compiles
 * to nothing.
 */
export function alterColumnSql(
  table: string,
  column: string,
  change: ColumnChange,
  ctx: CompileContext,
  earlier: readonly BatchOperation[],
): string[] {
  const using = change.using?.trim() ?? ''
  if (change.type === undefined && change.nullable === undefined && change.default === undefined && using === '') return []
  const next = applyChange(columnBefore(ctx, table, column, earlier), change)
  const statements: string[] = []
  if (using !== '') statements.push(`UPDATE ${q(table)} SET ${q(column)} = (${using})`)
  statements.push(`ALTER TABLE ${q(table)} MODIFY COLUMN ${q(column)} ${columnStateSql(next)}`)
  return statements
}

/** A column's state after `change`: absent keys keep the current property; default null drops it. */
export function applyChange(state: ColumnState, change: ColumnChange): ColumnState {
  return {
    type: change.type !== undefined ? mysqlType(change.type) : state.type,
    nullable: change.nullable ?? state.nullable,
    default: change.default === undefined ? state.default : change.default === null ? null : mysqlLiteral(change.default),
    autoIncrement: state.autoIncrement,
  }
}

/**
 * The state of `column` just before an op: traced back through the batch's earlier renames to
 * its addition in the batch or the live table, then the batch's earlier changes replayed.
 * Throws E_MIGRATION_FAILED when neither knows the column.
 */
export function columnBefore(ctx: CompileContext, table: string, column: string, earlier: readonly BatchOperation[]): ColumnState {
  let name = column
  let origin: ColumnState | undefined
  const changes: ColumnChange[] = []
  for (let i = earlier.length - 1; i >= 0 && origin === undefined; i--) {
    const op = earlier[i]!
    if (op.kind === 'alterColumn' && op.column === name) changes.unshift(op.change)
    else if (op.kind === 'renameColumn' && op.to === name) name = op.from
    else if (op.kind === 'addColumn' && op.column.name === name) origin = stateOfDef(op.column)
  }
  if (origin === undefined) {
    const live = ctx.table(table)
    const found = live?.columns.find((c) => c.name === name)
    if (!found) {
      const what = live ? `column \`${name}\` does not exist in table \`${table}\`` : `table \`${table}\` was not inspected or does not exist`
      throw new StrataError('E_MIGRATION_FAILED', `cannot alter \`${table}.${column}\`: ${what}`, {
        hint: 'MySQL restates the whole column (MODIFY COLUMN), so strata reads it from the live table first; check the table and column names',
      })
    }
    origin = { type: found.type, nullable: found.nullable, default: found.default, autoIncrement: found.autoIncrement === true }
  }
  return changes.reduce(applyChange, origin)
}
