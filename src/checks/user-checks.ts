import { spawn, type ChildProcess } from 'node:child_process'
import { statSync } from 'node:fs'
import type { UserCheck } from '../config/schema.js'
import type { Connection } from '../dialects/dialect.js'
import { redact } from '../errors/index.js'
import { guarded, type CheckResult } from './check.js'

/** User checks from the config's `checks:` block (SPEC S5, S12): SQL expectations, HTTP probes, commands. */

export interface UserCheckContext {
  readonly conn: Connection
  /** Working directory of `command` checks (the config's folder). */
  readonly cwd: string
  /** Merged over `process.env` for `command` checks. */
  readonly env?: NodeJS.ProcessEnv
}

type Outcome = Omit<CheckResult, 'name'>
type Expectation = number | string | boolean | null

const HTTP_TIMEOUT_MS = 5_000
const COMMAND_TIMEOUT_MS = 60_000
/** After SIGTERM on timeout, the command gets this long before SIGKILL. */
const KILL_GRACE_MS = 2_000
/**
 * A grandchild may keep the output pipes open after the command exits: once the command has
 * exited, stop waiting for them when they have been quiet this long.
 */
const PIPE_GRACE_MS = 500
const OUTPUT_SHOWN = 500
const OUTPUT_KEPT = 4_096

/** Runs one user check. Never throws: every outcome, an unexpected error included, is a CheckResult. */
export async function runUserCheck(check: UserCheck, ctx: UserCheckContext): Promise<CheckResult> {
  const result = await guarded(check.name, async () => {
    if ('sql' in check) return sqlCheck(check.sql, check.expect, ctx.conn)
    if ('http' in check) return httpCheck(check.http, check.status ?? 200, check.body, check.timeout_ms ?? HTTP_TIMEOUT_MS)
    return commandCheck(check.command, ctx, check.timeout_ms ?? COMMAND_TIMEOUT_MS)
  })
  return { ...result, message: mask(result.message) }
}

// ── SQL ──────────────────────────────────────────────────────────────────────────────────────

async function sqlCheck(sql: string, expect: Expectation, conn: Connection): Promise<Outcome> {
  const shownSql = abbreviate(sql.replace(/\s+/g, ' ').trim(), 80)
  let rows: Record<string, unknown>[]
  try {
    rows = await conn.query({ sql, params: [] })
  } catch (error) {
    return { status: 'fail', message: `${shownSql} failed: ${error instanceof Error ? error.message : String(error)}` }
  }
  const first = rows[0]
  if (first === undefined) return { status: 'fail', message: `${shownSql} returned no rows, expected ${showExpectation(expect)}` }
  // Drivers give rows as objects; the first key is the first column (unless a column is named like an integer).
  const actual = Object.values(first)[0]
  const { ok, shown } = compareExpectation(actual, expect)
  return ok
    ? { status: 'pass', message: `${shownSql} returned ${shown} (expected ${showExpectation(expect)})` }
    : { status: 'fail', message: `${shownSql} returned ${shown}, expected ${showExpectation(expect)}` }
}

const OPERATOR = /^\s*(>=|<=|!=|<>|>|<)\s*(.*?)\s*$/s

/**
 * Compares the first column of the first row with a config `expect:`: a value (0, "ok", true,
 * null), compared loosely but sensibly across drivers (3 = 3n = "3", true = 1, false = 0), or
 * ">N" ">=N" "<N" "<=N" "!=N" with a numeric N. "!=" also takes a string ("!=NULL": not NULL);
 * an ordering operator before something that is not a number is taken as a literal string.
 * `shown` is the actual value as a message shows it.
 */
export function compareExpectation(actual: unknown, expect: Expectation): { ok: boolean; shown: string } {
  return { ok: matches(actual, expect), shown: showValue(actual) }
}

function matches(actual: unknown, expect: Expectation): boolean {
  if (expect === null) return actual === null || actual === undefined
  if (typeof expect === 'string') {
    const operator = OPERATOR.exec(expect)
    if (operator) {
      const [, op = '', operand = ''] = operator
      const bound = numeric(operand)
      if (op === '!=' || op === '<>') {
        const value = numericOf(actual)
        if (bound !== undefined) return value === undefined || compare(value, bound) !== 0
        if (operand.toUpperCase() === 'NULL') return actual !== null && actual !== undefined
        return !equalsString(actual, operand)
      }
      if (bound !== undefined) {
        const value = numericOf(actual)
        if (value === undefined) return false
        const order = compare(value, bound)
        return op === '>' ? order > 0 : op === '>=' ? order >= 0 : op === '<' ? order < 0 : order <= 0
      }
    }
    return equalsString(actual, expect)
  }
  if (typeof expect === 'boolean') {
    if (typeof actual === 'boolean') return actual === expect
    if (typeof actual === 'string' && BOOLEAN_WORDS.has(actual.toLowerCase())) return BOOLEAN_WORDS.get(actual.toLowerCase()) === expect
    const value = numericOf(actual)
    return value !== undefined && compare(value, expect ? 1 : 0) === 0
  }
  const value = numericOf(actual)
  return value !== undefined && compare(value, expect) === 0
}

