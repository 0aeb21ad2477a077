/**
 * Operations are plain, frozen, JSON-serialisable data (SPEC S3). `op.*` calls build them;
 * SQL exists only in the dialect compilers.
 */

/** A literal bound as a parameter, or `{ sql }` for an expression passed through as written. */
export type Value = string | number | bigint | boolean | null | Uint8Array | { readonly sql: string }

export interface ForeignKeyRef {
  readonly table: string
  readonly column: string
  readonly onDelete?: string
  readonly onUpdate?: string
}

/**
 * A column definition. `type` is portable (integer bigint text varchar(n) boolean real
 * numeric(p,s) date timestamp json blob uuid) or any engine type, passed through.
 */
export interface ColumnDef {
  readonly name: string
  readonly type: string
  readonly nullable?: boolean
  readonly default?: Value
  readonly primaryKey?: boolean
  readonly autoIncrement?: boolean
  readonly unique?: boolean
  readonly references?: ForeignKeyRef
}

/** What `alterColumn` changes; an absent key keeps the current property. */
export interface ColumnChange {
  readonly type?: string
  readonly nullable?: boolean
  /** `null` removes the default. */
  readonly default?: Value
  /** Expression converting old values to the new type (PostgreSQL `USING`; SQLite copies with it). */
  readonly using?: string
}

export interface IndexOptions {
  readonly unique?: boolean
  readonly where?: string
  readonly concurrently?: boolean
  readonly ifNotExists?: boolean
}

export interface ForeignKeyOptions {
  readonly onDelete?: string
  readonly onUpdate?: string
}

export type Operation =
  | { readonly kind: 'createTable'; readonly table: string; readonly columns: readonly ColumnDef[]; readonly primaryKey?: readonly string[]; readonly ifNotExists?: boolean }
  | { readonly kind: 'dropTable'; readonly table: string; readonly ifExists?: boolean }
  | { readonly kind: 'renameTable'; readonly from: string; readonly to: string }
  | { readonly kind: 'addColumn'; readonly table: string; readonly column: ColumnDef }
  | { readonly kind: 'dropColumn'; readonly table: string; readonly column: string }
  | { readonly kind: 'renameColumn'; readonly table: string; readonly from: string; readonly to: string }
  | { readonly kind: 'alterColumn'; readonly table: string; readonly column: string; readonly change: ColumnChange }
  | ({ readonly kind: 'createIndex'; readonly name: string; readonly table: string; readonly columns: readonly string[] } & IndexOptions)
  | { readonly kind: 'dropIndex'; readonly name: string; readonly table?: string; readonly concurrently?: boolean; readonly ifExists?: boolean }
  | { readonly kind: 'addUniqueConstraint'; readonly name: string; readonly table: string; readonly columns: readonly string[] }
  | { readonly kind: 'addCheckConstraint'; readonly name: string; readonly table: string; readonly expression: string }
  | ({ readonly kind: 'addForeignKey'; readonly name: string; readonly table: string; readonly columns: readonly string[]; readonly refTable: string; readonly refColumns: readonly string[] } & ForeignKeyOptions)
  | { readonly kind: 'dropConstraint'; readonly name: string; readonly table: string }
  | { readonly kind: 'execute'; readonly sql: string; readonly params: readonly Value[] }
  | { readonly kind: 'batchAlterTable'; readonly table: string; readonly ops: readonly BatchOperation[] }
  | BackfillOp

/**
 * `op.backfill` (SPEC S7): rows of `table` updated in keyset batches by `key`, each batch its own
 * transaction with a checkpoint. `set` gives the new values (bound, or `{ sql }` expressions);
 * `transform: true` means a function computes them per row (kept beside the op, which stays data).
 */
export interface BackfillOp {
  readonly kind: 'backfill'
  readonly table: string
  readonly key: string
  readonly set?: Readonly<Record<string, Value>>
  readonly transform?: true
  readonly where?: string
  readonly batchSize: number
  readonly throttleMs: number
  readonly maxBatchMs: number
}

export type OpKind = Operation['kind']
export type OpOf<K extends OpKind> = Extract<Operation, { kind: K }>

/** The ops a `batchAlterTable` may group: each bound to the batch's table. */
export type BatchOperation = OpOf<
  | 'addColumn'
  | 'dropColumn'
  | 'alterColumn'
  | 'renameColumn'
  | 'createIndex'
  | 'dropIndex'
  | 'addUniqueConstraint'
  | 'addCheckConstraint'
  | 'addForeignKey'
  | 'dropConstraint'
>

/** Freezes an operation deeply so recorded plans cannot be altered after the fact. */
export function freezeOp<T extends Operation>(op: T): T {
  deepFreeze(op)
  return op
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return
  if (value instanceof Uint8Array) return
  for (const child of Object.values(value)) deepFreeze(child)
  Object.freeze(value)
}
