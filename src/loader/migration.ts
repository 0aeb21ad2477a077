import type { OpBuilder } from '../ops/op-builder.js'
import type { Operation } from '../ops/operation.js'

export type RevisionId = string

export type MigrationFormat = 'module' | 'sql' | 'sql-pair'

export interface MigrationFile {
  /** Absolute path of the file (for a pair, the `.up.sql` file). */
  readonly path: string
  /** Path relative to the migrations directory, as shown to users. */
  readonly relativePath: string
  readonly format: MigrationFormat
  /** Lowercase hex sha256 of the normalised text (for a pair, of both files). */
  readonly checksum: string
  readonly checksumVersion: number
}

/** A loaded migration, whatever its file format (STYLE 2, loader). */
export interface MigrationDef {
  readonly revision: RevisionId
  /** [] = a root; more than one = a merge point. */
  readonly downRevisions: readonly RevisionId[]
  readonly dependsOn: readonly RevisionId[]
  readonly branchLabels: readonly string[]
  readonly description: string
  readonly transactional: boolean
  /** Per-migration server timeouts, in milliseconds (PostgreSQL `lock_timeout` / `statement_timeout`). */
  readonly timeouts?: MigrationTimeouts
  readonly file: MigrationFile
  up(op: OpBuilder): Promise<void> | void
  /** Absent when the migration has no down and no `change()`: it is irreversible. */
  readonly down?: (op: OpBuilder) => Promise<void> | void
  /** A data migration (SPEC S7): strata backs up before it whatever the policy; it has no down. */
  readonly data?: boolean
  /** An expand/contract migration (SPEC S7): `up` is its expand then backfill phase. */
  readonly phases?: MigrationPhases
  /** Fixture rows `strata test` inserts after the up (SPEC S6); never run on a real database. */
  readonly seed?: (op: OpBuilder) => Promise<void> | void
  /** Lint rules silenced for the whole migration: `-- strata:lint-ignore RULE, …` in an SQL header (SPEC S6). */
  readonly lintIgnore?: readonly string[]
  /** SQL migrations: the up/down sections as written, for `plan --sql` and lint. */
  readonly sql?: { readonly up: readonly SqlStatementText[]; readonly down?: readonly SqlStatementText[] }
}

/** One statement of an SQL migration with the line it starts on (1-based, in its file). */
export interface SqlStatementText {
  readonly sql: string
  readonly line: number
  readonly file: string
}

export interface MigrationTimeouts {
  readonly lockMs?: number
  readonly statementMs?: number
}

export type MigrationBody = (op: OpBuilder) => Promise<void> | void

/**
 * The phases of an expand/contract migration beyond `up` (expand + backfill, op by op). Contract
 * and abort run as one migration each, in a transaction when `transactional` and the engine allow.
 */
export interface MigrationPhases {
  /** How contract runs: in one transaction when the engine allows (the file's `transactional`). */
  readonly transactional: boolean
  /** How abort runs: as contract, but never in a transaction when it drops an index CONCURRENTLY. */
  readonly abortTransactional: boolean
  /** The expand ops as recorded when the file loaded (present when abort is derived from them). */
  readonly expandOps?: readonly Operation[]
  /** What `strata up` runs: expand, then backfill (the migration's `up` too). */
  readonly expand: MigrationBody
  /** `strata complete REV`. */
  readonly contract: MigrationBody
  /** `strata abort REV`: the file's abort, or the reverse of the expand ops, newest first. */
  readonly abort: MigrationBody
  /**
   * The abort of an expand that stopped part-way: the reverse of the expand ops `done` lists (by
   * op index) only. Absent when the file has its own abort, which then runs whole.
   */
  readonly abortPart?: (done: ReadonlySet<number>) => MigrationBody
  /** The reverse of the contract ops, when each has one: how a completed revision steps back to expanded. */
  readonly uncontract?: MigrationBody
}
