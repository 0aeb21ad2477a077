import { isoNow } from '../util/clock.js'
import type { EventName } from './events.js'

/**
 * Events and alerts as JSON lines (SPEC S8). A run of 500 migrations emits thousands of events,
 * and one JSON.stringify call has a fixed cost several times that of a small event's fields:
 * events are gathered as they come (type, payload, time) and serialized together, in one call
 * per batch, when the lines are written.
 */

/**
 * Event types whose payloads are flat enough to be serialized in a batch: a field may hold an
 * object or an array of strings, never an array of objects (see `fieldTexts`). `run:start`
 * (its steps) and types this list does not know are serialized on their own.
 */
const BATCHED: ReadonlySet<string> = new Set<EventName>([
  'migration:start', 'statement', 'migration:done', 'migration:failed', 'backfill:progress', 'check', 'backup:start', 'backup:done',
  'restore:start', 'restore:done', 'rollback:start', 'rollback:done', 'lock:wait', 'metrics:sample', 'alert', 'run:done', 'log',
])

/** Payloads that carry their own `at` (when the alert was raised, when the sample was taken), kept as they are. */
const OWN_AT: ReadonlySet<string> = new Set<EventName>(['alert', 'metrics:sample'])

/**
 * NDJSON as `--progress json` writes it: each event one line, `{"type": …, …payload, "at": …}`,
 * `at` the time it was pushed (an alert's and a sample's their own). Payloads must not change
 * once pushed: they are read when the lines are drained.
 */
export class NdjsonLines {
  /** Triples: type, payload (null once serialized on its own), and its time (or its line). */
  #queue: unknown[] = []

  /** Events waiting to be drained. */
  get size(): number {
    return this.#queue.length / 3
  }

  push(type: string, payload: object): void {
    if (BATCHED.has(type)) this.#queue.push(type, payload, isoNow())
    else this.#queue.push(type, null, line(type, stringify(payload), isoNow()))
  }

  /** The lines of every event pushed since the last drain, each ending in a newline. */
  drain(): string {
    const queue = this.#queue
    this.#queue = []
    const payloads: object[] = []
    for (let i = 1; i < queue.length; i += 3) if (queue[i] !== null) payloads.push(queue[i] as object)
    const pieces = fieldTexts(payloads)
    let text = ''
    let k = 0
    for (let i = 0; i < queue.length; i += 3) {
      const type = queue[i] as string
      const payload = queue[i + 1] as object | null
      if (payload === null) text += `${queue[i + 2] as string}\n`
      else if (pieces === null) text += `${OWN_AT.has(type) ? `${prefix(type)}${stringify(payload).slice(1)}` : line(type, stringify(payload), queue[i + 2] as string)}\n`
      else if (OWN_AT.has(type)) text += `${prefix(type)}"${pieces[k++]!}}\n`
      else text += `${prefix(type)}"${pieces[k++]!},"at":"${queue[i + 2] as string}"}\n`
    }
    return text
  }
}

const prefixes = new Map<string, string>()

/** `{"type":"…",` */
function prefix(type: string): string {
  let text = prefixes.get(type)
  if (text === undefined) {
    text = `{"type":${JSON.stringify(type)},`
    prefixes.set(type, text)
  }
  return text
}

/** `{"type": type, …fields, "at": at}` from the payload's JSON text. */
function line(type: string, json: string, at: string): string {
  return json.length > 2 ? `${prefix(type)}${json.slice(1, -1)},"at":"${at}"}` : `${prefix(type)}"at":"${at}"}`
}

/** Each object as one JSON line (a JSONL file's batch of alerts), serialized in one call. */
export function jsonLines(values: readonly object[]): string {
  const pieces = fieldTexts(values)
  if (pieces === null) return values.map((value) => `${stringify(value)}\n`).join('')
  let text = ''
  for (const piece of pieces) text += `{"${piece}}\n`
  return text
}

/**
 * The JSON text of each object without its opening `{"` and closing `}`, from one
 * JSON.stringify call over all of them, cut at the `},{"` between them. A quote inside a JSON
 * string is always escaped, so that sequence occurs nowhere else but in an array of objects,
 * and then the count of pieces is off: null, and the caller serializes each object alone (as it
 * does when JSON.stringify refuses a bigint). The objects must have a field each (an empty one
 * is cut together with its neighbour, which the count would not catch beside an array of objects).
 */
function fieldTexts(values: readonly object[]): string[] | null {
  if (values.length === 0) return []
  let text: string
  try {
    text = JSON.stringify(values)
  } catch {
    return null
  }
  // Cut by hand: String.prototype.split with a separator of several characters is some 2.5
  // times slower, and this runs on every batch.
  const pieces: string[] = []
  let from = 3
  for (let at = text.indexOf('},{"', from); at !== -1; at = text.indexOf('},{"', from)) {
    if (pieces.length === values.length) return null
    pieces.push(text.slice(from, at))
    from = at + 4
  }
  pieces.push(text.slice(from, -2))
  return pieces.length === values.length ? pieces : null
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
