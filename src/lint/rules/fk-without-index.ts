import { q, type LintRule, type RuleHit } from '../rule.js'

/**
 * `fk-without-index` (warning): a foreign key added by this body whose columns no index of its
 * table leads with (checked after the whole body, so an index created after the key counts).
 * Not on MySQL: InnoDB creates that index itself when the key is added.
 */
export const fkWithoutIndex: LintRule = {
  id: 'fk-without-index',
  severity: 'warning',
  description: 'a foreign key whose columns no index leads with',
  checkBody(ctx) {
    if (ctx.dialect === 'mysql') return []
    const hits: RuleHit[] = []
    for (const { table, foreignKey: fk } of ctx.model.foreignKeysAddedIn(ctx.scope)) {
      if (ctx.model.indexLeadsWith(table.name, fk.columns)) continue
      const columns = fk.columns.join(', ')
      hits.push({
        anchor: fk.anchor,
        message: `foreign key ${q(`${table.name}(${columns})`)} → ${q(fk.refTable)} has no index that starts with its columns: each delete or key update on ` +
          `${q(fk.refTable)} scans ${q(table.name)}; add an index on ${q(table.name)} (${columns})`,
      })
    }
    return hits
  },
}
