import { StrataError } from '../errors/index.js'
import type { MigrationDef } from '../loader/migration.js'
import type { PlanStep } from './plan.js'

/**
 * A step of an expand/contract migration (SPEC S7): `expand` (its up: expand, then backfill),
 * `contract` (`strata complete`), `abort` (`strata abort`, or a down over an expanded revision)
 * and `uncontract` (a completed revision stepping back to expanded, when a failed `complete` is
 * rolled back).
 */
export type Phase = 'expand' | 'contract' | 'abort' | 'uncontract'

/** The step running `phase` of `migration`; `done` lists the op indexes a part-way expand committed. */
export function phaseStep(migration: MigrationDef, phase: Phase, done?: ReadonlySet<number>): PlanStep {
  const phases = migration.phases
  if (!phases) throw new StrataError('E_USAGE', `${migration.revision} is not an expand/contract migration`, { revision: migration.revision })
  const { revision } = migration
  const runs = { transactional: phases.transactional }
  switch (phase) {
    case 'expand':
      return { revision, direction: 'up', phase, migration: { ...migration, transactional: false, up: phases.expand } }
    case 'contract':
      return { revision, direction: 'up', phase, migration: { ...migration, ...runs, up: phases.contract, ...(phases.uncontract ? { down: phases.uncontract } : {}) } }
    case 'abort':
      return {
        revision, direction: 'down', phase,
        migration: { ...migration, transactional: phases.abortTransactional, down: done && phases.abortPart ? phases.abortPart(done) : phases.abort },
        ...(done ? { fromState: 'dirty' as const } : {}),
      }
    case 'uncontract': {
      if (!phases.uncontract) {
        throw new StrataError('E_IRREVERSIBLE', `the contract of ${revision} (${migration.file.relativePath}) cannot be reversed`, {
          revision,
          hint: 'restore the backup taken before `strata complete`',
        })
      }
      return { revision, direction: 'down', phase, migration: { ...migration, ...runs, down: phases.uncontract } }
    }
  }
}

/** A completed expand/contract revision reverted by `down`: its contract's reverse, then its abort. */
export function revertStep(migration: MigrationDef): PlanStep {
  const tx = migration.phases ? { transactional: migration.phases.transactional } : {}
  return { revision: migration.revision, direction: 'down', migration: { ...migration, ...tx } }
}

/** The step undoing `step` when a run rolls back (expand ↔ abort, contract ↔ uncontract). */
export function counterpart(step: PlanStep): PlanStep {
  switch (step.phase) {
    case 'expand':
      return phaseStep(step.migration, 'abort')
    case 'contract':
      return phaseStep(step.migration, 'uncontract')
    case 'abort':
      return phaseStep(step.migration, 'expand')
    case 'uncontract':
      return phaseStep(step.migration, 'contract')
    case undefined:
      if (step.direction === 'down' && step.migration.phases) {
        throw new StrataError('E_IRREVERSIBLE', `${step.revision} is an expand/contract migration: a rollback cannot expand and complete it again in one step`, {
          revision: step.revision,
          hint: 'run `strata up` and `strata complete` again, or restore the pre-run backup',
        })
      }
      if (step.direction === 'up' && !step.migration.down) {
        throw new StrataError('E_IRREVERSIBLE', `${step.revision} has no down()`, { revision: step.revision })
      }
      return { ...step, direction: step.direction === 'up' ? 'down' : 'up' }
  }
}
