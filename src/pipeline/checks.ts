import { dirname } from 'node:path'
import { statSync } from 'node:fs'
import type { BackupStore } from '../backup/backup-store.js'
import { findProgram } from '../backup/programs.js'
import { affectedBy } from '../checks/affected.js'
import { guarded, type CheckResult } from '../checks/check.js'
import { brokenPromises, promisesOf } from '../checks/promises.js'
import { captureState, type DatabaseState } from '../checks/state.js'
import { runUserCheck } from '../checks/user-checks.js'
import type { UserCheck } from '../config/schema.js'
import type { Connection } from '../dialects/dialect.js'
import type { Operation } from '../ops/operation.js'
import { freeBytesAt } from '../util/disk.js'
import { mib } from '../util/text.js'
import type { Project } from './session.js'
import { compare, detectDrift, type Comparison } from './status.js'

/** Room kept beyond a backup's estimated size, for its manifest and the file system's own needs. */
const DISK_MARGIN = 1.1
const DISK_SLACK_BYTES = 1 << 20

export interface PreflightContext {
  /** `check` (the command: a held lock is a warning) or `run` (inside `up`/`down`, lock held). */
  readonly mode: 'check' | 'run'
  /** The backup store when this run takes a backup (or the policy requires one); else null. */
  readonly backups: BackupStore | null
  /** The backup engine's client programs, each a list of acceptable names. */
  readonly programs: readonly (readonly string[])[]
  /** The history compared with the files, when the caller has it already. */
  readonly comparison?: Comparison
  /** What to lint: the run's steps (`run`), else every pending migration going up. */
  readonly lint?: { readonly revisions: readonly string[]; readonly direction: 'up' | 'down' }
}

/**
 * Every preflight check of SPEC S5 that this database and config allow, in a fixed order:
 * connectivity, graph, checksums, drift, consistency, disk space, backup availability, lock,
 * user checks. Checks never throw; each reports pass, warn or fail.
 */
export async function preflight(project: Project, conn: Connection, ctx: PreflightContext): Promise<CheckResult[]> {
  const checks: CheckResult[] = []
  const add = async (name: string, fn: () => Promise<Omit<CheckResult, 'name'>>): Promise<void> => {
    checks.push(await guarded(name, fn))
  }
  await add('connectivity', async () => {
    const started = performance.now()
    await conn.query({ sql: 'SELECT 1', params: [] })
    return { status: 'pass', message: `${project.config.url.redacted} answered in ${(performance.now() - started).toFixed(1)} ms` }
  })
  await add('graph', async () => ({
    status: 'pass',
    message: `${project.graph.ordered.length} migration(s), head(s): ${project.graph.heads.join(', ') || 'none'}`,
  }))
  const comparison = ctx.comparison ?? (await compare(project, conn))
  await add('checksums', async () => checksumsOutcome(comparison))
  await add('drift', async () => {
    const drift = await detectDrift(project, conn, comparison.applied)
    if (!drift) return { status: 'pass', message: 'the schema equals the one recorded after the last migration' }
    const shown = drift.objects.slice(0, 8).map((o) => `${o.kind} ${o.name} ${o.change}`).join(', ')
    return { status: 'warn', message: `the schema changed outside strata: ${shown}${drift.objects.length > 8 ? ', …' : ''}` }
  })
  await add('consistency', () => project.dialect.checkConsistency(conn))
  await add('disk-space', () => diskSpace(project, ctx.backups))
  await add('backup', () => backupAvailability(project, ctx))
  if (ctx.mode === 'check') await add('lock', () => lockOutcome(project))
  await add('lint', () => lintOutcome(project, ctx.lint ?? { revisions: pendingOf(project, comparison), direction: 'up' }))
  for (const check of userChecks(project, 'preflight')) checks.push(await runUserCheck(check, { conn, cwd: project.config.baseDir }))
  return checks
}

/** What a run did, for the postflight to hold it to. */
export interface RunFacts {
  readonly before: DatabaseState
  /** The ops the run executed, in order (its up or down ops). */
  readonly ops: readonly Operation[]
}

/**
 * Every postflight check of SPEC S5: the objects the run's ops promised exist (standalone: the
 * schema equals the recorded one), tables no migration touched kept their row counts,
 * consistency, user checks.
 */
