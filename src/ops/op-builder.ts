import { StrataError } from '../errors/index.js'
import {
  freezeOp,
  type BatchOperation,
  type ColumnChange,
  type ColumnDef,
  type ForeignKeyOptions,
  type IndexOptions,
  type Operation,
  type Value,
} from './operation.js'

/** The `op` object handed to a migration's `up` / `down` / `change` (SPEC S3). */
export interface OpBuilder {
  /** The dialect the migration runs on: `sqlite`, `postgres` or `mysql`. */
  readonly dialect: string
  createTable(name: string, columns: readonly ColumnDef[], options?: { primaryKey?: readonly string[]; ifNotExists?: boolean }): void
  dropTable(name: string, options?: { ifExists?: boolean }): void
  renameTable(from: string, to: string): void
  addColumn(table: string, column: ColumnDef): void
  dropColumn(table: string, name: string): void
  renameColumn(table: string, from: string, to: string): void
  alterColumn(table: string, name: string, change: ColumnChange): void
  createIndex(name: string, table: string, columns: readonly string[], options?: IndexOptions): void
  dropIndex(name: string, options?: { table?: string; concurrently?: boolean; ifExists?: boolean }): void
  addUniqueConstraint(name: string, table: string, columns: readonly string[]): void
  addCheckConstraint(name: string, table: string, expression: string): void
  addForeignKey(name: string, table: string, columns: readonly string[], refTable: string, refColumns: readonly string[], options?: ForeignKeyOptions): void
  dropConstraint(name: string, table: string): void
  /** Raw SQL with `?` placeholders on every engine. */
  execute(sql: string, params?: readonly Value[]): void
  /** Reads from the database; every op recorded before it has run by the time it reads. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly Value[]): Promise<T[]>
  batchAlterTable(table: string, build: (batch: BatchBuilder) => void): void
  /** Updates existing rows in checkpointed keyset batches (SPEC S7); needs `transactional: false`. */
  backfill(options: BackfillOptions): void
  /**
   * Silences the named lint rules (SPEC S6) for the next op only, as
   * `-- strata:lint-ignore RULE` does for the next SQL statement. Running the migration ignores it.
   *
   * ```ts
   * op.lintIgnore('drop-column')
   * op.dropColumn('users', 'legacy_flag')
   * ```
   */
  lintIgnore(...rules: string[]): void
}

/** What `op.backfill` takes (SPEC S3, S7). */
export interface BackfillOptions {
  readonly table: string
  /** The unique, ordered column batches page by (default `id`). */
  readonly key?: string
  /** New values: bound values, or `{ sql }` expressions over the row (`{ sql: 'upper(title)' }`). */
  readonly set?: Readonly<Record<string, Value>>
  /** Computes the new values of one row; returns the columns to change (nothing: leave it). */
  readonly transform?: BackfillTransform
  /** Only rows matching this SQL condition. */
  readonly where?: string
  /** Rows of the first batch (default 1000); later batches adapt to `maxBatchMs`. */
  readonly batchSize?: number
  /** Pause between batches, for the application's own writes (default 0). */
  readonly throttleMs?: number
  /** The longest a batch may hold its write lock, in ms (default 100). */
  readonly maxBatchMs?: number
}

export type BackfillTransform = (row: Record<string, unknown>) => Record<string, Value> | null | undefined | Promise<Record<string, Value> | null | undefined>

const TRANSFORMS = new WeakMap<Operation, BackfillTransform>()

/** The row function of a `backfill` op built with `transform`. */
export function backfillTransform(op: Operation): BackfillTransform | undefined {
  return TRANSFORMS.get(op)
}

/** The table-bound ops of `op.batchAlterTable` (SPEC S3). */
export interface BatchBuilder {
  addColumn(column: ColumnDef): void
  dropColumn(name: string): void
  alterColumn(name: string, change: ColumnChange): void
  renameColumn(from: string, to: string): void
  createIndex(name: string, columns: readonly string[], options?: IndexOptions): void
  dropIndex(name: string): void
  addUniqueConstraint(name: string, columns: readonly string[]): void
  addCheckConstraint(name: string, expression: string): void
  addForeignKey(name: string, columns: readonly string[], refTable: string, refColumns: readonly string[], options?: ForeignKeyOptions): void
  dropConstraint(name: string): void
}

/** Where recorded ops go: the runner executes them, the offline planner only collects them. */
export interface OpSink {
  readonly dialect: string
  push(op: Operation): void
  query(sql: string, params: readonly Value[]): Promise<unknown[]>
  /** `op.lintIgnore(…)`: the rules to silence for the next pushed op. Only the lint recorder needs it. */
  lintIgnore?(rules: readonly string[]): void
}

