import type { Connection, Dialect } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import type { Direction, StrataEmitter } from '../events/events.js'
import type { Checkpoint, HistoryStore, LogAction, RevisionState } from '../history/history-store.js'
import type { MigrationDef } from '../loader/migration.js'
import type { Plan, PlanStep } from '../plan/plan.js'
import { counterpart, type Phase } from '../plan/phases.js'
import { executeMigration, isConcurrent, messageOf, type ExecutedStatement } from './execute-migration.js'
import type { OpOf, Operation } from '../ops/operation.js'
import { runBackfill } from './backfill.js'
import { interruptedIndex, landingOf } from './landed.js'
import { describeOp } from '../ops/reverse.js'
import { StatementJournal, undoSummary, undoneError } from './statement-journal.js'

export type MigrationStatus = 'applied' | 'reverted' | 'failed' | 'not-run' | 'rolled-back'

export interface MigrationResult {
  readonly revision: string
  readonly direction: Direction
  /** The expand/contract phase the step ran (`expand`, `contract`, `abort`), when it was one. */
  readonly phase?: Phase
  status: MigrationStatus
  durationMs: number | null
  statements: number
}

/** Where the database stands after a run (the output and `status` always say it). */
export type DatabaseState = 'complete' | 'pre-run' | 'partial' | 'dirty'

export interface RunReport {
  readonly runId: string
  readonly direction: Direction
  readonly results: readonly MigrationResult[]
  failure: { revision: string; message: string; file?: string; line?: number; statement?: string } | null
  rollback: { revisions: string[]; ok: boolean; timeMs: number; error?: string } | null
  state: DatabaseState
  /** Revisions applied (up) or still applied (down) last by this run: the newest row to fingerprint. */
  readonly changed: readonly string[]
}

export interface RunnerOptions {
  readonly conn: Connection
  readonly dialect: Dialect
  readonly history: HistoryStore
  readonly events: StrataEmitter
  readonly runId: string
  readonly by: string
  readonly singleTransaction: boolean
  /** `rollback` reverts what this run committed when a later migration fails; `stop` keeps it. */
  readonly onFailure: 'rollback' | 'stop'
  /**
   * strata's table prefix. When given, on an engine without transactional DDL each
   * non-transactional migration keeps a statement journal and undoes its committed statements
   * when a later one fails (SPEC S4).
   */
  readonly tablePrefix?: string
  /** Printing a plan (`plan --sql`): a backfill shows as its single-statement equivalent. */
  readonly printing?: boolean
  /** Receives the ops each migration executed, so the postflight can hold the run to them. */
  readonly onOps?: (revision: string, direction: Direction, ops: readonly Operation[]) => void
}

/**
 * Executes a plan (STYLE 2, runner): each migration in its own transaction with its history row
 * (or all in one with `singleTransaction`); on failure applies `onFailure` and throws
 * E_MIGRATION_FAILED (or E_DIRTY) carrying the RunReport.
 */
export async function runPlan(plan: Plan, options: RunnerOptions): Promise<RunReport> {
  const report: RunReport = {
    runId: options.runId,
    direction: plan.direction,
    results: plan.steps.map((s) => ({ revision: s.revision, direction: s.direction, ...(s.phase ? { phase: s.phase } : {}), status: 'not-run', durationMs: null, statements: 0 })),
    failure: null,
    rollback: null,
    state: 'complete',
    changed: [],
  }
  const changed = report.changed as string[]
  if (options.singleTransaction) {
    const nonTx = plan.steps.find((s) => !isTransactional(s.migration, options.dialect))
    if (nonTx) {
      throw new StrataError('E_USAGE', `--single-transaction cannot include ${nonTx.revision}, which is not transactional`, {
        hint: 'run without --single-transaction, or up to the revision before it first',
      })
    }
    try {
      await options.conn.transaction(async (tx) => {
        for (const [index, step] of plan.steps.entries()) {
          await runStep(step, index, { ...options, conn: tx }, report)
        }
      })
      changed.push(...plan.steps.map((s) => s.revision))
    } catch (error) {
      for (const result of report.results) if (result.status !== 'failed') result.status = result.status === 'not-run' ? 'not-run' : 'rolled-back'
      report.state = 'pre-run'
      throw failed(error, report)
    }
    return report
  }
  for (const [index, step] of plan.steps.entries()) {
    try {
      await runStep(step, index, options, report)
      changed.push(step.revision)
    } catch (error) {
      if (isStrataError(error) && (error.code === 'E_DIRTY' || error.details['dirty'] === true)) {
        report.state = 'dirty'
        throw failed(error, report)
      }
      const committed = plan.steps.slice(0, index)
      if (committed.length === 0) report.state = 'pre-run'
      else if (options.onFailure === 'stop') report.state = 'partial'
      else await rollBack(committed, options, report)
      throw failed(error, report)
    }
  }
  return report
}