export async function postflight(project: Project, conn: Connection, run: RunFacts | null): Promise<{ checks: CheckResult[]; after: DatabaseState | null }> {
  const checks: CheckResult[] = []
  const add = async (name: string, fn: () => Promise<Omit<CheckResult, 'name'>>): Promise<void> => {
    checks.push(await guarded(name, fn))
  }
  const { dialect, config } = project
  let after: DatabaseState | null = null
  await add('schema', async () => {
    after = await captureState(dialect, conn, config.tablePrefix, run ? Object.keys(run.before.rowCounts) : undefined)
    if (!run) {
      const drift = await detectDrift(project, conn, (await compare(project, conn)).applied)
      if (!drift) return { status: 'pass', message: `${after.schema.tables.length} table(s) equal to the schema recorded after the last migration` }
      return { status: 'fail', message: `the schema differs from the one recorded after the last migration: ${drift.objects.slice(0, 8).map((o) => `${o.kind} ${o.name} ${o.change}`).join(', ')}` }
    }
    const promises = promisesOf(run.ops)
    const broken = brokenPromises(promises, after.schema)
    if (broken.length > 0) return { status: 'fail', message: broken.join('; ') }
    return { status: 'pass', message: `${promises.length} object(s) the run's ops promised are as promised` }
  })
  await add('row-counts', async () => {
    after ??= await captureState(dialect, conn, config.tablePrefix, run ? Object.keys(run.before.rowCounts) : undefined)
    if (!run) return { status: 'pass', message: `${Object.keys(after.rowCounts).length} table(s) counted; no run to compare with` }
    if (Object.keys(run.before.rowCounts).length === 0) return { status: 'pass', message: 'no table existed before the run' }
    const affected = affectedBy(run.ops, dialect.name)
    if (affected.unknown.length > 0) {
      return { status: 'warn', message: `not compared: raw SQL may change any table (${affected.unknown.slice(0, 3).join('; ')})` }
    }
    const touched = new Set([...affected.tables].map((t) => t.toLowerCase()))
    const changed: string[] = []
    let compared = 0
    for (const [table, before] of Object.entries(run.before.rowCounts)) {
      if (touched.has(table.toLowerCase())) continue
      const now = after.rowCounts[table]
      if (now === undefined) continue
      compared++
      if (now !== before) changed.push(`${table}: ${before} → ${now}`)
    }
    if (changed.length > 0) return { status: 'fail', message: `tables no migration touched changed their row counts: ${changed.join('; ')}` }
    return { status: 'pass', message: `${compared} table(s) no migration touched kept their row counts` }
  })
  await add('consistency', () => dialect.checkConsistency(conn))
  for (const check of userChecks(project, 'postflight')) checks.push(await runUserCheck(check, { conn, cwd: config.baseDir }))
  return { checks, after }
}

function userChecks(project: Project, phase: 'preflight' | 'postflight'): readonly UserCheck[] {
  return project.config.raw.checks?.[phase] ?? []
}

function checksumsOutcome(comparison: Comparison): Omit<CheckResult, 'name'> {
  const problems: string[] = []
  if (comparison.modified.length > 0) problems.push(`modified since applied: ${comparison.modified.join(', ')}`)
  if (comparison.missing.length > 0) problems.push(`applied but missing: ${comparison.missing.join(', ')}`)
  const dirty = comparison.dirty.filter((r) => !comparison.resumable.includes(r))
  if (dirty.length > 0) problems.push(`dirty: ${dirty.join(', ')}`)
  if (problems.length > 0) return { status: 'fail', message: problems.join('; ') }
  const resuming = comparison.resumable.length > 0 ? `; ${comparison.resumable.join(', ')} interrupted, resumed from its checkpoints by the next up` : ''
  return { status: 'pass', message: `${comparison.applied.length} applied migration(s) match their files${resuming}` }
}

