import { createHash } from 'node:crypto'
import type { Connection, Dialect } from '../dialects/dialect.js'
import type { SchemaSnapshot, TableSnapshot } from '../schema/snapshot.js'

/** Rows read per query while digesting a table: memory stays flat in table size. */
const BATCH = 5_000

/**
 * A digest of every table's contents (SPEC S10: after the rollback test, "schema and data must
 * equal the copy"): sha256 over the rows in primary-key order (every column's order when there is
 * none), each row as text so engines that hand back numbers or bytes differently agree.
 */
export async function tableDigests(dialect: Dialect, conn: Connection, schema: SchemaSnapshot): Promise<Record<string, string>> {
  const digests: Record<string, string> = {}
  for (const table of schema.tables) digests[table.name] = await digestTable(dialect, conn, table)
  return digests
}

async function digestTable(dialect: Dialect, conn: Connection, table: TableSnapshot): Promise<string> {
  const q = (name: string): string => dialect.quoteIdentifier(name)
  const key = table.columns.filter((c) => c.primaryKey > 0).sort((a, b) => a.primaryKey - b.primaryKey)
  const order = (key.length > 0 ? key : table.columns).map((c) => q(c.name)).join(', ')
  const hash = createHash('sha256')
  for (let offset = 0; ; offset += BATCH) {
    const rows = await conn.query({ sql: `SELECT * FROM ${q(table.name)} ORDER BY ${order} LIMIT ${BATCH} OFFSET ${offset}`, params: [] })
    for (const row of rows) hash.update(`${JSON.stringify(textRow(row))}\n`)
    if (rows.length < BATCH) break
  }
  return hash.digest('hex')
}

/** A row with every value as text, keys sorted: engines differ in how they hand back numbers and bytes. */
export function textRow(row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of Object.keys(row).sort()) {
    const v = row[key]
    out[key] = v === null || v === undefined ? '\u0000null' : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v instanceof Date ? v.toISOString() : String(v)
  }
  return out
}

/** The tables whose contents differ between two digests (added and removed tables included). */
export function digestDifferences(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
  return names.filter((name) => before[name] !== after[name]).map((name) =>
    before[name] === undefined ? `table ${name} was not in the copy` : after[name] === undefined ? `table ${name} is gone` : `the rows of ${name} differ from the copy`)
}
