import { loadConfig, type ConfigOptions, type ResolvedConfig } from '../config/load-config.js'
import type { LockOwner } from '../dialects/dialect.js'
import { StrataEmitter, type EventName, type StrataEvents } from '../events/events.js'
import type { AppliedRevision, LogEntry, RunRow } from '../history/history-store.js'
import { describePlan, type PlanView } from '../plan/describe-plan.js'
import { renderOfflineSql } from '../plan/offline-sql.js'
import { buildPlan } from '../plan/plan.js'
import { repair, stamp, unlock, type RepairResult, type StampResult } from '../pipeline/admin.js'
import type { MigrateResult } from '../pipeline/migrate.js'
import type { BackupListing, Verification } from '../backup/backup-store.js'
import type { CheckReport } from '../checks/check.js'
import type { RestoreResult } from '../pipeline/backup.js'
import type { LintDirection, LintFinding } from '../lint/index.js'
import type { TestReport } from '../testing/test-migrations.js'
import type { MigrationRecord } from '../records/record.js'
import type { RehearsalResult } from '../pipeline/rehearse.js'
import type { DeployResult, DeployStrategy } from '../pipeline/deploy.js'
import { StrataError, isStrataError } from '../errors/index.js'
import { loadProject, readOnly, type DatabaseAccess, type Project } from '../pipeline/session.js'
import { loadDialect } from '../dialects/registry.js'
import { activeConfig } from '../deploy/active.js'
import type { Pointer } from '../deploy/pointer.js'
import type { MaintenanceState } from '../maintenance/maintenance-store.js'
import { compare, computeStatus, type StatusReport } from '../pipeline/status.js'

export interface StrataOptions extends ConfigOptions {
  /** `--lock-timeout` in seconds (default 60). */
  readonly lockTimeoutSeconds?: number
  /** `--metrics-port`: serve each run's metrics at http://127.0.0.1:PORT/metrics (0: any free port). */
  readonly metricsPort?: number
  /** Default true: sample metrics and route alerts during runs (SPEC S8). False runs unwatched (benchmarks). */
  readonly monitor?: boolean
}

export interface RunOptions {
  readonly singleTransaction?: boolean
  /** The operator confirmed up front (`--yes`), for environments whose policy sets `confirm`. */
  readonly yes?: boolean
  /** Asks the operator a yes/no question; without it a `confirm` policy refuses unless `yes`. */
  readonly confirm?: (question: string) => Promise<boolean>
}

export interface HistoryReport {
  readonly applied: readonly AppliedRevision[]
  readonly log: ReadonlyArray<LogEntry & { at: string }>
  readonly runs: readonly RunRow[]
}

/**
 * The programmatic API (SPEC S14) and the CLI's only entry point. Open once, subscribe to
 * events, call commands; each command connects, works and disconnects.
 *
 * ```ts
 * const strata = await Strata.open({ config: 'strata.yaml' })
 * strata.on('migration:done', (e) => console.log(e.revision, e.durationMs))
 * await strata.up()
 * ```
 */
export class Strata {
  readonly #events = new StrataEmitter()
  readonly #options: StrataOptions
  readonly config: ResolvedConfig
  #project: Project | undefined

  private constructor(config: ResolvedConfig, options: StrataOptions) {
    this.config = config
    this.#options = options
  }

  /** Reads and validates the config (file, flags, environment); connects to nothing yet. */
  static async open(options: StrataOptions = {}): Promise<Strata> {
    return new Strata(loadConfig(options), options)
  }

  on<E extends EventName>(event: E, listener: (payload: StrataEvents[E]) => void): this {
    this.#events.on(event, listener)
    return this
  }

  off<E extends EventName>(event: E, listener: (payload: StrataEvents[E]) => void): this {
    this.#events.off(event, listener)
    return this
  }

  /** Migrations and graph, loaded once per Strata (refuses a bad graph before any connection). */
  async project(): Promise<Project> {
    // After a blue-green deploy, the environment's database is the one its pointer names.
    this.#project ??= await loadProject(await activeConfig(this.config), this.#events)
    return this.#project
  }

