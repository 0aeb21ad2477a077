import { StrataError } from '../../../errors/index.js'
import type { BatchOperation, ColumnChange, Operation } from '../../../ops/operation.js'
import type { CompileContext } from '../../dialect.js'
import { quoteDoubled as q } from '../../shared/identifiers.js'
import { postgresLiteral, postgresType } from './column-sql.js'

/**
 * `alterColumn` in place (SPEC S3): one `ALTER TABLE` whose actions PostgreSQL applies as one
 * change, so a type change rewrites the table once. The server orders the actions itself
 * (DROP DEFAULT before the type change, SET DEFAULT after it), whatever their written order;
 * a type change with a new default drops the old one first, so it need not cast.
 * `using` without `type` rewrites the values in the current type, which is then read from the
 * live table (or from earlier ops of the same batch); see `needsLiveType`. An empty change
 * compiles to nothing.
 */
export function alterColumnSql(
  table: string,
  column: string,
  change: ColumnChange,
  liveType: () => string,
): string | undefined {
  const target = q(column)
  const actions: string[] = []
  const retype = change.type !== undefined || change.using !== undefined
  // The old default is cast to the new type, and may not cast (text 'none' → integer): when a
  // new one replaces it anyway, drop it first (the server runs DROP DEFAULT before TYPE).
  if (retype && change.default !== undefined && change.default !== null) actions.push(`ALTER COLUMN ${target} DROP DEFAULT`)
  if (retype) {
    const type = change.type !== undefined ? postgresType(change.type) : liveType()
    const using = change.using !== undefined && change.using.trim() !== '' ? ` USING (${change.using.trim()})` : ''
    actions.push(`ALTER COLUMN ${target} TYPE ${type}${using}`)
  }
  if (change.nullable !== undefined) actions.push(`ALTER COLUMN ${target} ${change.nullable ? 'DROP' : 'SET'} NOT NULL`)
  if (change.default !== undefined) {
    actions.push(change.default === null ? `ALTER COLUMN ${target} DROP DEFAULT` : `ALTER COLUMN ${target} SET DEFAULT ${postgresLiteral(change.default)}`)
  }
  return actions.length === 0 ? undefined : `ALTER TABLE ${q(table)} ${actions.join(', ')}`
}

/** Whether compiling `change` needs the column's current type: `using` without `type`. */
export function needsLiveType(change: ColumnChange): boolean {
  return change.using !== undefined && change.type === undefined
}

/** Whether `op` (or an op of its batch) needs the live definition of its table. */
export function opNeedsLiveType(op: Operation): boolean {
  if (op.kind === 'alterColumn') return needsLiveType(op.change)
  if (op.kind === 'batchAlterTable') return op.ops.some((inner) => inner.kind === 'alterColumn' && needsLiveType(inner.change))
  return false
}

/**
 * The type `column` has just before an op: from the ops of the batch before it (a type change,
 * the column's addition, renames followed back), else from the live table in `ctx`.
 * Throws E_MIGRATION_FAILED when neither knows the column.
 */
export function typeBefore(
  ctx: CompileContext,
  table: string,
  column: string,
  earlier: readonly BatchOperation[] = [],
): string {
  let name = column
  for (let i = earlier.length - 1; i >= 0; i--) {
    const op = earlier[i]!
    if (op.kind === 'alterColumn' && op.column === name && op.change.type !== undefined) return postgresType(op.change.type)
    if (op.kind === 'addColumn' && op.column.name === name) return postgresType(op.column.type)
    if (op.kind === 'renameColumn' && op.to === name) name = op.from
  }
  const live = ctx.table(table)
  const found = live?.columns.find((c) => c.name === name)
  if (!found) {
    const what = live ? `column \`${name}\` does not exist in table \`${table}\`` : `table \`${table}\` does not exist`
    throw new StrataError('E_MIGRATION_FAILED', `cannot rewrite \`${table}.${column}\` with \`using\`: ${what}`, {
      hint: 'check the table and column names, or give `type` along with `using`',
      table,
      column,
    })
  }
  return found.type
}
