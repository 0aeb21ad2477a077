import { canonicalJson } from './fingerprint.js'
import type { SchemaSnapshot, TableSnapshot } from './snapshot.js'

export type SchemaObjectKind = 'table' | 'column' | 'index' | 'constraint' | 'view' | 'trigger'

export interface SchemaChange {
  readonly kind: SchemaObjectKind
  /** `table`, `table.column`, `table.index`, `table.constraint`, `view`, `trigger`. */
  readonly name: string
  readonly change: 'added' | 'removed' | 'changed'
}

/**
 * The objects that differ from `before` to `after` (SPEC S4 drift shape), sorted by name;
 * an empty list when the schemas are equal.
 */
export function diffSchemas(before: SchemaSnapshot, after: SchemaSnapshot): SchemaChange[] {
  const changes: SchemaChange[] = []
  compareNamed(before.tables, after.tables, (t) => t.name, (name, a, b) => {
    if (!a || !b) changes.push({ kind: 'table', name, change: a ? 'removed' : 'added' })
    else changes.push(...diffTable(a, b))
  })
  compareNamed(before.views, after.views, (v) => v.name, (name, a, b) => {
    const change = objectChange(a, b)
    if (change) changes.push({ kind: 'view', name, change })
  })
  compareNamed(before.triggers, after.triggers, (t) => t.name, (name, a, b) => {
    const change = objectChange(a, b)
    if (change) changes.push({ kind: 'trigger', name, change })
  })
  return changes.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.kind.localeCompare(y.kind)))
}

function diffTable(a: TableSnapshot, b: TableSnapshot): SchemaChange[] {
  const out: SchemaChange[] = []
  const push = (kind: SchemaObjectKind, name: string, change: SchemaChange['change'] | null): void => {
    if (change) out.push({ kind, name: `${a.name}.${name}`, change })
  }
  compareNamed(a.columns, b.columns, (c) => c.name, (name, x, y) => push('column', name, objectChange(x, y)))
  compareNamed(a.indexes, b.indexes, (i) => i.name, (name, x, y) =>
    push('index', name, objectChange(x && { ...x, sql: undefined }, y && { ...y, sql: undefined })),
  )
  const constraintName = (c: TableSnapshot['constraints'][number]): string =>
    c.name ?? `${c.kind}(${c.columns.join(',')}${c.expression ? `:${c.expression}` : ''})`
  compareNamed(a.constraints, b.constraints, constraintName, (name, x, y) => push('constraint', name, objectChange(x, y)))
  return out
}

function objectChange(a: unknown, b: unknown): SchemaChange['change'] | null {
  if (a === undefined) return 'added'
  if (b === undefined) return 'removed'
  return canonicalJson(a) === canonicalJson(b) ? null : 'changed'
}

function compareNamed<T>(
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => string,
  visit: (name: string, a: T | undefined, b: T | undefined) => void,
): void {
  const a = new Map(before.map((item) => [key(item), item]))
  const b = new Map(after.map((item) => [key(item), item]))
  for (const name of new Set([...a.keys(), ...b.keys()])) visit(name, a.get(name), b.get(name))
}