  async status(): Promise<StatusReport> {
    const project = await this.project()
    return readOnly(project, (conn) => computeStatus(project, conn))
  }

  async history(): Promise<HistoryReport> {
    const project = await this.project()
    return readOnly(project, async (conn) => ({
      applied: await project.history.applied(conn),
      log: await project.history.logEntries(conn),
      runs: await project.history.runs(conn),
    }))
  }

  /** What `up` (default) or `down` to `target` would do, read from the live history. */
  async plan(target?: string, options: { direction?: 'up' | 'down' } = {}): Promise<PlanView> {
    const project = await this.project()
    const direction = options.direction ?? 'up'
    return readOnly(project, async (conn) => {
      const { appliedSet, expanded } = await compare(project, conn)
      const plan = buildPlan(project.graph, project.migrations, appliedSet, direction, target ?? defaultTarget(direction), { expanded })
      return describePlan(plan, project.dialect.name)
    })
  }

  /** The SQL of a plan without connecting to the configured database (`plan --sql`). */
  async planSql(target?: string, options: { direction?: 'up' | 'down'; from?: string } = {}): Promise<string> {
    const project = await this.project()
    const direction = options.direction ?? 'up'
    return renderOfflineSql(project.dialect, project.graph, project.migrations, {
      direction,
      target: target ?? defaultTarget(direction),
      tablePrefix: project.config.tablePrefix,
      ...(options.from ? { from: options.from } : {}),
    })
  }

