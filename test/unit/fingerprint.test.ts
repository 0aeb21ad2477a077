import { describe, expect, it } from 'vitest'
import { canonicalJson, fingerprint, snapshotJson } from '../../src/schema/fingerprint.js'
import type { SchemaSnapshot } from '../../src/schema/snapshot.js'

/** Sorted keys through a replacer: the definition canonicalJson must keep to, byte for byte. */
function byReplacer(value: unknown): string {
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

describe('canonicalJson', () => {
  it('gives the text of sorted keys through a replacer, for every kind of value a snapshot can hold', () => {
    const values: unknown[] = [
      null, 0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 'a "quoted" \\ line\n', true, [],
      { b: 1, a: { d: [3, { z: null, y: undefined, x: 'é' }], c: undefined }, 10: 'ten', 2: 'two', '': 'empty' },
      [undefined, { q: 1, p: [[{ s: 2, r: 1 }]] }, null, () => 1],
      { at: new Date('2026-12-03T07:00:00Z'), nested: { toJSON: () => ({ y: 2, x: 1 }) }, fn: () => 1 },
    ]
    for (const value of values) expect(canonicalJson(value)).toBe(byReplacer(value))
  })

  it('keeps the fingerprints recorded before: key order aside, the same snapshot hashes to the same value', () => {
    const snapshot = {
      tables: [{ name: 'graphics', columns: [{ type: 'INTEGER', name: 'id', nullable: false, default: null }, { name: 'event_name', type: 'TEXT', nullable: true, default: "'é'" }], indexes: [], checks: undefined }],
      views: [], dialect: 'sqlite', 10: 'ten', 2: 'two',
    } as unknown as SchemaSnapshot
    expect(canonicalJson(snapshot)).toBe('{"2":"two","10":"ten","dialect":"sqlite","tables":[{"columns":[{"default":null,"name":"id","nullable":false,"type":"INTEGER"},{"default":"\'é\'","name":"event_name","nullable":true,"type":"TEXT"}],"indexes":[],"name":"graphics"}],"views":[]}')
    expect(fingerprint(snapshot)).toBe('bad50edd0dea7b86cdea708631297d6e5c1cb888277855d9444197a835741475')
    const reordered = { dialect: 'sqlite', 2: 'two', views: [], 10: 'ten', tables: [{ indexes: [], columns: [{ name: 'id', default: null, type: 'INTEGER', nullable: false }, { nullable: true, default: "'é'", type: 'TEXT', name: 'event_name' }], name: 'graphics' }] } as unknown as SchemaSnapshot
    expect(fingerprint(reordered)).toBe(fingerprint(snapshot))
    expect(snapshotJson(reordered)).toBe(canonicalJson(snapshot))
  })
})
