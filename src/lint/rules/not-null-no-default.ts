import { q, type LintRule } from '../rule.js'

/** `not-null-no-default` (error): a NOT NULL column without a default cannot be added to a table with rows. */
export const notNullNoDefault: LintRule = {
  id: 'not-null-no-default',
  severity: 'error',
  description: 'a NOT NULL column without a default is added to an existing table',
  checkFact(fact, ctx) {
    if (fact.kind !== 'addColumn') return null
    const { column } = fact
    if (!column.notNull || column.hasDefault || !ctx.model.preExisting(fact.table, ctx.scope)) return null
    return {
      message: `adds NOT NULL column ${q(`${fact.table}.${column.name}`)} without a default to existing table ${q(fact.table)}: it fails once the table has rows` +
        `${ctx.dialect === 'mysql' ? ' (or, without strict mode, fills them with zero values)' : ''}; give it a default, or add it nullable, backfill, then set NOT NULL`,
    }
  },
}
