import { expect } from 'vitest'
import type { Connection } from '../../src/dialects/dialect.js'
import type { Operation } from '../../src/ops/operation.js'
import type { SchemaSnapshot } from '../../src/schema/snapshot.js'

/** One op's conformance cycle: what to apply, how to undo it, what to check (STYLE 3.11). */
export interface Cycle {
  readonly up: readonly Operation[]
  readonly down: readonly Operation[]
  readonly check: () => Promise<void>
  /** False for data-only ops (execute). */
  readonly changesSchema?: boolean
}

/**
 * up → check → down → schema equals before → up → schema equals the first `after` → check,
 * with the engine's own way to apply ops and read the schema.
 */
export async function runCycle(
  conn: Connection,
  cycle: Cycle,
  apply: (conn: Connection, ...ops: Operation[]) => Promise<void>,
  snapshot: (conn: Connection) => Promise<SchemaSnapshot>,
): Promise<void> {
  const before = await snapshot(conn)
  await apply(conn, ...cycle.up)
  await cycle.check()
  const after = await snapshot(conn)
  if (cycle.changesSchema !== false) expect(after).not.toEqual(before)
  await apply(conn, ...cycle.down)
  expect(await snapshot(conn)).toEqual(before)
  await apply(conn, ...cycle.up)
  expect(await snapshot(conn)).toEqual(after)
  await cycle.check()
}

/** Runs `action`, expecting a rejection; returns the error. */
export async function rejection(action: () => Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await action()
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a rejection, nothing was thrown')
}
