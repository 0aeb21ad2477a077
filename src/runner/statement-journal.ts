import { StrataError, isStrataError } from '../errors/index.js'
import type { MigrationDef } from '../loader/migration.js'
import type { CompileContext, Connection, Dialect, Statement } from '../dialects/dialect.js'
import type { ColumnDef, Operation, Value } from '../ops/operation.js'
import { describeOp, reverse } from '../ops/reverse.js'
import { diffSchemas } from '../schema/diff.js'
import type { SchemaSnapshot, TableSnapshot } from '../schema/snapshot.js'
import type { ExecutedStatement } from './execute-migration.js'
import { inverseSql } from './inverse-sql.js'

interface Entry {
  readonly op: Operation
  /** The live tables the op touches, read just before it ran (for inverses that need them). */
  readonly prior: ReadonlyMap<string, TableSnapshot>
  readonly statements: ExecutedStatement[]
  done: boolean
}

type Inverse = { readonly ops: readonly Operation[]; readonly notes: readonly string[] } | { readonly reason: string }

export interface UndoOutcome {
  /** Every committed statement was undone and the schema equals the one before the migration. */
  readonly ok: boolean
  readonly ran: readonly string[]
  readonly undone: readonly string[]
  /** What the undo could not give back (data of dropped columns and tables). */
  readonly notes: readonly string[]
  /** Why the undo stopped (when not ok). */
  readonly stopped?: string
}

/**
 * The statement journal of one non-transactional migration on an engine without transactional
 * DDL (SPEC S4, MySQL): records each committed statement with its op, and on failure applies the
 * inverse of each committed op, newest first, then checks the schema equals the one before the
 * migration.
 */
export class StatementJournal {
  readonly #dialect: Dialect
  readonly #tablePrefix: string
  readonly #entries: Entry[] = []
  #before: SchemaSnapshot | undefined

  constructor(dialect: Dialect, tablePrefix: string) {
    this.#dialect = dialect
    this.#tablePrefix = tablePrefix
  }

  /** Reads the schema before the migration. */
  async start(conn: Connection): Promise<void> {
    this.#before = await this.#dialect.introspect(conn, this.#tablePrefix)
  }

  /** Hooks for executeMigration. */
  readonly beforeOp = async (op: Operation, conn: Connection): Promise<void> => {
    const names = priorTables(op)
    const prior = names.length > 0 ? await this.#dialect.inspectTables(conn, names) : new Map<string, TableSnapshot>()
    this.#entries.push({ op, prior, statements: [], done: false })
  }

  readonly afterOp = (): void => {
    const last = this.#entries.at(-1)
    if (last) last.done = true
  }

  record(statement: ExecutedStatement): void {
    this.#entries.at(-1)?.statements.push(statement)
  }

