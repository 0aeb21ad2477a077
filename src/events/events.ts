import { EventEmitter } from 'node:events'
import type { LockOwner } from '../dialects/dialect.js'
import type { Phase } from '../plan/phases.js'

export type Direction = 'up' | 'down'

/** Everything the core reports while it works (STYLE 3.10); renderers subscribe. */
export interface StrataEvents {
  'run:start': { runId: string; command: string; environment: string | null; steps: ReadonlyArray<{ revision: string; direction: Direction }> }
  /** `phase` is set for the steps of an expand/contract migration (SPEC S7). */
  'migration:start': { runId: string; revision: string; direction: Direction; phase?: Phase; index: number; total: number; file: string }
  statement: { runId: string; revision: string; sql: string }
  'migration:done': { runId: string; revision: string; direction: Direction; phase?: Phase; index: number; total: number; durationMs: number; statements: number }
  'migration:failed': { runId: string; revision: string; direction: Direction; phase?: Phase; message: string }
  'rollback:start': { runId: string; revisions: readonly string[] }
  /** One committed batch of an `op.backfill` (SPEC S7, S8): rows so far, rate and time left. */
  'backfill:progress': { runId: string; revision: string; table: string; rows: number; total: number; batches: number; batchMs: number; rowsPerSecond: number; etaMs: number | null }
  'rollback:done': { runId: string; revisions: readonly string[]; ok: boolean }
  'lock:wait': { holder: LockOwner | null }
  /** One preflight or postflight check's outcome (SPEC S5). */
  check: { phase: 'preflight' | 'postflight'; name: string; status: 'pass' | 'warn' | 'fail'; message: string }
  'backup:start': { dir: string }
  'backup:done': { id: string; path: string; size: number; durationMs: number; verified: boolean }
  'restore:start': { backupId: string }
  'restore:done': { backupId: string; durationMs: number }
  'run:done': { runId: string; status: string; durationMs: number }
  log: { level: 'info' | 'warn'; message: string }
}

export type EventName = keyof StrataEvents

/** A typed wrapper over EventEmitter: `emit` and `on` check payloads against StrataEvents. */
export class StrataEmitter {
  readonly #emitter = new EventEmitter()

  on<E extends EventName>(event: E, listener: (payload: StrataEvents[E]) => void): this {
    this.#emitter.on(event, listener)
    return this
  }

  off<E extends EventName>(event: E, listener: (payload: StrataEvents[E]) => void): this {
    this.#emitter.off(event, listener)
    return this
  }

  emit<E extends EventName>(event: E, payload: StrataEvents[E]): void {
    if (this.#emitter.listenerCount(event) > 0) this.#emitter.emit(event, payload)
  }

  listens(event: EventName): boolean {
    return this.#emitter.listenerCount(event) > 0
  }
}
