import type { DialectName } from '../dialects/dialect.js'
import { canAddNatively } from '../dialects/sqlite/compiler/column-sql.js'
import { isStaticallyNative } from '../dialects/sqlite/compiler/alter-table.js'
import { sqliteTablesToInspect } from '../dialects/sqlite/sqlite-compiler.js'
import type { BatchOperation, ColumnDef, Operation, Value } from '../ops/operation.js'
import type { ColumnFact, Fact, ForeignKeyFact } from './types.js'

/**
 * The facts of a structured op (SPEC S3). `execute` has none here: its SQL goes through the
 * engine's parser like an SQL file's statements. On SQLite, an op the compiler turns into the
 * table-rebuild procedure is preceded by a `rebuild` fact, decided the way the compiler decides
 * (`sqliteTablesToInspect`): a `dropColumn` rebuilds only when the column is keyed or indexed,
 * which the schema model knows, so its rebuild is left to the rules.
 */
export function factsOfOp(op: Exclude<Operation, { kind: 'execute' }>, dialect: DialectName): Fact[] {
  const facts: Fact[] = []
  const [inspected] = dialect === 'sqlite' ? sqliteTablesToInspect(op) : []
  const cause = inspected === undefined ? null : sqliteRebuildCause(op)
  if (inspected !== undefined && cause !== null) facts.push({ kind: 'rebuild', table: inspected, cause })
  switch (op.kind) {
    case 'createTable':
      facts.push({
        kind: 'createTable',
        table: op.table,
        columns: op.columns.map(columnFact),
        primaryKey: op.primaryKey ?? [],
        indexes: [],
        foreignKeys: [],
      })
      break
    case 'dropTable':
      facts.push({ kind: 'dropTable', table: op.table })
      break
    case 'renameTable':
      facts.push({ kind: 'renameTable', from: op.from, to: op.to })
      break
    case 'batchAlterTable':
      for (const inner of op.ops) facts.push(...batchFacts(inner))
      break
    case 'backfill':
      facts.push({ kind: 'data', verb: 'update', table: op.table })
      break
    default:
      facts.push(...batchFacts(op))
  }
  return facts
}

/** The facts of an op bound to one table (alone, or inside `batchAlterTable`). */
function batchFacts(op: BatchOperation): Fact[] {
  switch (op.kind) {
    case 'addColumn':
      return [{ kind: 'addColumn', table: op.table, column: columnFact(op.column) }]
    case 'dropColumn':
      return [{ kind: 'dropColumn', table: op.table, column: op.column }]
    case 'renameColumn':
      return [{ kind: 'renameColumn', table: op.table, from: op.from, to: op.to }]
    case 'alterColumn':
      return [{
        kind: 'alterColumn',
        table: op.table,
        column: op.column,
        type: op.change.type ?? null,
        ...(op.change.nullable !== undefined ? { notNull: !op.change.nullable } : {}),
      }]
    case 'createIndex':
      return [{ kind: 'createIndex', table: op.table, name: op.name, columns: op.columns, unique: op.unique ?? false, concurrently: op.concurrently ?? false }]
    case 'dropIndex':
      return [{ kind: 'dropIndex', name: op.name, table: op.table ?? null }]
    case 'addUniqueConstraint':
      return [{ kind: 'addKey', table: op.table, index: { name: op.name, columns: op.columns, unique: true }, primaryKey: false }]
    case 'addCheckConstraint':
      return [{ kind: 'addCheck', table: op.table }]
    case 'addForeignKey':
      return [{
        kind: 'addForeignKey',
        table: op.table,
        foreignKey: { name: op.name, columns: op.columns, refTable: op.refTable, refColumns: op.refColumns, onDelete: action(op.onDelete) },
      }]
    case 'dropConstraint':
      return [{ kind: 'dropConstraint', table: op.table, name: op.name }]
  }
}

/**
 * Why the SQLite compiler rebuilds the table of an op `sqliteTablesToInspect` names, or null
 * when it does not (or, for a `dropColumn`, when only the schema model can tell). Uses the
 * compiler's own native cases rather than restating them.
 */
function sqliteRebuildCause(op: Exclude<Operation, { kind: 'execute' }>): string | null {
  switch (op.kind) {
    case 'dropColumn':
      return null
    case 'addColumn':
      return canAddNatively(op.column) ? null : `addColumn \`${op.column.name}\` (${nativeAddBlocker(op.column)})`
    case 'batchAlterTable': {
      const blocking = op.ops.filter((inner) => !isStaticallyNative(inner) && inner.kind !== 'dropColumn')
      return blocking.length === 0 ? null : `batchAlterTable (${[...new Set(blocking.map((inner) => inner.kind))].join(', ')})`
    }
    default:
      return op.kind
  }
}

/** Why ALTER TABLE ADD COLUMN cannot add this column on SQLite (`canAddNatively` is false). */
function nativeAddBlocker(column: ColumnDef): string {
  if (column.primaryKey) return 'a primary key'
  if (column.unique) return 'UNIQUE'
  if (column.autoIncrement) return 'AUTOINCREMENT'
  if (column.nullable === false && (column.default === undefined || column.default === null)) return 'NOT NULL without a default'
  if (column.references) return 'a foreign key with a default'
  return 'an expression default'
}

function columnFact(column: ColumnDef): ColumnFact {
  return {
    name: column.name,
    type: column.type,
    notNull: column.nullable === false || column.primaryKey === true,
    hasDefault: hasValue(column.default) || column.autoIncrement === true,
    primaryKey: column.primaryKey === true,
    unique: column.unique === true,
    references: column.references ? referenceFact(column.name, column.references) : null,
  }
}

function referenceFact(column: string, ref: NonNullable<ColumnDef['references']>): ForeignKeyFact {
  return { name: null, columns: [column], refTable: ref.table, refColumns: [ref.column], onDelete: action(ref.onDelete) }
}

function hasValue(value: Value | undefined): boolean {
  return value !== undefined && value !== null
}

/** `ON DELETE CASCADE` → `cascade`; absent → null. */
export function action(text: string | undefined | null): string | null {
  return text ? text.trim().toLowerCase().replace(/\s+/g, ' ') : null
}
