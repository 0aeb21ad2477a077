import { StrataError } from '../../errors/index.js'
import type { ForeignKeyOptions } from '../../ops/operation.js'
import { quoteDoubled as q, quoteList } from './identifiers.js'

const ACTIONS: ReadonlySet<string> = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION'])

/** A referential action, checked against the list so no SQL can ride in on it (SPEC S16). */
export function referentialAction(action: string, what: string): string {
  const normal = action.trim().replace(/\s+/g, ' ').toUpperCase()
  if (!ACTIONS.has(normal)) {
    throw new StrataError('E_MIGRATION_FILE', `${what} \`${action}\` is not a referential action`, {
      hint: 'use one of CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION',
    })
  }
  return normal
}

/** `REFERENCES "t" ("a", …) [ON DELETE x] [ON UPDATE y]` (double-quoted identifiers). */
export function referencesClause(table: string, columns: readonly string[], options: ForeignKeyOptions): string {
  let sql = `REFERENCES ${q(table)} (${quoteList(columns)})`
  if (options.onDelete !== undefined) sql += ` ON DELETE ${referentialAction(options.onDelete, 'onDelete')}`
  if (options.onUpdate !== undefined) sql += ` ON UPDATE ${referentialAction(options.onUpdate, 'onUpdate')}`
  return sql
}
