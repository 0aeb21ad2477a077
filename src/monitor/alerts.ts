import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { ConfigFile } from '../config/schema.js'
import { redact } from '../errors/redact.js'
import type { Alert, AlertEvent, AlertLevel, StrataEmitter, StrataEvents } from '../events/events.js'

/**
 * Alerts (SPEC S8): rules turn the event stream into alerts, and each alert goes to the sinks
 * of `alerts:` (console, JSONL file, webhook, command). Delivery runs beside the migration: raising
 * an alert returns at once, and `settle()` at the end of a run waits for what is still on its way.
 */

export type AlertsConfig = NonNullable<ConfigFile['alerts']>
type SinkConfig = NonNullable<AlertsConfig['sinks']>[number]

export interface AlertContext {
  readonly environment: string | null
  /** Relative `file` sink paths and `command` sinks resolve from here (the config file's folder). */
  readonly baseDir: string
  /** The `console` sink's output: one human line (the CLI passes a writer to stderr). */
  readonly print: (line: string) => void
}

export interface DeliveryFailure {
  /** The sink as a message shows it, credentials masked: `webhook http://user:****@host/hook?token=****`. */
  readonly sink: string
  readonly event: AlertEvent
  /** Attempts made; 0 for an alert still queued behind another when the run ended. */
  readonly attempts: number
  readonly error: string
}

export interface DeliveryReport {
  /** Alerts raised since `attachAlerts`. */
  readonly alerts: number
  /** Successful deliveries: one per alert and sink that accepted it. */
  readonly delivered: number
  /** Every failed delivery since `attachAlerts`, in the order they failed. */
  readonly failed: readonly DeliveryFailure[]
}

export interface AlertRouter {
  /** Stops listening (no new alerts). */
  detach(): void
  /** Waits for pending deliveries, scheduled retries included, up to the largest sink budget; reports what failed. */
  settle(): Promise<DeliveryReport>
}

const LEVELS: readonly AlertLevel[] = ['critical', 'warning', 'info']
const DEFAULT_LONG_RUNNING_S = 600
const DEFAULT_DEGRADATION_RATIO = 0.5
/** Samples in a row over `cpu_percent` before it counts: a migration is busy by nature, in bursts. */
const CPU_SAMPLES = 3
const WEBHOOK_TIMEOUT_MS = 2_000
const WEBHOOK_RETRIES = 3
const BACKOFF_MS = 200
const COMMAND_TIMEOUT_MS = 10_000
/** How long a file sink gathers alerts before writing them together. */
const FILE_FLUSH_MS = 100

/** console and file sinks write locally; this bounds a stuck disk. */
const LOCAL_BUDGET_MS = 2_000
/** A backfill's reference rate is measured over its first minute of batch time. */
const REFERENCE_WINDOW_MS = 60_000
const STILL_PENDING = 'still pending when the run ended'

/** Starts raising alerts from `events` and delivering them to the configured sinks. */
export function attachAlerts(events: StrataEmitter, config: AlertsConfig, ctx: AlertContext): AlertRouter {
  const levelOf = new Map<AlertEvent, AlertLevel>()
  // An event listed under several levels takes the most severe one.
  for (const level of [...LEVELS].reverse()) for (const event of config[level] ?? []) levelOf.set(event, level)
  const dispatcher = new Dispatcher(events, (config.sinks ?? []).map((sink) => createSink(sink, ctx)))
  const raise: Raise = (event, runId, revision, message) => {
    const level = levelOf.get(event)
    if (level === undefined) return
    const alert: Alert = Object.freeze({ level, event, runId, environment: ctx.environment, revision, message: redact(message), at: new Date().toISOString() })
    events.emit('alert', alert)
    dispatcher.dispatch(alert)
  }
  const detach = watchRules(events, config, raise, levelOf.has('long_running'))
  return { detach, settle: () => dispatcher.settle() }
}

// ── rules ────────────────────────────────────────────────────────────────────────────────────

type Raise = (event: AlertEvent, runId: string | null, revision: string | null, message: string) => void

interface RunState {
  readonly runId: string
  failureSeen: boolean
  readonly started: Set<string>
  readonly completed: Set<string>
  readonly resources: Set<'cpu' | 'memory'>
  timer?: NodeJS.Timeout
}

interface BackfillState {
  rows: number
  /** Batch time seen so far, the first batch included. */
  elapsedMs: number
  referenceRows: number
  referenceMs: number
  raised: boolean
}

