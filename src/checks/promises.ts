import type { BatchOperation, Operation } from '../ops/operation.js'
import type { SchemaSnapshot, TableSnapshot } from '../schema/snapshot.js'

/** One object an op promised: it exists (or, after a drop, does not). */
export interface Promise_ {
  readonly kind: 'table' | 'column' | 'index' | 'constraint'
  readonly table: string
  /** Column, index or constraint name; the table's own name for `table`. */
  readonly name: string
  readonly present: boolean
}

/**
 * What the ops of a run promise about the schema, in order: a later op overrides an earlier
 * one (a table created then renamed is promised under its new name only). Raw SQL promises
 * nothing strata could check.
 */
export function promisesOf(ops: readonly Operation[]): Promise_[] {
  const map = new Map<string, Promise_>()
  const set = (p: Promise_): void => {
    map.set(keyOf(p), p)
  }
  const apply = (op: Operation | BatchOperation): void => {
    switch (op.kind) {
      case 'createTable':
        set({ kind: 'table', table: op.table, name: op.table, present: true })
        for (const column of op.columns) set({ kind: 'column', table: op.table, name: column.name, present: true })
        break
      case 'dropTable':
        forgetTable(map, op.table)
        set({ kind: 'table', table: op.table, name: op.table, present: false })
        break
      case 'renameTable':
        moveTable(map, op.from, op.to)
        set({ kind: 'table', table: op.from, name: op.from, present: false })
        set({ kind: 'table', table: op.to, name: op.to, present: true })
        break
      case 'addColumn':
        set({ kind: 'column', table: op.table, name: op.column.name, present: true })
        break
      case 'alterColumn':
        set({ kind: 'column', table: op.table, name: op.column, present: true })
        break
      case 'dropColumn':
        set({ kind: 'column', table: op.table, name: op.column, present: false })
        break
      case 'renameColumn':
        set({ kind: 'column', table: op.table, name: op.from, present: false })
        set({ kind: 'column', table: op.table, name: op.to, present: true })
        break
      case 'createIndex':
        set({ kind: 'index', table: op.table, name: op.name, present: true })
        break
      case 'dropIndex':
        if (op.table) set({ kind: 'index', table: op.table, name: op.name, present: false })
        break
      case 'addUniqueConstraint':
      case 'addCheckConstraint':
      case 'addForeignKey':
        set({ kind: 'constraint', table: op.table, name: op.name, present: true })
        break
      case 'dropConstraint':
        set({ kind: 'constraint', table: op.table, name: op.name, present: false })
        break
      case 'batchAlterTable':
        for (const inner of op.ops) apply(inner)
        break
      case 'execute':
        break
    }
  }
  for (const op of ops) apply(op)
  return [...map.values()]
}

/** The promises the live schema breaks, as readable lines ("column graphics.event_name is missing"). */
export function brokenPromises(promises: readonly Promise_[], schema: SchemaSnapshot): string[] {
  const broken: string[] = []
  for (const p of promises) {
    const table = findTable(schema, p.table)
    const exists = p.kind === 'table' ? table !== undefined : table !== undefined && hasObject(table, p)
    if (exists === p.present) continue
    const what = p.kind === 'table' ? `table ${p.table}` : `${p.kind} ${p.table}.${p.name}`
    broken.push(`${what} ${p.present ? 'is missing' : 'still exists'}`)
  }
  return broken
}

function hasObject(table: TableSnapshot, p: Promise_): boolean {
  const same = (name: string | null): boolean => name !== null && name.toLowerCase() === p.name.toLowerCase()
  switch (p.kind) {
    case 'column':
      return table.columns.some((c) => same(c.name))
    case 'index':
      return table.indexes.some((i) => same(i.name))
    case 'constraint':
      // Some engines keep a unique constraint as a unique index of the same name.
      return table.constraints.some((c) => same(c.name)) || table.indexes.some((i) => i.unique && same(i.name))
    default:
      return true
  }
}

function findTable(schema: SchemaSnapshot, name: string): TableSnapshot | undefined {
  return schema.tables.find((t) => t.name === name) ?? schema.tables.find((t) => t.name.toLowerCase() === name.toLowerCase())
}

function keyOf(p: Promise_): string {
  return `${p.kind}\u0000${p.table.toLowerCase()}\u0000${p.name.toLowerCase()}`
}

function forgetTable(map: Map<string, Promise_>, table: string): void {
  for (const [key, p] of map) if (p.table.toLowerCase() === table.toLowerCase()) map.delete(key)
}

function moveTable(map: Map<string, Promise_>, from: string, to: string): void {
  for (const [key, p] of [...map]) {
    if (p.table.toLowerCase() !== from.toLowerCase() || p.kind === 'table') continue
    map.delete(key)
    const moved = { ...p, table: to }
    map.set(keyOf(moved), moved)
  }
}
