import { StrataError, redact, toStrataError, type ExitCode } from '../errors/index.js'
import { jsonReplacer, NdjsonLines } from '../events/ndjson.js'

/** Global flags every command sees (SPEC S12). */
export interface GlobalOptions {
  readonly config?: string
  readonly env?: string
  readonly url?: string
  readonly migrations?: string
  readonly json?: boolean
  readonly yes?: boolean
  readonly debug?: boolean
  readonly progress?: 'bar' | 'plain' | 'json'
  readonly lockTimeout?: string
  readonly metricsPort?: string
}

/** With `--progress json`, stderr carries NDJSON only: human lines become `log` events (SPEC S8). */
let ndjsonStderr = false

export function useNdjsonStderr(on: boolean): void {
  ndjsonStderr = on
}

let liveOpen = false

/** NDJSON events gathered before they are written: at most this many (some 50 KiB). */
const EVENT_BATCH = 256
const pendingEvents = new NdjsonLines()
let flushScheduled = false

/** Writes the NDJSON events gathered so far (the CLI calls it before it exits). */
export function flushEvents(): void {
  flushScheduled = false
  if (pendingEvents.size === 0) return
  process.stderr.write(pendingEvents.drain())
}

/** Ends a line drawn by `out.live` so that what follows starts on a line of its own. */
function endLive(): void {
  if (!liveOpen) return
  process.stderr.write('\n')
  liveOpen = false
}

/** Human text and progress go to stderr; stdout carries only results (and exactly one JSON document with --json). */
export const out = {
  json(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
  },
  text(line: string): void {
    process.stdout.write(`${redact(line)}\n`)
  },
  info(line: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    if (ndjsonStderr) return out.event('log', { level, message: redact(line) })
    endLive()
    process.stderr.write(`${redact(line)}\n`)
  },
  /**
   * A line redrawn in place (a progress bar): each call replaces the previous one; the next
   * `info` (or `live(…, true)`) moves past it, so messages never land inside the bar.
   */
  live(line: string, final = false): void {
    process.stderr.write(`\r\u001b[2K${redact(line)}${final ? '\n' : ''}`)
    liveOpen = !final
  },
  /**
   * One NDJSON event on stderr. Events are gathered, then serialized and written together (256
   * of them, or when the event loop next turns, and before exit): a run of 500 migrations emits
   * thousands of events, and a write each would cost more than everything else monitoring does.
   */
  event(type: string, payload: object): void {
    pendingEvents.push(type, payload)
    if (pendingEvents.size >= EVENT_BATCH) flushEvents()
    else if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flushEvents)
    }
  },
}

/** Prints an error with its code and hint (stack only with --debug) and returns the exit code. */
export function reportError(error: unknown, options: GlobalOptions): ExitCode {
  const e = toStrataError(error)
  if (options.json) {
    out.json({ ok: false, error: { code: e.code, message: redact(e.message), hint: e.hint, ...fileOf(e) }, ...reportOf(e) })
  }
  const where = e.details.file ? ` (${e.details.file}${e.details.line ? `:${e.details.line}` : ''})` : ''
  const lines = [`error[${e.code}]: ${e.message}${e.message.includes(String(e.details.file ?? '\u0000')) ? '' : where}`]
  const statement = e.details['statement']
  if (typeof statement === 'string') lines.push(`  statement: ${statement.trim().split('\n').join('\n             ')}`)
  lines.push(`  hint: ${e.hint}`)
  const report = e.details['report'] as { state?: string; rollback?: { ok: boolean; error?: string } | null } | undefined
  if (report?.rollback && !report.rollback.ok) lines.push(`  rollback failed: ${report.rollback.error ?? 'unknown error'}`)
  if (report?.state) lines.push(`  database: ${STATE_TEXT[report.state] ?? report.state}`)
  out.info(lines.join('\n'), 'error')
  if (options.debug) {
    let cause: unknown = e
    while (cause instanceof Error) {
      out.info(cause.stack ?? String(cause))
      cause = cause.cause
    }
  }
  return e.exitCode
}

/** What each run state means for the operator (SPEC S4: the output always says it). */
const STATE_TEXT: Readonly<Record<string, string>> = {
  'pre-run': 'as it was before this run (nothing this run did is left)',
  partial: 'the migrations before the failing one stay applied (see `strata status`)',
  dirty: 'a non-transactional migration is half-applied and marked dirty (see `strata status`)',
  complete: 'every migration of the run applied',
}

function fileOf(e: StrataError): Record<string, unknown> {
  return e.details.file ? { file: e.details.file, ...(e.details.line ? { line: e.details.line } : {}) } : {}
}

function reportOf(e: StrataError): Record<string, unknown> {
  return e.details['report'] ? { report: e.details['report'] } : {}
}
