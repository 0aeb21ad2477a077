import type { Direction } from '../events/events.js'
import type { RevisionGraph } from '../graph/index.js'
import type { MigrationDef } from '../loader/migration.js'
import { StrataError } from '../errors/index.js'

export interface PlanStep {
  readonly revision: string
  readonly direction: Direction
  readonly migration: MigrationDef
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
}

export function buildPlan(
  graph: RevisionGraph,
  migrations: ReadonlyMap<string, MigrationDef>,
  applied: ReadonlySet<string>,
  direction: Direction,
  target: string,
): Plan {
  const revisions = direction === 'up' ? graph.upgradePath(applied, target) : graph.downgradePath(applied, target)
  const steps = revisions.map((revision) => {
    const migration = migrations.get(revision)!
    if (direction === 'down' && !migration.down) {
      throw new StrataError('E_IRREVERSIBLE', `migration ${revision} (${migration.file.relativePath}) has no down() and cannot be reverted`, {
        file: migration.file.path,
        hint: 'add a down section / down() to it, or restore a backup instead',
      })
    }
    // SQL files split their sections lazily: split the planned ones now, so a malformed
    // statement is refused (exit 2) before anything runs.
    void (direction === 'up' ? migration.sql?.up : migration.sql?.down)
    return { revision, direction, migration }
  })
  const after = new Set(applied)
  for (const step of steps) (direction === 'up' ? after.add(step.revision) : after.delete(step.revision))
  return { direction, target, steps, fromHeads: graph.currentHeads(applied), toHeads: graph.currentHeads(after) }
}
