import type { Connection, LockLease } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import type { Direction } from '../events/events.js'
import { acquireLock } from '../lock/acquire-lock.js'
import { buildPlan, type Plan } from '../plan/plan.js'
import { runPlan, type RunReport } from '../runner/run-plan.js'
import { connect, newRunId, whoAmI, type Project } from './session.js'
import { compare, recordSchema, type Comparison } from './status.js'

export interface LockOptions {
  /** `--lock-timeout` in milliseconds. */
  readonly lockTimeoutMs: number
}

export interface MigrateOptions extends LockOptions {
  readonly direction: Direction
  readonly target: string
  readonly singleTransaction?: boolean
  /** `--yes`: the operator confirmed up front (policy `confirm`). */
  readonly yes?: boolean
  /** Asks the operator; absent when nobody can answer (no terminal). */
  readonly confirm?: (question: string) => Promise<boolean>
}

export interface MigrateResult {
  readonly runId: string
  readonly plan: Plan
  readonly report: RunReport
}

/**
 * `up` / `down` as one pipeline: lock → compare history with files (refuse modified, missing,
 * dirty) → plan → run → record the schema baseline → close the run row. Every run that gets past
 * the lock is recorded in `<prefix>runs`, refusals included.
 */
export async function migrate(project: Project, options: MigrateOptions): Promise<MigrateResult> {
  const { policy } = project.config
  const unenforceable = unenforceableRule(project)
  if (unenforceable) throw unenforceable
  return withLockedSession(project, options.direction, options, async (conn) => {
    const comparison = await compare(project, conn)
    const runId = newRunId()
    const by = whoAmI()
    const fromHeads = project.graph.currentHeads(comparison.appliedSet)
    const start = async (): Promise<void> => {
      await project.history.ensureTables(conn)
      await project.history.startRun(conn, { runId, command: options.direction, environment: project.config.environment, fromRevisions: fromHeads, startedAt: new Date().toISOString(), by })
    }
    const refusal = refusalFor(comparison)
    if (refusal) {
      await start()
      await project.history.finishRun(conn, runId, { status: 'refused', toRevisions: fromHeads, error: `${refusal.code}: ${refusal.message}` })
      throw refusal
    }
    const plan = buildPlan(project.graph, project.migrations, comparison.appliedSet, options.direction, options.target)
    const declined = await confirmation(project, plan, options)
    if (declined) {
      await start()
      await project.history.finishRun(conn, runId, { status: 'refused', toRevisions: fromHeads, error: `${declined.code}: ${declined.message}` })
      throw declined
    }
    await start()
    project.events.emit('run:start', { runId, command: options.direction, environment: project.config.environment, steps: plan.steps.map((s) => ({ revision: s.revision, direction: s.direction })) })
    const started = performance.now()
    try {
      const report = await runPlan(plan, {
        conn, dialect: project.dialect, history: project.history, events: project.events, runId, by,
        singleTransaction: options.singleTransaction ?? false,
        onFailure: policy.onFailure === 'stop' ? 'stop' : 'rollback',
        tablePrefix: project.config.tablePrefix,
      })
      if (plan.steps.length > 0) await recordSchema(project, conn)
      await project.history.finishRun(conn, runId, { status: 'succeeded', toRevisions: plan.toHeads, report })
      project.events.emit('run:done', { runId, status: 'succeeded', durationMs: Math.round(performance.now() - started) })
      return { runId, plan, report }
    } catch (error) {
      const report = isStrataError(error) ? (error.details['report'] as RunReport | undefined) : undefined
      const status = report?.state === 'pre-run' && report.rollback ? 'rolled-back' : 'failed'
      await recordSchema(project, conn).catch(() => {})
      const after = await compare(project, conn).catch(() => comparison)
      await project.history.finishRun(conn, runId, {
        status,
        toRevisions: project.graph.currentHeads(after.appliedSet),
        error: error instanceof Error ? error.message : String(error),
        report,
      })
      project.events.emit('run:done', { runId, status, durationMs: Math.round(performance.now() - started) })
      throw error
    }
  })
}

