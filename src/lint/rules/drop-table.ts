import { q, type LintRule } from '../rule.js'

/** `drop-table` (error; info in a down): dropping a table loses every row in it. */
export const dropTable: LintRule = {
  id: 'drop-table',
  severity: 'error',
  dataLoss: true,
  description: 'a table is dropped: its rows are lost',
  checkFact(fact, ctx) {
    // A table created earlier in the same body holds nothing yet.
    if (fact.kind !== 'dropTable' || !ctx.model.preExisting(fact.table, ctx.scope)) return null
    return {
      message: `drops table ${q(fact.table)} and every row in it; back it up first, and drop it only once no running release reads it`,
    }
  },
}
