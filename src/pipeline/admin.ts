import type { LockOwner } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import { withLockedSession, type LockOptions } from './lock.js'
import { newRunId, whoAmI, type Project } from './session.js'
import { compare, recordSchema } from './status.js'

export interface StampResult {
  readonly runId: string
  readonly stamped: readonly string[]
  readonly unstamped: readonly string[]
}

/**
 * Marks revisions applied (or no longer applied) without running them, to adopt an existing
 * database (SPEC S12 `stamp`). Moves the history to exactly the target; every change is logged.
 */
export async function stamp(project: Project, target: string, options: LockOptions): Promise<StampResult> {
  return withLockedSession(project, 'stamp', options, async ({ conn }) => {
    const { history, graph, migrations } = project
    const comparison = await compare(project, conn)
    const wanted = new Set<string>()
    for (const revision of graph.resolve(target, comparison.appliedSet)) {
      wanted.add(revision)
      for (const ancestor of graph.ancestors(revision, { includeDependsOn: true })) wanted.add(ancestor)
    }
    const stamped = graph.ordered.filter((r) => wanted.has(r) && !comparison.appliedSet.has(r))
    const unstamped = [...graph.ordered].reverse().filter((r) => comparison.appliedSet.has(r) && !wanted.has(r))
    const runId = newRunId()
    const by = whoAmI()
    await history.ensureTables(conn)
    await history.startRun(conn, { runId, command: 'stamp', environment: project.config.environment, fromRevisions: graph.currentHeads(comparison.appliedSet), startedAt: new Date().toISOString(), by })
    await conn.transaction(async (tx) => {
      for (const revision of stamped) {
        const def = migrations.get(revision)!
        await history.recordApplied(tx, {
          revision, checksum: def.file.checksum, checksumVersion: def.file.checksumVersion, description: def.description,
          appliedAt: new Date().toISOString(), appliedBy: by, durationMs: 0, runId, fingerprint: null, state: 'applied',
          file: def.file.relativePath,
        })
        await history.log(tx, { runId, revision, action: 'stamp', by, checksum: def.file.checksum, detail: `stamped to ${target}` })
      }
      for (const revision of unstamped) {
        await history.recordReverted(tx, revision)
        await history.log(tx, { runId, revision, action: 'unstamp', by, detail: `stamped to ${target}` })
      }
    })
    await recordSchema(project, conn)
    await history.finishRun(conn, runId, { status: 'succeeded', toRevisions: graph.currentHeads(wanted), report: { stamped, unstamped } })
    return { runId, stamped, unstamped }
  })
}

export interface RepairOptions extends LockOptions {
  /**
   * How to resolve dirty revisions: the operator checked them by hand. `expanded`: an
   * expand/contract revision whose expand (and backfill) finished and whose contract did not run.
   */
  readonly mark?: 'applied' | 'reverted' | 'expanded'
}

export interface RepairResult {
  readonly runId: string
  readonly restamped: readonly string[]
  readonly removed: readonly string[]
  readonly resolved: ReadonlyArray<{ revision: string; as: 'applied' | 'reverted' | 'expanded' }>
}

/**
 * Re-stamps modified files' checksums, removes history rows whose files are gone and resolves
 * dirty revisions (SPEC S2, S4), each logged as a `repair` with what it was before.
 */
export async function repair(project: Project, options: RepairOptions): Promise<RepairResult> {
  return withLockedSession(project, 'repair', options, async ({ conn }) => {
    const { history, migrations } = project
    const comparison = await compare(project, conn)
    if (comparison.dirty.length > 0 && !options.mark) {
      throw new StrataError('E_USAGE', `revision ${comparison.dirty.join(', ')} is dirty; repair needs to know what you found`, {
        hint: 'check the database by hand, then run `strata repair --mark applied` (the migration completed) or `--mark reverted` (it is undone)',
      })
    }
    const notPhased = comparison.dirty.filter((r) => !migrations.get(r)?.phases)
    if (options.mark === 'expanded' && notPhased.length > 0) {
      throw new StrataError('E_USAGE', `\`--mark expanded\` applies to expand/contract migrations only; ${notPhased.join(', ')} ${notPhased.length === 1 ? 'is' : 'are'} not one`, {
        hint: 'use `--mark applied` or `--mark reverted` for those',
      })
    }
    const runId = newRunId()
    const by = whoAmI()
    await history.ensureTables(conn)
    await history.startRun(conn, { runId, command: 'repair', environment: project.config.environment, fromRevisions: project.graph.currentHeads(comparison.appliedSet), startedAt: new Date().toISOString(), by })
    const resolved: Array<{ revision: string; as: 'applied' | 'reverted' | 'expanded' }> = []
    await conn.transaction(async (tx) => {
      for (const revision of comparison.modified) {
        const def = migrations.get(revision)!
        const old = comparison.applied.find((r) => r.revision === revision)!
        await history.updateChecksum(tx, revision, def.file.checksum, def.file.checksumVersion, def.file.relativePath)
        await history.log(tx, { runId, revision, action: 'repair', by, checksum: def.file.checksum, detail: `checksum ${old.checksum} -> ${def.file.checksum}` })
      }
      for (const revision of comparison.missing) {
        await history.remove(tx, revision)
        await history.log(tx, { runId, revision, action: 'repair', by, detail: 'file missing: history row removed' })
      }
      for (const revision of comparison.dirty) {
        const as = options.mark!
        if (as === 'reverted') await history.remove(tx, revision)
        else await history.setState(tx, revision, as)
        // Resolved by hand: an interrupted backfill's checkpoints no longer describe the database.
        await history.clearCheckpoints(tx, revision)
        await history.log(tx, { runId, revision, action: 'repair', by, detail: `dirty revision marked ${as}` })
        resolved.push({ revision, as })
      }
    })
    const after = await compare(project, conn)
    const result = { runId, restamped: comparison.modified, removed: comparison.missing, resolved }
    await history.finishRun(conn, runId, { status: 'succeeded', toRevisions: project.graph.currentHeads(after.appliedSet), report: result })
    return result
  })
}

/** Clears the recorded lock holder when its process is gone; `force` ends a live holder first. */
export async function unlock(project: Project, force: boolean): Promise<{ cleared: LockOwner | null }> {
  const cleared = await project.dialect.lock(project.config.url, project.config.tablePrefix).clear(force)
  return { cleared }
}
