/**
 * The values lint works with (SPEC S6): findings, severities, and the normalised "facts" that
 * structured ops and parsed SQL statements both reduce to, so every rule is written once for
 * both kinds of migration.
 */

export type LintSeverity = 'error' | 'warning' | 'info'

/** A rule's level as config `lint.rules` sets it; `off` silences the rule everywhere. */
export type RuleSetting = LintSeverity | 'off'

/** Which body of a migration is linted. Data-loss rules report at `info` in a down. */
export type LintDirection = 'up' | 'down'

/** The body a finding is in: an up or down, or a phase of an expand/contract migration (SPEC S7). */
export type LintBodyName = 'up' | 'down' | 'contract' | 'abort'

/** One problem lint found, as `strata lint --json` prints it. */
export interface LintFinding {
  readonly rule: string
  readonly severity: LintSeverity
  readonly revision: string
  /** The migration file, relative to the working directory (for a pair's down: the `.down.sql`). */
  readonly file: string
  /**
   * 1-based line of the SQL statement the finding is about. `null` for op-based (TypeScript)
   * migrations, whose ops have no line (the message names the op by its 1-based position, e.g.
   * `op #3 dropColumn`), and for findings about the migration as a whole (`irreversible`).
   */
  readonly line: number | null
  readonly message: string
}

/** Lower ranks first: `info` < `warning` < `error`. */
export const SEVERITY_RANK: Readonly<Record<LintSeverity, number>> = { info: 0, warning: 1, error: 2 }

/** The findings at `level` or above: those that make `strata lint --fail-on level` exit 1. */
export function findingsAtOrAbove(findings: readonly LintFinding[], level: LintSeverity): LintFinding[] {
  return findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[level])
}

/** A foreign key as lint sees it: names lower-cased, `onDelete` lower-cased (`cascade`) or null. */
export interface ForeignKeyFact {
  readonly name: string | null
  readonly columns: readonly string[]
  readonly refTable: string
  readonly refColumns: readonly string[]
  readonly onDelete: string | null
}

export interface ColumnFact {
  readonly name: string
  /** The declared type as written (`varchar(255)`, `INT`), or null when unknown. */
  readonly type: string | null
  readonly notNull: boolean
  /** A default, or a value the engine generates (serial, identity, AUTO_INCREMENT, GENERATED). */
  readonly hasDefault: boolean
  readonly primaryKey: boolean
  readonly unique: boolean
  readonly references: ForeignKeyFact | null
}

export interface IndexFact {
  readonly name: string | null
  /** Column names; an expression is kept as `(expr)`, which no foreign key column matches. */
  readonly columns: readonly string[]
  readonly unique: boolean
}

/**
 * What one op or statement does to the schema or the data. Table and column names are as
 * written, without quotes or schema prefix; the schema model compares them case-insensitively.
 */
export type Fact =
  | {
      readonly kind: 'createTable'
      readonly table: string
      readonly columns: readonly ColumnFact[]
      readonly primaryKey: readonly string[]
      readonly indexes: readonly IndexFact[]
      readonly foreignKeys: readonly ForeignKeyFact[]
    }
  | { readonly kind: 'dropTable'; readonly table: string }
  | { readonly kind: 'renameTable'; readonly from: string; readonly to: string }
  | { readonly kind: 'addColumn'; readonly table: string; readonly column: ColumnFact }
  | { readonly kind: 'dropColumn'; readonly table: string; readonly column: string }
  | { readonly kind: 'renameColumn'; readonly table: string; readonly from: string; readonly to: string }
  | {
      readonly kind: 'alterColumn'
      readonly table: string
      readonly column: string
      /** The new type when the change sets one, else null. */
      readonly type: string | null
      /**
       * MySQL `MODIFY`/`CHANGE` restate the whole column, type included, whether or not it
       * changes: the schema model's known type decides whether it is a type change.
       */
      readonly restated?: boolean
      readonly notNull?: boolean
    }
  | ({ readonly kind: 'createIndex'; readonly table: string; readonly concurrently: boolean } & IndexFact)
  | { readonly kind: 'dropIndex'; readonly name: string; readonly table: string | null }
  | { readonly kind: 'addForeignKey'; readonly table: string; readonly foreignKey: ForeignKeyFact }
  /** A unique or primary-key constraint (an index that foreign keys can lead with). */
  | { readonly kind: 'addKey'; readonly table: string; readonly index: IndexFact; readonly primaryKey: boolean }
  | { readonly kind: 'addCheck'; readonly table: string }
  | { readonly kind: 'dropConstraint'; readonly table: string; readonly name: string }
  /** SQLite: the op compiles to the table-rebuild procedure (new table, copy, drop, rename). */
  | { readonly kind: 'rebuild'; readonly table: string; readonly cause: string }
  | { readonly kind: 'data'; readonly verb: 'insert' | 'update' | 'delete'; readonly table: string | null }
  /** Any other schema change (view, trigger, function, type, extension, …), by its statement kind. */
  | { readonly kind: 'ddl'; readonly what: string }
  /** Neither schema nor data: SELECT, SET, PRAGMA, transaction control, … */
  | { readonly kind: 'other'; readonly what: string }

export type FactKind = Fact['kind']
export type FactOf<K extends FactKind> = Extract<Fact, { kind: K }>

/** Whether a fact changes the schema (what `ddl-with-backfill` and `mysql-mixed-ddl-dml` count). */
export function isSchemaChange(fact: Fact): boolean {
  return fact.kind !== 'data' && fact.kind !== 'other'
}

/** Where a finding points: one op or one SQL statement of a migration. */
export interface Anchor {
  /** The file, relative to the working directory. */
  readonly file: string
  /** The statement's first line (SQL); null for an op of a TypeScript migration. */
  readonly line: number | null
  /** `sql`: a statement of an SQL file; `op`: an op (`op.execute` SQL included) of a module. */
  readonly source: 'sql' | 'op'
  /** How messages name it when there is no line: `op #3 dropColumn`. */
  readonly label: string | null
  /** Rules silenced for this op or statement (`-- strata:lint-ignore`, `op.lintIgnore`). */
  readonly ignores: ReadonlySet<string>
}

/** One op or statement with what it does; `facts` null when it could not be read (`unparsed`). */
export interface Step {
  readonly anchor: Anchor
  readonly facts: readonly Fact[] | null
  /** Why `facts` is null: the parser's message, or the error recording the ops threw. */
  readonly problem?: string
}