  /** Undoes the committed statements, newest first; never throws. */
  async undo(conn: Connection): Promise<UndoOutcome> {
    const committed = this.#entries.filter((e) => e.statements.length > 0)
    const ran = committed.flatMap((e) => e.statements.map((s) => s.sql))
    const undone: string[] = []
    const notes: string[] = []
    const plan: Operation[] = []
    for (const entry of [...committed].reverse()) {
      const inverse = this.#inverseOf(entry)
      if ('reason' in inverse) return { ok: false, ran, undone, notes, stopped: `no inverse is known for ${describeOp(entry.op)}: ${inverse.reason}` }
      plan.push(...inverse.ops)
      notes.push(...inverse.notes)
    }
    for (const op of plan) {
      let statements: readonly Statement[]
      try {
        statements = compileOp(this.#dialect, op, await liveContext(this.#dialect, conn, op))
      } catch (error) {
        return { ok: false, ran, undone, notes, stopped: `cannot ${describeOp(op)}: ${messageOf(error)}` }
      }
      for (const stmt of statements) {
        try {
          await conn.execute(stmt)
        } catch (error) {
          return { ok: false, ran, undone, notes, stopped: `undoing with \`${stmt.sql}\` failed: ${messageOf(error)}` }
        }
        undone.push(stmt.sql)
      }
    }
    if (this.#before) {
      try {
        const after = await this.#dialect.introspect(conn, this.#tablePrefix)
        const changes = diffSchemas(this.#before, after)
        if (changes.length > 0) {
          const list = changes.map((c) => `${c.kind} ${c.name} ${c.change}`).join(', ')
          return { ok: false, ran, undone, notes, stopped: `after the undo the schema still differs from the one before the migration: ${list}` }
        }
      } catch (error) {
        return { ok: false, ran, undone, notes, stopped: `cannot check the schema after the undo: ${messageOf(error)}` }
      }
    }
    return { ok: true, ran, undone, notes }
  }

  #inverseOf(entry: Entry): Inverse {
    const { op } = entry
    if (entry.done) return inverseOp(op, entry.prior)
    // The op failed part-way: only a batch can be undone, inner op by inner op.
    if (op.kind !== 'batchAlterTable') return { reason: 'it only partly ran' }
    const ctx: CompileContext = { table: (name) => entry.prior.get(name) }
    let count = 0
    let inner = 0
    try {
      while (count < entry.statements.length && inner < op.ops.length) {
        inner++
        count = compileOp(this.#dialect, { ...op, ops: op.ops.slice(0, inner) }, ctx).length
      }
    } catch (error) {
      return { reason: `cannot tell which of its ops ran: ${messageOf(error)}` }
    }
    if (count !== entry.statements.length) return { reason: 'one of its ops only partly ran' }
    return inverseOp({ ...op, ops: op.ops.slice(0, inner) }, entry.prior)
  }
}

/** Tables whose live definition an op's inverse needs (read before the op runs). */
function priorTables(op: Operation): string[] {
  switch (op.kind) {
    case 'dropTable':
    case 'dropColumn':
    case 'alterColumn':
    case 'dropConstraint':
    case 'batchAlterTable':
      return [op.table]
    case 'dropIndex':
      return op.table ? [op.table] : []
    default:
      return []
  }
}

/** The ops that undo `op`, given the tables as they were before it. */
export function inverseOp(op: Operation, prior: ReadonlyMap<string, TableSnapshot>): Inverse {
  const table = 'table' in op && typeof op.table === 'string' ? prior.get(op.table) : undefined
  const missing = (what: string): Inverse => ({ reason: `${what} was not found in the live table before the op` })
  switch (op.kind) {
    case 'execute': {
      if (op.params.length > 0) return { reason: 'a statement with parameters has no derived inverse' }
      const inverse = inverseSql(op.sql)
      return 'reason' in inverse ? inverse : { ops: [{ kind: 'execute', sql: inverse.sql, params: [] }], notes: [] }
    }
    case 'dropColumn': {
      const column = table?.columns.find((c) => c.name === op.column)
      if (!table || !column) return missing(`column ${op.table}.${op.column}`)
      if (column.primaryKey > 0) return { reason: 'the column was part of the primary key' }
      const keyed = [...table.indexes, ...table.constraints].find((k) => k.columns.includes(op.column))
      if (keyed) return { reason: `the column was part of ${keyed.name ?? 'a constraint'}, which dropping it changed` }
      const def: ColumnDef = {
        name: column.name, type: column.type, nullable: column.nullable,
        ...(column.default !== null ? { default: { sql: column.default } } : {}),
      }
      return { ops: [{ kind: 'addColumn', table: op.table, column: def }], notes: [`column ${op.table}.${op.column} was recreated empty: its values cannot be restored`] }
    }
    case 'alterColumn': {
      const column = table?.columns.find((c) => c.name === op.column)
      if (!column) return missing(`column ${op.table}.${op.column}`)
      if (op.change.using) return { reason: 'USING rewrote the values, which cannot be undone' }
      const back: Value = column.default === null ? null : { sql: column.default }
      return { ops: [{ kind: 'alterColumn', table: op.table, column: op.column, change: { type: column.type, nullable: column.nullable, default: back } }], notes: [] }
    }
    case 'dropIndex': {
      const tableName = op.table
      if (!tableName || !table) return { reason: 'the op does not name its table' }
      const index = table.indexes.find((i) => i.name === op.name)
      const unique = table.constraints.find((c) => c.kind === 'unique' && c.name === op.name)
      if (index && index.where === null) return { ops: [{ kind: 'createIndex', name: op.name, table: tableName, columns: index.columns, ...(index.unique ? { unique: true } : {}) }], notes: [] }
      if (unique) return { ops: [{ kind: 'createIndex', name: op.name, table: tableName, columns: unique.columns, unique: true }], notes: [] }
      return missing(`index ${op.name}`)
    }
    case 'dropConstraint': {
      const c = table?.constraints.find((k) => k.name === op.name)
      if (!c) return missing(`constraint ${op.name}`)
      if (c.kind === 'unique') return { ops: [{ kind: 'addUniqueConstraint', name: op.name, table: op.table, columns: c.columns }], notes: [] }
      if (c.kind === 'check' && c.expression) return { ops: [{ kind: 'addCheckConstraint', name: op.name, table: op.table, expression: c.expression }], notes: [] }
      if (c.kind === 'foreignKey' && c.refTable && c.refColumns) {
        return { ops: [{ kind: 'addForeignKey', name: op.name, table: op.table, columns: c.columns, refTable: c.refTable, refColumns: c.refColumns, ...(c.onDelete ? { onDelete: c.onDelete } : {}), ...(c.onUpdate ? { onUpdate: c.onUpdate } : {}) }], notes: [] }
      }
      return { reason: `a ${c.kind} constraint is not re-added automatically` }
    }
    case 'dropTable': {
      if (!table) return op.ifExists ? { ops: [], notes: [] } : missing(`table ${op.table}`)
      return recreateTable(table)
    }
    case 'batchAlterTable': {
      const ops: Operation[] = []
      const notes: string[] = []
      for (const inner of [...op.ops].reverse()) {
        const back = inverseOp({ ...inner, table: op.table } as Operation, prior)
        if ('reason' in back) return { reason: `${describeOp({ ...inner, table: op.table } as Operation)}: ${back.reason}` }
        ops.push(...back.ops)
        notes.push(...back.notes)
      }
      return { ops, notes }
    }
    default: {
      const back = reverse(op)
      return 'irreversible' in back ? { reason: back.reason } : { ops: [back], notes: [] }
    }
  }
}

/** createTable plus its keys, from a snapshot: the schema comes back, the rows do not. */
function recreateTable(table: TableSnapshot): Inverse {
  const pk = table.columns.filter((c) => c.primaryKey > 0).sort((a, b) => a.primaryKey - b.primaryKey).map((c) => c.name)
  const columns: ColumnDef[] = table.columns.map((c) => ({
    name: c.name, type: c.type, nullable: c.nullable,
    ...(c.default !== null ? { default: { sql: c.default } } : {}),
    ...(c.autoIncrement ? { autoIncrement: true } : {}),
  }))
  const ops: Operation[] = [{ kind: 'createTable', table: table.name, columns, ...(pk.length > 0 ? { primaryKey: pk } : {}) }]
  for (const index of table.indexes) {
    if (index.where !== null) return { reason: `partial index ${index.name} is not recreated automatically` }
    ops.push({ kind: 'createIndex', name: index.name, table: table.name, columns: index.columns, ...(index.unique ? { unique: true } : {}) })
  }
  for (const c of table.constraints) {
    if (c.kind === 'primaryKey') continue
    const inverse = inverseOp({ kind: 'dropConstraint', name: c.name ?? '', table: table.name }, new Map([[table.name, table]]))
    if ('reason' in inverse) return inverse
    ops.push(...inverse.ops)
  }
  return { ops, notes: [`table ${table.name} was recreated empty: its rows cannot be restored`] }
}

async function liveContext(dialect: Dialect, conn: Connection, op: Operation): Promise<CompileContext> {
  const names = dialect.tablesToInspect(op)
  const tables = names.length > 0 ? await dialect.inspectTables(conn, names) : new Map<string, TableSnapshot>()
  return { table: (name) => tables.get(name) }
}

function compileOp(dialect: Dialect, op: Operation, ctx: CompileContext): readonly Statement[] {
  const compiler = dialect.compiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[]
  return compiler(op, ctx)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What the journal ran and undid, for messages. */
export function undoSummary(undo: UndoOutcome): string {
  const lines = (list: readonly string[]): string => (list.length > 0 ? list.map((s) => `  ${s.split('\n')[0]}`).join('\n') : '  (nothing)')
  const out = [`Undone (newest first):\n${lines(undo.undone)}`]
  if (undo.stopped) out.push(`The undo stopped: ${undo.stopped}`)
  else out.push('The schema equals the one before the migration.')
  if (undo.notes.length > 0) out.push(...undo.notes.map((n) => `Note: ${n}`))
  return out.join('\n')
}

/** E_MIGRATION_FAILED for a migration whose committed statements were all undone. */
export function undoneError(migration: MigrationDef, error: unknown, undo: UndoOutcome): StrataError {
  const ran = undo.ran.map((s) => `  ${s.split('\n')[0]}`).join('\n')
  const details = isStrataError(error) ? error.details : {}
  return new StrataError('E_MIGRATION_FAILED', `${messageOf(error)}\nmigration ${migration.revision} is not transactional: ${undo.ran.length} statement(s) had committed before the failure and were undone.\nRan:\n${ran}\n${undoSummary(undo)}`, {
    ...details,
    file: migration.file.path,
    revision: migration.revision,
    ran: [...undo.ran],
    undone: [...undo.undone],
    hint: isStrataError(error) && error.hint ? error.hint : 'fix the statement shown and run again',
  }, { cause: isStrataError(error) ? (error.cause ?? error) : error })
}
