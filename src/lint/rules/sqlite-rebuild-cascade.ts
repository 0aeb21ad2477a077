import { q, sqliteRebuiltTable, type LintRule } from '../rule.js'

/**
 * `sqlite-rebuild-cascade` (warning, SQLite): rebuilding or dropping a table that child tables
 * reference with ON DELETE CASCADE. Dropping the parent (the rebuild's DROP TABLE, or a raw one)
 * deletes its rows first when `foreign_keys` is on, and the cascade deletes the children's.
 */
export const sqliteRebuildCascade: LintRule = {
  id: 'sqlite-rebuild-cascade',
  severity: 'warning',
  description: 'SQLite: a rebuild of a table that ON DELETE CASCADE children reference',
  checkFact(fact, ctx) {
    if (ctx.capabilities.alterColumnInPlace) return null
    const rebuilt = sqliteRebuiltTable(fact, ctx)
    const dropped = fact.kind === 'dropTable' ? fact.table : null
    const table = rebuilt ?? dropped
    if (table === null) return null
    const children = ctx.model.cascadeChildren(table)
    if (children.length === 0) return null
    const names = [...new Set(children.map((c) => `${c.table}(${c.foreignKey.columns.join(', ')})`))].map(q).join(', ')
    const what = rebuilt !== null ? `rebuilds table ${q(table)} (its rebuild drops the old table)` : `drops table ${q(table)}`
    return {
      key: `cascade:${table.toLowerCase()}`,
      message: `${what}, which ${names} reference${children.length === 1 ? 's' : ''} with ON DELETE CASCADE: strata runs transactional migrations with foreign_keys off, ` +
        `so no child row is touched here, but the same SQL run with foreign_keys on (another tool, a copied script, a no-transaction migration) deletes every child row of ${q(table)}`,
    }
  },
}
