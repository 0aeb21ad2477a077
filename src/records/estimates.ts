import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { cacheDir } from '../util/cache-dir.js'
import type { MigrationRecord } from './record.js'
import { atomicWrite, isRecordFile } from './store.js'

/**
 * Estimates from earlier records (SPEC S9, S10), through an index of them. Every run asks for
 * one, and reading every record ever written would make each run slower than the last: the
 * index holds, per step, the newest duration a successful record gave it (a rehearsal's apart),
 * and a run reads only the records written since the index last saw the folder. The index is a
 * cache in the user's cache folder (the records folder holds records only): lost or damaged,
 * it is built again from the records.
 */

/** A step whose duration an earlier record may know. */
export interface EstimatedStep {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly phase?: string
  readonly checksum: string
}

/** One step's duration and the record it came from (by its time, then its run id). */
interface Source {
  readonly ms: number
  readonly at: string
  readonly run: string
}

interface StepDurations {
  rehearsal?: Source
  other?: Source
}

interface EstimateIndex {
  readonly version: 1
  /** How many record files (sorted by name, their run ids) it has taken in; the last of them is `newest`. */
  count: number
  newest: string
  readonly steps: Record<string, StepDurations>
}

/**
 * The estimated duration of `steps`: each step's duration in the newest earlier record that ran
 * it successfully with the same checksum, a rehearsal's first (its durations are meant to become
 * production's estimates), then any environment's; null when one step has none.
 */
export function estimateFor(dir: string, steps: readonly EstimatedStep[], environ: NodeJS.ProcessEnv = process.env): number | null {
  if (steps.length === 0) return null
  return estimateFromIndex(currentIndex(dir, estimatesFile(dir, environ)), steps)
}

/** Where the index of the records in `dir` is kept; null without a cache folder. */
export function estimatesFile(dir: string, environ: NodeJS.ProcessEnv = process.env): string | null {
  const base = cacheDir(environ)
  if (base === null) return null
  return join(base, `estimates-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16)}.json`)
}

function estimateFromIndex(index: EstimateIndex, steps: readonly EstimatedStep[]): number | null {
  let total = 0
  for (const step of steps) {
    const known = index.steps[stepKey(step)]
    const source = known?.rehearsal ?? known?.other
    if (source === undefined) return null
    total += source.ms
  }
  return total
}

/**
 * The index brought up to date with the folder: the records named after its newest are taken in;
 * when the folder changed otherwise (a record removed, one written late by a concurrent run),
 * it is built again from every record. Saved when it changed; a folder that cannot be written
 * keeps the answer right, only slower.
 */
function currentIndex(dir: string, file: string | null): EstimateIndex {
  let names: string[]
  try {
    names = readdirSync(dir).filter(isRecordFile).sort()
  } catch {
    return emptyIndex()
  }
  const saved = file === null ? null : readIndex(file)
  const incremental = saved !== null && names.length >= saved.count && (saved.count === 0 || names[saved.count - 1] === saved.newest)
  const index = incremental ? saved : emptyIndex()
  const fresh = names.slice(index.count)
  if (fresh.length === 0) return index
  const records: MigrationRecord[] = []
  for (const name of fresh) {
    const record = readRecordFile(join(dir, name))
    if (record) records.push(record)
  }
  records.sort((a, b) => a.executionTime.localeCompare(b.executionTime) || a.runId.localeCompare(b.runId))
  for (const record of records) takeIn(index, record)
  index.count = names.length
  index.newest = names.at(-1) ?? ''
  if (file === null) return index
  try {
    // Like every strata cache: 0600 in a 0700 folder.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    atomicWrite(file, JSON.stringify(index), 0o600)
  } catch {
    // A cache that cannot be written: the estimate is still right.
  }
  return index
}

function readRecordFile(path: string): MigrationRecord | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<MigrationRecord>
    return typeof value.runId === 'string' && Array.isArray(value.steps) && typeof value.executionTime === 'string' ? (value as MigrationRecord) : null
  } catch {
    return null
  }
}

function readIndex(file: string): EstimateIndex | null {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<EstimateIndex>
    if (value.version !== 1 || !Number.isInteger(value.count) || typeof value.newest !== 'string' || typeof value.steps !== 'object' || value.steps === null) return null
    return value as EstimateIndex
  } catch {
    return null
  }
}

function emptyIndex(): EstimateIndex {
  return { version: 1, count: 0, newest: '', steps: {} }
}

/** A successful record's applied and reverted steps replace what older records said of them. */
function takeIn(index: EstimateIndex, record: MigrationRecord): void {
  if (!record.success) return
  const source = (ms: number): Source => ({ ms, at: record.executionTime, run: record.runId })
  for (const step of record.steps ?? []) {
    if (step.durationMs === null || (step.status !== 'applied' && step.status !== 'reverted')) continue
    const key = stepKey(step)
    const known = (index.steps[key] ??= {})
    const slot = record.rehearsal === true ? 'rehearsal' : 'other'
    const held = known[slot]
    if (held === undefined || newer(record.executionTime, record.runId, held)) known[slot] = source(step.durationMs)
  }
}

function newer(at: string, run: string, than: Source): boolean {
  return at > than.at || (at === than.at && run >= than.run)
}

function stepKey(step: EstimatedStep): string {
  return `${step.revision}\u0000${step.direction}\u0000${step.phase ?? ''}\u0000${step.checksum}`
}