/** Lets a derived down() (from `change()`) push already-built ops into a builder. */
export const REPLAY = Symbol.for('strata-migrate.replay')

export function createOpBuilder(sink: OpSink): OpBuilder {
  const push = (op: Operation): void => sink.push(freezeOp(op))
  const builder: OpBuilder & { [REPLAY]: (op: Operation) => void } = {
    [REPLAY]: push,
    dialect: sink.dialect,
    createTable(table, columns, options = {}) {
      name('table', table)
      if (!Array.isArray(columns) || columns.length === 0) bad(`createTable('${table}') needs at least one column`)
      columns.forEach(checkColumn)
      push({ kind: 'createTable', table, columns: columns.map(copyColumn), ...pick(options, ['primaryKey', 'ifNotExists']) })
    },
    dropTable(table, options = {}) {
      name('table', table)
      push({ kind: 'dropTable', table, ...pick(options, ['ifExists']) })
    },
    renameTable(from, to) {
      name('table', from), name('table', to)
      push({ kind: 'renameTable', from, to })
    },
    addColumn: (table, column) => push(bind(table, addColumn(column))),
    dropColumn: (table, column) => push(bind(table, dropColumn(column))),
    renameColumn: (table, from, to) => push(bind(table, renameColumn(from, to))),
    alterColumn: (table, column, change) => push(bind(table, alterColumn(column, change))),
    createIndex: (index, table, columns, options) => push(bind(table, createIndex(index, columns, options))),
    dropIndex(index, options = {}) {
      name('index', index)
      if (options.table !== undefined) name('table', options.table)
      push({ kind: 'dropIndex', name: index, ...pick(options, ['table', 'concurrently', 'ifExists']) })
    },
    addUniqueConstraint: (constraint, table, columns) => push(bind(table, addUnique(constraint, columns))),
    addCheckConstraint: (constraint, table, expression) => push(bind(table, addCheck(constraint, expression))),
    addForeignKey: (constraint, table, columns, refTable, refColumns, options) =>
      push(bind(table, addForeignKey(constraint, columns, refTable, refColumns, options))),
    dropConstraint: (constraint, table) => push(bind(table, dropConstraint(constraint))),
    execute(sql, params = []) {
      if (typeof sql !== 'string' || sql.trim() === '') bad('op.execute() needs a SQL string')
      push({ kind: 'execute', sql, params: [...params] })
    },
    query<T>(sql: string, params: readonly Value[] = []) {
      if (typeof sql !== 'string' || sql.trim() === '') bad('op.query() needs a SQL string')
      return sink.query(sql, params) as Promise<T[]>
    },
    batchAlterTable(table, build) {
      name('table', table)
      const ops: BatchOperation[] = []
      const add = (op: Unbound): void => void ops.push(bind(table, op))
      build({
        addColumn: (column) => add(addColumn(column)),
        dropColumn: (column) => add(dropColumn(column)),
        alterColumn: (column, change) => add(alterColumn(column, change)),
        renameColumn: (from, to) => add(renameColumn(from, to)),
        createIndex: (index, columns, options) => add(createIndex(index, columns, options)),
        dropIndex: (index) => add({ kind: 'dropIndex', name: name('index', index) }),
        addUniqueConstraint: (constraint, columns) => add(addUnique(constraint, columns)),
        addCheckConstraint: (constraint, expression) => add(addCheck(constraint, expression)),
        addForeignKey: (constraint, columns, refTable, refColumns, options) =>
          add(addForeignKey(constraint, columns, refTable, refColumns, options)),
        dropConstraint: (constraint) => add(dropConstraint(constraint)),
      })
      if (ops.length > 0) push({ kind: 'batchAlterTable', table, ops })
    },
    backfill(options) {
      if (options === null || typeof options !== 'object') bad('op.backfill() needs an options object: { table, set | transform }')
      name('table', options.table)
      const key = options.key ?? 'id'
      name('key column', key)
      const hasSet = options.set !== undefined
      const hasTransform = options.transform !== undefined
      if (hasSet === hasTransform) bad(`op.backfill('${options.table}') needs exactly one of \`set\` and \`transform\``)
      if (hasTransform && typeof options.transform !== 'function') bad('op.backfill(): `transform` must be a function of the row')
      if (hasSet && (typeof options.set !== 'object' || Object.keys(options.set ?? {}).length === 0)) bad('op.backfill(): `set` needs at least one column')
      for (const column of Object.keys(options.set ?? {})) name('column', column)
      const positive = (value: number | undefined, fallback: number, what: string, zero = false): number => {
        const n = value ?? fallback
        if (!Number.isFinite(n) || n < (zero ? 0 : 1)) bad(`op.backfill(): \`${what}\` must be a ${zero ? 'non-negative' : 'positive'} number`)
        return Math.floor(n)
      }
      const op = freezeOp({
        kind: 'backfill' as const,
        table: options.table,
        key,
        ...(hasSet ? { set: { ...options.set } } : { transform: true as const }),
        ...(options.where !== undefined ? { where: options.where } : {}),
        batchSize: positive(options.batchSize, 1000, 'batchSize'),
        throttleMs: positive(options.throttleMs, 0, 'throttleMs', true),
        maxBatchMs: positive(options.maxBatchMs, 100, 'maxBatchMs'),
      })
      if (options.transform) TRANSFORMS.set(op, options.transform)
      sink.push(op)
    },
    lintIgnore(...rules) {
      if (rules.length === 0) bad('op.lintIgnore() needs at least one rule id, e.g. op.lintIgnore(\'drop-column\')')
      for (const rule of rules) name('lint rule', rule)
      sink.lintIgnore?.(rules)
    },
  }
  return builder
}

