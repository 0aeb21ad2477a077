import type { Connection, Dialect } from '../dialects/dialect.js'
import { updateRowsStatement } from '../dialects/shared/backfill.js'
import { isSqlExpression } from '../dialects/shared/literals.js'
import type { StrataEmitter } from '../events/events.js'
import type { HistoryStore } from '../history/history-store.js'
import { backfillTransform } from '../ops/op-builder.js'
import type { BackfillOp, Value } from '../ops/operation.js'
import { sleep } from '../util/process.js'

export interface BackfillContext {
  /** A session outside any transaction: each batch opens its own. */
  readonly conn: Connection
  readonly dialect: Dialect
  readonly history: HistoryStore
  readonly events: StrataEmitter
  readonly runId: string
  readonly revision: string
  readonly opIndex: number
  /** Where an interrupted run of this backfill stopped. */
  readonly resume?: { readonly lastKey: string | null; readonly rowsDone: number }
}

export interface BackfillResult {
  readonly rows: number
  readonly batches: number
  /** The longest write-lock hold of a batch, in ms. */
  readonly longestBatchMs: number
}

/**
 * Batches never grow beyond this many times the first one. A transform holds a batch's rows as
 * JavaScript objects inside the transaction, where a garbage collection pause lengthens the
 * write-lock hold: its batches stay smaller.
 */
const GROWTH_LIMIT = 64
const TRANSFORM_GROWTH_LIMIT = 8

/**
 * `op.backfill` (SPEC S7): keyset pagination by `key`, each batch one transaction that updates
 * its rows and records the last key in `<prefix>checkpoints`, so a run killed at any moment
 * resumes after the last committed batch and no row is changed twice. The batch size adapts so
 * that each transaction (the write lock) stays under `maxBatchMs`; only one batch of keys (or
 * rows, for `transform`) is in memory at a time.
 */
export async function runBackfill(op: BackfillOp, ctx: BackfillContext): Promise<BackfillResult> {
  const { conn, dialect, history, events } = ctx
  const q = dialect.quoteIdentifier
  const table = q(op.table)
  const key = q(op.key)
  const where = op.where ? ` AND (${op.where})` : ''
  const transform = backfillTransform(op)
  const resumed = ctx.resume ?? null
  let lastKey: unknown = resumed?.lastKey ?? null
  let rows = resumed?.rowsDone ?? 0
  const total = rows + Number((await conn.query<{ n: number | string }>({
    sql: `SELECT count(*) AS n FROM ${table} WHERE ${lastKey === null ? '1 = 1' : `${key} > ?`}${where}`,
    params: lastKey === null ? [] : [lastKey],
  }))[0]?.n ?? 0)
  // PostgreSQL cannot infer the types of parameters in a VALUES list: the columns' types cast them.
  const types = transform && dialect.name === 'postgres'
    ? new Map(((await dialect.inspectTables(conn, [op.table])).get(op.table)?.columns ?? []).map((c) => [c.name, c.type]))
    : new Map<string, string>()
  let size = op.batchSize
  let batches = 0
  let longest = 0
  const started = performance.now()
  for (;;) {
    const batchStarted = performance.now()
    const done = await conn.transaction(async (tx) => {
      const after = lastKey === null ? '' : `${key} > ? AND `
      const afterParams = lastKey === null ? [] : [lastKey]
      // The batch's last key, read from the index without bringing the keys before it over.
      const boundary = (await tx.query<{ k: unknown }>({
        sql: `SELECT ${key} AS k FROM ${table} WHERE ${after}1 = 1${where} ORDER BY ${key} LIMIT 1 OFFSET ${size - 1}`,
        params: afterParams,
      }))[0]?.k ?? (await tx.query<{ k: unknown }>({ sql: `SELECT max(${key}) AS k FROM ${table} WHERE ${after}1 = 1${where}`, params: afterParams }))[0]?.k
      if (boundary === null || boundary === undefined) return 0
      const range = `${after}${key} <= ?${where}`
      let changed = 0
      if (transform) {
        const batch = await tx.query<Record<string, unknown>>({ sql: `SELECT * FROM ${table} WHERE ${range} ORDER BY ${key}`, params: [...afterParams, boundary] })
        await writeTransformed(tx, batch, transform, op, dialect, types)
        changed = batch.length
      } else {
        const { sql, params } = assignments(op.set!, q)
        changed = (await tx.execute({ sql: `UPDATE ${table} SET ${sql} WHERE ${range}`, params: [...params, ...afterParams, boundary] })).rowsAffected
      }
      await history.saveCheckpoint(tx, ctx.revision, ctx.opIndex, String(boundary), rows + changed)
      lastKey = boundary
      return Math.max(changed, 1)
    })
    if (done === 0) break
    const ms = performance.now() - batchStarted
    longest = Math.max(longest, ms)
    rows += done
    batches++
    size = nextSize(size, ms, op, transform ? TRANSFORM_GROWTH_LIMIT : GROWTH_LIMIT)
    const elapsed = (performance.now() - started) / 1000
    const rate = elapsed > 0 ? (rows - (resumed?.rowsDone ?? 0)) / elapsed : 0
    events.emit('backfill:progress', {
      runId: ctx.runId, revision: ctx.revision, table: op.table, rows, total, batches,
      batchMs: Math.round(ms), rowsPerSecond: Math.round(rate), etaMs: rate > 0 ? Math.round(((total - rows) / rate) * 1000) : null,
    })
    if (op.throttleMs > 0) await sleep(op.throttleMs)
  }
  return { rows, batches, longestBatchMs: Math.round(longest) }
}

