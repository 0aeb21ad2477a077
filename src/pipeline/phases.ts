import type { Connection } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import { phaseStep } from '../plan/phases.js'
import type { Plan } from '../plan/plan.js'
import { interruptedIndex, landingOf } from '../runner/landed.js'
import type { Project } from './session.js'
import type { Comparison } from './status.js'

/** The commands that move one expand/contract revision on (SPEC S7, S12). */
export type PhaseCommand = 'complete' | 'abort'

/**
 * The one-step plan of `strata complete REV` (contract an `expanded` revision) or `strata abort
 * REV` (undo an expanded revision, or an expand that stopped part-way: only its committed ops).
 * A revision in any other state is bad usage (exit 2, nothing touched); a completed revision
 * asked to complete again is a plan with no step.
 */
export async function phasePlan(project: Project, conn: Connection, comparison: Comparison, command: PhaseCommand, target: string): Promise<Plan> {
  const { graph, migrations } = project
  const resolved = graph.resolve(target, comparison.appliedSet)
  if (resolved.length !== 1) {
    throw new StrataError('E_USAGE', `\`strata ${command}\` takes one revision; \`${target}\` names ${resolved.length}`, {
      hint: `name the expanded revision: \`strata ${command} REV\` (\`strata status\` lists it)`,
    })
  }
  const revision = resolved[0]!
  const migration = migrations.get(revision)!
  const heads = graph.currentHeads(comparison.appliedSet)
  const plan = (steps: Plan['steps']): Plan => ({
    direction: command === 'complete' ? 'up' : 'down',
    target: revision,
    steps,
    fromHeads: heads,
    toHeads: command === 'abort' && steps.length > 0 ? graph.currentHeads(new Set([...comparison.appliedSet].filter((r) => r !== revision))) : heads,
    held: [],
  })
  if (!migration.phases) {
    throw new StrataError('E_USAGE', `${revision} (${migration.file.relativePath}) is not an expand/contract migration`, {
      revision,
      hint: command === 'complete' ? 'it was applied whole by `strata up`; nothing is left to complete' : 'revert it with `strata down`',
    })
  }
  const row = comparison.applied.find((r) => r.revision === revision)
  const resumable = comparison.resumable.includes(revision)
  if (!row) {
    throw new StrataError('E_USAGE', `${revision} is not applied: there is nothing to ${command}`, {
      revision,
      hint: command === 'complete' ? `run \`strata up ${revision}\` first: it expands it` : 'nothing to undo',
    })
  }
  if (command === 'complete') {
    if (row.state === 'applied') return plan([])
    if (row.state === 'dirty') {
      throw new StrataError('E_USAGE', `${revision} stopped part-way through its ${resumable ? 'expand or backfill' : 'last step'}; it cannot be completed yet`, {
        revision,
        hint: resumable ? `run \`strata up\` to finish its expand and backfill (or \`strata abort ${revision}\`), then complete it` : 'inspect it and run `strata repair --mark expanded` (or `--mark applied` / `--mark reverted`)',
      })
    }
    return plan([phaseStep(migration, 'contract')])
  }
  if (row.state === 'applied') {
    throw new StrataError('E_USAGE', `${revision} is complete: abort undoes an expanded revision only`, {
      revision,
      hint: `revert it with \`strata down\` to the revision before it${migration.down ? '' : ' (its contract cannot be reversed: restore the backup taken before `strata complete`)'}`,
    })
  }
  const later = [...comparison.appliedSet].filter((r) => r !== revision && graph.ancestors(r, { includeDependsOn: true }).has(revision))
  if (later.length > 0) {
    throw new StrataError('E_USAGE', `${revision} cannot be aborted while ${later.join(', ')}, which build${later.length === 1 ? 's' : ''} on it, ${later.length === 1 ? 'is' : 'are'} applied`, {
      revision,
      hint: 'revert those first with `strata down`',
    })
  }
  if (row.state === 'dirty') {
    if (!resumable) {
      throw new StrataError('E_DIRTY', `${revision} is dirty without checkpoints: strata cannot tell what it committed`, {
        revision,
        hint: 'inspect the database, then run `strata repair --mark expanded` or `--mark reverted`',
      })
    }
    const checkpoints = await project.history.checkpoints(conn, revision)
    const done = new Set([...checkpoints].filter(([, c]) => c.state === 'done').map(([index]) => index))
    // The op the run was executing when it stopped may have taken effect (or left an invalid
    // index) without being recorded: the abort undoes it too.
    const interrupted = interruptedIndex((i) => done.has(i))
    const op = migration.phases.expandOps?.[interrupted]
    if (op && (await landingOf(op, conn, project.dialect, project.config.tablePrefix)) !== 'absent') done.add(interrupted)
    return plan([phaseStep(migration, 'abort', done)])
  }
  return plan([phaseStep(migration, 'abort')])
}
