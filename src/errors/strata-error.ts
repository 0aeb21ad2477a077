import { DEFAULT_HINT, EXIT_CODE_OF, type ErrorCode, type ExitCode } from './codes.js'

export interface ErrorDetails {
  /** How to get out of the situation; defaults to the code's generic hint. */
  readonly hint?: string
  /** The file the error is about (a migration, the config). */
  readonly file?: string
  readonly line?: number
  /** Structured extras (revisions in a cycle, heads, a run report). */
  readonly [key: string]: unknown
}

/** The one error type of strata (SPEC S13): a stable code, a message naming the object, a hint. */
export class StrataError extends Error {
  readonly code: ErrorCode
  readonly details: ErrorDetails

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StrataError'
    this.code = code
    this.details = details
  }

  /** The code's exit code, unless the thrower set `details.exitCode` (a run that failed dirty exits 1). */
  get exitCode(): ExitCode {
    return (this.details['exitCode'] as ExitCode | undefined) ?? EXIT_CODE_OF[this.code]
  }

  get hint(): string {
    return this.details.hint ?? DEFAULT_HINT[this.code]
  }
}

export function isStrataError(error: unknown): error is StrataError {
  return error instanceof StrataError
}

/** Wraps anything thrown into a StrataError, keeping the original as `cause`. */
export function toStrataError(error: unknown, code: ErrorCode = 'E_INTERNAL'): StrataError {
  if (error instanceof StrataError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new StrataError(code, message, {}, { cause: error })
}
