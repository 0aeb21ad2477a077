import { digestDifferences, tableDigests } from '../checks/table-digest.js'
import { captureState, stateDifferences, type DatabaseState } from '../checks/state.js'
import type { ResolvedConfig } from '../config/load-config.js'
import type { Connection } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import { buildRecord } from '../records/build.js'
import type { MigrationRecord, Regression } from '../records/record.js'
import { recordsDir, writeRecord } from '../records/store.js'
import { copyDatabase } from './backup.js'
import { withLock, type LockOptions } from './lock.js'
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js'
import { precheck } from './policy.js'
import { newRunId, whoAmI, withConnection, type Project } from './session.js'
import { compare } from './status.js'

export type { Regression } from '../records/record.js'

/** Runs of each benchmark query; the median counts. */
const QUERY_RUNS = 5
/** A benchmark query is flagged when it got slower by the factor and by at least this much. */
const REGRESSION_FLOOR_MS = 2
const DEFAULT_REGRESSION_FACTOR = 1.5

export interface RehearseOptions extends LockOptions, Pick<MigrateOptions, 'yes' | 'confirm' | 'metricsPort' | 'monitor'> {}

/** What `strata rehearse` found (SPEC S10); `--json` prints `{ok, runId, rollbackTested, regressions}`. */
export interface RehearsalResult {
  readonly ok: boolean
  readonly runId: string
  readonly from: string
  readonly to: string
  /** The rollback to the starting revision ran and left schema and data equal to the copy. */
  readonly rollbackTested: boolean
  readonly regressions: readonly Regression[]
  /** What still differed from the copy after the rollback (empty when the test passed). */
  readonly differences: readonly string[]
  /** The revisions rehearsed, with the time the up of each took. */
  readonly steps: ReadonlyArray<{ readonly revision: string; readonly durationMs: number | null }>
  readonly recordPath: string | null
}

/**
 * The SOP's staging rehearsal (SPEC S10): copy the source environment's database into the
 * target (the source only read), then on the target run the whole pipeline up, time the
 * benchmark queries before and after, test the rollback down to where the copy started (schema
 * and every table's rows must equal the copy) and go up again, so the target ends at the
 * target revision. The rehearsal record (`"rehearsal": true`) lends its durations to later runs'
 * estimates, and `require_rehearsal` looks for it.
 */