/**
 * Policy rules that need capabilities this version does not have yet (backups, change requests,
 * rehearsals, maintenance windows) refuse the run rather than be silently ignored.
 */
function unenforceableRule(project: Project): StrataError | null {
  const { policy, environment } = project.config
  const rules: string[] = []
  if (policy.requireBackup) rules.push('require_backup')
  if (policy.requireChangeRequest) rules.push('require_change_request')
  if (policy.requireRehearsal) rules.push('require_rehearsal')
  if (policy.maintenanceWindow.length > 0) rules.push('maintenance_window')
  if (policy.onFailure === 'restore') rules.push('on_failure: restore')
  if (rules.length === 0) return null
  return new StrataError('E_POLICY', `environment \`${environment}\` requires ${rules.join(', ')}, which this version of strata cannot enforce yet; refusing rather than running unguarded`, {
    rules,
    hint: 'run against an environment without these rules, or remove them from its policy if the environment does not need them',
  })
}

/** `policy.confirm` (SPEC S9): ask on a terminal; without one and without --yes, refuse. */
async function confirmation(project: Project, plan: Plan, options: MigrateOptions): Promise<StrataError | null> {
  if (!project.config.policy.confirm || options.yes || plan.steps.length === 0) return null
  const environment = project.config.environment
  const question = `${plan.direction === 'up' ? 'Apply' : 'Revert'} ${plan.steps.length} migration(s) on environment ${environment} (${project.config.url.redacted})?`
  if (options.confirm && (await options.confirm(question))) return null
  return new StrataError('E_POLICY', `environment \`${environment}\` requires confirmation and ${options.confirm ? 'it was declined' : 'there is no terminal to ask on'}`, {
    rule: 'confirm',
    hint: 'answer yes on a terminal, or pass --yes',
  })
}

/** Modified or missing files refuse with E_CHECKSUM; a dirty revision with E_DIRTY (SPEC S2, S4). */
export function refusalFor(comparison: Comparison): StrataError | null {
  if (comparison.dirty.length > 0) {
    return new StrataError('E_DIRTY', `revision ${comparison.dirty.join(', ')} is dirty: a non-transactional migration was interrupted`, {
      revisions: comparison.dirty,
      hint: 'inspect the database, then run `strata repair --mark applied` or `--mark reverted`',
    })
  }
  const parts: string[] = []
  if (comparison.modified.length > 0) parts.push(`modified since applied: ${comparison.modified.join(', ')}`)
  if (comparison.missing.length > 0) parts.push(`applied but missing: ${comparison.missing.join(', ')}`)
  if (parts.length === 0) return null
  return new StrataError('E_CHECKSUM', `migration files do not match the history (${parts.join('; ')})`, {
    modified: comparison.modified,
    missing: comparison.missing,
    hint: 'restore the original files, or run `strata repair` to accept the change (recorded)',
  })
}

/** Opens a connection and takes the migration lock around `fn`, releasing both whatever happens. */
export async function withLockedSession<T>(project: Project, command: string, options: LockOptions, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const lock = project.dialect.lock(project.config.url, project.config.tablePrefix)
  let lease: LockLease | undefined
  let conn: Connection | undefined
  try {
    lease = await acquireLock(lock, {
      timeoutMs: options.lockTimeoutMs,
      command,
      onWait: (holder) => project.events.emit('lock:wait', { holder }),
    })
    conn = await connect(project)
    if (await project.history.exists(conn)) {
      for (const id of await project.history.closeInterrupted(conn)) {
        project.events.emit('log', { level: 'warn', message: `run ${id} was interrupted (its process ended without finishing); marked interrupted` })
      }
    }
    return await fn(conn)
  } finally {
    await conn?.close().catch(() => {})
    await lease?.release().catch(() => {})
  }
}
