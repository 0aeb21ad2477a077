import type { BackupListing } from '../backup/backup-store.js'
import type { CheckResult } from '../checks/check.js'
import { captureState, stateDifferences, type DatabaseState } from '../checks/state.js'
import { StrataError, isStrataError } from '../errors/index.js'
import type { Direction } from '../events/events.js'
import type { RunStatus } from '../history/history-store.js'
import type { Operation } from '../ops/operation.js'
import { buildPlan, type Plan, type PlanStep } from '../plan/plan.js'
import { rollBack, runPlan, type RunReport, type RunnerOptions } from '../runner/run-plan.js'
import { openBackups, restoreInto, takeVerifiedBackup, type Backups } from './backup.js'
import { postflight, preflight } from './checks.js'
import { phasePlan, type PhaseCommand } from './phases.js'
import { withLockedSession, type LockOptions, type LockedSession } from './lock.js'
import { newRunId, whoAmI, type Project } from './session.js'
import { compare, recordSchema, type Comparison } from './status.js'
import { startMonitoring, type Monitoring, type MonitoringReport } from './monitoring.js'
import { maintenanceWindows, policyRefusal } from './policy.js'
import type { MigrationRecord } from '../records/record.js'
import { estimateFor } from '../records/estimates.js'
import { recordsDir, writeRecord } from '../records/store.js'
import { buildRecord } from '../records/build.js'

export type { LockOptions } from './lock.js'

export interface MigrateOptions extends LockOptions {
  readonly direction: Direction
  readonly target: string
  /**
   * `complete` / `abort` (SPEC S7): move the expand/contract revision `target` on by one phase
   * (direction `up` / `down`), through the same pipeline as up and down.
   */
  readonly command?: PhaseCommand
  readonly singleTransaction?: boolean
  /** `--yes`: the operator confirmed up front (policy `confirm`). */
  readonly yes?: boolean
  /** Asks the operator; absent when nobody can answer (no terminal). */
  readonly confirm?: (question: string) => Promise<boolean>
  /** `--metrics-port`: serve the run's metrics in Prometheus format on 127.0.0.1 (SPEC S8). */
  readonly metricsPort?: number
  /** False: no metrics, no alerts (the API's `monitor: false`). */
  readonly monitor?: boolean
  /** Take a verified backup first whatever the policy says (`strata deploy`). */
  readonly backup?: boolean
  /**
   * A policy refusal found before the run (deploy and rehearse check the rules before they
   * change anything); the run records it as its refusal instead of asking the rules again.
   */
  readonly refusal?: StrataError
  /** False: the run writes no record files of its own (a rehearsal's inner runs; its record is the rehearsal's). */
  readonly record?: boolean
  /** How `strata_runs` and the record name the command (`deploy (rolling)`); default the direction or phase command. */
  readonly label?: string
}

/** How a failed run was undone and whether the pre-run state was confirmed (SPEC S5). */
export interface Recovery {
  /** `rollback` (transaction or down migrations), `restore` (the pre-run backup) or `none` (`on_failure: stop`). */
  readonly method: 'rollback' | 'restore' | 'none'
  /** True when schema and row counts were compared with the pre-run state and are equal. */
  readonly verified: boolean
  /** What still differs from the pre-run state (empty when verified). */
  readonly differences: readonly string[]
}

export interface MigrateResult {
  readonly runId: string
  readonly plan: Plan
  readonly report: RunReport
  readonly preflight: readonly CheckResult[]
  readonly postflight: readonly CheckResult[]
  readonly backup: BackupListing | null
}

/**
 * `up` / `down` as the SOP's pipeline (SPEC S5): lock → compare history with files (refuse
 * modified, missing, dirty) → plan → preflight → pre-run state → backup and verify (per policy)
 * → migrate → postflight → on failure, return to the pre-run state per `on_failure` and verify
 * it → close the run row. Every run that gets past the lock is recorded in `<prefix>runs`,
 * refusals included.
 */
