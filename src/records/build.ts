import type { CheckResult } from '../checks/check.js'
import { isStrataError } from '../errors/index.js'
import type { RunStatus } from '../history/history-store.js'
import type { PlanStep } from '../plan/plan.js'
import type { MonitoringReport } from '../pipeline/monitoring.js'
import type { Project } from '../pipeline/session.js'
import type { RunReport } from '../runner/run-plan.js'
import { affectedTables } from './affected-tables.js'
import { validationResults, type MigrationRecord, type RecordStep } from './record.js'

/** What a finished run knows about itself, whatever way it ended. */
export interface RunOutcome {
  readonly runId: string
  readonly command: string
  readonly status: RunStatus
  /** ISO-8601 UTC. */
  readonly startedAt: string
  readonly durationMs: number
  readonly by: string
  /** The plan's steps; for a run refused before planning, the steps it would have run (or none). */
  readonly steps: readonly PlanStep[]
  readonly report: RunReport | null
  readonly preflight: readonly CheckResult[]
  readonly postflight: readonly CheckResult[]
  readonly error: unknown
  readonly backupId: string | null
  readonly changeRequest: string | null
  readonly estimatedDurationMs: number | null
  /** What watching the run saw (SPEC S8): its figures and how its alerts were delivered. */
  readonly monitoring: MonitoringReport | null
}

/** Lint rules whose findings mean the change blocks the application while it runs. */
const BLOCKING_RULES = new Set(['blocking-index', 'table-rewrite', 'sqlite-rebuild-cascade'])

/** The run's Migration Record (SPEC S9). */
export async function buildRecord(project: Project, run: RunOutcome): Promise<MigrationRecord> {
  const { config } = project
  const results = run.report?.results ?? []
  const steps: RecordStep[] = run.steps.map((step) => {
    const result = results.find((r) => r.revision === step.revision && r.direction === step.direction && (r.phase ?? null) === (step.phase ?? null))
    return {
      revision: step.revision,
      direction: step.direction,
      ...(step.phase ? { phase: step.phase } : {}),
      checksum: step.migration.file.checksum,
      status: result?.status ?? 'pending',
      durationMs: result?.durationMs ?? null,
    }
  })
  const userCheckNames = new Set((config.raw.checks?.postflight ?? []).map((c) => c.name))
  const rollback = run.report?.rollback ?? null
  return {
    runId: run.runId,
    migrationIds: unique(run.steps.map((s) => s.revision)),
    date: run.startedAt.slice(0, 10),
    author: run.by,
    description: unique(run.steps.map((s) => s.migration.description).filter((d) => d !== '')).join('; '),
    databaseType: databaseType(project),
    migrationType: migrationType(run.steps),
    environment: config.environment,
    affectedTables: await affectedTables(project, run.steps).catch(() => []),
    estimatedDurationMs: run.estimatedDurationMs,
    downtimeRequired: await downtimeRequired(project, run.steps),
    executionTime: run.startedAt,
    durationMs: run.durationMs,
    success: run.status === 'succeeded',
    issues: issuesOf(run),
    validationResults: validationResults(run.preflight, run.postflight, userCheckNames),
    rollback: {
      available: run.steps.length > 0 && run.steps.every(reversible),
      tested: rollback?.ok === true,
      timeMs: rollback ? rollback.timeMs : null,
    },
    backupId: run.backupId,
    changeRequest: run.changeRequest,
    ...(run.monitoring ? { monitoring: monitoringOf(run.monitoring) } : {}),
    status: run.status,
    command: run.command,
    by: run.by,
    steps,
  }
}

function databaseType(project: Project): string {
  const { url } = project.config
  if (url.dialect === 'sqlite') return 'SQLite'
  if (url.dialect === 'postgres') return 'PostgreSQL'
  return /^mariadb:/i.test(url.raw) ? 'MariaDB' : 'MySQL'
}

function migrationType(steps: readonly PlanStep[]): string {
  const kinds = unique(steps.map((s) => (s.phase !== undefined || s.migration.phases ? 'expand-contract' : s.migration.data ? 'data' : 'schema')))
  return kinds.length === 0 ? 'none' : kinds.join(' + ')
}

/** A step can be undone: an up with a down (or an expand/contract revision's abort), any down. */
function reversible(step: PlanStep): boolean {
  if (step.direction === 'down') return true
  const m = step.migration
  return m.down !== undefined || m.sql?.down !== undefined || m.phases !== undefined
}

/**
 * Whether the application must expect to be blocked: lint found a lock-holding change (an index
 * built without CONCURRENTLY, a table rewrite, a SQLite rebuild) in the steps. Expand/contract
 * steps are built not to. Lint's findings for these steps are cached by the preflight's lint.
 */
async function downtimeRequired(project: Project, steps: readonly PlanStep[]): Promise<boolean> {
  const plain = steps.filter((s) => s.phase === undefined && !s.migration.phases)
  if (plain.length === 0) return false
  try {
    const { lintMigrations } = await import('../lint/index.js')
    const direction = plain[0]!.direction
    const findings = await lintMigrations(project, { revisions: steps.map((s) => s.revision), direction })
    const revisions = new Set(plain.map((s) => s.revision))
    return findings.some((f) => BLOCKING_RULES.has(f.rule) && f.severity !== 'info' && revisions.has(f.revision))
  } catch {
    return false
  }
}

function issuesOf(run: RunOutcome): string[] {
  const issues: string[] = []
  if (run.error !== null && run.error !== undefined) {
    issues.push(isStrataError(run.error) ? `${run.error.code}: ${run.error.message}` : run.error instanceof Error ? run.error.message : String(run.error))
  }
  for (const [phase, checks] of [['preflight', run.preflight], ['postflight', run.postflight]] as const) {
    for (const check of checks) if (check.status !== 'pass') issues.push(`${phase} ${check.name} (${check.status}): ${check.message}`)
  }
  if (run.report?.rollback && !run.report.rollback.ok) issues.push(`rollback failed: ${run.report.rollback.error ?? 'unknown error'}`)
  for (const f of run.monitoring?.alerts?.failed ?? []) {
    issues.push(`alert ${f.event}${f.revision === null ? '' : ` of ${f.revision}`} could not be delivered to ${f.sink}: ${f.error} (after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'})`)
  }
  return issues
}

/** The record's view of the monitoring: the figures, and the alerts raised, delivered and failed. */
function monitoringOf(report: MonitoringReport): NonNullable<MigrationRecord['monitoring']> {
  const { metrics, alerts } = report
  return {
    peakRssBytes: metrics.peakRssBytes, peakCpuPercent: Math.round(metrics.peakCpuPercent), readBytes: metrics.readBytes, writeBytes: metrics.writeBytes,
    peakConnections: metrics.peakConnections, rows: metrics.rows, errors: metrics.errors,
    alerts: alerts ? { raised: alerts.alerts, delivered: alerts.delivered, failed: alerts.failed.length } : null,
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)]
}