/** Subscribes the nine rules; returns the function that unsubscribes them. */
function watchRules(events: StrataEmitter, config: AlertsConfig, raise: Raise, timeLongRuns: boolean): () => void {
  const longRunningMs = (config.thresholds?.long_running_s ?? DEFAULT_LONG_RUNNING_S) * 1000
  const ratio = config.thresholds?.degradation_ratio ?? DEFAULT_DEGRADATION_RATIO
  // No default: a CLI that migrates keeps a core busy, so only a configured limit is an alert.
  const cpuPercent = config.thresholds?.cpu_percent ?? Number.POSITIVE_INFINITY
  const rssMb = config.thresholds?.rss_mb ?? Number.POSITIVE_INFINITY
  const busy = new Map<string | null, number>()
  const runs = new Map<string, RunState>()
  const active = new Set<string>()
  const backfills = new Map<string, BackfillState>()
  const offs: Array<() => void> = []
  const on = <E extends keyof StrataEvents>(name: E, listener: (payload: StrataEvents[E]) => void): void => {
    events.on(name, listener)
    offs.push(() => events.off(name, listener))
  }
  const run = (runId: string): RunState => {
    let state = runs.get(runId)
    if (!state) runs.set(runId, (state = { runId, failureSeen: false, started: new Set(), completed: new Set(), resources: new Set() }))
    return state
  }
  // Events without a run id (backups, restores, checks) belong to the run going on, if any.
  const current = (): string | null => [...active].at(-1) ?? null

  on('run:start', ({ runId, command }) => {
    const state = run(runId)
    active.add(runId)
    if (!timeLongRuns || state.timer) return
    state.timer = setTimeout(() => raise('long_running', runId, null, `run ${runId} (${command}) has been running for more than ${longRunningMs / 1000} s`), longRunningMs)
    state.timer.unref()
  })
  on('run:done', ({ runId, status, durationMs }) => {
    const state = run(runId)
    clearTimeout(state.timer)
    if (status === 'failed' && !state.failureSeen) raise('migration_failure', runId, null, `run ${runId} failed after ${durationMs} ms`)
    active.delete(runId)
    runs.delete(runId)
    for (const key of backfills.keys()) if (key.startsWith(`${runId}\u0000`)) backfills.delete(key)
  })
  on('migration:start', ({ runId, revision, direction, phase, index, total }) => {
    const step = `${revision}\u0000${direction}\u0000${phase ?? ''}`
    if (run(runId).started.has(step)) return
    run(runId).started.add(step)
    raise('migration_started', runId, revision, `migration ${revision} (${describeStep(direction, phase)}) started, ${index + 1} of ${total}`)
  })
  on('migration:done', ({ runId, revision, direction, phase, durationMs }) => {
    const step = `${revision}\u0000${direction}\u0000${phase ?? ''}`
    if (run(runId).completed.has(step)) return
    run(runId).completed.add(step)
    raise('migration_completed', runId, revision, `migration ${revision} (${describeStep(direction, phase)}) completed in ${durationMs} ms`)
  })
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
      backfills.set(key, { rows, elapsedMs: batchMs, referenceRows: 0, referenceMs: 0, raised: false })
      return
    }
    const delta = rows - state.rows
    state.rows = rows
    const inWindow = state.elapsedMs < REFERENCE_WINDOW_MS || state.referenceMs === 0
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

  return () => {
    for (const off of offs.splice(0)) off()
    for (const state of runs.values()) clearTimeout(state.timer)
    runs.clear()
    active.clear()
    backfills.clear()
  }
}

function describeStep(direction: string, phase: string | undefined): string {
  return phase === undefined ? direction : `${direction}, ${phase}`
}

// ── delivery ─────────────────────────────────────────────────────────────────────────────────

interface Sink {
  /** As messages show it, credentials masked. */
  readonly description: string
  readonly levels: ReadonlySet<AlertLevel>
  /** How long one delivery may take, retries and backoff included (SPEC S8). */
  readonly budgetMs: number
  /** One delivery; resolves with null when delivered, else the error. Never rejects. */
  deliver(alert: Alert, delivery: Delivery): Promise<string | null>
  /**
   * Writes what the sink still holds and releases what it keeps open (a file), once the run has
   * settled; returns the alerts it could not write after all.
   */
  close?(): Promise<ReadonlyArray<{ readonly alert: Alert; readonly error: string }>>
}

interface Delivery {
  readonly sink: Sink
  readonly alert: Alert
  attempts: number
  abandoned: boolean
  readonly abort: AbortController
}

