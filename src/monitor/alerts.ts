import type { ConfigFile } from '../config/schema.js'
import { redact } from '../errors/redact.js'
import type { Alert, AlertEvent, AlertLevel, StrataEmitter } from '../events/events.js'
import { watchRules, type Raise } from './alert-rules.js'
import { isoNow } from '../util/clock.js'
import { Delivery, LEVELS, STILL_PENDING, createSink, describeError, type Sink } from './alert-sinks.js'

/**
 * Alerts (SPEC S8): rules turn the event stream into alerts, and each alert goes to the sinks
 * of `alerts:` (console, JSONL file, webhook, command). Delivery runs beside the migration: raising
 * an alert returns at once, and `settle()` at the end of a run waits for what is still on its way.
 */

export type AlertsConfig = NonNullable<ConfigFile['alerts']>

export interface AlertContext {
  readonly environment: string | null
  /** Relative `file` sink paths and `command` sinks resolve from here (the config file's folder). */
  readonly baseDir: string
  /** The `console` sink's output: one human line (the CLI passes a writer to stderr). */
  readonly print: (line: string) => void
  /** The rules' clock in milliseconds (tests pass their own); performance.now() by default. */
  readonly now?: () => number
}

export interface DeliveryFailure {
  /** The sink as a message shows it, credentials masked: `webhook http://user:****@host/hook?token=****`. */
  readonly sink: string
  readonly event: AlertEvent
  /** The alert's migration; null for a run-level alert. */
  readonly revision: string | null
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
  /** Raises the alerts still waiting, then stops listening (no new alerts). */
  detach(): void
  /** Raises the alerts still waiting; waits for pending deliveries, scheduled retries included, up to the largest sink budget; reports what failed. */
  settle(): Promise<DeliveryReport>
}

/** Starts raising alerts from `events` and delivering them to the configured sinks. */
export function attachAlerts(events: StrataEmitter, config: AlertsConfig, ctx: AlertContext): AlertRouter {
  const levelOf = new Map<AlertEvent, AlertLevel>()
  // An event listed under several levels takes the most severe one.
  for (const level of [...LEVELS].reverse()) for (const event of config[level] ?? []) levelOf.set(event, level)
  const dispatcher = new Dispatcher(events, (config.sinks ?? []).map((sink) => createSink(sink, ctx)))
  const raise: Raise = (event, runId, revision, message, at = isoNow()) => {
    const level = levelOf.get(event)
    if (level === undefined) return
    const alert: Alert = Object.freeze({ level, event, runId, environment: ctx.environment, revision, message: redact(message), at })
    events.emit('alert', alert)
    dispatcher.dispatch(alert)
  }
  const rules = watchRules(events, config, raise, levelOf.has('long_running'), ctx.now)
  return {
    detach: rules.detach,
    settle: () => {
      rules.flush()
      return dispatcher.settle()
    },
  }
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
      if (queue.sink.accept) {
        this.#accept(queue.sink, alert)
        continue
      }
      const delivery = new Delivery(queue.sink, alert)
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
        const lost = new Delivery(sink, alert)
        lost.attempts = 1
        this.#fail(lost, error)
      }
    }
    return { alerts: this.#alerts, delivered: this.#delivered, failed: [...this.#failed] }
  }

  #accept(sink: Sink, alert: Alert): void {
    try {
      sink.accept?.(alert)
      this.#delivered++
    } catch (thrown) {
      const delivery = new Delivery(sink, alert)
      delivery.attempts = 1
      this.#fail(delivery, describeError(thrown))
    }
  }

  async #run(delivery: Delivery): Promise<void> {
    if (delivery.abandoned) return
    let error: string | null
    try {
      error = (await delivery.sink.deliver?.(delivery.alert, delivery)) ?? null
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
    this.#failed.push({ sink: sink.description, event: alert.event, revision: alert.revision, attempts, error })
    const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
    this.#events.emit('log', { level: 'warn', message: `alert ${alert.event}${alert.revision === null ? '' : ` of ${alert.revision}`} could not be delivered to ${sink.description}: ${error} (after ${tries})` })
  }

  #notifyIdle(): void {
    for (const done of this.#idle.splice(0)) done()
  }
}
