import { StrataError } from '../../../errors/index.js'
import type { BatchOperation } from '../../../ops/operation.js'
import type { CompileContext, Statement } from '../../dialect.js'
import { quoteDoubled as q } from '../../shared/identifiers.js'
import type { ParsedColumn, ParsedTableConstraint } from '../sqlite-ddl-parser.js'
import { rebuildStatements, type RebuildPlan } from '../sqlite-rebuild.js'
import { tokenize } from '../sqlite-tokens.js'
import { canAddNatively } from './column-sql.js'
import {
  addColumnSql,
  createIndexSql,
  dropColumnSql,
  dropIndexSql,
  renameColumnSql,
  requireTable,
  stmt,
} from './statements.js'
import { TableModel } from './table-model.js'

/**
 * Compiles changes to one table: a single op, or the ops of a `batchAlterTable`.
 *
 * When ALTER TABLE can do every change (add a plain column, drop an unreferenced column,
 * rename a column, create or drop an index), each op is one native statement, in order.
 * Otherwise the whole change is ONE rebuild (`sqlite-rebuild.ts`): the new CREATE TABLE holds
 * the final columns and constraints, the copy maps each column to its source, and the index
 * set created afterwards is the final one. Column renames are the exception: the rebuild keeps
 * the old names and native `RENAME COLUMN`s follow it, because only SQLite itself rewrites the
 * references in index, view and trigger text reliably. Expressions given after a rename in the
 * batch (CHECK, index WHERE, `using`) are translated back to the old names for the rebuild.
 */
export function compileTableChanges(table: string, ops: readonly BatchOperation[], ctx: CompileContext): Statement[] {
  const model = new TableModel(requireTable(ctx, table))
  for (const op of ops) model.apply(op)
  if (!model.needsRebuild) return ops.map((op) => nativeStatement(table, op))
  return [...rebuildStatements(rebuildPlan(model)), ...renameStatements(model)]
}

/** True when the op compiles to one native statement without looking at the live table. */
export function isStaticallyNative(op: BatchOperation): boolean {
  return op.kind === 'renameColumn' || op.kind === 'createIndex' || op.kind === 'dropIndex' || (op.kind === 'addColumn' && canAddNatively(op.column))
}

/** The native statement of an op ALTER TABLE (or CREATE/DROP INDEX) can run. */
export function nativeStatement(table: string, op: BatchOperation): Statement {
  switch (op.kind) {
    case 'addColumn': return stmt(addColumnSql(table, op.column))
    case 'dropColumn': return stmt(dropColumnSql(table, op.column))
    case 'renameColumn': return stmt(renameColumnSql(table, op.from, op.to))
    case 'createIndex': return stmt(createIndexSql(table, op))
    case 'dropIndex': return stmt(dropIndexSql(op.name, op.ifExists))
    default: throw new StrataError('E_INTERNAL', `${op.kind} has no native SQLite statement`)
  }
}

function rebuildPlan(model: TableModel): RebuildPlan {
  const copied = model.columns.filter((c) => c.liveName !== null && !c.def.constraints.some((k) => k.kind === 'generated'))
  const copyColumns = copied.map((c) => c.buildName)
  const copyValues = copied.map((c) => (c.using !== null ? `(${c.using})` : q(c.liveName!)))
  if (keepsRowid(model)) {
    copyColumns.unshift('rowid')
    copyValues.unshift('rowid')
  }
  const elements = [...model.columns.map((c) => c.def.text), ...model.constraints.map((c) => c.text)]
  const autoIncrement = (defs: readonly ParsedColumn[]): boolean => defs.some((d) => d.constraints.some((k) => k.autoIncrement))
  return {
    table: model.table,
    definition: `(${elements.join(', ')})${model.parsed.options}`,
    copyColumns,
    copyValues,
    keepSequence: autoIncrement(model.parsed.columns) && autoIncrement(model.columns.map((c) => c.def)),
    indexes: model.indexes.map((i) => i.sql),
    dependents: model.live.dependents ?? { triggers: [], views: [], otherTriggers: [] },
    validate: model.droppedColumn,
  }
}

/**
 * Copy the rowid too when it is not a column of either table, so rowids (which applications
 * and `foreign_key_check` reports use) survive the rebuild. Not for WITHOUT ROWID tables.
 */
function keepsRowid(model: TableModel): boolean {
  const words = tokenize(model.parsed.options).map((t) => t.text.toUpperCase())
  if (words.includes('WITHOUT')) return false
  const reserved = new Set(['rowid', 'oid', '_rowid_'])
  const names = [...model.parsed.columns.map((c) => c.name), ...model.columns.map((c) => c.buildName)]
  if (names.some((n) => reserved.has(n.toLowerCase()))) return false
  return !rowidAlias(model.parsed.columns, model.parsed.constraints) && !rowidAlias(model.columns.map((c) => c.def), model.constraints)
}

/** Whether the table has an INTEGER PRIMARY KEY column, which is the rowid under another name. */
function rowidAlias(columns: readonly ParsedColumn[], constraints: readonly ParsedTableConstraint[]): boolean {
  const integer = (c: ParsedColumn | undefined): boolean => c !== undefined && c.type.trim().toUpperCase() === 'INTEGER'
  if (columns.some((c) => integer(c) && c.constraints.some((k) => k.kind === 'primaryKey'))) return true
  const key = constraints.find((c) => c.kind === 'primaryKey')
  return key?.columns.length === 1 && integer(columns.find((c) => c.name.toLowerCase() === key.columns[0]!.toLowerCase()))
}

/**
 * The column renames that follow the rebuild, ordered so that no target name is still in use;
 * a cycle (a swap) goes through a temporary name.
 */
function renameStatements(model: TableModel): Statement[] {
  const pending = model.columns.filter((c) => c.name !== c.buildName).map((c) => ({ from: c.buildName, to: c.name }))
  const taken = new Set(model.columns.map((c) => c.buildName.toLowerCase()))
  const out: Statement[] = []
  const rename = (from: string, to: string): void => {
    out.push(stmt(renameColumnSql(model.table, from, to)))
    taken.delete(from.toLowerCase())
    taken.add(to.toLowerCase())
  }
  while (pending.length > 0) {
    const free = pending.findIndex((p) => p.to.toLowerCase() === p.from.toLowerCase() || !taken.has(p.to.toLowerCase()))
    if (free >= 0) {
      const [p] = pending.splice(free, 1)
      rename(p!.from, p!.to)
      continue
    }
    const p = pending[0]!
    let temp = `${p.from}_strata_swap`
    for (let n = 1; taken.has(temp.toLowerCase()); n++) temp = `${p.from}_strata_swap_${n}`
    rename(p.from, temp)
    p.from = temp
  }
  return out
}
