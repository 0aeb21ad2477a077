import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BackupStore, countDifferences, type BackupListing, type Verification } from '../backup/backup-store.js'
import type { BackupEngine } from '../backup/engine.js'
import { loadBackupEngine } from '../backup/engines/index.js'
import type { Connection, DatabaseUrl } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import { withLock, type LockOptions } from './lock.js'
import { startAlerts } from './monitoring.js'
import { newRunId, whoAmI, withConnection, type Project } from './session.js'
import { compare } from './status.js'

export interface Backups {
  readonly store: BackupStore
  readonly engine: BackupEngine
}

/** The backup store of the project's database: `backup.dir` beside the config (SPEC S5, S12). */
export async function openBackups(project: Project): Promise<Backups> {
  const { config } = project
  const engine = await loadBackupEngine(config.url.dialect)
  const store = new BackupStore({
    url: config.url,
    dir: resolve(config.baseDir, config.raw.backup?.dir ?? 'backups'),
    environment: config.environment,
    baseDir: config.baseDir,
    files: config.raw.backup?.files ?? [],
    keep: config.raw.backup?.keep ?? null,
  }, engine)
  return { store, engine }
}

/**
 * Takes a backup and makes sure it is verified: SQLite copies are read back as they are taken;
 * server dumps get a trial restore into a scratch database. Retention runs afterwards.
 */
export async function takeVerifiedBackup(project: Project, backups: Backups, context: { revisions: readonly string[]; reason: string; runId: string | null }): Promise<BackupListing> {
  const started = performance.now()
  project.events.emit('backup:start', { dir: backups.store.dir })
  let backup = await backups.store.create(context)
  if (!backup.verified) {
    const verification = await backups.store.verify(backup.id)
    if (!verification.ok) throw verificationError(verification)
    backup = verification.backup
  }
  for (const id of backups.store.prune()) project.events.emit('log', { level: 'info', message: `backup ${id} removed (backup.keep)` })
  project.events.emit('backup:done', { id: backup.id, path: backup.path, size: backup.size, durationMs: Math.round(performance.now() - started), verified: backup.verified?.ok ?? false })
  return backup
}

/** `strata backup create`: under the migration lock, so the revisions it records are settled. */
export async function createBackup(project: Project, options: LockOptions): Promise<BackupListing> {
  const backups = await openBackups(project)
  // backup_completed goes to the alert sinks here too (a run-level alert: no run, no revision).
  const alerts = await startAlerts(project)
  try {
    return await withLock(project, 'backup create', options, async () => {
      const revisions = await appliedRevisions(project)
      return takeVerifiedBackup(project, backups, { revisions, reason: 'manual', runId: null })
    })
  } finally {
    alerts?.detach()
    await alerts?.settle()
  }
}

export async function verifyBackup(project: Project, id?: string): Promise<Verification> {
  return (await openBackups(project)).store.verify(id)
}

export interface RestoreResult {
  readonly backup: BackupListing
  readonly runId: string
  readonly from: readonly string[]
  readonly to: readonly string[]
}

/**
 * `strata backup restore`: under the migration lock, a backup whose file does not match its
 * manifest is refused; the engine replaces the database atomically; the result must hold the
 * manifest's row counts and pass its integrity check; the run is recorded in `<prefix>runs`.
 */
export interface RestoreOptions extends LockOptions {
  /** `--yes`: the operator confirmed up front (policy `confirm`). */
  readonly yes?: boolean
  /** Asks the operator; absent when nobody can answer (no terminal). */
  readonly confirm?: (question: string) => Promise<boolean>
}

export async function restoreBackup(project: Project, id: string | undefined, options: RestoreOptions): Promise<RestoreResult> {
  const backups = await openBackups(project)
  return withLock(project, 'backup restore', options, async () => {
    const backup = backups.store.find(id)
    await backups.store.assertIntact(backup)
    await confirmRestore(project, backup, options)
    const from = await currentHeads(project)
    const runId = newRunId()
    const startedAt = new Date().toISOString()
    try {
      await restoreInto(project, backups, backup, runId)
    } catch (error) {
      await recordRestore(project, { runId, startedAt, from, backupId: backup.id, error }).catch(() => {})
      throw error
    }
    const to = await currentHeads(project)
    await recordRestore(project, { runId, startedAt, from, backupId: backup.id, to })
    return { backup, runId, from, to }
  })
}

/**
 * Replaces the database with a verified backup and checks the result against the manifest.
 * The caller holds the lock and has closed its own connection (SQLite replaces the file).
 */