/** One queue per sink, so a sink receives its alerts one at a time, in the order raised. */
class Dispatcher {
  readonly #events: StrataEmitter
  readonly #queues: Array<{ readonly sink: Sink; tail: Promise<void> }>
  readonly #pending = new Set<Delivery>()
  readonly #failed: DeliveryFailure[] = []
  #idle: Array<() => void> = []
  #alerts = 0
  #delivered = 0

  constructor(events: StrataEmitter, sinks: readonly Sink[]) {
    this.#events = events
    this.#queues = sinks.map((sink) => ({ sink, tail: Promise.resolve() }))
  }

  dispatch(alert: Alert): void {
    this.#alerts++
    for (const queue of this.#queues) {
      if (!queue.sink.levels.has(alert.level)) continue
      const delivery: Delivery = { sink: queue.sink, alert, attempts: 0, abandoned: false, abort: new AbortController() }
      this.#pending.add(delivery)
      queue.tail = queue.tail.then(() => this.#run(delivery))
    }
  }

  async settle(): Promise<DeliveryReport> {
    const budgetMs = Math.max(0, ...this.#queues.map((queue) => queue.sink.budgetMs))
    if (this.#pending.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((done) => this.#idle.push(done)),
        new Promise<void>((done) => (timer = setTimeout(done, budgetMs))),
      ])
      clearTimeout(timer)
    }
    for (const delivery of this.#pending) {
      delivery.abandoned = true
      delivery.abort.abort()
      this.#fail(delivery, STILL_PENDING)
    }
    this.#pending.clear()
    this.#notifyIdle()
    for (const { sink } of this.#queues) {
      for (const { alert, error } of (await sink.close?.().catch(() => [])) ?? []) {
        this.#delivered--
        this.#fail({ sink, alert, attempts: 1, abandoned: false, abort: new AbortController() }, error)
      }
    }
    return { alerts: this.#alerts, delivered: this.#delivered, failed: [...this.#failed] }
  }

  async #run(delivery: Delivery): Promise<void> {
    if (delivery.abandoned) return
    let error: string | null
    try {
      error = await delivery.sink.deliver(delivery.alert, delivery)
    } catch (thrown) {
      error = describeError(thrown)
    }
    if (delivery.abandoned) return
    this.#pending.delete(delivery)
    if (error === null) this.#delivered++
    else this.#fail(delivery, error)
    if (this.#pending.size === 0) this.#notifyIdle()
  }

  #fail(delivery: Delivery, error: string): void {
    const { sink, alert, attempts } = delivery
    this.#failed.push({ sink: sink.description, event: alert.event, attempts, error })
    const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
    this.#events.emit('log', { level: 'warn', message: `alert ${alert.event} could not be delivered to ${sink.description}: ${error} (after ${tries})` })
  }

  #notifyIdle(): void {
    for (const done of this.#idle.splice(0)) done()
  }
}

function createSink(config: SinkConfig, ctx: AlertContext): Sink {
  const levels = new Set<AlertLevel>(config.levels ?? LEVELS)
  switch (config.type) {
    case 'console':
      return {
        description: 'console', levels, budgetMs: LOCAL_BUDGET_MS,
        deliver: async (alert, delivery) => {
          delivery.attempts++
          ctx.print(`ALERT [${alert.level}] ${alert.event}${alert.revision === null ? '' : ` ${alert.revision}`}: ${alert.message}`)
          return null
        },
      }
    case 'file': {
      const path = resolve(ctx.baseDir, config.path)
      // Lines are gathered for up to FILE_FLUSH_MS and written together, through a file opened
      // once: one write per burst of alerts, not an open, a write and a close per alert, which
      // would compete with the migration's own commits for the disk.
      let file: Promise<FileHandle> | null = null
      let buffered: Alert[] = []
      let timer: NodeJS.Timeout | null = null
      let writing: Promise<void> = Promise.resolve()
      const lost: Array<{ alert: Alert; error: string }> = []
      const flush = (): Promise<void> => {
        const batch = buffered
        buffered = []
        writing = writing.then(async () => {
          if (batch.length === 0) return
          try {
            file ??= mkdir(dirname(path), { recursive: true }).then(() => open(path, 'a'))
            await (await file).write(batch.map((alert) => `${JSON.stringify(alert)}\n`).join(''))
          } catch (error) {
            for (const alert of batch) lost.push({ alert, error: describeError(error) })
          }
        })
        return writing
      }
      return {
        description: `file ${redact(config.path)}`, levels, budgetMs: LOCAL_BUDGET_MS,
        deliver: async (alert, delivery) => {
          delivery.attempts++
          buffered.push(alert)
          timer ??= setTimeout(() => {
            timer = null
            void flush()
          }, FILE_FLUSH_MS)
          return null
        },
        close: async () => {
          if (timer) clearTimeout(timer)
          timer = null
          await flush()
          const opened = file
          file = null
          await (await opened?.catch(() => null))?.close().catch(() => {})
          return lost.splice(0)
        },
      }
    }
    case 'webhook': {
      const timeoutMs = config.timeout_ms ?? WEBHOOK_TIMEOUT_MS
      const retries = config.retries ?? WEBHOOK_RETRIES
      const backoffMs = BACKOFF_MS * (2 ** retries - 1)
      return {
        description: `webhook ${maskUrl(config.url)}`, levels, budgetMs: timeoutMs * (1 + retries) + backoffMs,
        deliver: (alert, delivery) => postAlert(config.url, alert, timeoutMs, retries, delivery),
      }
    }
    case 'command':
      return {
        description: `command ${redact(config.command.join(' '))}`, levels, budgetMs: COMMAND_TIMEOUT_MS,
        deliver: (alert, delivery) => runCommand(config.command, ctx.baseDir, alert, delivery),
      }
  }
}

