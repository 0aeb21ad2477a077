import { createHash } from 'node:crypto'
import type { SchemaSnapshot } from './snapshot.js'

/** A stable sha256 of a snapshot: equal schemas give equal fingerprints. */
export function fingerprint(snapshot: SchemaSnapshot): string {
  return createHash('sha256').update(snapshotJson(snapshot)).digest('hex')
}

const texts = new WeakMap<SchemaSnapshot, string>()

/**
 * A snapshot's canonical JSON, kept for as long as the snapshot lives (snapshots are never
 * changed once made): a run fingerprints the schema it ends with and records the same text
 * beside its history, some milliseconds each for 500 tables.
 */
export function snapshotJson(snapshot: SchemaSnapshot): string {
  let text = texts.get(snapshot)
  if (text === undefined) {
    text = canonicalJson(snapshot)
    texts.set(snapshot, text)
  }
  return text
}

/**
 * JSON with object keys sorted, so key order never changes a fingerprint. The value is copied
 * with its keys in order and then serialized without a replacer, which takes JSON.stringify's
 * fast path: a replacer is called for every value, and a schema of 500 tables has tens of
 * thousands. The text is the same as `JSON.stringify(value, sortingReplacer)` would give.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value))
}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  const json = (value as { toJSON?: unknown }).toJSON
  if (typeof json === 'function') return sortedCopy((json as () => unknown).call(value))
  if (Array.isArray(value)) return value.map(sortedCopy)
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const child = (value as Record<string, unknown>)[key]
    if (child !== undefined) sorted[key] = sortedCopy(child)
  }
  return sorted
}
