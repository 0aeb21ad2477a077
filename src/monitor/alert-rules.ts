import type { AlertEvent, StrataEmitter, StrataEvents } from '../events/events.js'
import type { AlertsConfig } from './alerts.js'
import { isoNow } from '../util/clock.js'

/** The alert rules of SPEC S8: what in the event stream raises which of the nine alerts. */

const DEFAULT_LONG_RUNNING_S = 600
const DEFAULT_DEGRADATION_RATIO = 0.5
/** Samples in a row over `cpu_percent` before it counts: a migration is busy by nature, in bursts. */
const CPU_SAMPLES = 3
/**
 * A backfill's reference rate is measured over its first minute: a minute of batch time, or a
 * minute on the clock when that comes first (a throttled backfill of short batches would
 * otherwise take hours to fill its reference).
 */
const REFERENCE_WINDOW_MS = 60_000
/**
 * migration_started and migration_completed come once per migration: a run of 500 small
 * migrations raises 1,000 of them, each one alone between two migrations' statements, where it
 * costs some 3 µs against under 1 µs among others. They wait (the step's event and its time)
 * and are raised together, in order: when this many wait, when the event loop turns, before
 * any other alert, and at the plan's last step. Sinks deliver only when the event loop turns
 * anyway.
 */
const DEFERRED_LIMIT = 64

type StepEvent = StrataEvents['migration:start'] | StrataEvents['migration:done']

/** Raises one alert; `at` is when what it reports happened (now by default). */
export type Raise = (event: AlertEvent, runId: string | null, revision: string | null, message: string, at?: string) => void

interface RunState {
  readonly runId: string
  failureSeen: boolean
  /** The plan's steps (by their index) whose start and end raised an alert: bit 1 started, bit 2 completed. */
  readonly alerted: number[]
  readonly resources: Set<'cpu' | 'memory'>
  timer?: NodeJS.Timeout
}

interface BackfillState {
  rows: number
  /** When its first progress event came (the clock's reading). */
  readonly since: number
  /** Batch time seen so far, the first batch included. */
  elapsedMs: number
  referenceRows: number
  referenceMs: number
  raised: boolean
}

export interface Rules {
  /** Raises the step alerts still waiting. */
  flush(): void
  /** Raises what waits, then unsubscribes the rules. */
  detach(): void
}

