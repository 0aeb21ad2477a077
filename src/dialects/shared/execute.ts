import { StrataError } from '../../errors/index.js'
import type { OpOf } from '../../ops/operation.js'
import { countPlaceholders, mapPlaceholders } from '../../sql/placeholders.js'
import type { Statement } from '../dialect.js'
import { isSqlExpression } from './literals.js'

/**
 * `op.execute(sql, params)` as a statement, for every dialect: the values are bound, except
 * `{ sql }` expressions (SPEC S3 `Value`), which cannot be: each placeholder whose value is one
 * is replaced by the expression in parentheses (as in a column default) and the value leaves
 * the parameter list. The SQL keeps `?` placeholders; the driver translates them if its engine
 * numbers them (PostgreSQL `$1`). Throws E_MIGRATION_FAILED when the placeholders do not match
 * the values one for one.
 */
export function executeStatement(op: OpOf<'execute'>): Statement {
  if (!op.params.some(isSqlExpression)) return { sql: op.sql, params: op.params }
  const count = countPlaceholders(op.sql)
  if (count !== op.params.length) {
    throw new StrataError('E_MIGRATION_FAILED', count === null
      ? 'a { sql } value needs `?` placeholders, and this statement uses numbered ones (`?1`)'
      : `the statement has ${count} \`?\` placeholder(s) for ${op.params.length} value(s)`, {
      hint: 'give op.execute() one value per `?` placeholder, in order',
    })
  }
  const params = op.params.filter((p) => !isSqlExpression(p))
  const sql = mapPlaceholders(op.sql, (index) => {
    const value = op.params[index]
    return isSqlExpression(value) ? `(${value.sql})` : '?'
  })
  return { sql, params }
}
