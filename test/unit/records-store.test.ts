import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readRecords } from '../../src/records/store.js'
import { timeId } from '../../src/util/ids.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A records folder holding a minimal record per run id (its file named after it). */
function folder(records: Array<{ name: string; runId: string; executionTime: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-records-'))
  dirs.push(dir)
  for (const { name, runId, executionTime } of records) writeFileSync(join(dir, name), JSON.stringify({ runId, migrationIds: ['001_a'], executionTime, steps: [] }))
  return dir
}

describe('readRecords', () => {
  const DAY = 86_400_000
  const now = Date.parse('2026-06-15T12:00:00Z')
  const at = (ms: number) => new Date(ms)
  const run = (ms: number) => {
    const runId = timeId(at(ms))
    return { name: `${runId}.json`, runId, executionTime: at(ms).toISOString() }
  }

  it('reads every record, oldest first, and names what is not one', () => {
    const old = run(now - 400 * DAY)
    const recent = run(now - DAY)
    const dir = folder([recent, old])
    writeFileSync(join(dir, 'notes.json'), '{"not":"a record"}')
    const { records, unreadable } = readRecords(dir)
    expect(records.map((r) => r.runId)).toEqual([old.runId, recent.runId])
    expect(unreadable).toEqual([join(dir, 'notes.json')])
  })

  it('with `since`, leaves out the files whose run id dates them more than a day earlier, and still reads files named otherwise', () => {
    const old = run(now - 30 * DAY)
    const edge = run(now - 7 * DAY - 3_600_000) // an hour before `since`: within the day of slack
    const recent = run(now - DAY)
    const renamed = { ...run(now - 90 * DAY), name: 'kept-by-hand.json' }
    const dir = folder([old, edge, recent, renamed])
    const { records } = readRecords(dir, { since: now - 7 * DAY })
    expect(records.map((r) => r.runId)).toEqual([renamed.runId, edge.runId, recent.runId])
    expect(readRecords(dir).records).toHaveLength(4)
  })
})
