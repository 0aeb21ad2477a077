import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, open as openCallback, openSync, write as writeCallback, writeSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { promisify } from 'node:util'
import { dirname, resolve } from 'node:path'
import { redact } from '../errors/redact.js'
import type { Alert, AlertLevel } from '../events/events.js'
import { jsonLines } from '../events/ndjson.js'
import type { AlertContext, AlertsConfig } from './alerts.js'

/** The sinks of SPEC S8 (console, JSONL file, webhook, command): one delivery of one alert each. */

type SinkConfig = NonNullable<AlertsConfig['sinks']>[number]

export const LEVELS: readonly AlertLevel[] = ['critical', 'warning', 'info']
const WEBHOOK_TIMEOUT_MS = 2_000
const WEBHOOK_RETRIES = 3
const BACKOFF_MS = 200
const COMMAND_TIMEOUT_MS = 10_000
/** How long a file sink gathers alerts before writing them together. */
const FILE_FLUSH_MS = 100
/** …or until this many are waiting: a burst is not held in memory longer than it must be. */
const FILE_BATCH = 256
/** console and file sinks write locally; this bounds a stuck disk. */
const LOCAL_BUDGET_MS = 2_000
/** The error of a delivery the end of the run cut short. */
export const STILL_PENDING = 'still pending when the run ended'

export interface Sink {
  /** As messages show it, credentials masked. */
  readonly description: string
  readonly levels: ReadonlySet<AlertLevel>
  /** How long one delivery may take, retries and backoff included (SPEC S8). */
  readonly budgetMs: number
  /**
   * A local sink (console, file) takes the alert at once, in the raiser's turn: no queue, no
   * promise per alert. Throws when it cannot.
   */
  accept?(alert: Alert): void
  /** A remote sink's delivery (webhook, command); resolves with null when delivered, else the error. Never rejects. */
  deliver?(alert: Alert, delivery: Delivery): Promise<string | null>
  /**
   * Writes what the sink still holds and releases what it keeps open (a file), once the run has
   * settled; returns the alerts it could not write after all.
   */
  close?(): Promise<ReadonlyArray<{ readonly alert: Alert; readonly error: string }>>
}

/** One alert on its way to one sink. */
export class Delivery {
  attempts = 0
  abandoned = false
  #abort: AbortController | undefined

  constructor(readonly sink: Sink, readonly alert: Alert) {}

  /** Made on first use: only webhooks and commands (and the end of a run) need one. */
  get abort(): AbortController {
    this.#abort ??= new AbortController()
    return this.#abort
  }
}

export function createSink(config: SinkConfig, ctx: AlertContext): Sink {
  const levels = new Set<AlertLevel>(config.levels ?? LEVELS)
  switch (config.type) {
    case 'console':
      return {
        description: 'console', levels, budgetMs: LOCAL_BUDGET_MS,
        accept: (alert) => ctx.print(`ALERT [${alert.level}] ${alert.event}${alert.revision === null ? '' : ` ${alert.revision}`}: ${alert.message}`),
      }
    case 'file':
      return fileSink(resolve(ctx.baseDir, config.path), `file ${redact(config.path)}`, levels)
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

/**
 * A JSONL file. Lines are gathered and written in batches through a file opened once (not an
 * open, a write and a close per alert, competing with the migration's commits for the disk). A
 * batch is handed to the thread pool only when the event loop turns (a timer, or the next turn
 * once FILE_BATCH lines wait), never from the raiser's turn; at the end of the run, what no
 * asynchronous write took yet is written synchronously: the migration is over, and a handful of
 * thread-pool round trips would only make the run's end wait.
 */
function fileSink(path: string, description: string, levels: ReadonlySet<AlertLevel>): Sink {
  let fd: number | null = null
  const buffered: Alert[] = []
  let timer: NodeJS.Timeout | null = null
  let soon: NodeJS.Immediate | null = null
  let inFlight: Promise<void> | null = null
  let closed = false
  const lost: Array<{ alert: Alert; error: string }> = []
  const fail = (batch: readonly Alert[], error: unknown): void => {
    for (const alert of batch) lost.push({ alert, error: describeError(error) })
  }
  const openAsync = async (): Promise<number> => {
    await mkdir(dirname(path), { recursive: true })
    return (await promisify(openCallback)(path, 'a')) as number
  }
  const writeAsync = (): void => {
    timer = null
    soon = null
    if (inFlight || closed || buffered.length === 0) return
    const batch = buffered.splice(0, FILE_BATCH)
    inFlight = (async () => {
      try {
        fd ??= await openAsync()
        await promisify(writeCallback)(fd, jsonLines(batch))
      } catch (error) {
        fail(batch, error)
      }
    })().finally(() => {
      inFlight = null
      if (buffered.length > 0 && !closed) soon ??= setImmediate(writeAsync)
    })
  }
  return {
    description, levels, budgetMs: LOCAL_BUDGET_MS,
    accept: (alert) => {
      buffered.push(alert)
      if (buffered.length >= FILE_BATCH) soon ??= setImmediate(writeAsync)
      else timer ??= setTimeout(writeAsync, FILE_FLUSH_MS)
    },
    close: async () => {
      closed = true
      if (timer) clearTimeout(timer)
      if (soon) clearImmediate(soon)
      timer = null
      soon = null
      await inFlight
      try {
        if (buffered.length > 0 && fd === null) {
          mkdirSync(dirname(path), { recursive: true })
          fd = openSync(path, 'a')
        }
        // FILE_BATCH lines at a time: a string or buffer over 128 KiB goes to memory of its own,
        // freshly mapped, which costs several times the copy (1,000 alerts are some 220 KiB).
        while (buffered.length > 0) {
          writeSync(fd!, jsonLines(buffered.slice(0, FILE_BATCH)))
          buffered.splice(0, FILE_BATCH)
        }
      } catch (error) {
        fail(buffered.splice(0), error)
      } finally {
        if (fd !== null) closeSync(fd)
        fd = null
      }
      return lost.splice(0)
    },
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
    // The attempt's own controller and timer, held here: on Node 20 a signal made by
    // AbortSignal.timeout() inside AbortSignal.any() can be collected and never fire.
    const attempt = new AbortController()
    const timer = setTimeout(() => attempt.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs)
    const stop = (): void => attempt.abort(signal.reason)
    signal.addEventListener('abort', stop, { once: true })
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: attempt.signal })
      await response.body?.cancel().catch(() => undefined)
      if (response.ok) return null
      error = `the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`
      retryable = response.status >= 500
    } catch (thrown) {
      if (signal.aborted) return STILL_PENDING
      error = fetchFailure(attempt.signal.reason ?? thrown, timeoutMs)
      retryable = true
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
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

export function describeError(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error))
}