/** Subscribes the nine rules. */
export function watchRules(events: StrataEmitter, config: AlertsConfig, raise: Raise, timeLongRuns: boolean, now: () => number = () => performance.now()): Rules {
  const longRunningMs = (config.thresholds?.long_running_s ?? DEFAULT_LONG_RUNNING_S) * 1000
  const ratio = config.thresholds?.degradation_ratio ?? DEFAULT_DEGRADATION_RATIO
  // No default: a CLI that migrates keeps a core busy, so only a configured limit is an alert.
  const cpuPercent = config.thresholds?.cpu_percent ?? Number.POSITIVE_INFINITY
  const rssMb = config.thresholds?.rss_mb ?? Number.POSITIVE_INFINITY
  const busy = new Map<string | null, number>()
  const runs = new Map<string, RunState>()
  const active = new Set<string>()
  /** Runs that have ended: what arrives for them afterwards (the sampler's last sample) raises nothing. */
  const ended = new Set<string>()
  const backfills = new Map<string, BackfillState>()
  // Steps whose start or end awaits its alert: pairs of the event and when it came.
  let deferred: Array<StepEvent | string> = []
  let soon: NodeJS.Immediate | null = null
  const raiseDeferred = (): void => {
    if (soon) clearImmediate(soon)
    soon = null
    const steps = deferred
    deferred = []
    for (let i = 0; i < steps.length; i += 2) {
      const step = steps[i] as StepEvent
      const at = steps[i + 1] as string
      const how = describeStep(step.direction, step.phase)
      if ('durationMs' in step) raise('migration_completed', step.runId, step.revision, `migration ${step.revision} (${how}) completed in ${step.durationMs} ms`, at)
      else raise('migration_started', step.runId, step.revision, `migration ${step.revision} (${how}) started, ${step.index + 1} of ${step.total}`, at)
    }
  }
  const defer = (step: StepEvent, last: boolean): void => {
    deferred.push(step, isoNow())
    if (last || deferred.length >= DEFERRED_LIMIT * 2) raiseDeferred()
    else soon ??= setImmediate(raiseDeferred)
  }
  const offs: Array<() => void> = []
  // Every other rule first raises what waits, so that alerts keep the order of their events.
  const on = <E extends keyof StrataEvents>(name: E, listener: (payload: StrataEvents[E]) => void): void => {
    const inOrder = (payload: StrataEvents[E]): void => {
      if (deferred.length > 0) raiseDeferred()
      listener(payload)
    }
    events.on(name, inOrder)
    offs.push(() => events.off(name, inOrder))
  }
  const onStep = <E extends 'migration:start' | 'migration:done'>(name: E, listener: (payload: StrataEvents[E]) => void): void => {
    events.on(name, listener)
    offs.push(() => events.off(name, listener))
  }
  const run = (runId: string): RunState => {
    let state = runs.get(runId)
    if (!state) runs.set(runId, (state = { runId, failureSeen: false, alerted: [], resources: new Set() }))
    return state
  }
  // Events without a run id (backups, restores, checks) belong to the run going on, if any.
  const current = (): string | null => [...active].at(-1) ?? null

  on('run:start', ({ runId, command, estimatedMs }) => {
    const state = run(runId)
    active.add(runId)
    if (!timeLongRuns || state.timer) return
    // Over the estimate (SPEC S8, S9) or the configured limit, whichever comes first.
    const overEstimateMs = estimatedMs === null || estimatedMs === undefined ? Number.POSITIVE_INFINITY : overEstimate(estimatedMs)
    const message = overEstimateMs < longRunningMs
      ? `run ${runId} (${command}) has been running for more than ${seconds(overEstimateMs)}, over its estimate of ${seconds(estimatedMs!)}`
      : `run ${runId} (${command}) has been running for more than ${seconds(longRunningMs)}`
    state.timer = setTimeout(() => {
      if (deferred.length > 0) raiseDeferred()
      raise('long_running', runId, null, message)
    }, Math.min(overEstimateMs, longRunningMs))
    state.timer.unref()
  })
  on('run:done', ({ runId, status, durationMs }) => {
    const state = run(runId)
    clearTimeout(state.timer)
    if (status === 'failed' && !state.failureSeen) raise('migration_failure', runId, null, `run ${runId} failed after ${durationMs} ms`)
    active.delete(runId)
    runs.delete(runId)
    ended.add(runId)
    for (const key of backfills.keys()) if (key.startsWith(`${runId}\u0000`)) backfills.delete(key)
  })
  // The plan's last step raises at once: its alerts come before the run's end.
  const listed = new Set([...(config.critical ?? []), ...(config.warning ?? []), ...(config.info ?? [])])
  if (listed.has('migration_started')) {
    onStep('migration:start', (step) => {
      if (firstTime(run(step.runId).alerted, step.index, STARTED)) defer(step, false)
    })
  }
  if (listed.has('migration_completed')) {
    onStep('migration:done', (step) => {
      if (firstTime(run(step.runId).alerted, step.index, COMPLETED)) defer(step, step.index + 1 === step.total)
    })
  }
  on('migration:failed', ({ runId, revision, direction, phase, message }) => {
    run(runId).failureSeen = true
    raise('migration_failure', runId, revision, `migration ${revision} (${describeStep(direction, phase)}) failed: ${message}`)
  })
  on('rollback:start', ({ runId, revisions }) => {
    raise('rollback_required', runId, null, `rolling back ${revisions.length > 0 ? revisions.join(', ') : 'nothing'}`)
  })
  on('restore:start', ({ backupId }) => {
    const runId = current()
    if (runId !== null) raise('rollback_required', runId, null, `restoring backup ${backupId}`)
  })
  on('check', ({ phase, name, status, message }) => {
    if (phase === 'postflight' && status === 'fail' && (name === 'consistency' || name === 'row-counts')) {
      raise('data_corruption', current(), null, `postflight check ${name} failed: ${message}`)
    }
  })
  on('backup:done', ({ id, size, durationMs, verified }) => {
    raise('backup_completed', current(), null, `backup ${id} completed (${size} bytes in ${durationMs} ms${verified ? ', verified' : ', not verified'})`)
  })
  on('backfill:progress', ({ runId, revision, table, rows, batchMs }) => {
    const key = `${runId}\u0000${revision}\u0000${table}`
    const state = backfills.get(key)
    // A resumed backfill's first `rows` includes the rows done before the resume, so the first
    // event only sets where counting starts.
    if (!state || rows < state.rows) {
      backfills.set(key, { rows, since: now(), elapsedMs: batchMs, referenceRows: 0, referenceMs: 0, raised: false })
      return
    }
    const delta = rows - state.rows
    state.rows = rows
    const inWindow = (state.elapsedMs < REFERENCE_WINDOW_MS && now() - state.since < REFERENCE_WINDOW_MS) || state.referenceMs === 0
    state.elapsedMs += batchMs
    if (inWindow) {
      state.referenceRows += delta
      state.referenceMs += batchMs
      return
    }
    if (state.raised || batchMs <= 0 || state.referenceRows <= 0) return
    const reference = (state.referenceRows / state.referenceMs) * 1000
    const rate = (delta / batchMs) * 1000
    if (rate >= ratio * reference) return
    state.raised = true
    raise('performance_degradation', runId, revision,
      `backfill of ${table} slowed to ${Math.round(rate)} rows/s, under ${Math.round(ratio * 100)}% of its starting ${Math.round(reference)} rows/s`)
  })
  on('metrics:sample', ({ runId, cpuPercent: cpu, rssBytes }) => {
    if (ended.has(runId)) return
    const state = run(runId)
    const streak = cpu >= cpuPercent ? (busy.get(runId) ?? 0) + 1 : 0
    busy.set(runId, streak)
    if (streak >= CPU_SAMPLES && !state.resources.has('cpu')) {
      state.resources.add('cpu')
      raise('high_resource_usage', runId, null, `CPU use at ${Math.round(cpu)}% of a core for ${streak} samples in a row (threshold ${cpuPercent}%)`)
    }
    const rss = rssBytes / (1024 * 1024)
    if (rss >= rssMb && !state.resources.has('memory')) {
      state.resources.add('memory')
      raise('high_resource_usage', runId, null, `memory use (RSS) at ${Math.round(rss)} MiB (threshold ${rssMb} MiB)`)
    }
  })

  return {
    flush: raiseDeferred,
    detach: () => {
      raiseDeferred()
      for (const off of offs.splice(0)) off()
      for (const state of runs.values()) clearTimeout(state.timer)
      runs.clear()
      active.clear()
      backfills.clear()
    },
  }
}

/**
 * When a run counts as over its estimate: a quarter over it, and at least a second over it, so
 * that the ordinary spread of a short run's timing raises nothing.
 */
export function overEstimate(estimatedMs: number): number {
  return Math.max(estimatedMs * 1.25, estimatedMs + 1_000)
}

const STARTED = 1
const COMPLETED = 2

/** Marks the step's alert raised; true the first time. */
function firstTime(alerted: number[], index: number, bit: number): boolean {
  const bits = alerted[index] ?? 0
  if ((bits & bit) !== 0) return false
  alerted[index] = bits | bit
  return true
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`
}

function describeStep(direction: string, phase: string | undefined): string {
  return phase === undefined ? direction : `${direction}, ${phase}`
}