export async function migrate(project: Project, options: MigrateOptions): Promise<MigrateResult> {
  const { policy } = project.config
  // A malformed maintenance window is a config error (exit 2), found before anything is opened.
  const windows = maintenanceWindows(project)
  const wantsBackup = options.backup === true || policy.requireBackup || policy.onFailure === 'restore'
  let backups = wantsBackup ? await openBackups(project) : null
  const command = options.command ?? options.direction
  return withLockedSession(project, command, options, async (session) => {
    const run = new RunRecorder(project, session, options.label ?? command, options.record !== false)
    const comparison = await compare(project, session.conn)
    run.from = project.graph.currentHeads(comparison.appliedSet)
    const refusal = refusalFor(comparison, command, project)
    if (refusal) throw await run.refuse(refusal)
    const plan = options.command
      ? await phasePlan(project, session.conn, comparison, options.command, options.target)
      : buildPlan(project.graph, project.migrations, comparison.appliedSet, options.direction, options.target, { expanded: comparison.expanded })
    await run.planned(plan)
    const refused = options.refusal ?? await policyRefusal(project, plan, windows, options, run)
    if (refused) throw await run.refuse(refused)
    // A data migration is always backed up first, whatever the policy (SPEC S7).
    if (!backups && plan.steps.some((s) => s.migration.data && s.direction === 'up')) backups = await openBackups(project)
    // Metrics and alerts watch a run with steps (SPEC S8); what they saw goes into its record.
    // Started before the run is recorded: a metrics port in use is refused with nothing touched.
    const monitoring = options.monitor === false || plan.steps.length === 0 ? null : await startMonitoring(project, run.id, options.metricsPort)
    run.monitoring = monitoring
    try {
      await run.start()
      run.announce()
      if (plan.steps.length === 0) {
        const report: RunReport = { runId: run.id, direction: plan.direction, results: [], failure: null, rollback: null, state: 'complete', changed: [] }
        await run.finish('succeeded', plan.toHeads, { report })
        return { runId: run.id, plan, report, preflight: [], postflight: [], backup: null }
      }
      return await checkedRun(project, session, options, run, plan, comparison, backups)
    } finally {
      // A run that ended without its finish (an unexpected error) still stops its monitoring.
      if (run.monitoring) {
        const watched = await run.monitoring.stop()
        await run.annotate({ monitoring: watched }).catch(() => {})
      }
    }
  })
}

/** Preflight, pre-run state and backup, then the pipeline: the part of a run that is monitored. */
async function checkedRun(project: Project, session: LockedSession, options: MigrateOptions, run: RunRecorder, plan: Plan, comparison: Comparison, backups: Backups | null): Promise<MigrateResult> {
  const command = options.command ?? options.direction
  const checks = await preflight(project, session.conn, {
    mode: 'run', backups: backups?.store ?? null, programs: backups?.engine.programs ?? [], comparison,
    lint: { revisions: plan.steps.map((s) => s.revision), direction: plan.direction },
  })
  emitChecks(project, 'preflight', checks)
  run.preflight = checks
  const failing = checks.filter((c) => c.status === 'fail')
  if (failing.length > 0) {
    throw await run.refuse(new StrataError('E_PREFLIGHT', `preflight failed: ${failing.map((c) => `${c.name}: ${c.message}`).join('; ')}`, {
      checks,
      hint: 'fix what the failing checks name (`strata check` lists them all), then run again; nothing was changed',
    }))
  }
  const before = await captureState(project.dialect, session.conn, project.config.tablePrefix)
  let backup: BackupListing | null = null
  if (backups) {
    try {
      backup = await takeVerifiedBackup(project, backups, { revisions: comparison.applied.map((r) => r.revision), reason: command, runId: run.id })
    } catch (error) {
      const cause = isStrataError(error) ? error : new StrataError('E_BACKUP', String(error))
      const stopped = new StrataError('E_BACKUP', `${cause.message}; the run stopped before any change`, { ...cause.details, hint: cause.hint }, { cause })
      await run.finish('failed', run.from, { error: stopped })
      throw stopped
    }
  }
  const pipeline = new Pipeline(project, session, options, run, plan, before, backups, backup)
  return pipeline.execute(checks)
}