const BOOLEAN_WORDS = new Map([['true', true], ['t', true], ['1', true], ['false', false], ['f', false], ['0', false]])

function equalsString(actual: unknown, expect: string): boolean {
  if (typeof actual === 'string') return actual === expect
  if (typeof actual === 'boolean') return BOOLEAN_WORDS.get(expect.toLowerCase()) === actual
  if (actual instanceof Date) return actual.toISOString() === expect
  const value = numericOf(actual)
  const bound = numeric(expect)
  return value !== undefined && bound !== undefined && compare(value, bound) === 0
}

type Numeric = number | bigint

/** A driver value as a number: numbers, bigints, numeric strings (DECIMAL, BIGINT as text) and booleans. */
function numericOf(value: unknown): Numeric | undefined {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'string') return numeric(value)
  return undefined
}

function numeric(text: string): Numeric | undefined {
  const trimmed = text.trim()
  if (/^[+-]?\d+$/.test(trimmed)) return BigInt(trimmed)
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return Number(trimmed)
  return undefined
}

/** Exact for whole numbers of any size; as doubles otherwise. */
function compare(a: Numeric, b: Numeric): number {
  if (isWhole(a) && isWhole(b)) {
    const x = BigInt(a)
    const y = BigInt(b)
    return x === y ? 0 : x > y ? 1 : -1
  }
  const x = Number(a)
  const y = Number(b)
  return x === y ? 0 : x > y ? 1 : -1
}

function isWhole(value: Numeric): boolean {
  return typeof value === 'bigint' || Number.isInteger(value)
}

function showValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'string') return JSON.stringify(abbreviate(value, 100))
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array) return `a blob of ${value.byteLength} bytes`
  if (typeof value === 'object') return abbreviate(JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value), 100)
  return String(value)
}

function showExpectation(expect: Expectation): string {
  if (typeof expect === 'string') {
    const operator = OPERATOR.exec(expect)
    const [, op = '', operand = ''] = operator ?? []
    if (operator && (op === '!=' || op === '<>' || numeric(operand) !== undefined)) return `${op}${operand}`
  }
  return showValue(expect)
}

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────

