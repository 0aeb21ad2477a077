import { createHash } from 'node:crypto'
import type { SchemaSnapshot } from './snapshot.js'

/** A stable sha256 of a snapshot: equal schemas give equal fingerprints. */
export function fingerprint(snapshot: SchemaSnapshot): string {
  return createHash('sha256').update(canonicalJson(snapshot)).digest('hex')
}

/** JSON with object keys sorted, so key order never changes a fingerprint. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) {
      const child = (v as Record<string, unknown>)[key]
      if (child !== undefined) sorted[key] = child
    }
    return sorted
  })
}
