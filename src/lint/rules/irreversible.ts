import type { LintRule } from '../rule.js'

/** `irreversible` (warning): a migration with no down and no change() cannot be rolled back. */
export const irreversible: LintRule = {
  id: 'irreversible',
  severity: 'warning',
  description: 'the migration has no down and no change(): it cannot be rolled back',
  checkBody(ctx) {
    // A data migration has no down by design: its rollback is the backup strata takes (SPEC S7).
    // An expand/contract migration is undone by its abort until it is completed.
    if (ctx.direction !== 'up' || ctx.migration.down !== undefined || ctx.migration.data || ctx.migration.phases) return []
    const how = ctx.migration.file.format === 'module'
      ? 'write a down(op), or use change(op) when every op is reversible'
      : ctx.migration.file.format === 'sql' ? 'add a `-- strata:down` section' : 'add the `.down.sql` file'
    return [{ message: `has no down: \`strata down\` and automatic rollback cannot revert it; ${how}` }]
  },
}
