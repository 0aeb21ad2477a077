import { StrataError } from '../../errors/index.js'
import type { Value } from '../../ops/operation.js'

/**
 * How an engine writes literals in DDL, where values cannot be bound (column defaults).
 * Everywhere else values are bound parameters (SPEC S16).
 */
export interface LiteralStyle {
  /** `numeric`: 1 / 0 (SQLite, MySQL); `keyword`: TRUE / FALSE (PostgreSQL). */
  readonly booleans: 'numeric' | 'keyword'
  /** Writes a byte string given as lowercase hex (SQLite / MySQL `X'ab'`, PostgreSQL `'\xab'::bytea`). */
  readonly blob: (hex: string) => string
  /** MySQL without NO_BACKSLASH_ESCAPES: backslashes in strings are escapes and must be doubled. */
  readonly backslashEscapes?: boolean
}

/** SQL-standard strings, X'..' blobs, 1/0 booleans. */
export const STANDARD_LITERALS: LiteralStyle = { booleans: 'numeric', blob: (hex) => `X'${hex}'` }

/** A quoted string literal: `'it''s'`. */
export function renderString(text: string, style: LiteralStyle = STANDARD_LITERALS): string {
  const escaped = style.backslashEscapes ? text.replaceAll('\\', '\\\\') : text
  return `'${escaped.replaceAll("'", "''")}'`
}

/**
 * A value as an SQL literal: strings quoted with `''` doubling, numbers and bigints as digits,
 * booleans per `style`, null as NULL, bytes as hex, `{ sql }` passed through in parentheses.
 * Throws E_MIGRATION_FILE for a value SQL cannot write (NaN, Infinity, other objects).
 */
export function renderLiteral(value: Value, style: LiteralStyle = STANDARD_LITERALS): string {
  if (value === null) return 'NULL'
  switch (typeof value) {
    case 'string':
      return renderString(value, style)
    case 'bigint':
      return value.toString()
    case 'number':
      if (!Number.isFinite(value)) throw badValue(String(value))
      return String(value)
    case 'boolean':
      return style.booleans === 'numeric' ? (value ? '1' : '0') : value ? 'TRUE' : 'FALSE'
    case 'object':
      if (value instanceof Uint8Array) return style.blob(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex'))
      if (typeof value.sql === 'string') return `(${value.sql})`
      break
  }
  throw badValue(describe(value))
}

/** True for `{ sql }` expression values (as opposed to literals). */
export function isSqlExpression(value: Value | undefined): value is { readonly sql: string } {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array)
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function badValue(shown: string): StrataError {
  return new StrataError('E_MIGRATION_FILE', `${shown} cannot be written as an SQL literal`, {
    hint: 'use a string, a finite number, a bigint, a boolean, null, a Uint8Array or { sql: "expression" }',
  })
}