/** The steps after the backup: migrate, validate, and the way back when either fails. */
class Pipeline {
  readonly #ops: Operation[] = []
  #collecting = true

  constructor(
    readonly project: Project,
    readonly session: LockedSession,
    readonly options: MigrateOptions,
    readonly run: RunRecorder,
    readonly plan: Plan,
    readonly before: DatabaseState,
    readonly backups: Backups | null,
    readonly backup: BackupListing | null,
  ) {}

  async execute(preflightChecks: readonly CheckResult[]): Promise<MigrateResult> {
    const { project, plan, run } = this
    const started = performance.now()
    let report: RunReport
    try {
      report = await runPlan(plan, this.#runnerOptions())
    } catch (error) {
      this.#collecting = false
      throw await this.#migrationFailed(error, started)
    }
    this.#collecting = false
    const { checks, after } = await postflight(project, this.session.conn, { before: this.before, ops: this.#ops })
    emitChecks(project, 'postflight', checks)
    run.postflight = checks
    const failing = checks.filter((c) => c.status === 'fail')
    if (failing.length > 0) throw await this.#postflightFailed(report, failing, started)
    await recordSchema(project, this.session.conn, after?.schema)
    await run.finish('succeeded', plan.toHeads, { report, backupId: this.backup?.id ?? null })
    return { runId: run.id, plan, report, preflight: preflightChecks, postflight: checks, backup: this.backup }
  }

  #runnerOptions(): RunnerOptions {
    const { project, run, options } = this
    return {
      conn: this.session.conn, dialect: project.dialect, history: project.history, events: project.events, runId: run.id, by: run.by,
      singleTransaction: options.singleTransaction ?? false,
      onFailure: project.config.policy.onFailure === 'rollback' ? 'rollback' : 'stop',
      tablePrefix: project.config.tablePrefix,
      onOps: (_revision, _direction, ops) => {
        if (this.#collecting) this.#ops.push(...ops)
      },
    }
  }

  /** A migration failed: the runner rolled back what it could; restore or verify from there. */
  async #migrationFailed(error: unknown, started: number): Promise<unknown> {
    const { project, run } = this
    const report = isStrataError(error) ? (error.details['report'] as RunReport | undefined) : undefined
    if (!report) {
      await run.finish('failed', run.from, { error }).catch(() => {})
      return error
    }
    const policy = project.config.policy.onFailure
    const needsRestore = report.state === 'dirty' || (report.state === 'partial' && policy !== 'stop') || (policy === 'restore' && report.state !== 'pre-run')
    const recovery = await this.#recover(needsRestore ? 'restore' : report.state === 'pre-run' ? 'rollback' : 'none')
    const refused = isStrataError(error) && error.code === 'E_PREFLIGHT' && recovery.verified
    const status = refused ? 'refused' : statusAfter(recovery, report)
    settleState(report, recovery)
    const message = `${isStrataError(error) ? error.message : String(error)}\n${describeRecovery(recovery, this.backup)}`
    const failure = isStrataError(error)
      ? new StrataError(recovery.verified && error.code === 'E_DIRTY' ? 'E_MIGRATION_FAILED' : error.code, message, {
        ...error.details, recovery, report, exitCode: refused ? 3 : 1,
        // Statements left to undo by hand are undone already once the pre-run state is verified.
        ...(recovery.verified && error.details['committed'] !== undefined ? { hint: 'the database is back in its pre-run state: fix what failed and run again' } : {}),
      }, { cause: error.cause ?? error })
      : error
    await this.#close(status, failure, report, started)
    return failure
  }

  /** The postflight failed: undo the run per `on_failure`, verify, and report E_VALIDATION. */
  async #postflightFailed(report: RunReport, failing: readonly CheckResult[], started: number): Promise<StrataError> {
    const policy = this.project.config.policy.onFailure
    let recovery: Recovery
    if (policy === 'stop') {
      recovery = { method: 'none', verified: false, differences: [] }
    } else if (policy === 'restore') {
      recovery = await this.#recover('restore')
    } else {
      const applied = this.plan.steps.filter((s) => report.changed.includes(s.revision) || report.results.some((r) => r.revision === s.revision && (r.status === 'applied' || r.status === 'reverted')))
      await rollBack(applied, this.#runnerOptions(), report)
      recovery = await this.#recover(report.rollback?.ok ? 'rollback' : 'restore')
    }
    if (recovery.method === 'none') report.state = 'complete'
    else settleState(report, recovery)
    const status = statusAfter(recovery, report)
    const error = new StrataError('E_VALIDATION', `postflight failed: ${failing.map((c) => `${c.name}: ${c.message}`).join('; ')}\n${describeRecovery(recovery, this.backup)}`, {
      checks: failing,
      recovery,
      report,
      hint: recovery.method !== 'none' ? 'fix what the failing check names, then run again'
        : policy === 'stop' ? 'on_failure is stop: the migrations stay applied; fix the problem or run `strata down`'
        : 'the way back failed (see above): restore a backup or undo the change by hand, then run `strata repair`',
    })
    await this.#close(status, error, report, started)
    return error
  }

  /**
   * Brings the database back to the pre-run state and checks it: after a rollback, schema and
   * row counts must equal the pre-run capture; if they do not and a backup exists, the backup is
   * restored and checked again.
   */
  async #recover(method: Recovery['method']): Promise<Recovery> {
    if (method === 'none') return { method, verified: false, differences: [] }
    if (method === 'restore') {
      if (!this.backups || !this.backup) return { method: 'none', verified: false, differences: ['no pre-run backup was taken (set policy.require_backup to have one)'] }
      try {
        await this.session.close()
        await restoreInto(this.project, this.backups, this.backup, this.run.id)
      } catch (error) {
        await this.session.reconnect()
        return { method, verified: false, differences: [`restoring backup ${this.backup.id} failed: ${isStrataError(error) || error instanceof Error ? error.message : String(error)}`] }
      }
      await this.session.reconnect()
    }
    const after = await captureState(this.project.dialect, this.session.conn, this.project.config.tablePrefix, Object.keys(this.before.rowCounts))
    const differences = stateDifferences(this.before, after)
    if (differences.length > 0 && method === 'rollback' && this.backup) return this.#recover('restore')
    return { method, verified: differences.length === 0, differences }
  }

  async #close(status: RunStatus, error: unknown, report: RunReport, started: number): Promise<void> {
    const { project, run } = this
    const after: Comparison | null = await compare(project, this.session.conn).catch(() => null)
    await recordSchema(project, this.session.conn).catch(() => {})
    await run.finish(status, after ? project.graph.currentHeads(after.appliedSet) : run.from, { error, report, backupId: this.backup?.id ?? null })
  }
}