  async up(target = 'heads', options: RunOptions = {}): Promise<MigrateResult> {
    const { migrate } = await import('../pipeline/migrate.js')
    return migrate(await this.project(), { direction: 'up', target, lockTimeoutMs: this.#lockTimeoutMs(), ...this.#monitoring(), ...options })
  }

  async down(target: string, options: RunOptions = {}): Promise<MigrateResult> {
    const { migrate } = await import('../pipeline/migrate.js')
    return migrate(await this.project(), { direction: 'down', target, lockTimeoutMs: this.#lockTimeoutMs(), ...this.#monitoring(), ...options })
  }

  /**
   * `strata complete REV` (SPEC S7): runs the contract phase of an expanded expand/contract
   * revision, once the application no longer needs the old shape; the revision becomes `applied`.
   */
  async complete(revision: string, options: RunOptions = {}): Promise<MigrateResult> {
    const { migrate } = await import('../pipeline/migrate.js')
    return migrate(await this.project(), { direction: 'up', command: 'complete', target: revision, lockTimeoutMs: this.#lockTimeoutMs(), ...this.#monitoring(), ...options })
  }

  /**
   * `strata abort REV` (SPEC S7): undoes the expand of an expanded revision (its `abort`, or the
   * reverse of its expand ops; after an interrupted expand, of the ops it committed).
   */
  async abort(revision: string, options: RunOptions = {}): Promise<MigrateResult> {
    const { migrate } = await import('../pipeline/migrate.js')
    return migrate(await this.project(), { direction: 'down', command: 'abort', target: revision, lockTimeoutMs: this.#lockTimeoutMs(), ...this.#monitoring(), ...options })
  }

  async stamp(target: string): Promise<StampResult> {
    return stamp(await this.project(), target, { lockTimeoutMs: this.#lockTimeoutMs() })
  }

  async repair(options: { mark?: 'applied' | 'reverted' | 'expanded' } = {}): Promise<RepairResult> {
    return repair(await this.project(), { lockTimeoutMs: this.#lockTimeoutMs(), ...options })
  }

  /**
   * Every preflight check (SPEC S5) without changing anything: `ok` is false when one fails.
   * A held lock is a warning here.
   */
  async check(): Promise<CheckReport> {
    const project = await this.project()
    const [{ openBackups }, { preflight }, { reportOf }] = await Promise.all([import('../pipeline/backup.js'), import('../pipeline/checks.js'), import('../checks/check.js')])
    const { policy } = project.config
    const backups = policy.requireBackup || policy.onFailure === 'restore' ? await openBackups(project) : null
    return readOnly(project, async (conn) => reportOf(await preflight(project, conn, {
      mode: 'check', backups: backups?.store ?? null, programs: backups?.engine.programs ?? [],
    })))
  }

  /** Every postflight check (SPEC S5) on the database as it is now. */
  async validate(): Promise<CheckReport> {
    const project = await this.project()
    const [{ postflight }, { reportOf }] = await Promise.all([import('../pipeline/checks.js'), import('../checks/check.js')])
    return readOnly(project, async (conn) => reportOf((await postflight(project, conn, null)).checks))
  }

  /**
   * `strata test` (SPEC S6): every migration up, down and up again on a scratch database, never
   * the configured one. A graph that cannot be built (cycle, missing parent, duplicate) is a
   * failed check in the report, like every other finding.
   */
  async test(): Promise<TestReport> {
    let project: Project
    try {
      project = await this.project()
    } catch (error) {
      if (!isStrataError(error) || !GRAPH_ERRORS.has(error.code)) throw error
      return { ok: false, dialect: this.config.url.dialect, scratch: '', revisions: [], failures: [{ revision: null, check: 'graph', message: `${error.code}: ${error.message}` }] }
    }
    const { runMigrationTests } = await import('../testing/test-migrations.js')
    return runMigrationTests(project)
  }

  /**
   * `strata lint` (SPEC S6): the findings of every migration (or of `revisions`), read without
   * connecting to the database; the dialect comes from the URL. Loads the SQL parsers on first use.
   */
  async lint(revisions?: readonly string[], options: { direction?: LintDirection } = {}): Promise<LintFinding[]> {
    const project = await this.project()
    const { lintMigrations } = await import('../lint/index.js')
    return lintMigrations(project, { ...(revisions && revisions.length > 0 ? { revisions } : {}), ...options })
  }

  /** Backups of this database (SPEC S5): create, list, verify, restore, prune. */
  readonly backup = {
    create: async (): Promise<BackupListing> => (await backups()).createBackup(await this.project(), { lockTimeoutMs: this.#lockTimeoutMs() }),
    list: async (options: { all?: boolean } = {}): Promise<BackupListing[]> => (await (await backups()).openBackups(await this.project())).store.list(options),
    verify: async (id?: string): Promise<Verification> => (await backups()).verifyBackup(await this.project(), id),
    restore: async (id?: string, options: Pick<RunOptions, 'yes' | 'confirm'> = {}): Promise<RestoreResult> => (await backups()).restoreBackup(await this.project(), id, { lockTimeoutMs: this.#lockTimeoutMs(), ...options }),
    prune: async (keep?: number): Promise<string[]> => (await (await backups()).openBackups(await this.project())).store.prune(keep),
  }

  /**
   * The staging rehearsal (SPEC S10): copies environment `from` (default `production`) into `to`
   * (default `staging`), migrates it, tests the rollback and the benchmark queries, migrates it
   * again and writes the rehearsal record. The source is only read.
   */
  async rehearse(options: { from?: string; to?: string } & Pick<RunOptions, 'yes' | 'confirm'> = {}): Promise<RehearsalResult> {
    if (this.config.file === null && typeof this.#options.config !== 'object') {
      throw new StrataError('E_CONFIG', '`strata rehearse` needs a config file with the environments to copy from and to', { hint: 'run `strata init`, then describe production and staging under `environments`' })
    }
    if (this.#options.url) throw new StrataError('E_USAGE', '--url cannot be used with rehearse: it copies one environment of the config into another', { hint: 'name them with --from and --to' })
    const { rehearse } = await import('../pipeline/rehearse.js')
    const { url: _url, env: _env, ...shared } = this.#options
    const source = await activeConfig(loadConfig({ ...shared, env: options.from ?? 'production' }))
    const target = await loadProject(await activeConfig(loadConfig({ ...shared, env: options.to ?? 'staging' })), this.#events)
    return rehearse(source, target, { lockTimeoutMs: this.#lockTimeoutMs(), ...this.#monitoring(), ...(options.yes ? { yes: true } : {}), ...(options.confirm ? { confirm: options.confirm } : {}) })
  }

  /**
   * `strata deploy` (SPEC S10): backup, migrate and validate, inside maintenance mode with the
   * `rolling` strategy. The strategy defaults to the environment's `policy.strategy`.
   */
  async deploy(options: { strategy?: DeployStrategy; message?: string } & RunOptions = {}): Promise<DeployResult> {
    const { deploy } = await import('../pipeline/deploy.js')
    return deploy(await this.project(), { lockTimeoutMs: this.#lockTimeoutMs(), ...this.#monitoring(), ...options, home: this.config })
  }

  /** `strata deploy --rollback`: points the application back at the database it used before the last blue-green switch. */
  async deployRollback(options: Pick<RunOptions, 'yes' | 'confirm'> = {}): Promise<Pointer> {
    const { blueGreenRollback } = await import('../pipeline/blue-green.js')
    return blueGreenRollback(this.config, await loadDialect(this.config.url.dialect), { lockTimeoutMs: this.#lockTimeoutMs(), ...options }, this.#events)
  }

  /**
   * Maintenance mode (SPEC S10): the flag applications read with `maintenanceStatus()`. Needs
   * the database alone, not the migrations: it still works while a migration file is broken.
   */
  readonly maintenance = {
    on: async (options: { message?: string; until?: string } = {}): Promise<MaintenanceState> =>
      (await import('../pipeline/maintenance.js')).setMaintenance(await this.#database(), { enabled: true, ...options }),
    off: async (): Promise<MaintenanceState> => (await import('../pipeline/maintenance.js')).setMaintenance(await this.#database(), { enabled: false }),
    status: async (): Promise<MaintenanceState> => (await import('../pipeline/maintenance.js')).readMaintenance(await this.#database()),
  }

  async #database(): Promise<DatabaseAccess> {
    if (this.#project) return this.#project
    return { config: this.config, dialect: await loadDialect(this.config.url.dialect) }
  }

  /** Migration records (SPEC S9): every run's, newest last; one by run id (or a prefix of it). */
  readonly records = {
    list: async (): Promise<MigrationRecord[]> => (await import('../pipeline/records.js')).listRecords(await this.project()),
    show: async (runId: string): Promise<{ record: MigrationRecord; markdown: string }> => (await import('../pipeline/records.js')).showRecord(await this.project(), runId),
  }

  /** Clears a lock left by a dead process; `force` ends a live holder (on this host) first. */
  async unlock(options: { force?: boolean } = {}): Promise<{ cleared: LockOwner | null }> {
    return unlock(await this.project(), options.force ?? false)
  }

  /** The lock's recorded holder and whether it is held right now. */
  async lockStatus(): Promise<{ holder: LockOwner | null; held: boolean }> {
    const project = await this.project()
    return project.dialect.lock(project.config.url, project.config.tablePrefix).inspect()
  }

  #monitoring(): { metricsPort?: number; monitor?: boolean } {
    return {
      ...(this.#options.metricsPort !== undefined ? { metricsPort: this.#options.metricsPort } : {}),
      ...(this.#options.monitor === false ? { monitor: false } : {}),
    }
  }

  #lockTimeoutMs(): number {
    return Math.round((this.#options.lockTimeoutSeconds ?? 60) * 1000)
  }
}

const GRAPH_ERRORS: ReadonlySet<string> = new Set(['E_GRAPH_CYCLE', 'E_GRAPH_MISSING_PARENT', 'E_GRAPH_DUPLICATE'])

/** The backup commands, loaded when one is used (`status` stays small: SPEC S15). */
function backups(): Promise<typeof import('../pipeline/backup.js')> {
  return import('../pipeline/backup.js')
}

function defaultTarget(direction: 'up' | 'down'): string {
  return direction === 'up' ? 'heads' : '-1'
}