type Unbound = DistributiveOmit<BatchOperation, 'table'>
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function bind(table: string, op: Unbound): BatchOperation {
  name('table', table)
  // dropIndex carries its table as an option; every other batch op requires it.
  return { ...op, table } as BatchOperation
}

const addColumn = (column: ColumnDef): Unbound => (checkColumn(column), { kind: 'addColumn', column: copyColumn(column) })
const dropColumn = (column: string): Unbound => ({ kind: 'dropColumn', column: name('column', column) })
const renameColumn = (from: string, to: string): Unbound => ({ kind: 'renameColumn', from: name('column', from), to: name('column', to) })

function alterColumn(column: string, change: ColumnChange): Unbound {
  name('column', column)
  const keys = ['type', 'nullable', 'default', 'using'] as const
  if (change === null || typeof change !== 'object' || !keys.some((k) => k in change)) {
    bad(`alterColumn('${column}') needs at least one of: ${keys.join(', ')}`)
  }
  return { kind: 'alterColumn', column, change: pick(change, keys) }
}

function createIndex(index: string, columns: readonly string[], options: IndexOptions = {}): Unbound {
  name('index', index)
  names('index columns', columns)
  return { kind: 'createIndex', name: index, columns: [...columns], ...pick(options, ['unique', 'where', 'concurrently', 'ifNotExists']) }
}

const addUnique = (constraint: string, columns: readonly string[]): Unbound => (
  names('constraint columns', columns), { kind: 'addUniqueConstraint', name: name('constraint', constraint), columns: [...columns] }
)

function addCheck(constraint: string, expression: string): Unbound {
  if (typeof expression !== 'string' || expression.trim() === '') bad(`check constraint '${constraint}' needs an expression`)
  return { kind: 'addCheckConstraint', name: name('constraint', constraint), expression }
}

function addForeignKey(
  constraint: string,
  columns: readonly string[],
  refTable: string,
  refColumns: readonly string[],
  options: ForeignKeyOptions = {},
): Unbound {
  names('foreign key columns', columns)
  names('referenced columns', refColumns)
  if (columns.length !== refColumns.length) bad(`foreign key '${constraint}' has ${columns.length} columns but references ${refColumns.length}`)
  return {
    kind: 'addForeignKey',
    name: name('constraint', constraint),
    columns: [...columns],
    refTable: name('table', refTable),
    refColumns: [...refColumns],
    ...pick(options, ['onDelete', 'onUpdate']),
  }
}

const dropConstraint = (constraint: string): Unbound => ({ kind: 'dropConstraint', name: name('constraint', constraint) })

function checkColumn(column: ColumnDef): void {
  if (column === null || typeof column !== 'object') bad('a column must be an object like { name, type }')
  name('column', column.name)
  if (typeof column.type !== 'string' || column.type.trim() === '') bad(`column '${column.name}' needs a type`)
}

function copyColumn(column: ColumnDef): ColumnDef {
  return pick(column, ['name', 'type', 'nullable', 'default', 'primaryKey', 'autoIncrement', 'unique', 'references'])
}

function name(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) bad(`a ${what} name must be a non-empty string, got ${JSON.stringify(value)}`)
  return value as string
}

function names(what: string, values: unknown): void {
  if (!Array.isArray(values) || values.length === 0) bad(`${what} must be a non-empty list of names`)
  for (const v of values as unknown[]) name('column', v)
}

/** Copies only the defined keys, so ops stay minimal and JSON round-trips unchanged. */
function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key]
  return out
}

function bad(message: string): never {
  throw new StrataError('E_MIGRATION_FILE', message, { hint: 'fix the op call in the migration; see SPEC S3 for the signatures' })
}
