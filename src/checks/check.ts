import { isStrataError, redact } from '../errors/index.js'

/** The outcome of one preflight or postflight check (SPEC S5). */
export type CheckStatus = 'pass' | 'warn' | 'fail'

export interface CheckResult {
  readonly name: string
  readonly status: CheckStatus
  readonly message: string
}

/** What `strata check --json` and `strata validate --json` print (SPEC S5). */
export interface CheckReport {
  readonly ok: boolean
  readonly checks: readonly CheckResult[]
}

/** ok = no check failed (warnings allowed). */
export function reportOf(checks: readonly CheckResult[]): CheckReport {
  return { ok: checks.every((check) => check.status !== 'fail'), checks: [...checks] }
}

/** Runs a check body; an exception becomes a `fail` naming the error (never crashes the whole check run). */
export async function guarded(name: string, fn: () => Promise<Omit<CheckResult, 'name'>>): Promise<CheckResult> {
  try {
    const { status, message } = await fn()
    return { name, status, message }
  } catch (error) {
    return { name, status: 'fail', message: `the check could not run: ${describeError(error)}` }
  }
}

function describeError(error: unknown): string {
  if (isStrataError(error)) return redact(`${error.code}: ${error.message}`)
  if (error instanceof Error) return redact(`${error.name}: ${error.message}`)
  return redact(String(error))
}
