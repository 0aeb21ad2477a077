import { brokenPromises, promisesOf } from '../checks/promises.js'
import type { Connection, Dialect } from '../dialects/dialect.js'
import type { Operation } from '../ops/operation.js'

/**
 * What became of the op an interrupted run was executing when it died (SPEC S7 resume and
 * abort): the server may have finished it anyway (MySQL completes a DDL statement whose client
 * is gone), or left half of it (PostgreSQL keeps an index built CONCURRENTLY, marked invalid).
 *
 * - `landed`: every object the op promises is in place, as if it had been recorded done;
 * - `invalid`: the index it creates exists but cannot be used;
 * - `absent`: nothing of it is there, or it promises nothing strata can check (raw SQL, backfill).
 */
export type Landing = 'landed' | 'invalid' | 'absent'

export async function landingOf(op: Operation, conn: Connection, dialect: Dialect, tablePrefix: string): Promise<Landing> {
  const promises = promisesOf([op])
  if (promises.length === 0) return 'absent'
  const schema = await dialect.introspect(conn, tablePrefix)
  if (brokenPromises(promises, schema).length > 0) return 'absent'
  const indexes = promises.filter((p) => p.kind === 'index' && p.present).map((p) => p.name)
  if (indexes.length > 0 && dialect.invalidIndexes) {
    const invalid = new Set(await dialect.invalidIndexes(conn))
    if (indexes.some((name) => invalid.has(name))) return 'invalid'
  }
  return 'landed'
}

/** The index of the op an interrupted run was executing: the first one its checkpoints do not list as done. */
export function interruptedIndex(isDone: (opIndex: number) => boolean): number {
  let index = 0
  while (isDone(index)) index++
  return index
}
