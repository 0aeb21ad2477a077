import { StrataError } from '../../errors/index.js'
import type { OpOf } from '../../ops/operation.js'
import type { DialectName, Statement } from '../dialect.js'
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

/** Rows of one transform batch that change the same columns: their keys and new values. */
export interface RowChanges {
  readonly columns: readonly string[]
  readonly rows: ReadonlyArray<{ readonly key: unknown; readonly values: readonly unknown[] }>
}

/**
 * One UPDATE writing many rows' transformed values, joined on the key (SPEC S7): a VALUES list on
 * SQLite (`UPDATE … FROM`) and PostgreSQL (each value cast to its column's type, which PostgreSQL
 * cannot infer for parameters inside VALUES), a UNION ALL derived table on MySQL and MariaDB.
 */
export function updateRowsStatement(
  dialect: DialectName,
  quote: (name: string) => string,
  table: string,
  key: string,
  changes: RowChanges,
  types: ReadonlyMap<string, string>,
): Statement {
  const t = quote(table)
  const aliases = ['k', ...changes.columns.map((_, i) => `c${i + 1}`)]
  const params = changes.rows.flatMap((row) => [row.key, ...row.values])
  const width = aliases.length
  if (dialect === 'mysql') {
    const first = `SELECT ${aliases.map((a) => `? AS ${quote(a)}`).join(', ')}`
    const rest = changes.rows.slice(1).map(() => ` UNION ALL SELECT ${aliases.map(() => '?').join(', ')}`).join('')
    const set = changes.columns.map((c, i) => `${t}.${quote(c)} = v.${quote(aliases[i + 1]!)}`).join(', ')
    return { sql: `UPDATE ${t} JOIN (${first}${rest}) AS v ON ${t}.${quote(key)} = v.${quote('k')} SET ${set}`, params }
  }
  const columns = [key, ...changes.columns]
  const slot = (i: number): string => {
    const type = dialect === 'postgres' ? types.get(columns[i]!) : undefined
    return type ? `CAST(? AS ${type})` : '?'
  }
  const tuple = `(${Array.from({ length: width }, (_, i) => slot(i)).join(', ')})`
  const values = changes.rows.map(() => tuple).join(', ')
  if (dialect === 'postgres') {
    const set = changes.columns.map((c, i) => `${quote(c)} = v.${quote(aliases[i + 1]!)}`).join(', ')
    return { sql: `UPDATE ${t} SET ${set} FROM (VALUES ${values}) AS v(${aliases.map(quote).join(', ')}) WHERE ${t}.${quote(key)} = v.${quote('k')}`, params }
  }
  const set = changes.columns.map((c, i) => `${quote(c)} = v.column${i + 2}`).join(', ')
  return { sql: `UPDATE ${t} SET ${set} FROM (VALUES ${values}) AS v WHERE ${t}.${quote(key)} = v.column1`, params }
}
