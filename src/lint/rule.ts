import type { Capabilities, DialectName } from '../dialects/dialect.js'
import type { MigrationDef } from '../loader/migration.js'
import type { SchemaModel } from './schema-model.js'
import type { Anchor, Fact, LintDirection, LintSeverity, Step } from './types.js'

/** What every rule sees about the migration body being linted. */
export interface BodyInfo {
  readonly dialect: DialectName
  readonly capabilities: Capabilities
  readonly migration: MigrationDef
  readonly direction: LintDirection
  /** Identifies this body (revision and direction) in the schema model: what it created. */
  readonly scope: string
}

export interface FactContext extends BodyInfo {
  /** The schema just before the fact. */
  readonly model: SchemaModel
  /** The op or statement the fact belongs to. */
  readonly step: Step
}

export interface BodyContext extends BodyInfo {
  readonly steps: readonly Step[]
  /** The schema after the whole body. */
  readonly model: SchemaModel
}

/** One thing a rule found. */
export interface RuleHit {
  readonly message: string
  /** Where it points: a fact's hit defaults to its step; a body's hit with none is about the whole migration. */
  readonly anchor?: Anchor
  /** Hits of one rule at one anchor with the same key are reported once (default: the message). */
  readonly key?: string
}

/**
 * A lint rule (SPEC S6): an id, a default severity, and checks over facts. `checkFact` runs for
 * each fact of each op or statement, in order, against the schema as it is just before it;
 * `checkBody` runs once per migration body (up or down), after all its facts. Rules are pure.
 */
export interface LintRule {
  readonly id: string
  readonly severity: LintSeverity
  /** Data-loss rules report at `info` in a down, which exists to remove things. */
  readonly dataLoss?: boolean
  /** One line for the README and `--help`: what the rule fires on. */
  readonly description: string
  checkFact?(fact: Fact, ctx: FactContext): RuleHit | null
  checkBody?(ctx: BodyContext): readonly RuleHit[]
}

/**
 * The table a fact makes SQLite rebuild (new table, copy, drop, rename), or null. An op's
 * `rebuild` fact says so; a `dropColumn` op rebuilds when the column is part of an index, key
 * or foreign key (the compiler cannot `ALTER TABLE DROP COLUMN` it). Raw SQL never rebuilds:
 * SQLite runs it as written.
 */
export function sqliteRebuiltTable(fact: Fact, ctx: FactContext): string | null {
  if (ctx.capabilities.alterColumnInPlace) return null
  if (fact.kind === 'rebuild') return fact.table
  if (fact.kind === 'dropColumn' && ctx.step.anchor.source === 'op' && ctx.model.columnIsKeyed(fact.table, fact.column)) return fact.table
  return null
}

/** `` `users` `` — how messages quote names. */
export function q(name: string): string {
  return `\`${name}\``
}
