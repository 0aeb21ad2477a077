import { isoNow } from '../util/clock.js'
import type { Alert, EventName, StrataEvents } from './events.js'

/**
 * Events and alerts as JSON text (SPEC S8). A run of 500 migrations emits thousands of events,
 * each serialized while the migration waits; these keep that to one JSON.stringify per event,
 * and one per alert however many places (sinks, the NDJSON stream) send it.
 */

const alertText = new WeakMap<Alert, string>()

/** The alert as one JSON object, the text every sink sends; computed once per alert. */
export function alertJson(alert: Alert): string {
  let text = alertText.get(alert)
  if (text === undefined) {
    text = JSON.stringify(alert)
    alertText.set(alert, text)
  }
  return text
}

const prefixes = new Map<string, string>()

/**
 * One NDJSON line (without its newline) as `--progress json` writes it:
 * `{"type": …, …payload, "at": …}`. An alert keeps its own `at` (when it was raised, the same
 * millisecond as its event); any other payload is stamped now.
 */
export function ndjsonLine<E extends EventName>(type: E, payload: StrataEvents[E]): string
export function ndjsonLine(type: string, payload: object): string
export function ndjsonLine(type: string, payload: object): string {
  let prefix = prefixes.get(type)
  if (prefix === undefined) {
    prefix = `{"type":${JSON.stringify(type)},`
    prefixes.set(type, prefix)
  }
  if (type === 'alert') return prefix + alertJson(payload as Alert).slice(1)
  const body = stringify(payload)
  // The payload's own fields between `type` and `at`: spliced as text rather than spread into a
  // new object, unless the payload is empty or carries an `at` of its own (a metrics sample).
  if (body.length > 2 && !Object.hasOwn(payload, 'at')) return `${prefix}${body.slice(1, -1)},"at":"${isoNow()}"}`
  return stringify({ type, ...payload, at: isoNow() })
}

/**
 * JSON.stringify without a replacer takes V8's fast path, some 2.5 times quicker; a bigint (a
 * row count from a driver) is rare enough to pay for a second try with one.
 */
export function stringify(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch {
    return JSON.stringify(value, jsonReplacer)
  }
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
