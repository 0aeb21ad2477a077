import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { estimateFor as estimateIn, estimatesFile } from '../../src/records/estimates.js'

let dir: string
let cache: string
let index: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-estimates-'))
  cache = mkdtempSync(join(tmpdir(), 'strata-estimates-cache-'))
  index = estimatesFile(dir, { STRATA_CACHE_DIR: cache })!
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(cache, { recursive: true, force: true })
})

const estimateFor = (folder: string, steps: Parameters<typeof estimateIn>[1]): number | null => estimateIn(folder, steps, { STRATA_CACHE_DIR: cache })

const STEP = { revision: '001_add_event_name_to_graphics', direction: 'up' as const, checksum: 'c'.repeat(64) }

/** Writes a record file as a run does (only the fields an estimate reads, and what `record list` needs). */
function record(runId: string, durationMs: number, extra: { success?: boolean; rehearsal?: boolean; checksum?: string; status?: string } = {}): void {
  const executionTime = `${runId.slice(0, 4)}-${runId.slice(4, 6)}-${runId.slice(6, 8)}T${runId.slice(9, 11)}:${runId.slice(11, 13)}:${runId.slice(13, 15)}.000Z`
  writeFileSync(join(dir, `${runId}.json`), JSON.stringify({
    runId, migrationIds: [STEP.revision], executionTime, success: extra.success ?? true, ...(extra.rehearsal ? { rehearsal: true } : {}),
    steps: [{ revision: STEP.revision, direction: 'up', checksum: extra.checksum ?? STEP.checksum, status: extra.status ?? 'applied', durationMs }],
  }))
}

describe('estimates from earlier records', () => {
  it('takes the newest successful record with the same checksum, a rehearsal first', () => {
    expect(estimateFor(dir, [STEP])).toBeNull()
    record('20251001T000000Z-aaaaaa', 1_000)
    record('20251002T000000Z-aaaaaa', 2_000)
    record('20251003T000000Z-aaaaaa', 9_000, { success: false })
    record('20251004T000000Z-aaaaaa', 8_000, { status: 'failed' })
    expect(estimateFor(dir, [STEP])).toBe(2_000)
    expect(estimateFor(dir, [{ ...STEP, checksum: 'other' }])).toBeNull()
    expect(estimateFor(dir, [STEP, { ...STEP, revision: '002_unknown' }])).toBeNull()
    expect(estimateFor(dir, [])).toBeNull()
    record('20251005T000000Z-aaaaaa', 5_000, { rehearsal: true })
    record('20251006T000000Z-aaaaaa', 3_000)
    expect(estimateFor(dir, [STEP])).toBe(5_000)
    expect(estimateFor(dir, [STEP, { ...STEP, direction: 'down' }])).toBeNull()
  })

  it('reads only the records written since its index last saw the folder', () => {
    record('20251001T000000Z-aaaaaa', 1_000)
    expect(estimateFor(dir, [STEP])).toBe(1_000)
    expect(existsSync(index)).toBe(true)
    // An old record spoiled on disk is not read again: the index remembers what it said.
    writeFileSync(join(dir, '20251001T000000Z-aaaaaa.json'), '{ not json')
    expect(estimateFor(dir, [STEP])).toBe(1_000)
    record('20251002T000000Z-aaaaaa', 2_000, { checksum: 'd'.repeat(64) })
    expect(estimateFor(dir, [STEP])).toBe(1_000)
    expect(estimateFor(dir, [{ ...STEP, checksum: 'd'.repeat(64) }])).toBe(2_000)
    // The records folder holds the records alone.
    expect(readdirSync(dir).sort()).toEqual(['20251001T000000Z-aaaaaa.json', '20251002T000000Z-aaaaaa.json'])
    expect(index.startsWith(cache)).toBe(true)
    expect(statSync(index).mode & 0o777).toBe(0o600)
  })

  it('is built again from every record when one was removed or written late', () => {
    record('20251001T000000Z-aaaaaa', 1_000)
    record('20251003T000000Z-aaaaaa', 3_000)
    expect(estimateFor(dir, [STEP])).toBe(3_000)
    rmSync(join(dir, '20251003T000000Z-aaaaaa.json'))
    expect(estimateFor(dir, [STEP])).toBe(1_000)
    // A concurrent run that started earlier writes its record after the index was saved.
    record('20251002T000000Z-aaaaaa', 2_000)
    expect(estimateFor(dir, [STEP])).toBe(2_000)
  })

  it('is built again when the index file is damaged, and answers when it cannot be saved', () => {
    record('20251001T000000Z-aaaaaa', 1_000)
    expect(estimateFor(dir, [STEP])).toBe(1_000)
    writeFileSync(index, '{"version":1,"count":"x"}')
    expect(estimateFor(dir, [STEP])).toBe(1_000)
    expect(JSON.parse(readFileSync(index, 'utf8'))).toMatchObject({ version: 1, count: 1 })
    // A folder in the index's place: it can be neither read nor replaced (even by root).
    rmSync(index)
    mkdirSync(join(index, 'taken'), { recursive: true })
    record('20251002T000000Z-aaaaaa', 2_000)
    expect(estimateFor(dir, [STEP])).toBe(2_000)
    expect(statSync(index).isDirectory()).toBe(true)
    expect(readdirSync(cache).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('has nothing to say of a folder that does not exist', () => {
    expect(estimateFor(join(dir, 'missing'), [STEP])).toBeNull()
  })
})