/** POSTs the alert; retries network errors, timeouts and 5xx with exponential backoff. */
async function postAlert(target: string, alert: Alert, timeoutMs: number, retries: number, delivery: Delivery): Promise<string | null> {
  const signal = delivery.abort.signal
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return `${maskUrl(target)} is not a valid URL`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${maskUrl(target)} is not an http:// or https:// URL`
  // fetch refuses URLs with credentials: send them as Basic auth.
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`
    url.username = ''
    url.password = ''
  }
  const body = JSON.stringify(alert)
  for (;;) {
    delivery.attempts++
    let error: string
    let retryable: boolean
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) })
      await response.body?.cancel().catch(() => undefined)
      if (response.ok) return null
      error = `the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`
      retryable = response.status >= 500
    } catch (thrown) {
      if (signal.aborted) return STILL_PENDING
      error = fetchFailure(thrown, timeoutMs)
      retryable = true
    }
    if (!retryable || delivery.attempts > retries) return error.split(url.href).join(maskUrl(target))
    if (!(await pause(BACKOFF_MS * 2 ** (delivery.attempts - 1), signal))) return STILL_PENDING
  }
}

/** Runs the command with the alert on stdin (no shell); a non-zero exit or a spawn error fails. */
function runCommand(argv: readonly string[], cwd: string, alert: Alert, delivery: Delivery): Promise<string | null> {
  const [program = '', ...args] = argv
  delivery.attempts++
  return new Promise((done) => {
    let child: ChildProcess
    try {
      child = spawn(program, args, { cwd, stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true, signal: delivery.abort.signal })
    } catch (thrown) {
      done(`cannot run ${program}: ${describeError(thrown)}`)
      return
    }
    let stderr = ''
    let finished = false
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, COMMAND_TIMEOUT_MS)
    const finish = (error: string | null): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      child.stderr?.destroy()
      done(error === null ? null : redact(error))
    }
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-500)))
    // A command that exits without reading its stdin closes the pipe under us; its exit code decides.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(`${JSON.stringify(alert)}\n`)
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (delivery.abort.signal.aborted) return finish(STILL_PENDING)
      if (child.pid !== undefined) return // a failed kill of a live process; its exit still comes
      finish(error.code === 'ENOENT' ? `program ${program} not found` : `cannot run ${program}: ${error.message}`)
    })
    child.on('close', (code, signal) => {
      if (code === 0 && !timedOut) return finish(null)
      const how = timedOut ? `timed out after ${COMMAND_TIMEOUT_MS} ms and was killed`
        : code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`
      finish(`${program} ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`)
    })
  })
}

/** Waits `ms`; false when the delivery was abandoned meanwhile. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((done) => {
    if (signal.aborted) return done(false)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop)
      done(true)
    }, ms)
    const stop = (): void => {
      clearTimeout(timer)
      done(false)
    }
    signal.addEventListener('abort', stop, { once: true })
  })
}

/** The URL as messages show it: user:password (redact) and every query value masked. */
function maskUrl(url: string): string {
  return redact(url)
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^:/?#@\s]+@/gi, '$1****@')
    .replace(/([?&][^=&#\s]*)=[^&#\s]*/g, '$1=****')
}

function fetchFailure(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') return `timed out after ${timeoutMs} ms`
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause
  if (cause?.code !== undefined) return `network error (${cause.code}${cause.message ? `: ${cause.message}` : ''})`
  return describeError(cause ?? error)
}

function describeError(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error))
}
