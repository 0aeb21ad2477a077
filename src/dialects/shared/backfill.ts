import { StrataError } from '../../errors/index.js'
import type { OpOf } from '../../ops/operation.js'
import type { Statement } from '../dialect.js'
import { isSqlExpression } from './literals.js'

/**
 * What a `backfill` op amounts to as one statement, for printed plans (`plan --sql`): the runner
 * itself never runs it, it runs the same UPDATE in checkpointed keyset batches (SPEC S7). A
 * `transform` computes values in JavaScript and has no SQL form.
 */
export function backfillStatement(op: OpOf<'backfill'>, quote: (name: string) => string): Statement {
  if (!op.set) {
    throw new StrataError('E_OFFLINE', `backfill of ${op.table} computes its values with transform() in JavaScript; it has no SQL to print`, {
      hint: 'use `set` for a backfill that printed plans can show, or run `strata plan` (without --sql) against a database',
    })
  }
  const params: unknown[] = []
  const assignments = Object.entries(op.set).map(([column, value]) => {
    if (isSqlExpression(value)) return `${quote(column)} = ${value.sql}`
    params.push(value)
    return `${quote(column)} = ?`
  })
  return { sql: `UPDATE ${quote(op.table)} SET ${assignments.join(', ')}${op.where ? ` WHERE ${op.where}` : ''}`, params }
}
