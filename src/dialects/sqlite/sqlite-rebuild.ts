import type { Statement } from '../dialect.js'
import { quoteDoubled as q, quoteList } from '../shared/identifiers.js'
import type { SqliteDependents } from './sqlite-introspector.js'

/**
 * Everything the table-rebuild procedure needs, decided by the compiler from the live table
 * and the requested changes.
 */
export interface RebuildPlan {
  /** The live table's name. */
  readonly table: string
  /** The new definition after the table name: `("id" INTEGER PRIMARY KEY, …) STRICT`. */
  readonly definition: string
  /** Columns of the new table filled from the old one, and the SQL read for each (same order). */
  readonly copyColumns: readonly string[]
  readonly copyValues: readonly string[]
  /** Both tables use AUTOINCREMENT: carry the `sqlite_sequence` value over. */
  readonly keepSequence: boolean
  /** CREATE INDEX statements for the new table (the table's remaining and new indexes). */
  readonly indexes: readonly string[]
  /** Triggers and views to drop before and create after. */
  readonly dependents: SqliteDependents
  /**
   * A column was dropped: check that no recreated view or trigger still names it, since
   * CREATE VIEW / CREATE TRIGGER do not (see `validationStatements`).
   */
  readonly validate: boolean
}

/** Prefix of the temporary table a rebuild fills; strata's own prefix keeps it out of user names. */
export const REBUILD_PREFIX = '_strata_new_'

/**
 * The table-rebuild procedure of the SQLite manual ("Making Other Kinds Of Table Schema
 * Changes"), as plain statements for the caller's transaction. `Connection.transaction` runs
 * them with `foreign_keys` off (so DROP TABLE cascades nothing and the parent is briefly
 * missing without complaint) and runs `PRAGMA foreign_key_check` before COMMIT.
 *
 * 1. drop the triggers elsewhere and the views that name the table (newest view first);
 *    `ALTER TABLE … RENAME` in step 5 refuses to run while any of them names a missing table;
 * 2. CREATE TABLE `_strata_new_X` with the new definition;
 * 3. INSERT INTO it SELECT the copied columns FROM X (the rowid too, when it is not a column);
 *    with AUTOINCREMENT, copy X's `sqlite_sequence` row so ids are never reused;
 * 4. DROP TABLE X (its indexes and triggers go with it);
 * 5. ALTER TABLE `_strata_new_X` RENAME TO X (SQLite renames the sequence row as well);
 * 6. create the indexes, the views (oldest first), then all the triggers again, as they were;
 * 7. after a dropped column, validate the views and triggers (they are not checked on creation).
 */
export function rebuildStatements(plan: RebuildPlan): Statement[] {
  const table = q(plan.table)
  const temp = `${REBUILD_PREFIX}${plan.table}`
  const { triggers, views, otherTriggers } = plan.dependents
  const sql: string[] = [
    ...otherTriggers.map((t) => `DROP TRIGGER ${q(t.name)}`),
    ...[...views].reverse().map((v) => `DROP VIEW ${q(v.name)}`),
    `CREATE TABLE ${q(temp)} ${plan.definition}`,
    `INSERT INTO ${q(temp)} (${quoteList(plan.copyColumns)}) SELECT ${plan.copyValues.join(', ')} FROM ${table}`,
  ]
  const out: Statement[] = sql.map(plain)
  if (plan.keepSequence) {
    out.push(
      { sql: 'DELETE FROM sqlite_sequence WHERE name = ?', params: [temp] },
      { sql: 'INSERT INTO sqlite_sequence (name, seq) SELECT ?, seq FROM sqlite_sequence WHERE name = ?', params: [temp, plan.table] },
    )
  }
  out.push(plain(`DROP TABLE ${table}`), plain(`ALTER TABLE ${q(temp)} RENAME TO ${table}`))
  out.push(...plan.indexes.map(plain), ...views.map((v) => plain(v.sql)))
  out.push(...[...triggers, ...otherTriggers].map((t) => plain(t.sql)))
  if (plan.validate && views.length + triggers.length + otherTriggers.length > 0) out.push(...validationStatements(plan.table))
  return out
}

/**
 * SQLite checks every view and trigger that names a table when one of its columns is dropped
 * ("error in view v after drop column: no such column: x"). Adding an unused column and
 * dropping it again runs that check without changing anything, so a view or trigger left
 * naming a dropped column fails the migration here instead of at its first use. `ANY` keeps
 * STRICT tables happy; the table text is restored exactly.
 */
export function validationStatements(table: string): Statement[] {
  const probe = q('_strata_probe')
  return [plain(`ALTER TABLE ${q(table)} ADD COLUMN ${probe} ANY`), plain(`ALTER TABLE ${q(table)} DROP COLUMN ${probe}`)]
}

function plain(sql: string): Statement {
  return { sql, params: [] }
}