async function runStep(step: PlanStep, index: number, options: RunnerOptions, report: RunReport): Promise<void> {
  const total = report.results.length
  const result = report.results[index]!
  const { events, runId } = options
  const phase = step.phase ? { phase: step.phase } : {}
  events.emit('migration:start', { runId, revision: step.revision, direction: step.direction, ...phase, index, total, file: step.migration.file.relativePath })
  const started = performance.now()
  try {
    result.statements = await applyStep(step, options, () => Math.round(performance.now() - started))
  } catch (error) {
    result.status = 'failed'
    result.durationMs = Math.round(performance.now() - started)
    events.emit('migration:failed', { runId, revision: step.revision, direction: step.direction, ...phase, message: messageOf(error) })
    throw error
  }
  result.durationMs = Math.round(performance.now() - started)
  result.status = step.direction === 'up' ? 'applied' : 'reverted'
  events.emit('migration:done', { runId, revision: step.revision, direction: step.direction, ...phase, index, total, durationMs: result.durationMs, statements: result.statements })
}

/**
 * Whether a migration runs in one transaction. Without transactional DDL (MySQL) only a data
 * migration does (SPEC S7: its transform is row changes, which InnoDB rolls back); a statement
 * there that commits implicitly is caught by the pipeline, which compares the database with its
 * pre-run state and restores the backup a data migration always has.
 */
function isTransactional(migration: MigrationDef, dialect: Dialect): boolean {
  return migration.transactional && (dialect.capabilities.transactionalDdl || migration.data === true)
}

/**
 * What a step does to its revision's history row: the state it finds (null: no row), the state it
 * leaves (null: the row goes) and the log action. Expand/contract steps (SPEC S7) move the row
 * between `expanded` and `applied`.
 */
interface Transition {
  readonly from: RevisionState | null
  readonly to: 'applied' | 'expanded' | null
  readonly action: LogAction
}

const TRANSITIONS: Record<Phase, Transition> = {
  expand: { from: null, to: 'expanded', action: 'expand' },
  contract: { from: 'expanded', to: 'applied', action: 'complete' },
  abort: { from: 'expanded', to: null, action: 'abort' },
  uncontract: { from: 'applied', to: 'expanded', action: 'revert' },
}

function transitionOf(step: PlanStep): Transition {
  if (step.phase) return { ...TRANSITIONS[step.phase], ...(step.fromState ? { from: step.fromState } : {}) }
  return step.direction === 'up' ? { from: null, to: 'applied', action: 'apply' } : { from: 'applied', to: null, action: 'revert' }
}

