import { q, type LintRule } from '../rule.js'

/** `blocking-index` (warning, PostgreSQL): CREATE INDEX without CONCURRENTLY blocks writes for the whole build. */
export const blockingIndex: LintRule = {
  id: 'blocking-index',
  severity: 'warning',
  description: 'PostgreSQL: an index is built on an existing table without CONCURRENTLY',
  checkFact(fact, ctx) {
    if (!ctx.capabilities.concurrentIndex || fact.kind !== 'createIndex' || fact.concurrently) return null
    if (!ctx.model.preExisting(fact.table, ctx.scope)) return null
    const name = fact.name ? `index ${q(fact.name)}` : 'an index'
    return {
      message: `builds ${name} on existing table ${q(fact.table)} without CONCURRENTLY: writes to ${q(fact.table)} wait until the build ends; ` +
        'use CREATE INDEX CONCURRENTLY (op.createIndex(…, { concurrently: true })) in a migration with transactional: false / `-- strata:no-transaction`',
    }
  },
}
