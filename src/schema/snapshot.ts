/**
 * The live schema as a value (SPEC S4 drift, S5 validation, S6 round trips). Introspectors
 * produce it; diff and fingerprint compare it. Names are as the engine reports them; the
 * tables strata owns (`strata_*`) are never part of a snapshot.
 */
export interface ColumnSnapshot {
  readonly name: string
  /** The declared type as the engine reports it (e.g. `TEXT`, `varchar(20)`). */
  readonly type: string
  readonly nullable: boolean
  /** The default as SQL text, or null when there is none. */
  readonly default: string | null
  /** 1-based position in the primary key, 0 when not part of it. */
  readonly primaryKey: number
  readonly autoIncrement?: boolean
}

export interface IndexSnapshot {
  readonly name: string
  readonly columns: readonly string[]
  readonly unique: boolean
  /** The partial-index predicate, or null. */
  readonly where: string | null
  /** The engine's own definition, when it keeps one (SQLite `sqlite_master.sql`). */
  readonly sql?: string | null
}

export type ConstraintKind = 'primaryKey' | 'unique' | 'check' | 'foreignKey'

export interface ConstraintSnapshot {
  /** Null for an unnamed constraint (SQLite allows them). */
  readonly name: string | null
  readonly kind: ConstraintKind
  readonly columns: readonly string[]
  readonly expression?: string
  readonly refTable?: string
  readonly refColumns?: readonly string[]
  readonly onDelete?: string
  readonly onUpdate?: string
}

export interface TableSnapshot {
  readonly name: string
  readonly columns: readonly ColumnSnapshot[]
  readonly indexes: readonly IndexSnapshot[]
  readonly constraints: readonly ConstraintSnapshot[]
  /** The engine's own CREATE statement, when it keeps one (SQLite). */
  readonly sql?: string | null
}

export interface ViewSnapshot {
  readonly name: string
  readonly sql: string
}

export interface TriggerSnapshot {
  readonly name: string
  readonly table: string
  readonly sql: string
}

export interface SchemaSnapshot {
  readonly tables: readonly TableSnapshot[]
  readonly views: readonly ViewSnapshot[]
  readonly triggers: readonly TriggerSnapshot[]
}
