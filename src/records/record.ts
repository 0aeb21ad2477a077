import type { CheckResult } from '../checks/check.js'
import { redactDeep } from '../errors/redact.js'

/**
 * The SOP's Migration Record (SPEC S9), one per command invocation: what ran, where, by whom,
 * how long it took against its estimate, how it was validated and how it can be undone. The
 * JSON keys are the SPEC's; `status`, `command`, `by` and `steps` are added so a record can be
 * listed, and so later runs of the same migrations can take their estimates from it.
 */
export interface MigrationRecord {
  readonly runId: string
  readonly migrationIds: readonly string[]
  /** The UTC day the run started, YYYY-MM-DD. */
  readonly date: string
  readonly author: string
  readonly description: string
  /** `SQLite`, `PostgreSQL`, `MySQL` or `MariaDB`. */
  readonly databaseType: string
  /** `schema`, `data`, `expand-contract`, or several joined with ` + `; `none` when nothing ran. */
  readonly migrationType: string
  readonly environment: string | null
  readonly affectedTables: readonly string[]
  /** From earlier records of the same migrations with the same checksums; null when there are none. */
  readonly estimatedDurationMs: number | null
  readonly downtimeRequired: boolean
  /** When the run started, ISO-8601 UTC. */
  readonly executionTime: string
  readonly durationMs: number
  readonly success: boolean
  readonly issues: readonly string[]
  readonly validationResults: ValidationResults
  readonly rollback: { readonly available: boolean; readonly tested: boolean; readonly timeMs: number | null }
  readonly backupId: string | null
  readonly changeRequest: string | null
  /** The run's status as `strata_runs` has it (`succeeded`, `refused`, `rolled-back`, …). */
  readonly status: string
  readonly command: string
  /** `user@host` of the operator who ran it. */
  readonly by: string
  readonly steps: readonly RecordStep[]
  /** Resource figures and alert deliveries of a watched run (SPEC S8); failed deliveries are also among the issues. */
  readonly monitoring?: {
    readonly peakRssBytes: number
    readonly peakCpuPercent: number
    readonly readBytes: number | null
    readonly writeBytes: number | null
    readonly peakConnections: number | null
    readonly rows: number
    readonly errors: number
    readonly alerts: { readonly raised: number; readonly delivered: number; readonly failed: number } | null
  }
  /** True for a rehearsal's record (SPEC S10). */
  readonly rehearsal?: boolean
  /** A rehearsal's environments and the benchmark queries it found slower. */
  readonly rehearsalOf?: { readonly from: string; readonly to: string; readonly regressions: readonly Regression[] }
}

/** A benchmark query (config `rehearsal.queries`) slower after the migration than before. */
export interface Regression {
  readonly name: string
  readonly beforeMs: number
  readonly afterMs: number
  /** afterMs / beforeMs. */
  readonly factor: number
}

export interface RecordStep {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly phase?: string
  readonly checksum: string
  /** `applied`, `reverted`, `failed`, `skipped`, or `pending` for a step a refusal kept from running. */
  readonly status: string
  readonly durationMs: number | null
}

/** `passed`, `failed`, `warning`, or `not run` / `none configured` / `not measured`. */
export type ValidationOutcome = 'passed' | 'failed' | 'warning' | 'not run' | 'none configured' | 'not measured'

export interface ValidationResults {
  readonly schema: ValidationOutcome
  readonly data: ValidationOutcome
  readonly application: ValidationOutcome
  readonly performance: ValidationOutcome
  readonly checks: ReadonlyArray<{ readonly phase: 'preflight' | 'postflight'; readonly name: string; readonly status: string; readonly message: string }>
}

/** The checks strata itself runs after a migration; every other postflight check is the application's (config `checks`). */
const SCHEMA_CHECKS = new Set(['schema'])
const DATA_CHECKS = new Set(['row-counts', 'consistency'])

/** The SOP's four validation lines, from the run's checks (SPEC S5). */
export function validationResults(preflight: readonly CheckResult[], postflight: readonly CheckResult[], userCheckNames: ReadonlySet<string>, performance: ValidationOutcome = 'not measured'): ValidationResults {
  const outcome = (checks: readonly CheckResult[], none: ValidationOutcome): ValidationOutcome => {
    if (checks.length === 0) return none
    if (checks.some((c) => c.status === 'fail')) return 'failed'
    if (checks.some((c) => c.status === 'warn')) return 'warning'
    return 'passed'
  }
  const ran = postflight.length > 0
  return {
    schema: outcome(postflight.filter((c) => SCHEMA_CHECKS.has(c.name)), 'not run'),
    data: outcome(postflight.filter((c) => DATA_CHECKS.has(c.name)), 'not run'),
    application: outcome(postflight.filter((c) => userCheckNames.has(c.name)), ran ? (userCheckNames.size > 0 ? 'not run' : 'none configured') : 'not run'),
    performance,
    checks: [
      ...preflight.map((c) => ({ phase: 'preflight' as const, name: c.name, status: c.status, message: c.message })),
      ...postflight.map((c) => ({ phase: 'postflight' as const, name: c.name, status: c.status, message: c.message })),
    ],
  }
}

/** Every string in the record with credentials masked (SPEC S16): a record is shared and kept. */
export const redactRecord = redactDeep