/** Runs one step with its history write; returns the statement count. */
async function applyStep(step: PlanStep, options: RunnerOptions, elapsed: () => number): Promise<number> {
  const { migration, direction } = step
  const { conn, dialect, history, runId, by } = options
  const base = { dialect, events: options.events, runId }
  const transition = transitionOf(step)
  // What an interrupted run of this migration committed (non-transactional ups only).
  let progress = new Map<number, Checkpoint>()
  const finish = async (tx: Connection, markedDirty: boolean): Promise<void> => {
    // A resumed migration may have been fixed in its file: it finishes as that file.
    if (progress.size > 0) await history.updateChecksum(tx, migration.revision, migration.file.checksum, migration.file.checksumVersion, migration.file.relativePath)
    if (transition.to === null) await history.recordReverted(tx, migration.revision)
    else if (markedDirty || transition.from !== null) await history.setState(tx, migration.revision, transition.to, elapsed())
    else await history.recordApplied(tx, entry(transition.to))
    // An aborted part-way expand leaves no checkpoints for a later up to skip ops by.
    if (step.phase === 'abort' && !options.printing) await history.clearCheckpoints(tx, migration.revision)
    await history.log(tx, {
      runId, revision: migration.revision, action: transition.action, by,
      checksum: migration.file.checksum, durationMs: elapsed(),
    })
  }
  const entry = (state: RevisionState) => ({
    revision: migration.revision, checksum: migration.file.checksum, checksumVersion: migration.file.checksumVersion,
    description: migration.description, appliedAt: new Date().toISOString(), appliedBy: by, durationMs: elapsed(),
    runId, fingerprint: null, state, file: migration.file.relativePath,
  })
  if (isTransactional(migration, dialect)) {
    return conn.transaction(async (tx) => {
      const execution = await executeMigration(migration, direction, { ...base, conn: tx })
      await finish(tx, false)
      options.onOps?.(migration.revision, direction, execution.ops)
      return execution.statements.length
    })
  }
  // Non-transactional: mark the revision dirty first, so an interruption is visible (STYLE 3.4).
  // An up interrupted after committing some ops resumes: its row is dirty already, and the ops
  // its checkpoints list as done are skipped; a backfill goes on from its last batch (SPEC S7).
  // Contract and abort steps start from a row in another state and never resume.
  const resumes = direction === 'up' && transition.from === null && !options.printing
  progress = resumes ? await history.checkpoints(conn, migration.revision) : new Map<number, Checkpoint>()
  if (progress.size > 0) {
    const done = [...progress.values()].filter((c) => c.state === 'done').length
    options.events.emit('log', { level: 'info', message: `resuming ${migration.revision} from its checkpoints: ${done} op(s) done${[...progress.values()].some((c) => c.state === 'running') ? ', a backfill part-way' : ''}` })
  } else if (transition.from === null) {
    await history.recordApplied(conn, entry('dirty'))
  } else {
    await history.setState(conn, migration.revision, 'dirty')
  }
  const committed: ExecutedStatement[] = []
  // Set once a backfill starts: its batches commit on their own, so a failure after it leaves
  // the revision dirty and resumable rather than undone statement by statement.
  let backfilled = false
  const journal = !dialect.capabilities.transactionalDdl && options.tablePrefix !== undefined ? new StatementJournal(dialect, options.tablePrefix) : undefined
  try {
    await journal?.start(conn)
    const execution = await executeMigration(migration, direction, {
      ...base,
      conn,
      // Each op commits on its own where DDL is transactional; index builds with CONCURRENTLY
      // cannot run inside a transaction at all.
      ...(dialect.capabilities.transactionalDdl
        ? { perOp: <T>(fn: (c: Connection) => Promise<T>, op: Operation) => ((isConcurrent(op) && dialect.capabilities.concurrentIndex) || op.kind === 'backfill' ? fn(conn) : conn.transaction(fn)) }
        : {}),
      ...(!resumes ? {} : {
        skipOp: (opIndex: number, op: Operation, c: Connection) => resumeSkips(migration, progress, opIndex, op, c, options),
        opDone: (opIndex: number, c: Connection, op: Operation) => history.markOpDone(c, migration.revision, opIndex, describeOp(op)),
      }),
      ...(options.printing ? {} : {
        backfill: async (op: OpOf<'backfill'>, opIndex: number, c: Connection) => {
          backfilled = true
          const resume = progress.get(opIndex)
          const result = await runBackfill(op, { conn: c, dialect, history, events: options.events, runId, revision: migration.revision, opIndex, ...(resume ? { resume } : {}) })
          options.events.emit('log', { level: 'info', message: `backfill of ${op.table}: ${result.rows} row(s) in ${result.batches} batch(es), longest ${result.longestBatchMs} ms` })
        },
      }),
      onStatement: (s) => {
        committed.push(s)
        journal?.record(s)
      },
      ...(journal ? { beforeOp: journal.beforeOp, afterOp: journal.afterOp } : {}),
    })
    await finish(conn, true)
    if (!options.printing) await history.clearCheckpoints(conn, migration.revision)
    options.onOps?.(migration.revision, direction, execution.ops)
    return execution.statements.length
  } catch (error) {
    const checkpointed = resumes ? await history.checkpoints(conn, migration.revision).catch(() => new Map<number, Checkpoint>()) : new Map<number, Checkpoint>()
    // An expand that committed ops resumes too, or is undone op by op with `strata abort`.
    const expanding = step.phase === 'expand' && checkpointed.size > 0
    if (backfilled || progress.size > 0 || expanding) {
      // Ops and backfill batches committed: the revision stays dirty and the next `up` resumes
      // it. A data migration's verdict keeps its code; the run is dirty either way.
      const verdict = isStrataError(error) && (error.code === 'E_VALIDATION' || error.code === 'E_PREFLIGHT') ? error.code : 'E_DIRTY'
      const abort = step.phase === 'expand' ? `, or \`strata abort ${migration.revision}\` to undo what its expand committed` : ''
      throw new StrataError(verdict, `migration ${migration.revision} stopped part-way: ${messageOf(error)}\nIts committed ops and backfill batches are checkpointed; fix the cause and run \`strata up\` again to resume from the last checkpoint${abort}.`, {
        file: migration.file.path,
        revision: migration.revision,
        dirty: true,
        hint: `run \`strata up\` again once the cause is fixed: it resumes${abort}; or restore the pre-run backup`,
      }, { cause: error })
    }
    // Not resumable: the ops' checkpoints say nothing the next run could use.
    if (checkpointed.size > 0) await history.clearCheckpoints(conn, migration.revision).catch(() => {})
    const undo = committed.length > 0 && journal ? await journal.undo(conn) : undefined
    if (committed.length === 0 || undo?.ok) {
      if (transition.from === null) await history.remove(conn, migration.revision)
      else await history.setState(conn, migration.revision, transition.from)
      throw undo ? undoneError(migration, error, undo) : error
    }
    const list = committed.map((s) => `  ${s.sql.split('\n')[0]}`).join('\n')
    // A data migration's verdict keeps its code (the pipeline restores its backup); the run is dirty either way.
    const verdict = isStrataError(error) && (error.code === 'E_VALIDATION' || error.code === 'E_PREFLIGHT') ? error.code : 'E_DIRTY'
    const how = migration.transactional ? `ran statement by statement (${dialect.name} commits DDL implicitly)` : 'is not transactional'
    throw new StrataError(verdict, `migration ${migration.revision} ${how} and failed after ${committed.length} committed statement(s): ${messageOf(error)}\nCommitted:\n${list}${undo ? `\n${undoSummary(undo)}` : ''}`, {
      file: migration.file.path,
      revision: migration.revision,
      committed: committed.map((s) => s.sql),
      dirty: true,
      hint: 'inspect the database, undo or finish those statements by hand, then run `strata repair`',
    }, { cause: error })
  }
}

