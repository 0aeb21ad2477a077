import type { LintRule } from '../rule.js'
import { isSchemaChange } from '../types.js'

/**
 * `mysql-mixed-ddl-dml` (warning, MySQL): MySQL commits every DDL statement on its own, so a
 * migration mixing schema and data changes cannot be rolled back as a whole when it fails.
 */
export const mysqlMixedDdlDml: LintRule = {
  id: 'mysql-mixed-ddl-dml',
  severity: 'warning',
  description: 'MySQL: a migration mixes DDL and data changes',
  checkBody(ctx) {
    // An expand/contract migration's expand and backfill commit op by op, checkpointed: a failure
    // part-way resumes or is aborted (SPEC S7).
    if (ctx.capabilities.transactionalDdl || ctx.migration.phases) return []
    const schema = ctx.steps.some((step) => step.facts?.some(isSchemaChange))
    const data = ctx.steps.find((step) => step.facts?.some((fact) => fact.kind === 'data'))
    if (!schema || data === undefined) return []
    return [{
      anchor: data.anchor,
      message: 'mixes schema changes and data changes: MySQL commits each DDL statement at once, so a failure part-way leaves a half-applied migration ' +
        'that no transaction can undo; put the data change in a migration of its own',
    }]
  },
}
