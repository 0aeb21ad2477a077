import { StrataError } from './errors/index.js'
import type { OpBuilder } from './ops/op-builder.js'

/** What a TypeScript/JavaScript migration module exports by default (SPEC S2). */
export interface MigrationOptions {
  /** Default: the file stem. */
  readonly revision?: string
  /** Absent: the previous file by name; null: a root; an array: a merge point. */
  readonly downRevision?: string | readonly string[] | null
  readonly description?: string
  readonly dependsOn?: readonly string[]
  readonly branchLabels?: readonly string[]
  /** Default true: the migration runs in its own transaction. */
  readonly transactional?: boolean
  /** How long a statement may wait for a table lock (`'5s'`, or ms); PostgreSQL `lock_timeout`. */
  readonly lockTimeout?: string | number
  /** How long one statement may run (`'10m'`, or ms); PostgreSQL `statement_timeout`. */
  readonly statementTimeout?: string | number
  up?(op: OpBuilder): Promise<void> | void
  down?(op: OpBuilder): Promise<void> | void
  /** Auto-reversible migrations: `down` is the reverse of these ops, newest first. */
  change?(op: OpBuilder): Promise<void> | void
  /**
   * Fixture rows for `strata test` (SPEC S6): run on the scratch database right after this
   * migration's up; the rows must survive every later migration's up and down. Never run by
   * `up` on a real database.
   */
  seed?(op: OpBuilder): Promise<void> | void
  /** Data migrations (`dataMigration`): false or a throw refuses the run, nothing changed. */
  validatePreconditions?(op: OpBuilder): Promise<boolean | void> | boolean | void
  /** Data migrations: the change itself. */
  transform?(op: OpBuilder): Promise<void> | void
  /** Data migrations: false or a throw returns the data to its pre-run state and fails the run. */
  validateResults?(op: OpBuilder): Promise<boolean | void> | boolean | void
  /** Data migrations: runs only once the results validated. */
  cleanup?(op: OpBuilder): Promise<void> | void
  /**
   * Expand/contract migrations (SPEC S7), instead of up/down: `strata up` runs `expand` then
   * `backfill` and leaves the revision `expanded`, for the old and the new application alike.
   * Their ops commit one by one, checkpointed: an interrupted expand resumes.
   */
  expand?(op: OpBuilder): Promise<void> | void
  /** Expand/contract: fills the new shape (usually `op.backfill`), after `expand`. */
  backfill?(op: OpBuilder): Promise<void> | void
  /** Expand/contract: `strata complete REV`, once the application no longer needs the old shape. */
  contract?(op: OpBuilder): Promise<void> | void
  /** Expand/contract: `strata abort REV` while expanded; default: the reverse of the expand ops. */
  abort?(op: OpBuilder): Promise<void> | void
}

/** What `dataMigration()` takes (SPEC S7): the SOP's DataMigration lifecycle, no up/down. */
export type DataMigrationOptions = Omit<MigrationOptions, 'up' | 'down' | 'change' | 'seed' | 'expand' | 'backfill' | 'contract' | 'abort'> & {
  transform(op: OpBuilder): Promise<void> | void
}

export const MIGRATION_TAG = Symbol.for('strata-migrate.migration')

export type Migration = MigrationOptions & { readonly [MIGRATION_TAG]: true }

/**
 * Declares a data migration (SPEC S7): `validatePreconditions`, `transform`, `validateResults`,
 * `cleanup`, run in that order after a backup strata always takes for it. It has no down: its
 * rollback is the transaction (when it fits in one) or that backup.
 */
export function dataMigration(options: DataMigrationOptions): Migration {
  if (options === null || typeof options !== 'object' || typeof options.transform !== 'function') {
    throw new StrataError('E_MIGRATION_FILE', 'dataMigration() needs an object with a transform(op) function')
  }
  return Object.freeze({ ...options, [MIGRATION_TAG]: true as const })
}

/** Declares a migration: `export default migration({ up(op) { … }, down(op) { … } })`. */
export function migration(options: MigrationOptions): Migration {
  if (options === null || typeof options !== 'object') {
    throw new StrataError('E_MIGRATION_FILE', 'migration() needs an object with up/down or change')
  }
  return Object.freeze({ ...options, [MIGRATION_TAG]: true as const })
}
