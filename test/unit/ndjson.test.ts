import { describe, expect, it } from 'vitest'
import type { Alert, MetricsSample } from '../../src/events/events.js'
import { jsonLines, NdjsonLines } from '../../src/events/ndjson.js'

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$|^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** The lines `events` become, parsed back. */
function lines(events: ReadonlyArray<readonly [string, object]>): Array<Record<string, unknown>> {
  const out = new NdjsonLines()
  for (const [type, payload] of events) out.push(type, payload)
  expect(out.size).toBe(events.length)
  const text = out.drain()
  expect(out.size).toBe(0)
  expect(text.endsWith('\n')).toBe(true)
  const parsed = text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  expect(parsed).toHaveLength(events.length)
  return parsed
}

/** Strings that JSON must escape, and the sequence batches are cut at. */
const AWKWARD = ['},{"', '"},{"x":1}', 'a "quoted"\\ value\\', 'line\nbreak\ttab \u0001 \u2028', 'é ✓ 😀 \ud800 lone', '[{"a":1},{"b":2}]', '']

describe('NDJSON lines (--progress json)', () => {
  it('writes each event as type, its fields in order, then the time it was pushed', () => {
    const sql = 'INSERT INTO t (name) VALUES (\'a "quoted"\\ value\'),\n\t(\'é ✓ \u0001\')'
    const [line] = lines([['statement', { runId: 'r1', revision: '001_x', sql }]])
    expect(Object.keys(line!)).toEqual(['type', 'runId', 'revision', 'sql', 'at'])
    expect(line).toMatchObject({ type: 'statement', runId: 'r1', revision: '001_x', sql })
    expect(line!['at']).toMatch(ISO)
  })

  it('keeps every event whole and in order, whatever its strings hold', () => {
    const events: Array<readonly [string, object]> = []
    for (let i = 0; i < 300; i++) {
      const text = AWKWARD[i % AWKWARD.length]!
      events.push(['migration:start', { runId: 'r', revision: `${i}_${text}`, direction: 'up', index: i, total: 300, file: `/m/${text}.sql` }])
      events.push(['statement', { runId: 'r', revision: `${i}`, sql: text }])
      events.push(['migration:done', { runId: 'r', revision: `${i}`, direction: 'up', phase: undefined, index: i, total: 300, durationMs: i, statements: 1 }])
      if (i % 50 === 0) events.push(['run:start', { runId: 'r', command: 'up', environment: null, steps: [{ revision: text, direction: 'up' }, { revision: 'b', direction: 'up' }], estimatedMs: null }])
      if (i % 70 === 0) events.push(['lock:wait', { holder: { owner: text, pid: 1, host: 'h', startedAt: 'now' } }])
      if (i % 90 === 0) events.push(['rollback:start', { runId: 'r', revisions: [text, '},{"'] }])
    }
    const parsed = lines(events)
    parsed.forEach((line, i) => {
      const [type, payload] = events[i]!
      const { at, ...rest } = line
      expect(rest).toEqual({ type, ...JSON.parse(JSON.stringify(payload)) as object })
      expect(Object.keys(line)).toEqual(['type', ...Object.keys(JSON.parse(JSON.stringify(payload)) as object), 'at'])
      expect(at).toMatch(ISO)
    })
  })

  it('writes a bigint (a driver row count) as a string, and the rest of the batch as usual', () => {
    const parsed = lines([['statement', { runId: 'r', revision: 'a', sql: 'x' }], ['backfill:progress', { runId: 'r', revision: 'a', table: 't', rows: 12n, total: 20 }], ['log', { level: 'info', message: 'm' }]])
    expect(parsed.map((line) => line['type'])).toEqual(['statement', 'backfill:progress', 'log'])
    expect(parsed[1]).toMatchObject({ rows: '12', total: 20 })
  })

  it('writes an event of a type it does not know, even an empty one', () => {
    expect(Object.keys(lines([['custom', {}]])[0]!)).toEqual(['type', 'at'])
    expect(lines([['custom', { a: [{ b: 1 }, { c: 2 }] }], ['log', { level: 'info', message: '},{"' }]])).toMatchObject([{ type: 'custom', a: [{ b: 1 }, { c: 2 }] }, { type: 'log', message: '},{"' }])
  })

  it('keeps the own `at` of an alert (when raised) and of a metrics sample (when taken), once', () => {
    const alert: Alert = Object.freeze({ level: 'info', event: 'migration_started', runId: 'r', environment: null, revision: '001_x', message: 'migration "001_x" started', at: '2026-12-02T10:00:00.000Z' })
    const sample: MetricsSample = {
      runId: 'r', at: '2000-01-01T00:00:00.000Z', elapsedMs: 5, rows: 0, progress: 0.5, errors: 0, cpuPercent: 12, rssBytes: 1, readBytes: null, writeBytes: null, connections: null, lockWaits: null,
    }
    const out = new NdjsonLines()
    out.push('alert', alert)
    out.push('metrics:sample', sample)
    const text = out.drain()
    expect(text.match(/"at":/g)).toHaveLength(2)
    const [a, s] = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(a).toEqual({ type: 'alert', ...alert })
    expect(Object.keys(a!)).toEqual(['type', ...Object.keys(alert)])
    expect(s).toEqual({ type: 'metrics:sample', ...sample })
  })
})

describe('JSON lines of a batch of alerts', () => {
  it('is each object as JSON.stringify writes it, one per line', () => {
    const alerts = AWKWARD.map((message, i) => ({ level: 'info', event: 'migration_started', runId: 'r', environment: null, revision: i % 2 ? null : message, message, at: 'now' }))
    expect(jsonLines(alerts)).toBe(alerts.map((alert) => `${JSON.stringify(alert)}\n`).join(''))
    expect(jsonLines([])).toBe('')
    expect(jsonLines([{ a: 1n }, { b: [{ c: 1 }, { d: 2 }] }])).toBe('{"a":"1"}\n{"b":[{"c":1},{"d":2}]}\n')
  })
})
