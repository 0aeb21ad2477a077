import { describe, expect, it } from 'vitest'
import type { Alert, MetricsSample } from '../../src/events/events.js'
import { alertJson, ndjsonLine } from '../../src/events/ndjson.js'

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe('NDJSON lines (--progress json)', () => {
  it('puts type first, the payload fields in order, and a fresh `at` last', () => {
    const sql = 'INSERT INTO t (name) VALUES (\'a "quoted"\\ value\'),\n\t(\'é ✓ \u0001\')'
    const line = ndjsonLine('statement', { runId: 'r1', revision: '001_x', sql })
    expect(line).not.toContain('\n')
    const parsed = JSON.parse(line) as Record<string, unknown>
    expect(Object.keys(parsed)).toEqual(['type', 'runId', 'revision', 'sql', 'at'])
    expect(parsed).toMatchObject({ type: 'statement', runId: 'r1', revision: '001_x', sql })
    expect(parsed['at']).toMatch(ISO)
  })

  it('leaves out undefined fields, as JSON does', () => {
    const parsed = JSON.parse(ndjsonLine('migration:done', { runId: 'r', revision: 'a', direction: 'up', phase: undefined, index: 0, total: 1, durationMs: 3, statements: 2 })) as Record<string, unknown>
    expect(Object.keys(parsed)).toEqual(['type', 'runId', 'revision', 'direction', 'index', 'total', 'durationMs', 'statements', 'at'])
  })

  it('writes an empty payload as type and at alone', () => {
    expect(Object.keys(JSON.parse(ndjsonLine('custom', {})) as object)).toEqual(['type', 'at'])
  })

  it('stamps a payload that has an `at` of its own once, with the time it is written', () => {
    const sample: MetricsSample = {
      runId: 'r', at: '2000-01-01T00:00:00.000Z', elapsedMs: 5, rows: 0, progress: 0.5, errors: 0, cpuPercent: 12, rssBytes: 1, readBytes: null, writeBytes: null, connections: null, lockWaits: null,
    }
    const line = ndjsonLine('metrics:sample', sample)
    expect(line.match(/"at":/g)).toHaveLength(1)
    const parsed = JSON.parse(line) as Record<string, unknown>
    expect(Object.keys(parsed)).toEqual(['type', ...Object.keys(sample)])
    expect(parsed['at']).not.toBe(sample.at)
    expect(parsed['at']).toMatch(ISO)
  })

  it('writes a bigint (a driver row count) as a string', () => {
    expect(JSON.parse(ndjsonLine('custom', { rows: 12n }))).toMatchObject({ type: 'custom', rows: '12' })
  })

  it('sends an alert as the same text its sinks get, with `type` in front and its own `at`', () => {
    const alert: Alert = Object.freeze({ level: 'info', event: 'migration_started', runId: 'r', environment: null, revision: '001_x', message: 'migration "001_x" started', at: '2026-12-02T10:00:00.000Z' })
    const text = alertJson(alert)
    expect(JSON.parse(text)).toEqual(alert)
    expect(alertJson(alert)).toBe(text)
    const line = ndjsonLine('alert', alert)
    expect(line).toBe(`{"type":"alert",${text.slice(1)}`)
    expect(JSON.parse(line)).toEqual({ type: 'alert', ...alert })
  })
})
