import { q, type LintRule } from '../rule.js'
import { isSchemaChange } from '../types.js'

/**
 * `ddl-with-backfill` (warning): on engines with transactional DDL, a transactional migration
 * that changes the schema and updates existing rows holds the DDL's locks for the whole update.
 * Rows written to a table the same migration created do not count: nobody else can wait on it.
 */
export const ddlWithBackfill: LintRule = {
  id: 'ddl-with-backfill',
  severity: 'warning',
  description: 'a schema change and a data update in one transaction',
  checkBody(ctx) {
    if (!ctx.capabilities.transactionalDdl || !ctx.migration.transactional) return []
    const schema = ctx.steps.some((step) => step.facts?.some(isSchemaChange))
    if (!schema) return []
    for (const step of ctx.steps) {
      for (const fact of step.facts ?? []) {
        if (fact.kind !== 'data' || (fact.table !== null && !ctx.model.preExisting(fact.table, ctx.scope))) continue
        const what = `${fact.verb === 'insert' ? 'writes rows into' : fact.verb === 'update' ? 'updates rows of' : 'deletes rows of'} ${fact.table ? q(fact.table) : 'a table'}`
        return [{
          anchor: step.anchor,
          message: `changes the schema and ${what} in the same transaction: the locks the schema change takes are held until every row is done; ` +
            'move the data change to a migration of its own',
        }]
      }
    }
    return []
  },
}