export async function rehearse(source: ResolvedConfig, target: Project, options: RehearseOptions): Promise<RehearsalResult> {
  refuseBadPair(source, target.config)
  const runId = newRunId()
  const startedAt = new Date().toISOString()
  const started = performance.now()
  const by = whoAmI()
  const say = (message: string): void => target.events.emit('log', { level: 'info', message })
  const from = source.environment ?? source.url.redacted
  const to = target.config.environment ?? target.config.url.redacted

  // The target's rules first: a refused rehearsal replaces nothing (the refusal is recorded there).
  const sourceState = await withConnection({ config: source, dialect: target.dialect }, (conn) => compare(target, conn), { create: false })
  const declined = await replacementDeclined(target, from, options)
  const { refusal } = declined ? { refusal: declined } : await precheck(target, sourceState, { ...options, yes: true })
  if (refusal) await migrate(target, { ...options, refusal, direction: 'up', target: 'heads' })
  say(`rehearsal ${runId}: copying ${from} (${source.url.redacted}) into ${to} (${target.config.url.redacted}) …`)
  await copyDatabase(source.url, target.config.url, (restore) => withLock(target, 'rehearse', options, restore))
  const copy = await withConnection(target, async (conn) => {
    const state = await captureState(target.dialect, conn, target.config.tablePrefix)
    return { state, digests: await tableDigests(target.dialect, conn, state.schema), start: target.graph.currentHeads((await compare(target, conn)).appliedSet) }
  })
  if (copy.start.length > 1) {
    throw new StrataError('E_USAGE', `${from} is at several heads (${copy.start.join(', ')}); a rehearsal needs one revision to roll back to`, {
      hint: 'merge the heads with a merge migration first',
    })
  }
  const queries = target.config.raw.rehearsal?.queries ?? []
  const factor = target.config.raw.rehearsal?.regression_factor ?? DEFAULT_REGRESSION_FACTOR
  const before = await withConnection(target, (conn) => timeQueries(conn, queries))

  // The runs inside write no records of their own: the rehearsal's record is the one (SPEC S9).
  const run = (direction: 'up' | 'down', revision: string): Promise<MigrateResult> =>
    migrate(target, { ...options, yes: true, record: false, label: `rehearse (${direction})`, direction, target: revision })
  const issues: string[] = []
  let up: MigrateResult | null = null
  let rollbackTested = false
  let rollbackMs: number | null = null
  let differences: string[] = []
  let regressions: Regression[] = []
  let failure: unknown = null
  try {
    say(`rehearsal ${runId}: migrating ${to}`)
    up = await run('up', 'heads')
    const after = await withConnection(target, (conn) => timeQueries(conn, queries))
    regressions = compareTimings(before, after, factor)
    for (const r of regressions) issues.push(`benchmark query ${r.name} took ${r.afterMs} ms after the migration, ${r.beforeMs} ms before (over ${factor}×)`)
    if (up.plan.steps.length > 0) {
      say(`rehearsal ${runId}: testing the rollback to ${copy.start[0] ?? 'base'}`)
      const rollbackStarted = performance.now()
      const down = await run('down', copy.start[0] ?? 'base')
      rollbackMs = Math.round(performance.now() - rollbackStarted)
      differences = await withConnection(target, async (conn) => rolledBackDifferences(target, conn, copy))
      rollbackTested = down.report.rollback === null && differences.length === 0
      for (const d of differences) issues.push(`after the rollback test: ${d}`)
      say(`rehearsal ${runId}: migrating ${to} again`)
      await run('up', 'heads')
    }
  } catch (error) {
    failure = error
    issues.push(isStrataError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error))
  }
  const ok = failure === null && regressions.length === 0 && (up === null || up.plan.steps.length === 0 || rollbackTested)
  const record = await rehearsalRecord(target, {
    runId, startedAt, durationMs: Math.round(performance.now() - started), by, from, to, up, ok, issues, regressions, rollbackTested, rollbackMs, queries: queries.length,
  })
  const dir = recordsDir(target.config)
  const recordPath = dir ? writeRecord(dir, record).json : null
  await withConnection(target, async (conn) => {
    await target.history.ensureTables(conn)
    await target.history.startRun(conn, { runId, command: 'rehearse', environment: target.config.environment, fromRevisions: copy.start, startedAt, by })
    await target.history.finishRun(conn, runId, {
      status: ok ? 'succeeded' : 'failed', toRevisions: up?.plan.toHeads ?? copy.start, error: ok ? null : issues.join('; '), report: { record }, recordPath,
    })
  }).catch(() => {})
  if (failure !== null) throw failure
  return {
    ok, runId, from, to, rollbackTested, regressions, differences, recordPath,
    steps: record.steps.map((s) => ({ revision: s.revision, durationMs: s.durationMs })),
  }
}

/**
 * The target's `confirm` covers the rehearsal's first act, replacing its database with the copy
 * (whether or not migrations are pending): asked on a terminal, else `--yes`, else refused.
 */
async function replacementDeclined(target: Project, from: string, options: RehearseOptions): Promise<StrataError | null> {
  const { policy, environment, url } = target.config
  if (!policy.confirm || options.yes) return null
  if (options.confirm && (await options.confirm(`Replace the database of environment ${environment} (${url.redacted}) with a copy of ${from}, and migrate it?`))) return null
  return new StrataError('E_POLICY', `environment \`${environment}\` requires confirmation before its database is replaced by a rehearsal, and ${options.confirm ? 'it was declined' : 'there is no terminal to ask on'}`, {
    rule: 'confirm',
    hint: 'answer yes on a terminal, or pass --yes; rehearse into a staging environment, never into production',
  })
}

