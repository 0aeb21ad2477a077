import { EventEmitter } from 'node:events'
import type { LockOwner } from '../dialects/dialect.js'
import type { Phase } from '../plan/phases.js'

export type Direction = 'up' | 'down'

/** Everything the core reports while it works (STYLE 3.10); renderers subscribe. */
export interface StrataEvents {
  /** `estimatedMs`: the run's estimate from earlier records of the same migrations (SPEC S9), null when unknown. */
  'run:start': { runId: string; command: string; environment: string | null; steps: ReadonlyArray<{ revision: string; direction: Direction }>; estimatedMs: number | null }
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
  /** A resource sample taken during a run (SPEC S8), about once a second. */
  'metrics:sample': MetricsSample
  /** An alert raised by the rules of `alerts:` (SPEC S8), as its sinks receive it. */
  alert: Alert
}

/** What the sampler measures during a run (SPEC S8); null where the engine or platform cannot tell. */
export interface MetricsSample {
  readonly runId: string
  readonly at: string
  readonly elapsedMs: number
  /** Rows written by backfills so far, over the run. */
  readonly rows: number
  /** Share of the run done, 0..1 (migrations done, and the running backfill's share of its table). */
  readonly progress: number
  /** Migrations failed and checks failed so far. */
  readonly errors: number
  /** This process's CPU use since the previous sample, in percent of one core. */
  readonly cpuPercent: number
  readonly rssBytes: number
  /** Bytes this process read from and wrote to storage since the run started (Linux /proc/self/io). */
  readonly readBytes: number | null
  readonly writeBytes: number | null
  /** Sessions open on the database server (PostgreSQL pg_stat_activity, MariaDB Threads_connected). */
  readonly connections: number | null
  /** Sessions waiting on a lock on the server (PostgreSQL only). */
  readonly lockWaits: number | null
}

export type AlertLevel = 'critical' | 'warning' | 'info'

export type AlertEvent =
  | 'migration_failure' | 'data_corruption' | 'rollback_required'
  | 'long_running' | 'performance_degradation' | 'high_resource_usage'
  | 'migration_started' | 'migration_completed' | 'backup_completed'

/** One alert, exactly as a sink receives it (SPEC S8): a JSONL line, a POST body, a command's stdin. */
export interface Alert {
  readonly level: AlertLevel
  readonly event: AlertEvent
  readonly runId: string | null
  readonly environment: string | null
  /** The migration it is about; null for run-level events. */
  readonly revision: string | null
  readonly message: string
  /** ISO-8601 UTC. */
  readonly at: string
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
