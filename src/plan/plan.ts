import type { Direction } from '../events/events.js'
import type { RevisionGraph } from '../graph/index.js'
import type { MigrationDef } from '../loader/migration.js'
import type { RevisionState } from '../history/history-store.js'
import { StrataError } from '../errors/index.js'
import { phaseStep, revertStep, type Phase } from './phases.js'

export interface PlanStep {
  readonly revision: string
  readonly direction: Direction
  /** The migration as this step runs it (for a phase: that phase's body as its up or down). */
  readonly migration: MigrationDef
  /** Set for the steps of an expand/contract migration (SPEC S7). */
  readonly phase?: Phase
  /** The revision's state before the step, when not the one its phase implies (an abort of a part-way expand: `dirty`). */
  readonly fromState?: RevisionState
}

/** What `up` / `down` will do, as a value that can be printed before anything runs (STYLE 3.3). */
export interface Plan {
  readonly direction: Direction
  readonly target: string
  readonly steps: readonly PlanStep[]
  /** The database's current heads before the run. */
  readonly fromHeads: readonly string[]
  /** The current heads once every step has run. */
  readonly toHeads: readonly string[]
  /**
   * Pending revisions `up` leaves for later: they build on an expand/contract revision that is
   * (or this run leaves) expanded, and wait for `strata complete` of it (`waitsFor`).
   */
  readonly held: ReadonlyArray<{ readonly revision: string; readonly waitsFor: string }>
}

export interface PlanContext {
  /** Applied revisions in state `expanded`: `down` aborts them; `up` holds their descendants. */
  readonly expanded?: ReadonlySet<string>
}

export function buildPlan(
  graph: RevisionGraph,
  migrations: ReadonlyMap<string, MigrationDef>,
  applied: ReadonlySet<string>,
  direction: Direction,
  target: string,
  context: PlanContext = {},
): Plan {
  const expanded = context.expanded ?? new Set<string>()
  const revisions = direction === 'up' ? graph.upgradePath(applied, target) : graph.downgradePath(applied, target)
  // An expand/contract revision stays expanded until `strata complete`: what builds on it waits.
  const holding = new Set(expanded)
  const held: Array<{ revision: string; waitsFor: string }> = []
  const steps: PlanStep[] = []
  for (const revision of revisions) {
    const migration = migrations.get(revision)!
    if (direction === 'up' && holding.size > 0) {
      const ancestors = graph.ancestors(revision, { includeDependsOn: true })
      const waitsFor = [...holding].find((h) => ancestors.has(h))
      if (waitsFor !== undefined) {
        held.push({ revision, waitsFor })
        continue
      }
    }
    if (direction === 'down' && expanded.has(revision)) {
      steps.push(phaseStep(migration, 'abort'))
      continue
    }
    if (direction === 'down' && !migration.down) {
      const why = migration.phases ? 'is a completed expand/contract migration whose contract() cannot be reversed' : 'has no down() and cannot be reverted'
      throw new StrataError('E_IRREVERSIBLE', `migration ${revision} (${migration.file.relativePath}) ${why}`, {
        file: migration.file.path,
        hint: migration.phases ? 'restore the backup taken before `strata complete` instead' : 'add a down section / down() to it, or restore a backup instead',
      })
    }
    // SQL files split their sections lazily: split the planned ones now, so a malformed
    // statement is refused (exit 2) before anything runs.
    void (direction === 'up' ? migration.sql?.up : migration.sql?.down)
    if (migration.phases && direction === 'up') {
      steps.push(phaseStep(migration, 'expand'))
      holding.add(revision)
    } else {
      steps.push(migration.phases ? revertStep(migration) : { revision, direction, migration })
    }
  }
  const after = new Set(applied)
  for (const step of steps) (direction === 'up' ? after.add(step.revision) : after.delete(step.revision))
  return { direction, target, steps, fromHeads: graph.currentHeads(applied), toHeads: graph.currentHeads(after), held }
}