/**
 * The next batch size: shrunk in proportion when a batch held the lock longer than
 * `maxBatchMs`, grown (doubled, up to a limit) while batches take under 30% of it.
 */
export function nextSize(size: number, ms: number, op: Pick<BackfillOp, 'batchSize' | 'maxBatchMs'>, limit = GROWTH_LIMIT): number {
  // Aim at 60% of the limit: batch times vary, and the limit is a ceiling, not a target.
  const aim = op.maxBatchMs * 0.6
  if (ms > op.maxBatchMs) return Math.max(1, Math.floor((size * aim) / ms))
  if (ms < aim / 2) return Math.min(size * 2, op.batchSize * limit)
  return size
}

/** Parameters one multi-row UPDATE may bind (PostgreSQL and MySQL allow 65,535; SQLite 32,766). */
const MAX_PARAMS = 30_000
const MAX_ROWS_PER_STATEMENT = 1_000

/**
 * Writes a batch's transformed rows: rows changing the same columns go out together, a few
 * hundred per UPDATE joined on the key, so a batch costs a handful of round trips instead of one
 * per row. A value given as an SQL expression (`{ sql }`) is written by an UPDATE of its own row.
 */
async function writeTransformed(
  tx: Connection,
  batch: readonly Record<string, unknown>[],
  transform: NonNullable<ReturnType<typeof backfillTransform>>,
  op: BackfillOp,
  dialect: Dialect,
  types: ReadonlyMap<string, string>,
): Promise<void> {
  const q = dialect.quoteIdentifier
  const groups = new Map<string, { columns: string[]; rows: Array<{ key: unknown; values: unknown[] }> }>()
  for (const row of batch) {
    const changes = await transform(row)
    if (!changes || Object.keys(changes).length === 0) continue
    const columns = Object.keys(changes)
    if (columns.some((c) => isSqlExpression(changes[c]))) {
      const { sql, params } = assignments(changes, q)
      await tx.execute({ sql: `UPDATE ${q(op.table)} SET ${sql} WHERE ${q(op.key)} = ?`, params: [...params, row[op.key]] })
      continue
    }
    const signature = columns.join('\u0000')
    const group = groups.get(signature) ?? { columns, rows: [] }
    group.rows.push({ key: row[op.key], values: columns.map((c) => changes[c]) })
    groups.set(signature, group)
  }
  for (const { columns, rows } of groups.values()) {
    const chunk = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS / (columns.length + 1))))
    for (let start = 0; start < rows.length; start += chunk) {
      await tx.execute(updateRowsStatement(dialect.name, q, op.table, op.key, { columns, rows: rows.slice(start, start + chunk) }, types))
    }
  }
}

function assignments(set: Readonly<Record<string, Value>>, q: (name: string) => string): { sql: string; params: unknown[] } {
  const params: unknown[] = []
  const parts = Object.entries(set).map(([column, value]) => {
    if (isSqlExpression(value)) return `${q(column)} = ${value.sql}`
    params.push(value)
    return `${q(column)} = ?`
  })
  return { sql: parts.join(', '), params }
}