/**
 * Whether a resumed migration skips op `opIndex` (SPEC S7). Ops its checkpoints list as done are
 * skipped, provided the file still has the same op there (an edit may fix what stopped the run,
 * not rewrite what already committed). The op the run was executing when it died is skipped too
 * when its effect is in place after all; an index PostgreSQL left invalid is dropped and built again.
 */
async function resumeSkips(migration: MigrationDef, progress: ReadonlyMap<number, Checkpoint>, opIndex: number, op: Operation, conn: Connection, options: RunnerOptions): Promise<boolean> {
  const { revision } = migration
  const checkpoint = progress.get(opIndex)
  const now = describeOp(op)
  if (checkpoint?.state === 'done') {
    if (checkpoint.lastKey !== null && checkpoint.lastKey !== now) {
      throw new StrataError('E_DIRTY', `cannot resume ${revision}: its op ${opIndex + 1} was \`${checkpoint.lastKey}\` when it committed, and the file now has \`${now}\` there`, {
        revision,
        hint: 'put back the ops that had committed (edit only those after them), or undo the run with `strata abort` (expand/contract) or a backup',
      })
    }
    return true
  }
  if (progress.size === 0 || opIndex !== interruptedIndex((i) => progress.get(i)?.state === 'done')) return false
  const { dialect, history, events } = options
  const landing = await landingOf(op, conn, dialect, options.tablePrefix ?? '')
  if (landing === 'landed') {
    events.emit('log', { level: 'info', message: `op ${opIndex + 1} of ${revision} (${now}) had taken effect before the run stopped: recorded as done` })
    await history.markOpDone(conn, revision, opIndex, now)
    return true
  }
  if (landing === 'invalid' && op.kind === 'createIndex') {
    events.emit('log', { level: 'info', message: `op ${opIndex + 1} of ${revision} left index ${op.name} invalid when the run stopped: dropping it to build it again` })
    const drop: OpOf<'dropIndex'> = { kind: 'dropIndex', name: op.name, table: op.table, concurrently: true, ifExists: true }
    for (const stmt of dialect.compiler.dropIndex(drop, { table: () => undefined })) await conn.execute(stmt)
  }
  return false
}