/** The record as the SOP's Markdown template: its five `##` sections, with the steps and the checks under them. */
export function renderMarkdown(record: MigrationRecord): string {
  const yesNo = (value: boolean): string => (value ? 'Yes' : 'No')
  const v = record.validationResults
  const lines = [
    `# Migration Record${record.rehearsal ? ' (rehearsal)' : ''}`,
    '',
    '## Migration Details',
    `- **Migration ID**: ${record.migrationIds.length > 0 ? record.migrationIds.join(', ') : 'none'}`,
    `- **Run ID**: ${record.runId}`,
    `- **Date**: ${record.date}`,
    `- **Author**: ${record.author}`,
    `- **Description**: ${record.description || 'none'}`,
    `- **Environment**: ${record.environment ?? 'none (no config file)'}`,
    `- **Change Request**: ${record.changeRequest ?? 'none'}`,
    ...(record.rehearsalOf ? [`- **Rehearsal**: ${record.rehearsalOf.from} copied into ${record.rehearsalOf.to}`] : []),
    '',
    '## Technical Details',
    `- **Database Type**: ${record.databaseType}`,
    `- **Migration Type**: ${MIGRATION_TYPE_TEXT[record.migrationType] ?? record.migrationType}`,
    `- **Affected Tables**: ${record.affectedTables.length > 0 ? record.affectedTables.join(', ') : 'none'}`,
    `- **Estimated Duration**: ${record.estimatedDurationMs === null ? 'unknown (no earlier record of these migrations)' : formatDuration(record.estimatedDurationMs)}`,
    `- **Downtime Required**: ${yesNo(record.downtimeRequired)}`,
    '',
    '## Execution Details',
    `- **Command**: ${record.command}`,
    `- **Execution Time**: ${formatTime(record.executionTime)}`,
    `- **Duration**: ${formatDuration(record.durationMs)}`,
    `- **Success**: ${yesNo(record.success)}`,
    `- **Status**: ${record.status}`,
    `- **Run By**: ${record.by}`,
    `- **Backup**: ${record.backupId ?? 'none'}`,
    ...(record.monitoring ? [`- **Resources**: ${describeResources(record.monitoring)}`] : []),
    ...(record.monitoring?.alerts ? [`- **Alerts**: ${record.monitoring.alerts.raised} raised, ${record.monitoring.alerts.delivered} delivered, ${record.monitoring.alerts.failed} failed`] : []),
    `- **Issues**:${record.issues.length === 0 ? ' None' : ''}`,
    ...record.issues.map((issue) => `  - ${issue.split('\n').join(' ')}`),
    ...(record.steps.length > 0
      ? ['', '### Steps', '', '| Revision | Direction | Status | Duration | Checksum |', '| --- | --- | --- | --- | --- |',
        ...record.steps.map((s) => `| ${s.revision} | ${s.direction}${s.phase ? ` (${s.phase})` : ''} | ${s.status} | ${s.durationMs === null ? '—' : formatDuration(s.durationMs)} | ${s.checksum.slice(0, 12)} |`)]
      : []),
    '',
    '## Validation Results',
    `- **Schema Validation**: ${capitalize(v.schema)}`,
    `- **Data Validation**: ${capitalize(v.data)}`,
    `- **Application Validation**: ${capitalize(v.application)}`,
    `- **Performance Impact**: ${capitalize(v.performance)}`,
    ...(record.rehearsalOf?.regressions ?? []).map((r) => `  - ${r.name}: ${r.beforeMs} ms before, ${r.afterMs} ms after (${r.factor}×)`),
    ...(v.checks.length > 0
      ? ['', '### Checks', '', '| Phase | Check | Status | Message |', '| --- | --- | --- | --- |', ...v.checks.map((c) => `| ${c.phase} | ${c.name} | ${c.status} | ${cell(c.message)} |`)]
      : []),
    '',
    '## Rollback Information',
    `- **Rollback Available**: ${yesNo(record.rollback.available)}`,
    `- **Rollback Tested**: ${yesNo(record.rollback.tested)}`,
    `- **Rollback Time**: ${record.rollback.timeMs === null ? 'unknown' : formatDuration(record.rollback.timeMs)}`,
    '',
  ]
  return lines.join('\n')
}

const MIGRATION_TYPE_TEXT: Readonly<Record<string, string>> = {
  schema: 'Schema modification',
  data: 'Data migration',
  'expand-contract': 'Expand/contract (zero downtime)',
  none: 'None (nothing ran)',
}

function describeResources(m: NonNullable<MigrationRecord['monitoring']>): string {
  const parts = [`peak memory ${Math.round(m.peakRssBytes / (1024 * 1024))} MiB`, `peak CPU ${m.peakCpuPercent}%`]
  if (m.readBytes !== null && m.writeBytes !== null) parts.push(`disk ${Math.round(m.readBytes / 1024)} KiB read, ${Math.round(m.writeBytes / 1024)} KiB written`)
  if (m.peakConnections !== null) parts.push(`up to ${m.peakConnections} server session(s)`)
  if (m.rows > 0) parts.push(`${m.rows} row(s) backfilled`)
  return parts.join(', ')
}

/** `850 ms`, `12.3 s`, `12 min 5 s`, `2 h 3 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/** `2026-12-02 10:00:05 UTC`, as the SOP writes times. */
function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.split('\n').join(' ').replace(/\|/g, '\\|')
}