async function diskSpace(project: Project, backups: BackupStore | null): Promise<Omit<CheckResult, 'name'>> {
  const parts: string[] = []
  let status: CheckResult['status'] = 'pass'
  if (backups) {
    const needed = Math.ceil((await backups.estimateSize()) * DISK_MARGIN) + DISK_SLACK_BYTES
    const free = backups.freeBytes()
    if (free < needed) {
      return { status: 'fail', message: `the backup needs about ${mib(needed)} and ${backups.dir} has ${mib(free)} free` }
    }
    parts.push(`backup needs about ${mib(needed)}, ${mib(free)} free in ${backups.dir}`)
  }
  const path = project.config.url.path
  if (project.dialect.capabilities.embedded && path && path !== ':memory:') {
    // A table rebuild writes a copy of the table beside the old one before dropping it.
    const size = fileSize(path)
    const free = freeBytesAt(dirname(path))
    if (free < size) {
      status = 'warn'
      parts.push(`a table rebuild may need up to ${mib(size)} and the database's disk has ${mib(free)} free`)
    } else {
      parts.push(`${mib(free)} free beside the database (${mib(size)})`)
    }
  }
  return { status, message: parts.join('; ') || 'the server keeps its own disk; nothing to check from here' }
}

async function backupAvailability(project: Project, ctx: PreflightContext): Promise<Omit<CheckResult, 'name'>> {
  const required = project.config.policy.requireBackup || project.config.policy.onFailure === 'restore'
  if (!ctx.backups) return { status: 'pass', message: 'no backup is taken by this run (policy does not require one)' }
  try {
    ctx.backups.prepareDir()
  } catch (error) {
    return { status: 'fail', message: (error as Error).message }
  }
  const programs: string[] = []
  for (const candidates of ctx.programs) programs.push(await findProgram(candidates))
  const newest = ctx.backups.list()[0]
  const tools = programs.length > 0 ? `; ${programs.join(', ')} found` : ''
  const last = newest ? `; newest backup ${newest.id}` : ''
  return { status: 'pass', message: `${ctx.backups.dir} is writable${tools}${last}${required ? '' : ' (backup not required)'}` }
}

/**
 * Lints the migrations about to run (SPEC S5, S6): findings at or above the environment's
 * `lint_fail_on` fail the preflight; lower warnings and errors are a warning.
 */
async function lintOutcome(project: Project, target: { revisions: readonly string[]; direction: 'up' | 'down' }): Promise<Omit<CheckResult, 'name'>> {
  if (target.revisions.length === 0) return { status: 'pass', message: 'no pending migration to lint' }
  const { lintMigrations, findingsAtOrAbove } = await import('../lint/index.js')
  const findings = await lintMigrations(project, { revisions: target.revisions, direction: target.direction })
  const level = project.config.policy.lintFailOn
  const blocking = level === 'never' ? [] : findingsAtOrAbove(findings, level)
  const show = (list: typeof findings): string => list.slice(0, 5).map((f) => `${f.rule} in ${f.revision}${f.line ? ` (${f.file}:${f.line})` : ''}: ${f.message}`).join('; ') + (list.length > 5 ? `; and ${list.length - 5} more` : '')
  if (blocking.length > 0) {
    return { status: 'fail', message: `${blocking.length} finding(s) at or above ${level} (policy lint_fail_on): ${show(blocking)}; run \`strata lint\` for all of them` }
  }
  const notable = findingsAtOrAbove(findings, 'warning')
  if (notable.length > 0) return { status: 'warn', message: `${notable.length} finding(s) below lint_fail_on (${level}): ${show(notable)}` }
  return { status: 'pass', message: `${target.revisions.length} migration(s) linted${findings.length > 0 ? `, ${findings.length} info finding(s)` : ', nothing found'}` }
}

/** Migrations not applied yet, in graph order. */
function pendingOf(project: Project, comparison: Comparison): string[] {
  return project.graph.ordered.filter((r) => !comparison.appliedSet.has(r))
}

async function lockOutcome(project: Project): Promise<Omit<CheckResult, 'name'>> {
  const { holder, held } = await project.dialect.lock(project.config.url, project.config.tablePrefix).inspect()
  if (held && holder) return { status: 'warn', message: `held by pid ${holder.pid} on ${holder.host}${holder.command ? ` (strata ${holder.command})` : ''} since ${holder.startedAt}; up/down would wait for it` }
  if (held) return { status: 'warn', message: 'held by another runner; up/down would wait for it' }
  return { status: 'pass', message: 'free' }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

