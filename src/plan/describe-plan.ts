import { createOpBuilder } from '../ops/op-builder.js'
import type { Operation } from '../ops/operation.js'
import { describeOp } from '../ops/reverse.js'
import type { Plan } from './plan.js'

export interface PlanStepView {
  readonly revision: string
  readonly direction: 'up' | 'down'
  /** Expand/contract steps (SPEC S7): `expand`, `contract`, `abort`. */
  readonly phase?: string
  readonly file: string
  readonly description: string
  readonly transactional: boolean
  /** One line per op; null when the migration reads the database and cannot be described offline. */
  readonly ops: readonly string[] | null
}

export interface PlanView {
  readonly direction: 'up' | 'down'
  readonly target: string
  readonly from: readonly string[]
  readonly to: readonly string[]
  readonly steps: readonly PlanStepView[]
  /** Revisions `up` leaves for later: they wait for `strata complete` of an expanded revision. */
  readonly held: ReadonlyArray<{ readonly revision: string; readonly waitsFor: string }>
}

/**
 * Describes a plan without touching any database: each migration's up/down runs against a
 * recording `op`, so the ops it would perform are listed by name.
 */
export async function describePlan(plan: Plan, dialect: string): Promise<PlanView> {
  const steps: PlanStepView[] = []
  for (const step of plan.steps) {
    const m = step.migration
    steps.push({
      revision: step.revision,
      direction: step.direction,
      ...(step.phase ? { phase: step.phase } : {}),
      file: m.file.relativePath,
      description: m.description,
      transactional: m.transactional,
      ops: await recordOps(step.direction === 'up' ? m.up : m.down, dialect),
    })
  }
  return { direction: plan.direction, target: plan.target, from: plan.fromHeads, to: plan.toHeads, steps, held: plan.held }
}

class ReadsDatabase extends Error {}

async function recordOps(body: ((op: ReturnType<typeof createOpBuilder>) => unknown) | undefined, dialect: string): Promise<string[] | null> {
  if (!body) return []
  const ops: Operation[] = []
  const op = createOpBuilder({
    dialect,
    push: (o) => void ops.push(o),
    query: async () => {
      throw new ReadsDatabase()
    },
  })
  try {
    await body(op)
  } catch (error) {
    if (error instanceof ReadsDatabase) return null
    throw error
  }
  return ops.map(describeOp)
}
