import { q, type LintRule } from '../rule.js'

/** `rename-breaks-app` (warning): the running application still uses the old name. */
export const renameBreaksApp: LintRule = {
  id: 'rename-breaks-app',
  severity: 'warning',
  description: 'a table or column the running application reads is renamed',
  checkFact(fact, ctx) {
    const advice = 'the running application fails on the old name until it is redeployed; add the new name beside the old one (expand), switch the application, then remove the old one (contract)'
    if (fact.kind === 'renameTable' && ctx.model.preExisting(fact.from, ctx.scope)) {
      return { message: `renames table ${q(fact.from)} to ${q(fact.to)}: ${advice}` }
    }
    if (fact.kind === 'renameColumn' && ctx.model.preExisting(fact.table, ctx.scope)) {
      return { message: `renames column ${q(`${fact.table}.${fact.from}`)} to ${q(fact.to)}: ${advice}` }
    }
    return null
  },
}