/** Same engine, not the same database, and (PostgreSQL) schemas that a copy can land in. */
function refuseBadPair(source: ResolvedConfig, target: ResolvedConfig): void {
  const names = `${source.environment} → ${target.environment}`
  if (source.url.dialect !== target.url.dialect) {
    throw new StrataError('E_USAGE', `cannot rehearse ${names}: ${source.url.dialect} and ${target.url.dialect} are different engines`, {
      hint: 'rehearse into an environment on the same engine as the source',
    })
  }
  if (source.url.raw === target.url.raw || (source.url.path !== undefined && source.url.path === target.url.path)) {
    throw new StrataError('E_USAGE', `cannot rehearse ${names}: both environments are the same database (${target.url.redacted})`, {
      hint: 'give the rehearsal target its own database (a staging environment)',
    })
  }
  const schemaOf = (raw: string): string | null => /[?&]schema=([^&]+)/.exec(raw)?.[1] ?? null
  if (source.url.dialect === 'postgres' && schemaOf(source.url.raw) !== schemaOf(target.url.raw)) {
    throw new StrataError('E_USAGE', `cannot rehearse ${names}: a PostgreSQL copy keeps its schema's name, and the two URLs name different schemas`, {
      hint: 'use the same ?schema= (or none) in both environments, on different databases',
    })
  }
}

/** Schema, row counts and every table's rows, compared with the copy as it was restored. */
async function rolledBackDifferences(project: Project, conn: Connection, copy: { state: DatabaseState; digests: Record<string, string> }): Promise<string[]> {
  const state = await captureState(project.dialect, conn, project.config.tablePrefix)
  const differences = stateDifferences(copy.state, state)
  if (differences.length > 0) return differences
  return digestDifferences(copy.digests, await tableDigests(project.dialect, conn, state.schema))
}

/** Each query's median time over QUERY_RUNS runs, in ms (one decimal). */
async function timeQueries(conn: Connection, queries: ReadonlyArray<{ name: string; sql: string }>): Promise<Map<string, number>> {
  const times = new Map<string, number>()
  for (const { name, sql } of queries) {
    const runs: number[] = []
    for (let i = 0; i < QUERY_RUNS; i++) {
      const started = performance.now()
      try {
        await conn.query({ sql, params: [] })
      } catch (error) {
        throw new StrataError('E_CONFIG', `rehearsal query ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
          hint: 'fix the query under rehearsal.queries in the config',
        })
      }
      runs.push(performance.now() - started)
    }
    runs.sort((a, b) => a - b)
    times.set(name, Math.round(runs[Math.floor(runs.length / 2)]! * 10) / 10)
  }
  return times
}

function compareTimings(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, factor: number): Regression[] {
  const regressions: Regression[] = []
  for (const [name, beforeMs] of before) {
    const afterMs = after.get(name)
    if (afterMs === undefined) continue
    if (afterMs > beforeMs * factor && afterMs - beforeMs >= REGRESSION_FLOOR_MS) regressions.push({ name, beforeMs, afterMs, factor: Math.round((afterMs / Math.max(beforeMs, 0.1)) * 10) / 10 })
  }
  return regressions
}

interface RehearsalFacts {
  readonly runId: string
  readonly startedAt: string
  readonly durationMs: number
  readonly by: string
  readonly from: string
  readonly to: string
  readonly up: MigrateResult | null
  readonly ok: boolean
  readonly issues: readonly string[]
  readonly regressions: readonly Regression[]
  readonly rollbackTested: boolean
  readonly rollbackMs: number | null
  readonly queries: number
}

/** The rehearsal's S9 record: the up's steps and checks, the rollback test, the benchmark. */
async function rehearsalRecord(target: Project, facts: RehearsalFacts): Promise<MigrationRecord> {
  const { up } = facts
  const base = await buildRecord(target, {
    runId: facts.runId, command: 'rehearse', status: facts.ok ? 'succeeded' : 'failed', startedAt: facts.startedAt, durationMs: facts.durationMs, by: facts.by,
    steps: up?.plan.steps ?? [], report: up?.report ?? null, preflight: up?.preflight ?? [], postflight: up?.postflight ?? [], error: null,
    backupId: up?.backup?.id ?? null, changeRequest: null, estimatedDurationMs: null, monitoring: null,
  })
  return {
    ...base,
    success: facts.ok,
    issues: [...facts.issues],
    validationResults: { ...base.validationResults, performance: facts.queries === 0 ? 'not measured' : facts.regressions.length > 0 ? 'failed' : 'passed' },
    rollback: { available: base.rollback.available, tested: facts.rollbackTested, timeMs: facts.rollbackMs },
    rehearsal: true,
    rehearsalOf: { from: facts.from, to: facts.to, regressions: [...facts.regressions] },
  }
}
