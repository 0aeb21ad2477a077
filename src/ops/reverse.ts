import type { BatchOperation, Operation } from './operation.js'

export interface Irreversible {
  readonly irreversible: true
  readonly reason: string
}

/**
 * The op that undoes `op`, for `change(op)` migrations (SPEC S3). Ops that destroy information
 * (dropping a table or column, altering a column, raw SQL) cannot be reversed from the op alone.
 */
export function reverse(op: Operation): Operation | Irreversible {
  switch (op.kind) {
    case 'createTable':
      return { kind: 'dropTable', table: op.table }
    case 'renameTable':
      return { kind: 'renameTable', from: op.to, to: op.from }
    case 'batchAlterTable': {
      const ops: BatchOperation[] = []
      for (const inner of [...op.ops].reverse()) {
        const back = reverse(inner)
        if ('irreversible' in back) return back
        ops.push(back as BatchOperation)
      }
      return { kind: 'batchAlterTable', table: op.table, ops }
    }
    case 'addColumn':
      return { kind: 'dropColumn', table: op.table, column: op.column.name }
    case 'renameColumn':
      return { kind: 'renameColumn', table: op.table, from: op.to, to: op.from }
    case 'createIndex':
      return { kind: 'dropIndex', name: op.name, table: op.table, ...(op.concurrently ? { concurrently: true } : {}) }
    case 'addUniqueConstraint':
    case 'addCheckConstraint':
    case 'addForeignKey':
      return { kind: 'dropConstraint', name: op.name, table: op.table }
    case 'dropTable':
    case 'dropColumn':
    case 'alterColumn':
    case 'dropIndex':
    case 'dropConstraint':
    case 'execute':
    case 'backfill':
      return { irreversible: true, reason: `${describeOp(op)} cannot be reversed from the op alone` }
  }
}

/** One line naming an op and its object, for messages, plans and records. */
export function describeOp(op: Operation): string {
  switch (op.kind) {
    case 'createTable':
      return `create table ${op.table}`
    case 'dropTable':
      return `drop table ${op.table}`
    case 'renameTable':
      return `rename table ${op.from} to ${op.to}`
    case 'addColumn':
      return `add column ${op.table}.${op.column.name}`
    case 'dropColumn':
      return `drop column ${op.table}.${op.column}`
    case 'renameColumn':
      return `rename column ${op.table}.${op.from} to ${op.to}`
    case 'alterColumn':
      return `alter column ${op.table}.${op.column}`
    case 'createIndex':
      return `create ${op.unique ? 'unique ' : ''}index ${op.name} on ${op.table}`
    case 'dropIndex':
      return `drop index ${op.name}`
    case 'addUniqueConstraint':
      return `add unique constraint ${op.name} on ${op.table}`
    case 'addCheckConstraint':
      return `add check constraint ${op.name} on ${op.table}`
    case 'addForeignKey':
      return `add foreign key ${op.name} on ${op.table}`
    case 'dropConstraint':
      return `drop constraint ${op.name} on ${op.table}`
    case 'execute':
      return `execute ${firstLine(op.sql)}`
    case 'batchAlterTable':
      return `alter table ${op.table} (${op.ops.map(describeOp).join('; ')})`
    case 'backfill':
      return `backfill ${op.table} (${op.set ? `set ${Object.keys(op.set).join(', ')}` : 'transform'}) in batches by ${op.key}`
  }
}

/** Tables an op touches (for records and validation). */
export function tablesOf(op: Operation): readonly string[] {
  switch (op.kind) {
    case 'renameTable':
      return [op.from, op.to]
    case 'dropIndex':
      return op.table ? [op.table] : []
    case 'execute':
      return []
    case 'addForeignKey':
      return [op.table]
    default:
      return [op.table]
  }
}

function firstLine(sql: string): string {
  const line = sql.trim().split('\n')[0] ?? ''
  return line.length > 60 ? `${line.slice(0, 57)}...` : line
}

/** Index builds and drops that must run outside a transaction (SPEC S3). */
export function isConcurrent(op: Operation): boolean {
  if (op.kind === 'batchAlterTable') return op.ops.some(isConcurrent)
  return (op.kind === 'createIndex' || op.kind === 'dropIndex') && op.concurrently === true
}