export async function restoreInto(project: Project, backups: Backups, backup: BackupListing, runId: string): Promise<void> {
  const started = performance.now()
  project.events.emit('restore:start', { backupId: backup.id })
  const before = await withConnection(project, async (conn) => ({ trail: await project.history.readTrail(conn), applied: await appliedOn(project, conn) }))
  await backups.engine.restore(project.config.url, backup.path)
  const live = await backups.engine.live(project.config.url)
  const differences = countDifferences(backup.rowCounts, live.rowCounts)
  if (live.integrity !== 'ok' || differences.length > 0) {
    throw new StrataError('E_BACKUP', `the restored database does not match backup ${backup.id}: ${live.integrity !== 'ok' ? `integrity: ${live.integrity}` : differences.join('; ')}`, {
      backupId: backup.id,
      hint: 'verify the backup with `strata backup verify`, then restore it again or restore another one',
    })
  }
  // The trail outlives the restore: runs and log entries recorded after the backup come back,
  // and each revision the restore applied or unapplied gets a `restore` entry.
  await withConnection(project, async (conn) => {
    await project.history.restoreTrail(conn, before.trail)
    const after = await appliedOn(project, conn)
    const by = whoAmI()
    for (const revision of before.applied.filter((r) => !after.includes(r))) {
      await project.history.log(conn, { runId, revision, action: 'restore', by, detail: `unapplied by restoring backup ${backup.id}` })
    }
    for (const revision of after.filter((r) => !before.applied.includes(r))) {
      await project.history.log(conn, { runId, revision, action: 'restore', by, detail: `applied by restoring backup ${backup.id}` })
    }
  })
  project.events.emit('restore:done', { backupId: backup.id, durationMs: Math.round(performance.now() - started) })
}


async function appliedOn(project: Project, conn: Connection): Promise<string[]> {
  if (!(await project.history.exists(conn))) return []
  return (await project.history.applied(conn)).map((r) => r.revision)
}

/** A restore replaces the whole database: an environment with `confirm` asks first (SPEC S9). */
async function confirmRestore(project: Project, backup: BackupListing, options: RestoreOptions): Promise<void> {
  const { policy, environment, url } = project.config
  if (!policy.confirm || options.yes) return
  const question = `Replace ${url.redacted} (environment ${environment}) with backup ${backup.id} taken ${backup.createdAt}?`
  if (options.confirm && (await options.confirm(question))) return
  throw new StrataError('E_POLICY', `environment \`${environment}\` requires confirmation and ${options.confirm ? 'it was declined' : 'there is no terminal to ask on'}; nothing was restored`, {
    rule: 'confirm',
    hint: 'answer yes on a terminal, or pass --yes',
  })
}

export function verificationError(verification: Verification): StrataError {
  const failed = verification.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.message}`)
  return new StrataError('E_BACKUP', `backup ${verification.backup.id} failed verification: ${failed.join('; ')}`, {
    backupId: verification.backup.id,
    hint: 'do not restore this backup; take a new one with `strata backup create`',
  })
}

async function appliedRevisions(project: Project): Promise<string[]> {
  return withConnection(project, (conn) => appliedOn(project, conn))
}

async function currentHeads(project: Project): Promise<string[]> {
  return withConnection(project, async (conn) => {
    if (!(await project.history.exists(conn))) return []
    return [...project.graph.currentHeads((await compare(project, conn)).appliedSet)]
  })
}

async function recordRestore(project: Project, run: { runId: string; startedAt: string; from: readonly string[]; backupId: string; to?: readonly string[]; error?: unknown }): Promise<void> {
  await withConnection(project, async (conn) => {
    await project.history.ensureTables(conn)
    await project.history.startRun(conn, { runId: run.runId, command: 'restore', environment: project.config.environment, fromRevisions: [...run.from], startedAt: run.startedAt, by: whoAmI() })
    await project.history.finishRun(conn, run.runId, {
      status: run.error ? 'failed' : 'succeeded',
      toRevisions: run.to ?? run.from,
      backupId: run.backupId,
      error: run.error ? (isStrataError(run.error) ? `${run.error.code}: ${run.error.message}` : String(run.error)) : null,
    })
  })
}

/**
 * A copy of the database at `source` put in place of the one at `target`, through the engine's
 * backup format in a private temporary folder (rehearsals, blue-green copies). `place` runs the
 * restore (under a lock, or after creating the target database); the source is only read.
 */
export async function copyDatabase(source: DatabaseUrl, target: DatabaseUrl, place: (restore: () => Promise<void>) => Promise<void> = (restore) => restore()): Promise<void> {
  const engine = await loadBackupEngine(source.dialect)
  const dir = mkdtempSync(join(tmpdir(), 'strata-copy-'))
  chmodSync(dir, 0o700)
  try {
    const file = join(dir, `copy${engine.extension}`)
    await engine.create(source, file)
    await place(() => engine.restore(target, file))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