/**
 * The run's row in `<prefix>runs` and its Migration Record (SPEC S9): started once, finished
 * once, written even after a restore. What the pipeline learns on the way (the plan, the
 * checks, the change request) is kept here, so every way a run ends writes the same record.
 */
class RunRecorder {
  readonly id = newRunId()
  readonly by = whoAmI()
  readonly #startedAt = new Date().toISOString()
  readonly #started = performance.now()
  from: readonly string[] = []
  steps: readonly PlanStep[] = []
  preflight: readonly CheckResult[] = []
  postflight: readonly CheckResult[] = []
  changeRequest: string | null = null
  estimatedMs: number | null = null
  /** The run's metrics and alerts, stopped by `finish` so that what they saw goes into the record. */
  monitoring: Monitoring | null = null
  #finished = false

  /** Set once `run:start` went out: every finish then sends the matching `run:done`. */
  #announcedAt: number | null = null

  constructor(readonly project: Project, readonly session: LockedSession, readonly command: string, readonly writesRecord = true) {}

  /** The plan is known: its steps, and their estimate from earlier records of the same migrations. */
  async planned(plan: Plan): Promise<void> {
    this.steps = plan.steps
    const dir = recordsDir(this.project.config)
    if (!dir || plan.steps.length === 0) return
    this.estimatedMs = estimateFor(dir, plan.steps.map((s) => ({
      revision: s.revision, direction: s.direction, ...(s.phase ? { phase: s.phase } : {}), checksum: s.migration.file.checksum,
    })))
  }