/** Reverts the steps this run committed, newest first (`on_failure: rollback`). */
export async function rollBack(committed: readonly PlanStep[], options: RunnerOptions, report: RunReport): Promise<void> {
  const started = performance.now()
  const revisions = [...committed].reverse().map((s) => s.revision)
  options.events.emit('rollback:start', { runId: options.runId, revisions })
  report.rollback = { revisions, ok: true, timeMs: 0 }
  for (const step of [...committed].reverse()) {
    const result = report.results.find((r) => r.revision === step.revision)!
    try {
      await applyStep(counterpart(step), options, () => 0)
      result.status = 'rolled-back'
      ;(report.changed as string[]).splice(report.changed.indexOf(step.revision), 1)
    } catch (error) {
      report.rollback.ok = false
      report.rollback.error = `${step.revision}: ${messageOf(error)}`
      break
    }
  }
  report.rollback.timeMs = Math.round(performance.now() - started)
  report.state = report.rollback.ok ? 'pre-run' : 'partial'
  options.events.emit('rollback:done', { runId: options.runId, revisions, ok: report.rollback.ok })
}

function failed(error: unknown, report: RunReport): StrataError {
  const original = isStrataError(error) ? error : new StrataError('E_MIGRATION_FAILED', messageOf(error), {}, { cause: error })
  const d = original.details
  const revision = String(d['revision'] ?? report.results.find((r) => r.status === 'failed')?.revision ?? '')
  // Errors raised around a migration rather than by its statements (the foreign key check before
  // COMMIT) do not name it yet.
  const message = revision && !original.message.includes(revision) ? `migration ${revision}: ${original.message}` : original.message
  report.failure = {
    revision,
    message,
    ...(typeof d.file === 'string' ? { file: d.file } : {}),
    ...(typeof d.line === 'number' ? { line: d.line } : {}),
    ...(typeof d['statement'] === 'string' ? { statement: d['statement'] } : {}),
  }
  const kept = original.code === 'E_DIRTY' || original.code === 'E_PREFLIGHT' || original.code === 'E_VALIDATION'
  const code = kept ? original.code : 'E_MIGRATION_FAILED'
  return new StrataError(code, message, { ...d, hint: original.hint, report, exitCode: code === 'E_PREFLIGHT' ? 3 : 1 }, { cause: original.cause ?? original })
}
