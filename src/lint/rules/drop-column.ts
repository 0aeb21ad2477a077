import { q, type LintRule } from '../rule.js'

/** `drop-column` (error; info in a down): dropping a column loses its values. */
export const dropColumn: LintRule = {
  id: 'drop-column',
  severity: 'error',
  dataLoss: true,
  description: 'a column is dropped: its values are lost',
  checkFact(fact, ctx) {
    if (fact.kind !== 'dropColumn' || !ctx.model.preExisting(fact.table, ctx.scope)) return null
    return {
      message: `drops column ${q(`${fact.table}.${fact.column}`)} and its values; stop reading it in a release first, then drop it in a later migration`,
    }
  },
}
