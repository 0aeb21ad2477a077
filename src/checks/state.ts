import type { Connection, Dialect } from '../dialects/dialect.js'
import { diffSchemas } from '../schema/diff.js'
import { fingerprint } from '../schema/fingerprint.js'
import type { SchemaSnapshot } from '../schema/snapshot.js'

/** The user schema and its row counts at one moment: what "pre-run state" means (SPEC S5). */
export interface DatabaseState {
  readonly schema: SchemaSnapshot
  /** sha256 of the canonical schema snapshot. */
  readonly fingerprint: string
  readonly rowCounts: Readonly<Record<string, number>>
}

/**
 * The schema and row counts now. `countOnly` limits counting to those tables (those that
 * existed before a run: the only ones a comparison with the pre-run state can use).
 */
export async function captureState(dialect: Dialect, conn: Connection, tablePrefix: string, countOnly?: readonly string[]): Promise<DatabaseState> {
  const schema = await dialect.introspect(conn, tablePrefix)
  const names = schema.tables.map((t) => t.name)
  const wanted = countOnly ? new Set(countOnly) : null
  return { schema, fingerprint: fingerprint(schema), rowCounts: await countRows(dialect, conn, wanted ? names.filter((n) => wanted.has(n)) : names) }
}

export async function countRows(dialect: Dialect, conn: Connection, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of tables) {
    const [row] = await conn.query<{ n: number | string | bigint }>({ sql: `SELECT count(*) AS n FROM ${dialect.quoteIdentifier(table)}`, params: [] })
    counts[table] = Number(row?.n ?? 0)
  }
  return counts
}

/**
 * How `after` differs from `before`: schema objects (by snapshot, so an equivalent table
 * rebuilt with other whitespace is equal) and row counts. Empty when they are the same.
 */
export function stateDifferences(before: DatabaseState, after: DatabaseState): string[] {
  const out: string[] = []
  if (before.fingerprint !== after.fingerprint) {
    for (const change of diffSchemas(before.schema, after.schema)) out.push(`${change.kind} ${change.name} ${change.change}`)
  }
  const names = [...new Set([...Object.keys(before.rowCounts), ...Object.keys(after.rowCounts)])].sort()
  for (const name of names) {
    const a = before.rowCounts[name]
    const b = after.rowCounts[name]
    if (a !== undefined && b !== undefined && a !== b) out.push(`table ${name} has ${b} rows, had ${a}`)
  }
  return out
}