async function httpCheck(target: string, status: number, body: string | undefined, timeoutMs: number): Promise<Outcome> {
  const shown = mask(target)
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return { status: 'fail', message: `${shown} is not a valid URL` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { status: 'fail', message: `${shown} is not an http:// or https:// URL` }
  let pattern: RegExp | undefined
  const regex = /^\/(.+)\/([dgimsuvy]*)$/s.exec(body ?? '')
  if (regex) {
    try {
      pattern = new RegExp(regex[1] ?? '', regex[2])
    } catch (error) {
      return { status: 'fail', message: `the body pattern ${body} is not a valid regular expression: ${(error as Error).message}` }
    }
  }
  // fetch refuses URLs with credentials: send them as Basic auth, as a browser would.
  const headers: Record<string, string> = {}
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`
    url.username = ''
    url.password = ''
  }
  let actualStatus: number
  let text = ''
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) })
    actualStatus = response.status
    if (body !== undefined && actualStatus === status) text = await response.text()
    else await response.body?.cancel()
  } catch (error) {
    return { status: 'fail', message: `GET ${shown} ${fetchFailure(error, timeoutMs)}` }
  }
  if (actualStatus !== status) return { status: 'fail', message: `GET ${shown} returned ${actualStatus}, expected ${status}` }
  if (body === undefined) return { status: 'pass', message: `GET ${shown} returned ${actualStatus}` }
  const found = pattern ? pattern.test(text) : text.includes(body)
  const what = pattern ? `match ${body}` : `contain ${JSON.stringify(body)}`
  return found
    ? { status: 'pass', message: `GET ${shown} returned ${actualStatus} and the body does ${what}` }
    : { status: 'fail', message: `GET ${shown} returned ${actualStatus} but the body does not ${what} (body: ${JSON.stringify(abbreviate(text.replace(/\s+/g, ' ').trim(), 200))})` }
}

const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
}

function fetchFailure(error: unknown, timeoutMs: number): string {
  const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') return `timed out after ${timeoutMs} ms`
  const cause = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause
  const code = cause?.code ?? cause?.errors?.[0]?.code
  if (code !== undefined) return `failed: ${NETWORK_ERRORS[code] ?? cause?.message ?? 'network error'} (${code})`
  return `failed: ${cause?.message ?? (error instanceof Error ? error.message : String(error))}`
}

// ── command ──────────────────────────────────────────────────────────────────────────────────

async function commandCheck(argv: readonly string[], ctx: UserCheckContext, timeoutMs: number): Promise<Outcome> {
  const [program, ...args] = argv
  const shown = `\`${abbreviate(argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' '), 80)}\``
  if (program === undefined || program === '') return { status: 'fail', message: 'the command is empty' }
  if (!isDirectory(ctx.cwd)) return { status: 'fail', message: `cannot run ${shown}: the working directory ${ctx.cwd} does not exist` }
  return new Promise<Outcome>((resolve) => {
    let child: ChildProcess
    try {
      child = spawn(program, args, { cwd: ctx.cwd, env: { ...process.env, ...ctx.env }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    } catch (error) {
      resolve({ status: 'fail', message: `cannot run ${shown}: ${(error as Error).message}` })
      return
    }
    let pipeTimer: NodeJS.Timeout | undefined
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null
    // After the exit, output still on its way (a loaded machine) restarts the wait. When the
    // timer fires, output already in the pipes is read first (the loop's next poll, before the
    // immediate): a loop that was busy longer than the grace loses nothing.
    const quiet = (): void => {
      if (exited === null) return
      clearTimeout(pipeTimer)
      const { code, signal } = exited
      pipeTimer = setTimeout(() => {
        pipeTimer = undefined
        setImmediate(() => {
          if (pipeTimer === undefined) ended(code, signal)
        })
      }, PIPE_GRACE_MS)
    }
    const stdout = collect(child.stdout, quiet)
    const stderr = collect(child.stderr, quiet)
    let timedOut = false
    let finished = false
    let killTimer: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS)
    }, timeoutMs)
    const finish = (outcome: Outcome): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearTimeout(killTimer)
      clearTimeout(pipeTimer)
      child.stdout?.destroy()
      child.stderr?.destroy()
      resolve(outcome)
    }
    const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (code === 0 && !timedOut) return finish({ status: 'pass', message: `${shown} exited with code 0` })
      const how = timedOut
        ? `timed out after ${timeoutMs} ms and was killed`
        : code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`
      const output = tail(stderr()) || tail(stdout())
      finish({ status: 'fail', message: `${shown} ${how}${output ? `; last output:\n${output}` : ' (no output)'}` })
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return // a failed kill of a live process; its exit still comes
      const reason = error.code === 'ENOENT' ? `program \`${program}\` not found (is it installed and on PATH?)`
        : error.code === 'EACCES' ? `program \`${program}\` is not executable`
        : error.message
      finish({ status: 'fail', message: `cannot run ${shown}: ${reason}` })
    })
    child.on('exit', (code, signal) => {
      exited = { code, signal }
      quiet()
    })
    child.on('close', ended)
  })
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Keeps the last few kilobytes of a stream; returns a reader of what was kept. */
function collect(stream: NodeJS.ReadableStream | null, onData: () => void): () => string {
  let kept = ''
  stream?.setEncoding('utf8')
  stream?.on('data', (chunk: string) => {
    kept = (kept + chunk).slice(-OUTPUT_KEPT)
    onData()
  })
  return () => kept
}

/** The last lines of an output, at most OUTPUT_SHOWN characters, starting at a line when it can. */
function tail(output: string): string {
  const trimmed = output.trim()
  if (trimmed.length <= OUTPUT_SHOWN) return trimmed
  const last = trimmed.slice(-OUTPUT_SHOWN)
  const newline = last.indexOf('\n')
  return `…${newline >= 0 && newline < last.length - 1 ? last.slice(newline + 1) : last}`
}

// ── shared ───────────────────────────────────────────────────────────────────────────────────

function abbreviate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** Masks URL credentials (`user:pass@` → `user:***@`, a lone token `tok@` → `***@`) and `password=` pairs. */
function mask(text: string): string {
  return redact(text)
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/\s]+@/gi, '$1***@')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^:/?#@\s]+@/gi, '$1***@')
}