  /** Emits `run:start` (SPEC S8); the run's finish, whatever it is, emits `run:done`. */
  announce(): void {
    this.#announcedAt = performance.now()
    const steps = this.steps.map((s) => ({ revision: s.revision, direction: s.direction }))
    this.project.events.emit('run:start', { runId: this.id, command: this.command, environment: this.project.config.environment, steps, estimatedMs: this.estimatedMs })
  }

  async start(): Promise<void> {
    const { history, config } = this.project
    await history.ensureTables(this.session.conn)
    if (await history.hasRun(this.session.conn, this.id)) return
    await history.startRun(this.session.conn, { runId: this.id, command: this.command, environment: config.environment, fromRevisions: this.from, startedAt: this.#startedAt, by: this.by })
  }

  /** Records a refusal (exit 3: nothing touched) and returns the error to throw. */
  async refuse(error: StrataError): Promise<StrataError> {
    await this.start()
    await this.finish('refused', this.from, { error })
    return error
  }

  /** Adds to the run's recorded report (the monitoring's figures, once the run has ended). */
  async annotate(extra: Record<string, unknown>): Promise<void> {
    await this.project.history.annotateRun(this.session.conn, this.id, extra)
  }

  /**
   * Closes the run row and writes the run's record. A restore may have replaced the table with
   * one from before the run started: start it again.
   */
  async finish(status: RunStatus, to: readonly string[], outcome: { error?: unknown; report?: RunReport; backupId?: string | null }): Promise<void> {
    await this.start()
    const error = outcome.error === undefined ? null : isStrataError(outcome.error) ? `${outcome.error.code}: ${outcome.error.message}` : outcome.error instanceof Error ? outcome.error.message : String(outcome.error)
    if (this.#announcedAt !== null) {
      const durationMs = Math.round(performance.now() - this.#announcedAt)
      this.#announcedAt = null
      this.project.events.emit('run:done', { runId: this.id, status, durationMs })
    }
    // The alerts run:done raised are delivered (or have failed) before the record is written.
    const watching = this.monitoring
    this.monitoring = null
    const monitoring = watching ? await watching.stop() : null
    const written = this.#finished ? null : await this.#writeRecord(status, outcome, monitoring)
    this.#finished = true
    const report = written || monitoring
      ? { ...(outcome.report ?? {}), ...(written ? { record: written.record } : {}), ...(monitoring ? { monitoring } : {}) }
      : outcome.report
    await this.project.history.finishRun(this.session.conn, this.id, { status, toRevisions: to, error, report, backupId: outcome.backupId ?? null, recordPath: written?.path ?? null })
  }

  /**
   * Builds the record and writes it beside the config (without a config file it lives in the
   * run row alone). A record that cannot be written is reported, never a reason to fail a run
   * whose changes are already made.
   */
  async #writeRecord(status: RunStatus, outcome: { error?: unknown; report?: RunReport; backupId?: string | null }, monitoring: MonitoringReport | null): Promise<{ record: MigrationRecord; path: string | null } | null> {
    try {
      const record = await buildRecord(this.project, {
        runId: this.id, command: this.command, status, startedAt: this.#startedAt, durationMs: Math.round(performance.now() - this.#started), by: this.by,
        steps: this.steps, report: outcome.report ?? null, preflight: this.preflight, postflight: this.postflight, error: outcome.error ?? null,
        backupId: outcome.backupId ?? null, changeRequest: this.changeRequest, estimatedDurationMs: this.estimatedMs, monitoring,
      })
      const dir = this.writesRecord ? recordsDir(this.project.config) : null
      if (!dir) return { record, path: null }
      return { record, path: writeRecord(dir, record).json }
    } catch (thrown) {
      const why = thrown instanceof Error ? thrown.message : String(thrown)
      this.project.events.emit('log', { level: 'warn', message: `the migration record of run ${this.id} could not be written: ${why}` })
      return null
    }
  }
}

/**
 * The run row's status after a failure: `restored` (the backup), `rolled-back` (committed
 * migrations were reverted), `failed` otherwise — including a failure whose own transaction
 * rolled back with nothing else to undo.
 */
function statusAfter(recovery: Recovery, report: RunReport): RunStatus {
  if (!recovery.verified) return 'failed'
  if (recovery.method === 'restore') return 'restored'
  return report.rollback?.ok ? 'rolled-back' : 'failed'
}

/** The state the output reports: pre-run only when verified; an unverified recovery is partial. */
function settleState(report: RunReport, recovery: Recovery): void {
  if (recovery.verified) report.state = 'pre-run'
  else if (recovery.method !== 'none') report.state = 'partial'
}

function emitChecks(project: Project, phase: 'preflight' | 'postflight', checks: readonly CheckResult[]): void {
  for (const check of checks) project.events.emit('check', { phase, ...check })
}

function describeRecovery(recovery: Recovery, backup: BackupListing | null): string {
  const how = recovery.method === 'restore' ? `the pre-run backup${backup ? ` ${backup.id}` : ''} was restored` : recovery.method === 'rollback' ? 'the run was rolled back' : ''
  if (recovery.method === 'none') {
    return recovery.differences.length > 0
      ? `The database was NOT returned to its pre-run state: ${recovery.differences.join('; ')}.`
      : 'on_failure is stop: the migrations this run applied stay applied.'
  }
  if (recovery.verified) return `Database state: pre-run — ${how}, and its schema and row counts equal those before the run.`
  return `Database state: NOT verified — ${how}, but it differs from before the run: ${recovery.differences.join('; ')}.`
}

/**
 * Modified or missing files refuse with E_CHECKSUM; a dirty revision with E_DIRTY (SPEC S2, S4).
 * A revision that stopped part-way and can resume does not stop `up` (which resumes it) or
 * `abort` / `complete` (which judge it themselves), but does stop `down`: reverting what lies
 * under a half-applied migration would leave its changes stranded.
 */
export function refusalFor(comparison: Comparison, command: Direction | PhaseCommand = 'up', project?: Project): StrataError | null {
  const stuck = comparison.dirty.filter((r) => !comparison.resumable.includes(r))
  const phased = (r: string): boolean => project?.migrations.get(r)?.phases !== undefined
  if (stuck.length > 0) {
    const expanded = stuck.some(phased) ? ' (`--mark expanded` for an expand/contract revision whose expand and backfill finished)' : ''
    return new StrataError('E_DIRTY', `revision ${stuck.join(', ')} is dirty: a non-transactional migration was interrupted`, {
      revisions: stuck,
      hint: `inspect the database, then run \`strata repair --mark applied\` or \`--mark reverted\`${expanded}`,
    })
  }
  if (command === 'down' && comparison.resumable.length > 0) {
    const [first] = comparison.resumable
    const abort = comparison.resumable.some(phased) ? `, or \`strata abort ${first}\` to undo what it committed` : ''
    return new StrataError('E_DIRTY', `revision ${comparison.resumable.join(', ')} stopped part-way; \`down\` would revert what it was built on`, {
      revisions: comparison.resumable,
      hint: `run \`strata up\` to finish it first (it resumes from its checkpoints)${abort}`,
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
